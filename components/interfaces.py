"""The cloud-neutral interface of the app stack's parts.

Each part is a `ComponentResource` per cloud (`appstack:<cloud>:<Part>`) constructed as
``Part(name, args, opts=None)``. The args below are shared by every cloud: they say *what* to
build in cloud-neutral terms; IDs of other parts are plain `Input[str]` so one part never needs
another cloud's classes. Every implementation exposes the attributes listed in `*_OUTPUTS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

#: Stack outputs, identical on every cloud: export name -> AppStack attribute.
STACK_OUTPUTS: dict[str, str] = {
    "url": "url",
    "loadBalancerAddress": "load_balancer_address",
    "instanceIds": "instance_ids",
    "logSink": "log_sink",
    "alertChannel": "alert_channel",
}

#: Attributes each part exposes on every cloud.
NETWORK_OUTPUTS = ("network_id", "public_subnet_ids", "private_subnet_ids")
LOG_SINK_OUTPUTS = ("log_sink", "key_id", "log_groups")
FIREWALL_OUTPUTS = ("lb_group_id", "vm_group_id")
VM_OUTPUTS = ("instance_ids", "private_ips")
#: A VM group's `instance_ids` is a one-element list holding `group_id` (its VMs come and go),
#: and its `private_ips` is empty; `instance_group` is what a load balancer backend names.
VM_GROUP_OUTPUTS = ("instance_ids", "private_ips", "group_id", "instance_group")
LOAD_BALANCER_OUTPUTS = ("url", "address", "lb_id", "target_group_id")
#: Also exposed by the load balancer of a cloud whose VM group joins the backend itself
#: (`Cloud.group_joins_backend`: AWS target group ARN, Azure backend pool ID).
LOAD_BALANCER_BACKEND_OUTPUT = "backend_id"
MONITORING_OUTPUTS = ("alert_channel",)

Tags = Mapping[str, str]


@dataclass(frozen=True)
class ExistingNetworkArgs:
    """IDs of a network that already exists and is not managed by this stack."""

    network_id: str
    public_subnet_ids: Sequence[str]
    private_subnet_ids: Sequence[str]


@dataclass(frozen=True)
class NetworkArgs:
    """A network with public subnets (load balancer) and private subnets (VMs) in several zones."""

    cidr: str
    """Address range of the network; subnets are carved from it."""
    zone_count: int
    """Zones to spread subnets over (≥ 2)."""
    nat_per_zone: bool
    """One NAT gateway per zone (HA egress) instead of one shared."""
    flow_log_destination: pulumi.Input[str] | None
    """Log sink for network flow logs (AWS: log group ARN); None disables flow logs."""
    tags: Tags
    existing: ExistingNetworkArgs | None = None
    """Reuse this network instead of creating one."""
    scope: pulumi.Input[str] | None = None
    """Cloud container for the part's resources (the Azure resource group); None elsewhere."""
    extras: Mapping[str, Any] = field(default_factory=dict)
    """Cloud-specific settings from the cloud's `Foundation.extras` (Azure: location, SSH key,
    key and DNS choices); empty on clouds whose provider carries everything."""


@dataclass(frozen=True)
class LogSinkArgs:
    """Encrypted log storage for VM, app and network logs."""

    prefix: str
    """Name prefix of every log stream group, e.g. ``/appstack/appstack-dev``."""
    streams: Sequence[str]
    """Log groups / tables to create under the prefix (system, auth, app, flow)."""
    retention_days: int
    protect: bool
    """Pulumi `protect` + `retain_on_delete` on the key and the logs."""
    tags: Tags
    scope: pulumi.Input[str] | None = None
    """Cloud container for the part's resources (the Azure resource group); None elsewhere."""


@dataclass(frozen=True)
class FirewallArgs:
    """Load balancer and VM firewall rules."""

    network_id: pulumi.Input[str]
    app_port: int
    ingress_cidrs: Sequence[str]
    """Sources allowed to reach the load balancer on 443 and 80 (80 only redirects)."""
    admin_cidrs: Sequence[str]
    ssh: bool
    """Open 22 from `admin_cidrs` to the VMs; never from the internet."""
    egress_cidrs: Sequence[str]
    """Destinations the VMs may reach, HTTPS only."""
    tags: Tags
    scope: pulumi.Input[str] | None = None
    """Cloud container for the part's resources (the Azure resource group); None elsewhere."""
    extras: Mapping[str, Any] = field(default_factory=dict)
    """Cloud-specific settings from the cloud's `Foundation.extras` (Azure: location, SSH key,
    key and DNS choices); empty on clouds whose provider carries everything."""


@dataclass(frozen=True)
class VmArgs:
    """N identical VMs spread over the private subnets."""

    count: int
    machine_type: str
    architecture: str
    image_id: str | None
    """Pinned image; None looks up the latest supported image at plan time."""
    root_volume_gb: int
    subnet_ids: pulumi.Input[Sequence[str]]
    security_group_id: pulumi.Input[str]
    user_data: str
    """Rendered cloud-init; a plain string so it is known (and checkable) at preview."""
    deletion_protection: bool
    protect: bool
    tags: Tags
    log_destinations: Sequence[pulumi.Input[str]] = ()
    """Log sinks the VMs' agent writes to (AWS: log group ARNs): the VM identity may write there
    and nowhere else, and the VMs are deleted before them (a running agent must not re-create them)."""
    scope: pulumi.Input[str] | None = None
    """Cloud container for the part's resources (the Azure resource group); None elsewhere."""
    extras: Mapping[str, Any] = field(default_factory=dict)
    """Cloud-specific settings from the cloud's `Foundation.extras` (Azure: location, SSH key,
    key and DNS choices); empty on clouds whose provider carries everything."""


@dataclass(frozen=True)
class VmGroupArgs:
    """A self-healing group of identical VMs over the private subnets, scaled on CPU.

    Each VM gets exactly the hardening of `vm` (the same settings `Vm` gets; `vm.count` is the
    starting size). The cloud replaces VMs its health check finds unhealthy, rolls a changed
    boot config out without ever dropping below the group's size, and keeps the average CPU
    near `cpu_target_percent` between `min_size` and `max_size`.
    """

    vm: VmArgs
    """Every VM's settings; `vm.count` is the size the group starts with."""
    min_size: int
    max_size: int
    cpu_target_percent: int
    """Average CPU (%) the autoscaler aims for."""
    app_port: int
    """The app's port: the cloud's own health check (Azure, GCP) probes it."""
    health_check_path: str
    backend_id: pulumi.Input[str] | None = None
    """The load balancer backend the group's VMs join (AWS: target group ARN; Azure: the
    gateway's backend pool ID), on clouds where the group names its backend
    (`Cloud.group_joins_backend`); None where the backend names the group (GCP)."""


@dataclass(frozen=True)
class LoadBalancerArgs:
    """Internet-facing TLS load balancer in front of the VMs."""

    network_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    security_group_id: pulumi.Input[str]
    instance_ids: Sequence[pulumi.Input[str]]
    """The VMs the load balancer sends to (`compute.mode: instances`); empty for a group."""
    app_port: int
    health_check_path: str
    domain: str
    zone: str
    tls_policy: str
    certificate_id: str | None
    """Existing certificate; None creates a DNS-validated managed one."""
    deletion_protection: bool
    access_log_retention_days: int
    waf: bool
    """A WAF with managed rule sets in front of the load balancer."""
    log_key_id: pulumi.Input[str]
    """Log sink key, for the WAF's own log stream."""
    log_retention_days: int
    protect: bool
    tags: Tags
    scope: pulumi.Input[str] | None = None
    """Cloud container for the part's resources (the Azure resource group); None elsewhere."""
    extras: Mapping[str, Any] = field(default_factory=dict)
    """Cloud-specific settings from the cloud's `Foundation.extras` (Azure: location, SSH key,
    key and DNS choices); empty on clouds whose provider carries everything."""
    instance_group: pulumi.Input[str] | None = None
    """The VM group's instance group the backend names (`compute.mode: group` on GCP). On AWS
    and Azure the group joins the load balancer's `backend_id` itself, and this stays None."""


@dataclass(frozen=True)
class MonitoringArgs:
    """Alert channel and the baseline alarms, each with actions."""

    alert_emails: Sequence[str]
    instance_ids: Sequence[pulumi.Input[str]]
    """The VMs to alarm on one by one (`compute.mode: instances`); empty for a group."""
    lb_id: pulumi.Input[str]
    """Load balancer metric dimension (AWS: ARN suffix)."""
    target_group_id: pulumi.Input[str]
    cpu_high_percent: int
    response_time_seconds: float
    server_errors_per_period: int
    unhealthy_hosts: int
    period_seconds: int
    protect: bool
    tags: Tags
    scope: pulumi.Input[str] | None = None
    """Cloud container for the part's resources (the Azure resource group); None elsewhere."""
    extras: Mapping[str, Any] = field(default_factory=dict)
    """Cloud-specific settings from the cloud's `Foundation.extras` (GCP: the domain and health
    path its uptime check probes); empty on clouds that need none."""
    group_id: pulumi.Input[str] | None = None
    """The VM group (`compute.mode: group`; AWS: auto scaling group name, Azure: scale set ID,
    GCP: managed instance group ID): CPU and health alarms then cover the group as a whole."""
