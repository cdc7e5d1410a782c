"""AWS implementation of the app stack. Importing this package imports pulumi_aws only."""

from .firewall import Firewall
from .load_balancer import LoadBalancer
from .log_sink import LogSink
from .monitoring import Monitoring
from .network import Network
from .stack import AppStack
from .vm import Vm

__all__ = ["AppStack", "Firewall", "LoadBalancer", "LogSink", "Monitoring", "Network", "Vm"]
