"""Google Cloud implementation of the app stack: `CLOUD`, the parts and hooks for the composition.

Only `pulumi_gcp` submodules the parts use are imported (never the top-level package's
re-exports of every service), so a GCP plan stays within its time and memory budget.
"""

from .cloud import CLOUD, GcpCloud
from .firewall import Firewall
from .load_balancer import LoadBalancer
from .log_sink import LogSink
from .monitoring import Monitoring
from .network import Network
from .vm import Vm

__all__ = ["CLOUD", "Firewall", "GcpCloud", "LoadBalancer", "LogSink", "Monitoring", "Network", "Vm"]
