"""How an app stack is composed — written once, the same on every cloud.

config → log sink → network (flow logs into the sink) → firewall → VMs (boot config, logs)
→ TLS load balancer (in front of the VMs) → monitoring (alarms on VMs and load balancer).

`compute.mode` picks the VM part: `instances` builds the cloud's `Vm` (N VMs the load balancer
lists one by one), `group` its `VmGroup` (a self-healing, autoscaled group). A group either
joins the load balancer's backend itself, so the load balancer comes first (AWS: the auto
scaling group names the target group; Azure: the scale set's NICs name the gateway's backend
pool), or is named by it, so the group comes first (GCP: the backend service names the managed
instance group) — `Cloud.group_joins_backend` says which.

A cloud supplies only what is its own, as a `Cloud` (``components/<cloud>/cloud.py``): its part
classes (`Vm` and `VmGroup` among them), the foundation every part is created under (provider, and on Azure the resource
group), its machine types, its boot config and its default TLS policy. The wiring below —
which part receives which outputs, the mapping from config to the shared `*Args`, names, tags
and the stack outputs — exists once.

The component's type token is ``appstack:<cloud>:AppStack`` and its children are named
``<name>-<part>``: both are a contract (changing them replaces resources).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

from .config.model import StackConfig
from .interfaces import (
    ExistingNetworkArgs,
    FirewallArgs,
    LoadBalancerArgs,
    LogSinkArgs,
    MonitoringArgs,
    NetworkArgs,
    VmArgs,
    VmGroupArgs,
)
from .naming import LOG_STREAMS, log_prefix, stack_tags


@dataclass(frozen=True)
class Foundation:
    """What every part of one stack is created under."""

    opts: pulumi.ResourceOptions
    """Options for each part: parent and the cloud's explicit provider."""
    scope: pulumi.Input[str] | None = None
    """The cloud container parts create their resources in: the Azure resource group name.
    None on AWS and GCP, where the provider carries the account or project."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Cloud-specific values the cloud's own hooks and parts pass to themselves (never read here;
    the network, firewall, VM and load balancer args carry them as `extras`)."""


class Cloud(Protocol):
    """One cloud's implementation of the app stack's parts and hooks."""

    name: str
    """`aws`, `azure` or `gcp`: the middle of every type token."""
    Network: Any
    LogSink: Any
    Firewall: Any
    Vm: Any
    VmGroup: Any
    """The `compute.mode: group` part (`appstack:<cloud>:VmGroup`), taking `VmGroupArgs`."""
    group_joins_backend: bool
    """True when the group names the load balancer's backend (`backend_id`), so the load
    balancer is created first; False when the load balancer names the group (`instance_group`)."""
    LoadBalancer: Any
    Monitoring: Any

    def foundation(self, name: str, cfg: StackConfig, parent: pulumi.Resource) -> Foundation:
        """The provider (and container) every part is created under."""
        ...

    def machine_type(self, cfg: StackConfig) -> str:
        """The cloud's machine type for `compute` (explicit type, else size × architecture)."""
        ...

    def tls_policy(self, cfg: StackConfig) -> str:
        """The load balancer's TLS policy: `loadBalancer.tlsPolicy`, else the cloud's default."""
        ...

    def boot_config(self, cfg: StackConfig, foundation: Foundation, prefix: str) -> str:
        """The VMs' rendered boot config (cloud-init), including the cloud's log agent."""
        ...

    def log_destinations(self, logs: Any) -> Sequence[pulumi.Input[str]]:
        """The log sink's streams the VMs' agent writes to (its identity may write nowhere else)."""
        ...


class AppStack(pulumi.ComponentResource):
    """Network, log sink, firewall, VMs, TLS load balancer and monitoring on one cloud.

    Outputs, the same on every cloud: `url`, `load_balancer_address`, `instance_ids`,
    `log_sink`, `alert_channel`. With `compute.mode: group`, `instance_ids` is a one-element
    list: the group's ID (AWS: auto scaling group name; Azure: scale set ID; GCP: managed
    instance group ID), since the group's VMs come and go.
    """

    url: pulumi.Output[str]
    load_balancer_address: pulumi.Output[str]
    instance_ids: pulumi.Output[list[str]]
    log_sink: pulumi.Output[str]
    alert_channel: pulumi.Output[str]

    def __init__(self, name: str, args: StackConfig, cloud: Cloud, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"appstack:{cloud.name}:AppStack", name, None, opts)
        cfg = args
        base = cloud.foundation(name, cfg, self)
        child = base.opts
        tags = stack_tags(cfg)
        protect = cfg.protection.protect_stateful
        prefix = log_prefix(cfg)
        scope = base.scope

        logs = cloud.LogSink(
            f"{name}-logs",
            LogSinkArgs(
                prefix=prefix,
                streams=LOG_STREAMS,
                retention_days=cfg.logging.retention_days,
                protect=protect,
                tags=tags,
                scope=scope,
            ),
            child,
        )
        existing = cfg.network.existing
        network = cloud.Network(
            f"{name}-network",
            NetworkArgs(
                cidr=cfg.network.cidr,
                zone_count=cfg.network.zone_count,
                nat_per_zone=cfg.network.nat_per_zone,
                flow_log_destination=logs.log_groups["flow"],
                tags=tags,
                existing=ExistingNetworkArgs(
                    existing.network_id, existing.public_subnet_ids, existing.private_subnet_ids
                )
                if existing
                else None,
                scope=scope,
                extras=base.extras,
            ),
            child,
        )
        firewall = cloud.Firewall(
            f"{name}-firewall",
            FirewallArgs(
                network_id=network.network_id,
                app_port=cfg.app.port,
                ingress_cidrs=cfg.access.ingress_cidrs,
                admin_cidrs=cfg.access.admin_cidrs,
                ssh=cfg.access.ssh,
                egress_cidrs=cfg.access.egress_cidrs,
                tags=tags,
                scope=scope,
                extras=base.extras,
            ),
            child,
        )
        vm_args = VmArgs(
            count=cfg.compute.instance_count,
            machine_type=cloud.machine_type(cfg),
            architecture=cfg.compute.architecture,
            image_id=cfg.compute.image_id,
            root_volume_gb=cfg.compute.root_volume_gb,
            subnet_ids=network.private_subnet_ids,
            security_group_id=firewall.vm_group_id,
            user_data=cloud.boot_config(cfg, base, prefix),
            deletion_protection=cfg.protection.deletion_protection,
            protect=protect,
            tags=tags,
            # The agent writes only to these, and the VMs go before them on destroy.
            log_destinations=cloud.log_destinations(logs),
            scope=scope,
            extras=base.extras,
        )

        def load_balancer(
            instance_ids: Sequence[pulumi.Input[str]], instance_group: pulumi.Input[str] | None = None
        ) -> Any:
            return cloud.LoadBalancer(
                f"{name}-lb",
                LoadBalancerArgs(
                    network_id=network.network_id,
                    subnet_ids=network.public_subnet_ids,
                    security_group_id=firewall.lb_group_id,
                    instance_ids=instance_ids,
                    app_port=cfg.app.port,
                    health_check_path=cfg.app.health_check_path,
                    domain=cfg.dns.domain,
                    zone=cfg.dns.zone,
                    tls_policy=cloud.tls_policy(cfg),
                    certificate_id=cfg.load_balancer.certificate_id,
                    deletion_protection=cfg.protection.deletion_protection,
                    access_log_retention_days=cfg.load_balancer.access_log_retention_days,
                    waf=cfg.load_balancer.waf,
                    log_key_id=logs.key_id,
                    log_retention_days=cfg.logging.retention_days,
                    protect=protect,
                    tags=tags,
                    scope=scope,
                    extras=base.extras,
                    instance_group=instance_group,
                ),
                child,
            )

        def vm_group(backend_id: pulumi.Input[str] | None) -> Any:
            group = cfg.compute.group
            return cloud.VmGroup(
                f"{name}-vm",
                VmGroupArgs(
                    vm=dataclasses.replace(vm_args, count=group.desired),
                    min_size=group.min,
                    max_size=group.max,
                    cpu_target_percent=group.cpu_target_percent,
                    app_port=cfg.app.port,
                    health_check_path=cfg.app.health_check_path,
                    backend_id=backend_id,
                ),
                child,
            )

        group_id: pulumi.Input[str] | None = None
        if cfg.compute.mode == "instances":
            vms = cloud.Vm(f"{name}-vm", vm_args, child)
            lb = load_balancer(vms.instance_ids)
        elif cloud.group_joins_backend:
            lb = load_balancer(())
            vms = vm_group(lb.backend_id)
            group_id = vms.group_id
        else:
            vms = vm_group(None)
            lb = load_balancer((), vms.instance_group)
            group_id = vms.group_id
        monitoring = cloud.Monitoring(
            f"{name}-monitoring",
            MonitoringArgs(
                alert_emails=cfg.monitoring.alert_emails,
                # A group's VMs come and go: its alarms name the group, not instances.
                instance_ids=vms.instance_ids if group_id is None else (),
                lb_id=lb.lb_id,
                target_group_id=lb.target_group_id,
                cpu_high_percent=cfg.monitoring.cpu_high_percent,
                response_time_seconds=cfg.monitoring.response_time_seconds,
                server_errors_per_period=cfg.monitoring.server_errors_per_period,
                unhealthy_hosts=cfg.monitoring.unhealthy_hosts,
                period_seconds=cfg.monitoring.period_seconds,
                protect=protect,
                tags=tags,
                scope=scope,
                extras=base.extras,
                group_id=group_id,
            ),
            child,
        )

        self.url = lb.url
        self.load_balancer_address = lb.address
        self.instance_ids = pulumi.Output.all(*vms.instance_ids)
        self.log_sink = logs.log_sink
        self.alert_channel = monitoring.alert_channel
        self.register_outputs(
            {
                "url": self.url,
                "load_balancer_address": self.load_balancer_address,
                "instance_ids": self.instance_ids,
                "log_sink": self.log_sink,
                "alert_channel": self.alert_channel,
            }
        )
