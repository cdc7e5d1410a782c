"""The AWS app stack: the six parts composed under one `appstack:aws:AppStack` component."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ..bootstrap import cloud_init
from ..config.model import StackConfig
from ..config.profiles import AWS_ARM_MACHINE_TYPES, AWS_DEFAULT_TLS_POLICY, MACHINE_TYPES
from ..interfaces import (
    ExistingNetworkArgs,
    FirewallArgs,
    LoadBalancerArgs,
    LogSinkArgs,
    MonitoringArgs,
    NetworkArgs,
    VmArgs,
)
from ..naming import LOG_STREAMS, log_prefix, stack_tags
from .firewall import Firewall
from .load_balancer import LoadBalancer
from .log_sink import LogSink
from .monitoring import Monitoring
from .network import Network
from .vm import AGENT_STREAMS, Vm, cloudwatch_agent


def machine_type(cfg: StackConfig) -> str:
    """The EC2 instance type: the explicit one, else the size for the architecture."""
    if cfg.compute.instance_type:
        return cfg.compute.instance_type
    table = AWS_ARM_MACHINE_TYPES if cfg.compute.architecture == "arm64" else MACHINE_TYPES["aws"]
    return table[cfg.compute.size]


class AppStack(pulumi.ComponentResource):
    """Network, log sink, firewall, VMs, TLS load balancer and monitoring on AWS.

    Everything runs under an explicit provider for `appstack:aws.region`, so the stack never
    depends on ambient `aws:region` settings. Outputs: `url`, `load_balancer_address`,
    `instance_ids`, `log_sink`, `alert_channel` (the same on every cloud).
    """

    url: pulumi.Output[str]
    load_balancer_address: pulumi.Output[str]
    instance_ids: pulumi.Output[list[str]]
    log_sink: pulumi.Output[str]
    alert_channel: pulumi.Output[str]

    def __init__(self, name: str, args: StackConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:aws:AppStack", name, None, opts)
        cfg = args
        assert cfg.aws is not None  # guaranteed by StackConfig's cross-checks
        provider = aws.Provider(f"{name}-provider", region=cfg.aws.region, opts=pulumi.ResourceOptions(parent=self))
        child = pulumi.ResourceOptions(parent=self, providers=[provider])
        tags = stack_tags(cfg)
        protect = cfg.protection.protect_stateful
        prefix = log_prefix(cfg)

        logs = LogSink(
            f"{name}-logs",
            LogSinkArgs(
                prefix=prefix,
                streams=LOG_STREAMS,
                retention_days=cfg.logging.retention_days,
                protect=protect,
                tags=tags,
            ),
            child,
        )
        existing = cfg.network.existing
        network = Network(
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
            ),
            child,
        )
        firewall = Firewall(
            f"{name}-firewall",
            FirewallArgs(
                network_id=network.network_id,
                app_port=cfg.app.port,
                ingress_cidrs=cfg.access.ingress_cidrs,
                admin_cidrs=cfg.access.admin_cidrs,
                ssh=cfg.access.ssh,
                egress_cidrs=cfg.access.egress_cidrs,
                tags=tags,
            ),
            child,
        )
        user_data = cloud_init.render(
            cloud_init.AppSpec(
                port=cfg.app.port,
                health_check_path=cfg.app.health_check_path,
                command=cfg.app.command,
                image=cfg.app.image,
                container_port=cfg.app.container_port,
            ),
            cloudwatch_agent(prefix),
        )
        vms = Vm(
            f"{name}-vm",
            VmArgs(
                count=cfg.compute.instance_count,
                machine_type=machine_type(cfg),
                architecture=cfg.compute.architecture,
                image_id=cfg.compute.image_id,
                root_volume_gb=cfg.compute.root_volume_gb,
                subnet_ids=network.private_subnet_ids,
                security_group_id=firewall.vm_group_id,
                user_data=user_data,
                deletion_protection=cfg.protection.deletion_protection,
                protect=protect,
                tags=tags,
                # The agent writes only to these, and the VMs go before them on destroy.
                log_destinations=[logs.log_groups[s] for s in AGENT_STREAMS],
            ),
            child,
        )
        lb = LoadBalancer(
            f"{name}-lb",
            LoadBalancerArgs(
                network_id=network.network_id,
                subnet_ids=network.public_subnet_ids,
                security_group_id=firewall.lb_group_id,
                instance_ids=vms.instance_ids,
                app_port=cfg.app.port,
                health_check_path=cfg.app.health_check_path,
                domain=cfg.dns.domain,
                zone=cfg.dns.zone,
                tls_policy=cfg.load_balancer.tls_policy or AWS_DEFAULT_TLS_POLICY,
                certificate_id=cfg.load_balancer.certificate_id,
                deletion_protection=cfg.protection.deletion_protection,
                access_log_retention_days=cfg.load_balancer.access_log_retention_days,
                waf=cfg.load_balancer.waf,
                log_key_id=logs.key_id,
                log_retention_days=cfg.logging.retention_days,
                protect=protect,
                tags=tags,
            ),
            child,
        )
        monitoring = Monitoring(
            f"{name}-monitoring",
            MonitoringArgs(
                alert_emails=cfg.monitoring.alert_emails,
                instance_ids=vms.instance_ids,
                lb_id=lb.lb_id,
                target_group_id=lb.target_group_id,
                cpu_high_percent=cfg.monitoring.cpu_high_percent,
                response_time_seconds=cfg.monitoring.response_time_seconds,
                server_errors_per_period=cfg.monitoring.server_errors_per_period,
                unhealthy_hosts=cfg.monitoring.unhealthy_hosts,
                period_seconds=cfg.monitoring.period_seconds,
                protect=protect,
                tags=tags,
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
