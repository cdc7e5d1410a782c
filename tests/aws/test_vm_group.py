"""AWS `compute.mode: group`: a launch template + auto scaling group hardened like the instances."""

from __future__ import annotations

import base64

import pytest

from components.aws.vm_group import HEALTH_CHECK_GRACE_SECONDS
from tests.conftest import assert_passes_the_pack, plan_of
from tools.mocks import Plan

GROUP = ("compute.mode=group",)


@pytest.fixture(scope="module")
def group_plan() -> Plan:
    return plan_of("prod", GROUP)


def test_the_group_replaces_the_instances_under_its_own_type_token(group_plan: Plan):
    assert group_plan.of_type("aws:ec2/instance:Instance") == []
    assert group_plan.of_type("aws:lb/targetGroupAttachment:TargetGroupAttachment") == []
    group = group_plan.named("appstack-vm", "appstack:aws:VmGroup")
    assert group.urn.endswith("appstack:aws:AppStack$appstack:aws:VmGroup::appstack-vm")
    children = {r.name for r in group_plan.resources if r.parent == group.urn}
    assert {"appstack-vm-template", "appstack-vm-asg", "appstack-vm-cpu", "appstack-vm-key", "appstack-vm-profile"} <= (
        children
    )


def test_instances_mode_keeps_its_type_token_and_child_names():
    plan = plan_of("prod", ("compute.mode=instances",))
    vm = plan.named("appstack-vm", "appstack:aws:Vm")
    assert vm.urn.endswith("appstack:aws:AppStack$appstack:aws:Vm::appstack-vm")
    assert [i.name for i in plan.of_type("aws:ec2/instance:Instance")] == [
        "appstack-vm-0",
        "appstack-vm-1",
        "appstack-vm-2",
    ]
    assert plan.of_type("appstack:aws:VmGroup") == []


def test_launch_template_has_the_instances_hardening(group_plan: Plan):
    lt = group_plan.named("appstack-vm-template").properties
    assert lt["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    assert lt["networkInterfaces"] == [
        {
            "deviceIndex": 0,
            "associatePublicIpAddress": "false",
            "deleteOnTermination": "true",
            "securityGroups": [group_plan.named("appstack-firewall-vm").id],
        }
    ]
    key = group_plan.named("appstack-vm-key", "aws:kms/key:Key")
    assert lt["blockDeviceMappings"] == [
        {
            "deviceName": "/dev/xvda",
            "ebs": {
                "volumeType": "gp3",
                "encrypted": "true",
                "deleteOnTermination": "true",
                "volumeSize": 20,
                "kmsKeyId": f"arn:aws:kms:eu-west-1:123456789012:key/{key.id}",
            },
        }
    ]
    assert key.properties["enableKeyRotation"] is True
    assert lt["iamInstanceProfile"] == {"arn": "arn:aws:iam::123456789012:role/appstack-vm-profile"}
    assert lt["monitoring"] == {"enabled": True}
    assert "keyName" not in lt
    assert lt["disableApiTermination"] is True  # prod: console and CLI only; Auto Scaling still replaces


def test_launch_template_boots_the_same_hardened_user_data_as_the_instances(group_plan: Plan):
    instances = plan_of("prod", ("compute.mode=instances",))
    lt = group_plan.named("appstack-vm-template").properties
    assert base64.b64decode(lt["userData"]).decode() == instances.named("appstack-vm-0").properties["userData"]


def test_group_spans_the_private_subnets_and_registers_in_the_target_group(group_plan: Plan):
    asg = group_plan.named("appstack-vm-asg")
    p = asg.properties
    private = [group_plan.named(f"appstack-network-private-{i}", "aws:ec2/subnet:Subnet").id for i in range(3)]
    assert p["vpcZoneIdentifiers"] == private
    assert p["targetGroupArns"] == [
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/appstack-lb-tg/0450dcf22b5883dd"
    ]
    assert p["healthCheckType"] == "ELB"
    assert p["healthCheckGracePeriod"] == HEALTH_CHECK_GRACE_SECONDS
    assert (p["minSize"], p["desiredCapacity"], p["maxSize"]) == (2, 3, 6)
    assert p["launchTemplate"] == {"id": group_plan.named("appstack-vm-template").id, "version": "1"}
    # The autoscaler owns the size once the group exists: `up` never scales it back in.
    assert asg.ignore_changes == ("desiredCapacity",)


def test_a_rollout_never_drops_capacity(group_plan: Plan):
    """A new launch template version (boot config, pinned AMI) rolls with 100-200% healthy."""
    refresh = group_plan.named("appstack-vm-asg").properties["instanceRefresh"]
    assert refresh == {
        "strategy": "Rolling",
        "preferences": {
            "minHealthyPercentage": 100,
            "maxHealthyPercentage": 200,
            "instanceWarmup": "60",
            "autoRollback": True,
            "skipMatching": True,
        },
    }


def test_group_scales_on_average_cpu(group_plan: Plan):
    policy = group_plan.named("appstack-vm-cpu").properties
    assert policy["policyType"] == "TargetTrackingScaling"
    assert policy["targetTrackingConfiguration"] == {
        "predefinedMetricSpecification": {"predefinedMetricType": "ASGAverageCPUUtilization"},
        "targetValue": 60,
    }
    assert policy["autoscalingGroupName"] == group_plan.named("appstack-vm-asg").properties["name"]


def test_group_alarms_name_the_group_not_instances(group_plan: Plan):
    asg_name = group_plan.named("appstack-vm-asg").properties["name"]
    alarms = {a.name: a.properties for a in group_plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert not any("InstanceId" in (a.get("dimensions") or {}) for a in alarms.values())
    cpu = alarms["appstack-monitoring-cpu"]
    assert (cpu["metricName"], cpu["dimensions"], cpu["threshold"]) == (
        "CPUUtilization",
        {"AutoScalingGroupName": asg_name},
        80,
    )
    healthy = alarms["appstack-monitoring-healthy-hosts"]
    assert (healthy["metricName"], healthy["comparisonOperator"], healthy["threshold"]) == (
        "HealthyHostCount",
        "LessThanThreshold",
        1,
    )
    assert "appstack-monitoring-unhealthy-hosts" in alarms


def test_instance_ids_output_is_the_group(group_plan: Plan):
    assert group_plan.outputs["instanceIds"] == [group_plan.named("appstack-vm-asg").properties["name"]]


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "up"])
def test_group_mode_passes_the_pack(stack: str, dry_run: bool):
    assert_passes_the_pack(stack, GROUP, dry_run)


def test_group_plan_does_not_grow_with_the_group_size():
    small = plan_of("prod", (*GROUP, "compute.group.min=2", "compute.group.desired=2", "compute.group.max=6"))
    large = plan_of("prod", (*GROUP, "compute.group.min=2", "compute.group.desired=500", "compute.group.max=1000"))
    assert len(small.resources) == len(large.resources)
    assert large.named("appstack-vm-asg").properties["desiredCapacity"] == 500
