"""AWS's parts and hooks for the shared composition (`components/composition.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from ..bootstrap import cloud_init
from ..composition import Foundation
from ..config.model import StackConfig
from ..config.profiles import AWS_ARM_MACHINE_TYPES, AWS_DEFAULT_TLS_POLICY, MACHINE_TYPES
from .firewall import Firewall
from .load_balancer import LoadBalancer
from .log_sink import LogSink
from .monitoring import Monitoring
from .network import Network
from .vm import AGENT_STREAMS, Vm, cloudwatch_agent
from .vm_group import VmGroup


class AwsCloud:
    """AWS: the six `appstack:aws:*` parts under one explicit `aws.Provider`."""

    name = "aws"
    Network = Network
    LogSink = LogSink
    Firewall = Firewall
    Vm = Vm
    VmGroup = VmGroup
    #: The auto scaling group registers its VMs in the load balancer's target group.
    group_joins_backend = True
    LoadBalancer = LoadBalancer
    Monitoring = Monitoring

    def foundation(self, name: str, cfg: StackConfig, parent: pulumi.Resource) -> Foundation:
        """An explicit provider for `appstack:aws.region`.

        Explicit so that an ambient `aws:region` setting or `AWS_REGION` never redirects a stack.
        """
        assert cfg.aws is not None  # guaranteed by StackConfig's cross-checks
        provider = aws.Provider(f"{name}-provider", region=cfg.aws.region, opts=pulumi.ResourceOptions(parent=parent))
        return Foundation(opts=pulumi.ResourceOptions(parent=parent, providers=[provider]))

    def machine_type(self, cfg: StackConfig) -> str:
        """The explicit `compute.instanceType`, else the size for the architecture (Graviton on arm64)."""
        if cfg.compute.instance_type:
            return cfg.compute.instance_type
        table = AWS_ARM_MACHINE_TYPES if cfg.compute.architecture == "arm64" else MACHINE_TYPES["aws"]
        return table[cfg.compute.size]

    def tls_policy(self, cfg: StackConfig) -> str:
        """`loadBalancer.tlsPolicy`, else a TLS 1.3 + 1.2 policy with only forward-secret AEAD suites."""
        return cfg.load_balancer.tls_policy or AWS_DEFAULT_TLS_POLICY

    def boot_config(self, cfg: StackConfig, foundation: Foundation, prefix: str) -> str:
        """The shared cloud-init with the CloudWatch agent (Amazon Linux 2023: package `docker`)."""
        return cloud_init.render(cloud_init.app_spec(cfg, container_package="docker"), cloudwatch_agent(prefix))

    def log_destinations(self, logs: Any) -> Sequence[pulumi.Input[str]]:
        """The log groups the CloudWatch agent writes (system, auth, app; flow logs are the VPC's)."""
        return [logs.log_groups[s] for s in AGENT_STREAMS]


CLOUD = AwsCloud()
