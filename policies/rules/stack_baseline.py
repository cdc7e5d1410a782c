"""Concern `stack-baseline` (policy names `stack-...`): L4, O2: stack-level policies - a stack with a load balancer has a log sink, an alert channel and the baseline alarms.

Each cloud is judged on its own resources: a stack with an AWS load balancer needs AWS log and
alert resources, and so on. Alarms cannot be paired with their VM or load balancer by id during
preview (ids are outputs), so AWS alarms are counted per VM/load balancer by metric name and
dimension name, and GCP/Azure alert rules (which usually cover several resources at once) must
exist by metric name. GCP has no unhealthy-backend metric, so only the request (5xx) alert is
required there.

VM groups count as VMs here: auto scaling groups need a CPU alarm on ``AutoScalingGroupName``,
managed instance groups and scale sets the same VM CPU/availability alerts as single VMs.
Detailed monitoring is set where a group's VMs are defined: ``monitoring.enabled`` on launch
templates, ``enableMonitoring`` on launch configurations (on by default), ``monitoring`` on
each inline spot fleet launch specification; the auto scaling group has no per-instance switch
(its ``enabledMetrics`` are group metrics). The Azure Monitor Agent on a scale set is an entry of
``virtualMachineProfile.extensionProfile.extensions`` (or a ``VirtualMachineScaleSetExtension``
resource). GCP's Ops Agent is installed by the boot script, which no property shows, so it is
not judged on any GCP shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..framework import (
    ADVISORY,
    Context,
    Knob,
    Props,
    Rule,
    StackResource,
    StackRule,
    as_list,
    dig,
    exact_false,
    is_map,
    truthy,
)
from ..shapes import get, is_set, show, text
from ..tokens import (
    AWS_ELB,
    AWS_INSTANCE,
    AWS_LAUNCH_CONFIGURATION,
    AWS_LAUNCH_TEMPLATE,
    AWS_LBS,
    AWS_LOG_GROUP,
    AWS_METRIC_ALARM,
    AWS_SNS_TOPIC,
    AWS_SPOT_FLEET,
    AWS_SPOT_INSTANCE,
    AZ_ACTION_GROUPS,
    AZ_APPGW,
    AZ_LB,
    AZ_METRIC_ALERTS,
    AZ_VM,
    AZ_VMSS,
    AZ_WORKSPACE,
    GCP_ALERT_POLICY,
    GCP_BACKEND,
    GCP_FOLDER_BUCKET_CONFIG,
    GCP_FORWARDING_RULE,
    GCP_GLOBAL_FORWARDING_RULE,
    GCP_INSTANCE,
    GCP_INSTANCE_FROM_TEMPLATE,
    GCP_NOTIFICATION_CHANNEL,
    GCP_ORGANIZATION_BUCKET_CONFIG,
    GCP_PROJECT_BUCKET_CONFIG,
    GCP_REGION_BACKEND,
)

AWS_ASG = "aws:autoscaling/group:Group"
AWS_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
AZ_VM_EXTENSION = "azure-native:compute:VirtualMachineExtension"
AZ_VMSS_EXTENSION = "azure-native:compute:VirtualMachineScaleSetExtension"
GCP_LBS = (GCP_GLOBAL_FORWARDING_RULE, GCP_FORWARDING_RULE, GCP_BACKEND, GCP_REGION_BACKEND)
GCP_VMS = (
    GCP_INSTANCE,
    GCP_INSTANCE_FROM_TEMPLATE,
    "gcp:compute/instanceGroupManager:InstanceGroupManager",
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
)
GCP_SINKS = (
    GCP_PROJECT_BUCKET_CONFIG,
    GCP_FOLDER_BUCKET_CONFIG,
    GCP_ORGANIZATION_BUCKET_CONFIG,
    "gcp:logging/projectSink:ProjectSink",
    "gcp:logging/folderSink:FolderSink",
    "gcp:logging/organizationSink:OrganizationSink",
)

#: Per cloud: (load balancer types, log sink types, what a sink is called).
LB_TYPES = {"aws": (*AWS_LBS, AWS_ELB), "azure": (AZ_APPGW, AZ_LB), "gcp": GCP_LBS}
SINK_TYPES = {
    "aws": ((AWS_LOG_GROUP,), "a CloudWatch log group"),
    "azure": ((AZ_WORKSPACE,), "a Log Analytics workspace"),
    "gcp": (GCP_SINKS, "a log bucket or log sink"),
}


def _of(resources: Sequence[StackResource], types: Sequence[str]) -> list[StackResource]:
    return [r for r in resources if r.type in types]


def _load_balancers(resources: Sequence[StackResource]) -> dict[str, list[StackResource]]:
    return {cloud: found for cloud, types in LB_TYPES.items() if (found := _of(resources, types))}


# ---------------------------------------------------------------------------------------------
# L4: a log sink


def check_log_sink(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    for cloud, lbs in _load_balancers(resources).items():
        types, what = SINK_TYPES[cloud]
        if not _of(resources, types):
            yield (f"the stack has a {cloud} load balancer ('{lbs[0].name}') but no log sink; add {what}", lbs[0].urn)


# ---------------------------------------------------------------------------------------------
# Alert channel


def check_alert_channel(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    for cloud, lbs in _load_balancers(resources).items():
        where = f"the stack has a {cloud} load balancer ('{lbs[0].name}') but "
        if cloud == "aws":
            if not _of(resources, (AWS_SNS_TOPIC,)):
                yield (where + "no SNS topic for alarms; add an aws.sns.Topic with a subscription", lbs[0].urn)
            elif not [
                s
                for s in _of(resources, (AWS_SUBSCRIPTION,))
                if is_set(s.props, "topic") and is_set(s.props, "endpoint")
            ]:
                yield (
                    where
                    + "its SNS topic has no subscription, so alarms reach nobody; add an aws.sns.TopicSubscription",
                    lbs[0].urn,
                )
        elif cloud == "azure":
            if not [g for g in _of(resources, AZ_ACTION_GROUPS) if not exact_false(get(g.props, "enabled"))]:
                yield (
                    where + "no enabled action group; add an azure-native monitor ActionGroup with a receiver",
                    lbs[0].urn,
                )
        elif cloud == "gcp":
            if not [c for c in _of(resources, (GCP_NOTIFICATION_CHANNEL,)) if not exact_false(get(c.props, "enabled"))]:
                yield (where + "no enabled notification channel; add a gcp.monitoring.NotificationChannel", lbs[0].urn)


# ---------------------------------------------------------------------------------------------
# O2: baseline alarms


def _aws_alarm_signature(props: Props) -> tuple[set[str], set[str]]:
    """(metric names, dimension names) of a metric alarm, including metric-math queries."""
    names: set[str] = set()
    dims: set[str] = set()

    def add(metric: Any) -> None:
        name = get(metric, "metricName")
        if isinstance(name, str):
            names.add(name)
        dimensions = get(metric, "dimensions")
        if is_map(dimensions):
            dims.update(str(k) for k in dimensions)  # keys only: the ids are unknown during preview

    add(props)
    for query in as_list(get(props, "metricQueries")):
        metric = get(query, "metric") if is_map(query) else None
        if is_map(metric):
            add(metric)
    return names, dims


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a nested property (filters and queries of alert conditions)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key in value:
            yield from _strings(value[key])
    elif isinstance(value, Sequence):
        for item in value:
            yield from _strings(item)


def _azure_metric_names(props: Props) -> set[str]:
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key in value:
                if key == "metricName" and isinstance(value[key], str):
                    names.add(value[key].lower())
                else:
                    walk(value[key])
        elif isinstance(value, Sequence) and not isinstance(value, str):
            for item in value:
                walk(item)

    walk(get(props, "criteria"))
    return names


def _aws_alarms(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    alarms = [_aws_alarm_signature(a.props) for a in _of(resources, (AWS_METRIC_ALARM,))]

    def count(metrics_knob: str, dimension: str | None = None) -> int:
        wanted = set(ctx[metrics_knob])
        return sum(1 for names, dims in alarms if names & wanted and (dimension is None or dimension in dims))

    instances = _of(resources, (AWS_INSTANCE, AWS_SPOT_INSTANCE))
    groups = _of(resources, (AWS_ASG,))
    lbs = _of(resources, AWS_LBS)
    albs = [lb for lb in lbs if (text(get(lb.props, "loadBalancerType")) or "application") == "application"]
    http_lbs = albs + _of(resources, (AWS_ELB,))
    balanced = [lb for lb in lbs if text(get(lb.props, "loadBalancerType")) != "gateway"] + _of(resources, (AWS_ELB,))

    needs = [
        (instances, "awsCpuMetrics", "InstanceId", "a CPU alarm (dimension InstanceId) per instance"),
        (instances, "awsStatusMetrics", "InstanceId", "a status-check alarm (dimension InstanceId) per instance"),
        (
            groups,
            "awsCpuMetrics",
            "AutoScalingGroupName",
            "a CPU alarm (dimension AutoScalingGroupName) per auto scaling group",
        ),
        (http_lbs, "aws5xxMetrics", None, "a 5xx alarm per HTTP load balancer"),
        (balanced, "awsUnhealthyMetrics", None, "an unhealthy-host alarm per load balancer"),
    ]
    for targets, knob, dimension, what in needs:
        have = count(knob, dimension)
        if len(targets) > have:
            yield (
                f"baseline alarms missing: {len(targets)} resource(s) need {what} on {list(ctx[knob])}, "
                f"found {have}; add CloudWatch metric alarms",
                targets[have].urn if have < len(targets) else None,
            )


def _gcp_alerts(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    text_of = [" ".join(_strings(get(p.props, "conditions"))) for p in _of(resources, (GCP_ALERT_POLICY,))]

    def present(knob: str) -> bool:
        return any(m in t for t in text_of for m in ctx[knob])

    vms, lbs = _of(resources, GCP_VMS), _of(resources, GCP_LBS)
    if vms and not present("gcpCpuMetrics"):
        yield (
            f"baseline alarms missing: no alert policy on VM CPU ({list(ctx['gcpCpuMetrics'])}); add one",
            vms[0].urn,
        )
    if lbs and not present("gcpLbErrorMetrics"):
        yield (
            f"baseline alarms missing: no alert policy on load balancer errors ({list(ctx['gcpLbErrorMetrics'])}, "
            "response_code_class 500); add one",
            lbs[0].urn,
        )


def _azure_alerts(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    names: set[str] = set()
    for alert in _of(resources, AZ_METRIC_ALERTS):
        names |= _azure_metric_names(alert.props)

    def present(knob: str) -> bool:
        return bool(names & {str(m).lower() for m in ctx[knob]})

    vms, gws, lbs = _of(resources, (AZ_VM, AZ_VMSS)), _of(resources, (AZ_APPGW,)), _of(resources, (AZ_LB,))
    needs = [
        (vms, "azureCpuMetrics", "VM CPU"),
        (vms, "azureStatusMetrics", "VM availability"),
        (gws, "azureAppGwErrorMetrics", "application gateway failed requests / 5xx"),
        (gws, "azureAppGwUnhealthyMetrics", "application gateway unhealthy hosts"),
        (lbs, "azureLbUnhealthyMetrics", "load balancer health probe status"),
    ]
    for targets, knob, what in needs:
        if targets and not present(knob):
            yield (f"baseline alarms missing: no metric alert on {what} ({list(ctx[knob])}); add one", targets[0].urn)


def check_baseline_alarms(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    clouds = _load_balancers(resources)
    if "aws" in clouds:
        yield from _aws_alarms(resources, ctx)
    if "gcp" in clouds:
        yield from _gcp_alerts(resources, ctx)
    if "azure" in clouds:
        yield from _azure_alerts(resources, ctx)


# ---------------------------------------------------------------------------------------------
# O2: detailed monitoring / monitoring agent


def check_ec2_detailed_monitoring(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type == AWS_LAUNCH_CONFIGURATION:
        # Detailed monitoring is the launch configuration's default: only an explicit false is off.
        value = get(props, "enableMonitoring")
        if value is not None and not truthy(value):
            yield f"enableMonitoring is {show(value)}; set it to true (or leave it unset) for 1-minute metrics"
        return
    if resource_type == AWS_SPOT_FLEET:
        # Fleets launched from launchTemplateConfigs take it from the template, judged on its own.
        for i, spec in enumerate(as_list(get(props, "launchSpecifications"))):
            value = get(spec, "monitoring") if is_map(spec) else None
            if not truthy(value):
                shown = "not set (basic 5-minute metrics)" if value is None else show(value)
                yield f"launchSpecifications[{i}].monitoring is {shown}; set it to true for 1-minute metrics"
        return
    if resource_type == AWS_LAUNCH_TEMPLATE:
        monitoring = get(props, "monitoring")
        value = get(monitoring, "enabled") if is_map(monitoring) else monitoring
        path = "monitoring.enabled"
    else:
        value = get(props, "monitoring")
        path = "monitoring"
    if not truthy(value):
        shown = "not set (basic 5-minute metrics)" if value is None else show(value)
        yield f"{path} is {shown}; set it to true for 1-minute metrics"


def check_azure_monitor_agent(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    vms, sets = _of(resources, (AZ_VM,)), _of(resources, (AZ_VMSS,))
    if not vms and not sets:
        return
    agents = {str(a).lower() for a in ctx["agentTypes"]}

    def is_agent(ext: Any) -> bool:
        # The input `type` is the extension type; on `up` stack rules see outputs, where `type` is
        # the ARM resource type, so the Azure Monitor publisher counts too.
        return is_map(ext) and (
            text(get(ext, "type")) in agents or text(get(ext, "publisher")) == "microsoft.azure.monitor"
        )

    # Extensions name their VM / scale set by an output (unknown in preview): counted, not paired.
    count = sum(1 for e in _of(resources, (AZ_VM_EXTENSION,)) if is_agent(e.props))
    if count < len(vms):
        yield (
            f"{len(vms)} VM(s) but {count} Azure Monitor Agent extension(s) ({sorted(ctx['agentTypes'])}); "
            "install the agent on every VM",
            vms[count].urn,
        )
    # A scale set carries the agent in its VM model, or gets it from a separate extension resource.
    bare = [
        s
        for s in sets
        if not any(
            is_agent(e) for e in as_list(dig(s.props, "virtualMachineProfile", "extensionProfile", "extensions"))
        )
    ]
    separate = sum(1 for e in _of(resources, (AZ_VMSS_EXTENSION,)) if is_agent(e.props))
    if separate < len(bare):
        yield (
            f"{len(bare)} scale set(s) without the Azure Monitor Agent ({sorted(ctx['agentTypes'])}) in "
            f"virtualMachineProfile.extensionProfile.extensions and {separate} VirtualMachineScaleSetExtension "
            "resource(s) with it; add the agent to every scale set's VM model",
            bare[separate].urn,
        )


def _names(default: list[str], doc: str) -> Knob:
    return Knob({"type": "array", "items": {"type": "string"}, "minItems": 1}, default, doc)


RULES: list[Rule | StackRule] = [
    StackRule(
        name="stack-log-sink-present",
        description="A stack with a load balancer must have a log sink on the same cloud (CloudWatch log group, Log Analytics workspace, GCP log bucket or sink).",
        concern="stack-baseline",
        clouds=("aws", "azure", "gcp"),
        check=check_log_sink,
        catalogue=("L4",),
        peers=("PSR:KeyVault.Logs",),
    ),
    StackRule(
        name="stack-alert-channel-present",
        description="A stack with a load balancer must have an alert channel (SNS topic with a subscription, Azure action group, GCP notification channel).",
        concern="stack-baseline",
        clouds=("aws", "azure", "gcp"),
        check=check_alert_channel,
        catalogue=("O1", "O2"),
    ),
    StackRule(
        name="stack-baseline-alarms",
        description="A stack with a load balancer must alarm on VM CPU and status, load balancer 5xx and unhealthy backends.",
        concern="stack-baseline",
        clouds=("aws", "azure", "gcp"),
        check=check_baseline_alarms,
        knobs={
            "awsCpuMetrics": _names(["CPUUtilization"], "AWS metric names that count as a VM CPU alarm"),
            "awsStatusMetrics": _names(
                ["StatusCheckFailed", "StatusCheckFailed_Instance", "StatusCheckFailed_System"],
                "AWS metric names that count as a VM status-check alarm",
            ),
            "aws5xxMetrics": _names(
                ["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "HTTPCode_Backend_5XX"],
                "AWS metric names that count as a load balancer 5xx alarm",
            ),
            "awsUnhealthyMetrics": _names(
                ["UnHealthyHostCount"], "AWS metric names that count as an unhealthy-host alarm"
            ),
            "gcpCpuMetrics": _names(
                ["compute.googleapis.com/instance/cpu/utilization"], "GCP metric types that count as a VM CPU alert"
            ),
            "gcpLbErrorMetrics": _names(
                [
                    "loadbalancing.googleapis.com/https/request_count",
                    "loadbalancing.googleapis.com/https/backend_request_count",
                    "loadbalancing.googleapis.com/https/external/regional/request_count",
                    "loadbalancing.googleapis.com/https/internal/request_count",
                ],
                "GCP metric types that count as a load balancer error alert",
            ),
            "azureCpuMetrics": _names(["Percentage CPU"], "Azure metric names that count as a VM CPU alert"),
            "azureStatusMetrics": _names(
                ["VmAvailabilityMetric"], "Azure metric names that count as a VM availability alert"
            ),
            "azureAppGwErrorMetrics": _names(
                ["ResponseStatus", "BackendResponseStatus", "FailedRequests", "Failed Requests"],
                "Azure metric names that count as an application gateway error alert",
            ),
            "azureAppGwUnhealthyMetrics": _names(
                ["UnhealthyHostCount"], "Azure metric names that count as an unhealthy-host alert"
            ),
            "azureLbUnhealthyMetrics": _names(
                ["DipAvailability"], "Azure metric names that count as a load balancer health alert"
            ),
        },
        catalogue=("O2",),
    ),
    Rule(
        # Advisory: detailed monitoring costs money and the baseline alarms work on 5-minute data.
        name="stack-ec2-detailed-monitoring",
        description="EC2 instances, launch templates, launch configurations and spot fleet launch specifications should enable detailed (1-minute) monitoring.",
        concern="stack-baseline",
        clouds=("aws",),
        resource_types=(AWS_INSTANCE, AWS_SPOT_INSTANCE, AWS_LAUNCH_TEMPLATE, AWS_LAUNCH_CONFIGURATION, AWS_SPOT_FLEET),
        check=check_ec2_detailed_monitoring,
        level=ADVISORY,
        catalogue=("O2",),
        peers=("CKV_AWS_126", "AwsSolutions-EC28", "AWSGuard:ec2-instance-detailed-monitoring-enabled"),
    ),
    StackRule(
        # Advisory: guest metrics/logs are best practice; VM-level platform metrics already feed the alarms.
        name="stack-azure-vm-monitor-agent",
        description="Every Azure VM and scale set should have the Azure Monitor Agent extension.",
        concern="stack-baseline",
        clouds=("azure",),
        check=check_azure_monitor_agent,
        level=ADVISORY,
        knobs={
            "agentTypes": _names(
                ["AzureMonitorLinuxAgent", "AzureMonitorWindowsAgent"],
                "VM extension types that count as the monitoring agent",
            )
        },
        catalogue=("O2",),
        peers=("PSR:VM.AMA",),
    ),
]
