"""The Azure `Cloud`: the six parts, the foundation (provider + resource group) and the hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.resources as resources
from pulumi_azure_native.provider import Provider

from ..bootstrap import cloud_init
from ..composition import Foundation
from ..config.model import StackConfig
from ..config.profiles import AZURE_DEFAULT_TLS_POLICY, MACHINE_TYPES
from ..naming import stack_tags
from .firewall import Firewall
from .load_balancer import LoadBalancer
from .log_sink import LogSink
from .monitoring import Monitoring
from .names import AzureNames
from .network import Network
from .settings import KEY, AzureSettings
from .vm import Vm, monitor_agent
from .vm_group import VmGroup


class AzureCloud:
    """Azure's parts and hooks for `composition.AppStack`."""

    name = "azure"
    Network = Network
    LogSink = LogSink
    Firewall = Firewall
    Vm = Vm
    LoadBalancer = LoadBalancer
    Monitoring = Monitoring
    VmGroup = VmGroup
    #: The scale set's NICs join the gateway's backend pool, so the gateway comes first.
    group_joins_backend = True

    def foundation(self, name: str, cfg: StackConfig, parent: pulumi.Resource) -> Foundation:
        """An explicit provider for `appstack:azure.location` and the stack's resource group.

        Explicit, so ambient `azure-native:location` settings never redirect a stack.
        """
        az = cfg.azure
        # Both guaranteed by StackConfig's Azure checks.
        assert az is not None and az.admin_ssh_public_key is not None
        key: str = az.admin_ssh_public_key
        names = AzureNames(cfg.app.name)
        provider = Provider(f"{name}-provider", location=az.location, opts=pulumi.ResourceOptions(parent=parent))
        opts = pulumi.ResourceOptions(parent=parent, providers=[provider])
        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=names.of("rg"),
            location=az.location,
            tags=stack_tags(cfg),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=cfg.protection.protect_stateful)),
        )
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(provider=provider))
        settings = AzureSettings(
            location=az.location,
            names=names,
            admin_ssh_public_key=key,
            customer_managed_keys=az.customer_managed_keys,
            encryption_at_host=az.encryption_at_host,
            tenant_id=client.tenant_id,
            subscription_id=client.subscription_id,
            network_watcher_resource_group=az.network_watcher_resource_group,
            network_watcher_name=az.network_watcher_name or f"NetworkWatcher_{az.location}",
            dns_zone_resource_group=az.dns_zone_resource_group,
            retention_days=cfg.logging.retention_days,
            network_cidr=cfg.network.cidr,
            zones=tuple(str(z) for z in range(1, cfg.network.zone_count + 1)),
            admin_cidrs=tuple(cfg.access.admin_cidrs),
        )
        return Foundation(opts=opts, scope=group.name, extras={KEY: settings})

    def machine_type(self, cfg: StackConfig) -> str:
        """The VM size: the explicit one, else the size's x86_64 machine type.

        x86_64 only: Trusted Launch does not support the Arm64 (Ampere, Dpsv5) sizes, and the
        config refuses `compute.architecture: arm64` on Azure.
        """
        return cfg.compute.instance_type or MACHINE_TYPES["azure"][cfg.compute.size]

    def tls_policy(self, cfg: StackConfig) -> str:
        """`loadBalancer.tlsPolicy` (validated against the Azure allow-list), else the strict 2022 policy."""
        return cfg.load_balancer.tls_policy or AZURE_DEFAULT_TLS_POLICY

    def boot_config(self, cfg: StackConfig, foundation: Foundation, prefix: str) -> str:
        """The shared cloud-init for Ubuntu (docker.io), with the Azure Monitor Agent's prerequisites."""
        return cloud_init.render(
            cloud_init.AppSpec(
                port=cfg.app.port,
                health_check_path=cfg.app.health_check_path,
                command=cfg.app.command,
                image=cfg.app.image,
                container_port=cfg.app.container_port,
                container_package="docker.io",
            ),
            monitor_agent(),
        )

    def log_destinations(self, logs: Any) -> Sequence[pulumi.Input[str]]:
        """The data collection rule every VM is associated with (the agent sends nowhere else)."""
        return [logs.data_collection_rule_id]


CLOUD = AzureCloud()
