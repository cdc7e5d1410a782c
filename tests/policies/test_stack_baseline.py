"""L4, O2: a stack with a load balancer has a log sink, an alert channel and baseline alarms."""

from __future__ import annotations

import pytest

from policies.framework import ADVISORY, MANDATORY
from tests.policies.support import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    reported_name,
    rule,
    stack_violations,
    violations,
)

SINK = "stack-log-sink-present"
CHANNEL = "stack-alert-channel-present"
ALARMS = "stack-baseline-alarms"
DETAILED = "stack-ec2-detailed-monitoring"
AGENT = "stack-azure-vm-monitor-agent"

U = UNKNOWN_STRING_VALUE
UNKNOWN_ARRAY = UNKNOWN_ARRAY_VALUE


def alarm(metric, dims, actions=(U,)):
    return (
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        f"alarm-{metric}-{len(dims)}",
        {
            "metricName": metric,
            "namespace": "AWS/EC2",
            "dimensions": dims,
            "actionsEnabled": True,
            "alarmActions": list(actions),
        },
    )


def aws_stack(instances=2):
    """What components/aws builds: per VM a CPU and two status-check alarms, ALB 5xx and unhealthy hosts."""
    res = [
        ("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}),
        ("aws:cloudwatch/logGroup:LogGroup", "logs-app", {"retentionInDays": 30, "kmsKeyId": U}),
        ("aws:sns/topic:Topic", "alerts", {"kmsMasterKeyId": U}),
        (
            "aws:sns/topicSubscription:TopicSubscription",
            "alerts-email-0",
            {"topic": U, "protocol": "email", "endpoint": "ops@example.com"},
        ),
        (
            "aws:lb/loadBalancer:LoadBalancer",
            "alb",
            {"loadBalancerType": "application", "accessLogs": {"bucket": U, "enabled": True}},
        ),
    ]
    for i in range(instances):
        res.append(("aws:ec2/instance:Instance", f"vm-{i}", {"ami": "ami-1", "monitoring": True}))
        res.append(alarm("CPUUtilization", {"InstanceId": U}))
        res.append(alarm("StatusCheckFailed_System", {"InstanceId": U}))
        res.append(alarm("StatusCheckFailed_Instance", {"InstanceId": U}))
    res += [
        alarm("HTTPCode_ELB_5XX_Count", {"LoadBalancer": U}),
        alarm("HTTPCode_Target_5XX_Count", {"LoadBalancer": U}),
        alarm("UnHealthyHostCount", {"LoadBalancer": U, "TargetGroup": U}),
    ]
    return res


def metric_alert(name, metric):
    return (
        "azure-native:monitor:MetricAlert",
        name,
        {
            "enabled": True,
            "scopes": [U],
            "actions": [{"actionGroupId": U}],
            "criteria": {
                "odataType": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                "allOf": [
                    {
                        "name": "c",
                        "metricName": metric,
                        "operator": "GreaterThan",
                        "threshold": 80,
                        "timeAggregation": "Average",
                    }
                ],
            },
        },
    )


def azure_stack():
    return [
        ("azure-native:network:ApplicationGateway", "appgw", {"resourceGroupName": U}),
        ("azure-native:compute:VirtualMachine", "vm-0", {"resourceGroupName": U}),
        (
            "azure-native:compute:VirtualMachineExtension",
            "vm-0-ama",
            {"vmName": U, "publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorLinuxAgent"},
        ),
        ("azure-native:operationalinsights:Workspace", "law", {"retentionInDays": 90}),
        (
            "azure-native:monitor:ActionGroup",
            "ag",
            {
                "enabled": True,
                "groupShortName": "ops",
                "emailReceivers": [{"name": "ops", "emailAddress": "ops@example.com"}],
            },
        ),
        metric_alert("cpu", "Percentage CPU"),
        metric_alert("availability", "VmAvailabilityMetric"),
        metric_alert("failed", "Failed Requests"),
        metric_alert("unhealthy", "UnhealthyHostCount"),
    ]


def gcp_policy(name, metric):
    return (
        "gcp:monitoring/alertPolicy:AlertPolicy",
        name,
        {
            "enabled": True,
            "notificationChannels": [U],
            "combiner": "OR",
            "conditions": [
                {
                    "displayName": name,
                    "conditionThreshold": {
                        "filter": f'metric.type="{metric}" AND resource.type="x"',
                        "comparison": "COMPARISON_GT",
                    },
                }
            ],
        },
    )


def gcp_stack():
    return [
        ("gcp:compute/globalForwardingRule:GlobalForwardingRule", "fr", {"target": U, "portRange": "443"}),
        ("gcp:compute/backendService:BackendService", "backend", {"logConfig": {"enable": True}}),
        ("gcp:compute/instanceGroupManager:InstanceGroupManager", "mig", {"baseInstanceName": "vm"}),
        (
            "gcp:logging/projectBucketConfig:ProjectBucketConfig",
            "bucket",
            {"bucketId": "appstack", "retentionDays": 30},
        ),
        ("gcp:monitoring/notificationChannel:NotificationChannel", "email", {"type": "email"}),
        gcp_policy("cpu", "compute.googleapis.com/instance/cpu/utilization"),
        gcp_policy("lb-5xx", "loadbalancing.googleapis.com/https/request_count"),
    ]


def without(res, *names):
    return [r for r in res if r[1] not in names and not any(r[1].startswith(n + "*") for n in names)]


def drop_type(res, type_):
    return [r for r in res if r[0] != type_]


def test_levels_and_catalogue():
    for name in (SINK, CHANNEL, ALARMS):
        assert rule(name).level == MANDATORY
    assert rule(SINK).catalogue == ("L4",) and rule(ALARMS).catalogue == ("O2",)
    assert rule(DETAILED).level == ADVISORY and rule(AGENT).level == ADVISORY


@pytest.mark.parametrize(
    "stack",
    [aws_stack(), azure_stack(), gcp_stack(), aws_stack() + azure_stack() + gcp_stack()],
    ids=["aws", "azure", "gcp", "all"],
)
@pytest.mark.parametrize("name", [SINK, CHANNEL, ALARMS, AGENT])
def test_passes_when_hardened_stack(name, stack):
    assert stack_violations(name, stack) == []


@pytest.mark.parametrize("name", [SINK, CHANNEL, ALARMS])
def test_passes_when_no_load_balancer(name):
    res = [r for r in aws_stack() if r[0] == "aws:ec2/instance:Instance"]
    assert stack_violations(name, res) == []


@pytest.mark.parametrize(
    "res,needle",
    [
        (drop_type(aws_stack(), "aws:cloudwatch/logGroup:LogGroup"), "a CloudWatch log group"),
        (drop_type(azure_stack(), "azure-native:operationalinsights:Workspace"), "a Log Analytics workspace"),
        (drop_type(gcp_stack(), "gcp:logging/projectBucketConfig:ProjectBucketConfig"), "a log bucket or log sink"),
    ],
    ids=["aws", "azure", "gcp"],
)
def test_fails_when_log_sink_missing(res, needle):
    found = stack_violations(SINK, res)
    assert len(found) == 1 and needle in found[0][0] and found[0][1]


def test_passes_when_gcp_uses_a_log_sink_instead_of_a_bucket():
    res = drop_type(gcp_stack(), "gcp:logging/projectBucketConfig:ProjectBucketConfig")
    res.append(("gcp:logging/projectSink:ProjectSink", "sink", {"destination": "storage.googleapis.com/b"}))
    assert stack_violations(SINK, res) == []


@pytest.mark.parametrize(
    "res,needle",
    [
        (drop_type(aws_stack(), "aws:sns/topic:Topic"), "no SNS topic"),
        (drop_type(aws_stack(), "aws:sns/topicSubscription:TopicSubscription"), "no subscription"),
        (drop_type(azure_stack(), "azure-native:monitor:ActionGroup"), "no enabled action group"),
        (
            [r if r[1] != "ag" else (r[0], r[1], {**r[2], "enabled": False}) for r in azure_stack()],
            "no enabled action group",
        ),
        (
            drop_type(gcp_stack(), "gcp:monitoring/notificationChannel:NotificationChannel"),
            "no enabled notification channel",
        ),
    ],
    ids=["aws-topic", "aws-subscription", "azure", "azure-disabled", "gcp"],
)
def test_fails_when_alert_channel_missing(res, needle):
    found = stack_violations(CHANNEL, res)
    assert len(found) == 1 and needle in found[0][0]


def _drop_alarm(res, metric, count=1):
    out, dropped = [], 0
    for r in res:
        if r[0] == "aws:cloudwatch/metricAlarm:MetricAlarm" and r[2]["metricName"] == metric and dropped < count:
            dropped += 1
            continue
        out.append(r)
    return out


@pytest.mark.parametrize(
    "res,needle",
    [
        (_drop_alarm(aws_stack(), "CPUUtilization"), "a CPU alarm (dimension InstanceId) per instance"),
        (
            _drop_alarm(_drop_alarm(aws_stack(), "StatusCheckFailed_System", 2), "StatusCheckFailed_Instance"),
            "a status-check alarm",
        ),
        (_drop_alarm(_drop_alarm(aws_stack(), "HTTPCode_ELB_5XX_Count"), "HTTPCode_Target_5XX_Count"), "a 5xx alarm"),
        (_drop_alarm(aws_stack(), "UnHealthyHostCount"), "an unhealthy-host alarm"),
        ([*aws_stack(), ("aws:ec2/instance:Instance", "vm-extra", {"ami": "ami-1"})], "found 2"),
        ([*aws_stack(), ("aws:autoscaling/group:Group", "asg", {"maxSize": 2, "minSize": 1})], "AutoScalingGroupName"),
    ],
    ids=["cpu", "status", "5xx", "unhealthy", "third-vm", "asg"],
)
def test_fails_when_aws_baseline_alarm_missing(res, needle):
    found = stack_violations(ALARMS, res)
    assert len(found) == 1 and needle in found[0][0], found


def test_fails_when_cpu_alarm_has_no_instance_dimension():
    res = [r if r[2].get("metricName") != "CPUUtilization" else alarm("CPUUtilization", {}) for r in aws_stack(1)]
    assert len(stack_violations(ALARMS, res)) == 1


def test_passes_when_alarm_uses_metric_math_and_nlb_needs_no_5xx():
    res = [
        r
        for r in aws_stack(0)
        if r[0] != "aws:lb/loadBalancer:LoadBalancer" and r[0] != "aws:cloudwatch/metricAlarm:MetricAlarm"
    ]
    res.append(("aws:lb/loadBalancer:LoadBalancer", "nlb", {"loadBalancerType": "network"}))
    res.append(
        (
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "math",
            {
                "alarmActions": [U],
                "metricQueries": [
                    {
                        "id": "m1",
                        "metric": {
                            "metricName": "UnHealthyHostCount",
                            "namespace": "AWS/NetworkELB",
                            "dimensions": {"LoadBalancer": U},
                        },
                    },
                    {"id": "e1", "expression": "m1", "returnData": True},
                ],
            },
        )
    )
    assert stack_violations(ALARMS, res) == []


@pytest.mark.parametrize(
    "drop,needle",
    [
        ("cpu", "VM CPU"),
        ("availability", "VM availability"),
        ("failed", "failed requests"),
        ("unhealthy", "unhealthy hosts"),
    ],
)
def test_fails_when_azure_baseline_alert_missing(drop, needle):
    found = stack_violations(ALARMS, without(azure_stack(), drop))
    assert len(found) == 1 and needle in found[0][0]


def test_fails_when_azure_lb_has_no_health_alert():
    res = [*azure_stack(), ("azure-native:network:LoadBalancer", "lb", {"resourceGroupName": U})]
    found = stack_violations(ALARMS, res)
    assert len(found) == 1 and "DipAvailability" in found[0][0]


@pytest.mark.parametrize("drop,needle", [("cpu", "VM CPU"), ("lb-5xx", "load balancer errors")])
def test_fails_when_gcp_baseline_alert_missing(drop, needle):
    found = stack_violations(ALARMS, without(gcp_stack(), drop))
    assert len(found) == 1 and needle in found[0][0]


def test_unknown_alert_filter_raises_in_preview_and_fails_on_up():
    res = gcp_stack()
    res[-1] = (
        "gcp:monitoring/alertPolicy:AlertPolicy",
        "lb-5xx",
        {"conditions": [{"conditionThreshold": {"filter": U}}]},
    )
    with pytest.raises(UnknownValueError):
        stack_violations(ALARMS, res)
    found = stack_violations(ALARMS, res, dry_run=False)
    assert len(found) == 1 and "unknown" in found[0][0]


def test_malformed_alarm_shape_does_not_crash():
    res = aws_stack(1)
    res.append(
        (
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "odd",
            {"metricName": ["CPUUtilization"], "dimensions": "InstanceId", "metricQueries": "q"},
        )
    )
    assert stack_violations(ALARMS, res) == []  # the odd alarm counts for nothing; the real ones suffice
    res = _drop_alarm(res, "CPUUtilization")
    assert len(stack_violations(ALARMS, res)) == 1


# ---------------------------------------------------------------------------------------------
# Detailed monitoring / agent


@pytest.mark.parametrize(
    "type_,props,ok",
    [
        ("aws:ec2/instance:Instance", {"monitoring": True}, True),
        ("aws:ec2/instance:Instance", {"monitoring": False}, False),
        ("aws:ec2/instance:Instance", {}, False),
        ("aws:ec2/launchTemplate:LaunchTemplate", {"monitoring": {"enabled": True}}, True),
        ("aws:ec2/launchTemplate:LaunchTemplate", {"monitoring": {"enabled": False}}, False),
        ("aws:ec2/launchTemplate:LaunchTemplate", {"monitoring": "yes"}, False),
        ("aws:ec2/launchTemplate:LaunchTemplate", {}, False),
        # Launch configurations default to detailed monitoring: only an explicit false is off.
        ("aws:ec2/launchConfiguration:LaunchConfiguration", {}, True),
        ("aws:ec2/launchConfiguration:LaunchConfiguration", {"enableMonitoring": True}, True),
        ("aws:ec2/launchConfiguration:LaunchConfiguration", {"enableMonitoring": False}, False),
        ("aws:ec2/launchConfiguration:LaunchConfiguration", {"enableMonitoring": "false"}, False),
        ("aws:ec2/spotFleetRequest:SpotFleetRequest", {"launchSpecifications": [{"monitoring": True}]}, True),
        ("aws:ec2/spotFleetRequest:SpotFleetRequest", {"launchTemplateConfigs": [{}]}, True),
        ("aws:ec2/spotFleetRequest:SpotFleetRequest", {"launchSpecifications": [{"monitoring": False}]}, False),
        ("aws:ec2/spotFleetRequest:SpotFleetRequest", {"launchSpecifications": [{"ami": "a"}]}, False),
    ],
)
def test_ec2_detailed_monitoring(type_, props, ok):
    msgs = violations(DETAILED, type_, props)
    assert (msgs == []) is ok
    if not ok:
        assert "monitoring" in msgs[0].lower()


def test_fails_when_azure_vm_has_no_monitor_agent():
    found = stack_violations(AGENT, without(azure_stack(), "vm-0-ama"))
    assert len(found) == 1 and "Azure Monitor Agent" in found[0][0] and reported_name(found[0][1]) == "vm-0"


def test_monitor_agent_counted_from_outputs_on_up():
    # On `up` the extension's `type` output is the ARM type; the publisher identifies the agent.
    res = [r for r in azure_stack() if r[1] != "vm-0-ama"]
    res.append(
        (
            "azure-native:compute:VirtualMachineExtension",
            "ama",
            {"type": "Microsoft.Compute/virtualMachines/extensions", "publisher": "Microsoft.Azure.Monitor"},
        )
    )
    assert stack_violations(AGENT, res, dry_run=False) == []
    res[-1] = (
        "azure-native:compute:VirtualMachineExtension",
        "other",
        {"type": "Microsoft.Compute/virtualMachines/extensions", "publisher": "Microsoft.Azure.Extensions"},
    )
    assert len(stack_violations(AGENT, res, dry_run=False)) == 1


# Azure scale sets: the agent lives in the VM model (what components/azure/vm_group.py plans).
AMA_EXT = {
    "name": "AzureMonitorLinuxAgent",
    "publisher": "Microsoft.Azure.Monitor",
    "type": "AzureMonitorLinuxAgent",
    "typeHandlerVersion": "1.0",
}
HEALTH_EXT = {
    "name": "ApplicationHealthLinux",
    "publisher": "Microsoft.ManagedServices",
    "type": "ApplicationHealthLinux",
    "typeHandlerVersion": "1.0",
}
VMSS = "azure-native:compute:VirtualMachineScaleSet"
VMSS_EXT = "azure-native:compute:VirtualMachineScaleSetExtension"


def vmss(*extensions):
    return (
        VMSS,
        "vmss",
        {
            "resourceGroupName": U,
            "orchestrationMode": "Flexible",
            "virtualMachineProfile": {"extensionProfile": {"extensions": list(extensions)}},
        },
    )


def azure_group_stack(*extensions):
    return [r for r in azure_stack() if r[0] != "azure-native:compute:VirtualMachine" and r[1] != "vm-0-ama"] + [
        vmss(*extensions)
    ]


def test_passes_when_scale_set_model_has_the_agent():
    assert stack_violations(AGENT, azure_group_stack(HEALTH_EXT, AMA_EXT)) == []


def test_passes_when_scale_set_gets_the_agent_from_an_extension_resource():
    res = [*azure_group_stack(HEALTH_EXT), (VMSS_EXT, "ama", {"vmScaleSetName": U, **AMA_EXT})]
    assert stack_violations(AGENT, res) == []


@pytest.mark.parametrize(
    "res",
    [
        azure_group_stack(HEALTH_EXT),
        azure_group_stack(),
        [r for r in azure_group_stack() if r[0] != VMSS] + [(VMSS, "vmss", {"resourceGroupName": U})],
        # A VM extension does not cover a scale set's VMs.
        [*azure_group_stack(HEALTH_EXT), ("azure-native:compute:VirtualMachineExtension", "ama", AMA_EXT)],
        [*azure_group_stack(HEALTH_EXT), (VMSS_EXT, "health", {"vmScaleSetName": U, **HEALTH_EXT})],
    ],
    ids=["other-extension-only", "no-extensions", "no-extension-profile", "vm-extension", "other-vmss-extension"],
)
def test_fails_when_scale_set_has_no_monitor_agent(res):
    found = stack_violations(AGENT, res)
    assert len(found) == 1 and "scale set" in found[0][0] and reported_name(found[0][1]) == "vmss", found


def test_scale_set_agent_counted_from_outputs_on_up():
    # On `up` an extension's `type` output may be the ARM type; the publisher identifies the agent.
    out = {**AMA_EXT, "type": "Microsoft.Compute/virtualMachineScaleSets/extensions"}
    assert stack_violations(AGENT, azure_group_stack(out), dry_run=False) == []


def test_unknown_scale_set_extensions_raise_in_preview():
    res = [r for r in azure_group_stack() if r[0] != VMSS] + [
        (VMSS, "vmss", {"virtualMachineProfile": {"extensionProfile": {"extensions": UNKNOWN_ARRAY}}})
    ]
    with pytest.raises(UnknownValueError):
        stack_violations(AGENT, res)
    assert "unknown" in stack_violations(AGENT, res, dry_run=False)[0][0]


# ---------------------------------------------------------------------------------------------
# Through the Analyzer gRPC protocol, as the CLI runs the pack


@pytest.fixture(scope="module")
def group_gate():
    from tools.policy_gate import run_gate

    def res(type_: str, name: str, props: dict) -> dict:
        return {"type": type_, "name": name, "urn": f"urn:pulumi:dev::appstack::{type_}::{name}", "properties": props}

    resources = [
        res(VMSS, "vmss-without-agent", vmss(HEALTH_EXT)[2]),
        res(VMSS, "vmss-with-agent", vmss(HEALTH_EXT, AMA_EXT)[2]),
        res("aws:ec2/launchConfiguration:LaunchConfiguration", "lc-basic", {"enableMonitoring": False}),
    ]
    return run_gate(resources, project="appstack", stack="dev", stack_config={"appstack:cloud": "azure"}, dry_run=False)


def test_group_shapes_through_grpc(group_gate):
    found = {(v.policy, v.name, v.level) for v in group_gate.violations if v.policy in (AGENT, DETAILED)}
    assert found == {(AGENT, "vmss-without-agent", "advisory"), (DETAILED, "lc-basic", "advisory")}, found
