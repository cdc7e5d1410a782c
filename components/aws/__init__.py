"""AWS implementation of the app stack: `CLOUD`, the parts and hooks for the composition.

Importing this package imports pulumi_aws only (its services load lazily, on first use).
"""

from .cloud import CLOUD, AwsCloud
from .firewall import Firewall
from .load_balancer import LoadBalancer
from .log_sink import LogSink
from .monitoring import Monitoring
from .network import Network
from .vm import Vm

__all__ = ["CLOUD", "AwsCloud", "Firewall", "LoadBalancer", "LogSink", "Monitoring", "Network", "Vm"]
