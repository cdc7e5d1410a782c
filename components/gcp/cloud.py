"""Google Cloud's parts and hooks for the shared composition (`components/composition.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_gcp.provider import Provider

from ..bootstrap import cloud_init
from ..composition import Foundation
from ..config.model import StackConfig
from ..config.profiles import GCP_ARM_MACHINE_TYPES, GCP_DEFAULT_TLS_POLICY, MACHINE_TYPES
from ..naming import stack_tags
from .firewall import Firewall
from .load_balancer import LoadBalancer
from .log_sink import LogSink
from .monitoring import Monitoring
from .names import base, labels
from .network import Network
from .vm import Vm, ops_agent
from .vm_group import VmGroup


class GcpCloud:
    """Google Cloud: the six `appstack:gcp:*` parts under one explicit `gcp.Provider`."""

    name = "gcp"
    Network = Network
    LogSink = LogSink
    Firewall = Firewall
    Vm = Vm
    VmGroup = VmGroup
    #: The backend service names the managed instance group, so the group comes first.
    group_joins_backend = False
    LoadBalancer = LoadBalancer
    Monitoring = Monitoring

    def foundation(self, name: str, cfg: StackConfig, parent: pulumi.Resource) -> Foundation:
        """An explicit provider for `appstack:gcp` (project, region) labelling every resource.

        Explicit so that ambient `gcp:project` settings or `GOOGLE_PROJECT` never redirect a
        stack; `default_labels` puts the stack's labels on every labelable resource.
        """
        assert cfg.gcp is not None  # guaranteed by StackConfig's cross-checks
        provider = Provider(
            f"{name}-provider",
            project=cfg.gcp.project,
            region=cfg.gcp.region,
            default_labels=labels(stack_tags(cfg)),
            # The provider's own "goog-pulumi-provisioned" label is left on (it helps support).
            opts=pulumi.ResourceOptions(parent=parent),
        )
        extras: dict[str, Any] = {
            "project": cfg.gcp.project,
            "region": cfg.gcp.region,
            "base": base(cfg.app.name),
            # The load balancer has no VPC firewall: its Cloud Armor policy enforces these.
            "ingress_cidrs": tuple(cfg.access.ingress_cidrs),
            # What the uptime check probes.
            "domain": cfg.dns.domain,
            "health_check_path": cfg.app.health_check_path,
        }
        return Foundation(opts=pulumi.ResourceOptions(parent=parent, providers=[provider]), extras=extras)

    def machine_type(self, cfg: StackConfig) -> str:
        """The explicit `compute.instanceType`, else the size for the architecture (E2 / T2A)."""
        if cfg.compute.instance_type:
            return cfg.compute.instance_type
        table = GCP_ARM_MACHINE_TYPES if cfg.compute.architecture == "arm64" else MACHINE_TYPES["gcp"]
        return table[cfg.compute.size]

    def tls_policy(self, cfg: StackConfig) -> str:
        """The SSL policy profile: `loadBalancer.tlsPolicy` (MODERN or RESTRICTED), else RESTRICTED."""
        return cfg.load_balancer.tls_policy or GCP_DEFAULT_TLS_POLICY

    def boot_config(self, cfg: StackConfig, foundation: Foundation, prefix: str) -> str:
        """The shared cloud-init with the Ops Agent; Ubuntu's docker package is `docker.io`."""
        return cloud_init.render(
            cloud_init.app_spec(cfg, container_package="docker.io"),
            ops_agent(str(foundation.extras.get("base") or base(cfg.app.name))),
        )

    def log_destinations(self, logs: Any) -> Sequence[pulumi.Input[str]]:
        """The log bucket: the Ops Agent writes to Cloud Logging and the sink routes to it."""
        return [logs.log_sink]


CLOUD = GcpCloud()
