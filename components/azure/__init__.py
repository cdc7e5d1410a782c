"""Azure implementation of the app stack. Importing this package imports pulumi_azure_native only
(and of it only the submodules the parts use: the package's top level would load every service)."""

from .cloud import CLOUD
from .firewall import Firewall
from .load_balancer import LoadBalancer
from .log_sink import LogSink
from .monitoring import Monitoring
from .network import Network
from .vm import Vm

__all__ = ["CLOUD", "Firewall", "LoadBalancer", "LogSink", "Monitoring", "Network", "Vm"]
