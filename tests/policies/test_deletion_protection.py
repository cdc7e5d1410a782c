"""D1-D2: deletion protection on load balancers and VMs, production stacks only."""

from __future__ import annotations

import pytest

from policies.framework import MANDATORY
from tests.policies.support import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    reported_name,
    rule,
    stack_violations,
    violations,
)

LB = "deletion-lb-protection"
VM = "deletion-vm-protection"
LOCK = "deletion-azure-resource-lock"

AWS_LB = "aws:lb/loadBalancer:LoadBalancer"
AWS_INSTANCE = "aws:ec2/instance:Instance"
AWS_LT = "aws:ec2/launchTemplate:LaunchTemplate"
AWS_ASG = "aws:autoscaling/group:Group"
GCP_GFR = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
GCP_FR = "gcp:compute/forwardingRule:ForwardingRule"
GCP_INSTANCE = "gcp:compute/instance:Instance"
AZ_APPGW = "azure-native:network:ApplicationGateway"
AZ_LB = "azure-native:network:LoadBalancer"
AZ_VM = "azure-native:compute:VirtualMachine"
LOCK_RES = "azure-native:authorization:ManagementLockAtResourceLevel"
LOCK_SCOPE = "azure-native:authorization:ManagementLockByScope"
LOCK_RG = "azure-native:authorization:ManagementLockAtResourceGroupLevel"

ALB = {
    "loadBalancerType": "application",
    "enableDeletionProtection": True,
    "accessLogs": {"bucket": "b", "enabled": True},
}
EC2 = {"ami": "ami-1", "disableApiTermination": True, "metadataOptions": {"httpTokens": "required"}}
GFR = {
    "target": UNKNOWN_STRING_VALUE,
    "portRange": "443",
    "loadBalancingScheme": "EXTERNAL_MANAGED",
    "deletionPolicy": "PREVENT",
}
GCE = {"machineType": "e2-small", "deletionProtection": True}
#: What components/aws/vm_group.py plans in prod (the parts this concern reads).
LT = {"imageId": "ami-1", "disableApiTermination": True, "metadataOptions": {"httpTokens": "required"}}


def test_levels_and_catalogue():
    assert rule(LB).level == MANDATORY and rule(LB).catalogue == ("D1",)
    assert rule(VM).level == MANDATORY and rule(VM).catalogue == ("D2",)
    assert rule(LOCK).level == MANDATORY and rule(LOCK).catalogue == ("D1", "D2")


@pytest.mark.parametrize(
    "name,type_,props",
    [
        (LB, AWS_LB, ALB),
        (LB, GCP_GFR, GFR),
        (LB, GCP_FR, GFR),
        (VM, AWS_INSTANCE, EC2),
        (VM, AWS_LT, LT),
        (VM, GCP_INSTANCE, GCE),
    ],
)
@pytest.mark.parametrize("stack", ["prod", "eu-prod", "prod-2", "production"])
def test_passes_when_protected_in_prod(name, type_, props, stack):
    assert violations(name, type_, props, stack=stack) == []


@pytest.mark.parametrize(
    "name,type_,props,key,value,needle",
    [
        (LB, AWS_LB, ALB, "enableDeletionProtection", False, "enableDeletionProtection is False"),
        (LB, AWS_LB, ALB, "enableDeletionProtection", None, "enableDeletionProtection is not set"),
        (LB, "aws:alb/loadBalancer:LoadBalancer", ALB, "enableDeletionProtection", "false", "'false'"),
        (LB, GCP_GFR, GFR, "deletionPolicy", "DELETE", "deletionPolicy is 'DELETE'"),
        (LB, GCP_FR, GFR, "deletionPolicy", None, "deletionPolicy is not set"),
        (VM, AWS_INSTANCE, EC2, "disableApiTermination", False, "disableApiTermination is False"),
        (VM, AWS_INSTANCE, EC2, "disableApiTermination", None, "disableApiTermination is not set"),
        (VM, AWS_LT, LT, "disableApiTermination", False, "disableApiTermination is False on a production launch"),
        (VM, AWS_LT, LT, "disableApiTermination", None, "disableApiTermination is not set"),
        (VM, AWS_LT, LT, "disableApiTermination", "false", "'false'"),
        (VM, GCP_INSTANCE, GCE, "deletionProtection", None, "deletionProtection is not set"),
        (VM, "gcp:compute/instanceFromTemplate:InstanceFromTemplate", GCE, "deletionProtection", ["yes"], "a list"),
    ],
)
def test_fails_when_unprotected_in_prod(name, type_, props, key, value, needle):
    props = {k: v for k, v in props.items() if k != key}
    if value is not None:
        props[key] = value
    msgs = violations(name, type_, props, stack="prod")
    assert len(msgs) == 1 and needle in msgs[0], msgs


@pytest.mark.parametrize(
    "name,type_", [(LB, AWS_LB), (VM, AWS_INSTANCE), (VM, AWS_LT), (LB, GCP_GFR), (VM, GCP_INSTANCE)]
)
def test_passes_when_unprotected_outside_prod(name, type_):
    assert violations(name, type_, {}, stack="dev") == []
    assert violations(name, type_, {}, stack="staging") == []


@pytest.mark.parametrize(
    "type_",
    [
        # No deletion flag exists on these group shapes (see the module docstring): nothing to judge.
        AWS_ASG,
        "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
        "gcp:compute/instanceTemplate:InstanceTemplate",
        "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    ],
)
def test_group_shapes_without_a_deletion_flag_are_not_judged(type_):
    assert violations(VM, type_, {}, stack="prod") == []
    assert type_ not in rule(VM).resource_types


def test_unknown_launch_template_flag_raises_in_preview_and_fails_on_up():
    props = {**LT, "disableApiTermination": UNKNOWN_BOOLEAN_VALUE}
    with pytest.raises(UnknownValueError):
        violations(VM, AWS_LT, props, stack="prod")
    assert "unknown" in violations(VM, AWS_LT, props, stack="prod", dry_run=False)[0]


def test_prod_stacks_knob():
    assert violations(VM, AWS_INSTANCE, {}, stack="live", config={"prodStacks": ["live"]})
    assert violations(VM, AWS_INSTANCE, {}, stack="prod", config={"prodStacks": ["live"]}) == []


def test_unknown_flag_raises_in_preview_and_fails_on_up():
    props = {**ALB, "enableDeletionProtection": UNKNOWN_BOOLEAN_VALUE}
    with pytest.raises(UnknownValueError):
        violations(LB, AWS_LB, props, stack="prod")
    assert "unknown" in violations(LB, AWS_LB, props, stack="prod", dry_run=False)[0]


# ---------------------------------------------------------------------------------------------
# Azure locks (stack rule)

APPGW = {"resourceGroupName": "rg-prod", "applicationGatewayName": "appgw-prod"}
VMP = {"resourceGroupName": "rg-prod", "vmName": "vm-0"}
RES_LOCK_GW = {
    "level": "CanNotDelete",
    "resourceGroupName": "rg-prod",
    "resourceProviderNamespace": "Microsoft.Network",
    "resourceType": "applicationGateways",
    "resourceName": "appgw-prod",
    "parentResourcePath": "",
}
RES_LOCK_VM = {
    **RES_LOCK_GW,
    "resourceProviderNamespace": "Microsoft.Compute",
    "resourceType": "virtualMachines",
    "resourceName": "vm-0",
}


@pytest.mark.parametrize(
    "locks",
    [
        [(LOCK_RES, RES_LOCK_GW), (LOCK_RES, RES_LOCK_VM)],
        [(LOCK_RG, {"level": "CanNotDelete", "resourceGroupName": UNKNOWN_STRING_VALUE})],
        [(LOCK_SCOPE, {"level": "ReadOnly", "scope": "/subscriptions/s/resourceGroups/rg-prod"})],
        [
            (LOCK_SCOPE, {"level": "CanNotDelete", "scope": UNKNOWN_STRING_VALUE}),
            (LOCK_SCOPE, {"level": "CanNotDelete", "scope": UNKNOWN_STRING_VALUE}),
        ],
        [
            (
                LOCK_SCOPE,
                {
                    "level": "CanNotDelete",
                    "scope": "/subscriptions/s/resourceGroups/rg-prod/providers/Microsoft.Network/applicationGateways/appgw-prod",
                },
            ),
            (LOCK_RES, RES_LOCK_VM),
        ],
        [(LOCK_RES, {**RES_LOCK_GW, "resourceName": UNKNOWN_STRING_VALUE}), (LOCK_RES, RES_LOCK_VM)],
    ],
    ids=["resource-locks", "rg-lock", "rg-scope-lock", "unknown-scopes", "scope-on-gw", "unknown-name"],
)
def test_passes_when_azure_resources_locked_in_prod(locks):
    res = [(AZ_APPGW, "gw", APPGW), (AZ_VM, "vm", VMP)] + [(t, f"lock{i}", p) for i, (t, p) in enumerate(locks)]
    assert stack_violations(LOCK, res, stack="prod") == []


@pytest.mark.parametrize(
    "locks,unlocked",
    [
        ([], {"gw", "vm"}),
        ([(LOCK_RES, RES_LOCK_GW)], {"vm"}),
        ([(LOCK_RES, {**RES_LOCK_GW, "level": "NotSpecified"}), (LOCK_RES, RES_LOCK_VM)], {"gw"}),
        ([(LOCK_RES, {**RES_LOCK_GW, "resourceName": "other-gw"}), (LOCK_RES, RES_LOCK_VM)], {"gw"}),
        ([(LOCK_SCOPE, {"level": "CanNotDelete", "scope": UNKNOWN_STRING_VALUE})], {"gw", "vm"}),
    ],
    ids=["none", "vm-unlocked", "wrong-level", "other-gateway", "one-unknown-for-two"],
)
def test_fails_when_azure_resources_unlocked_in_prod(locks, unlocked):
    res = [(AZ_APPGW, "gw", APPGW), (AZ_VM, "vm", VMP)] + [(t, f"lock{i}", p) for i, (t, p) in enumerate(locks)]
    found = stack_violations(LOCK, res, stack="prod")
    assert {reported_name(urn) for _, urn in found} == unlocked
    assert all("management lock" in m for m, _ in found)


def test_one_unknown_scope_covers_one_resource_by_count():
    res = [
        (AZ_LB, "lb", {"resourceGroupName": "rg", "loadBalancerName": "lb"}),
        (LOCK_SCOPE, "l", {"level": "CanNotDelete", "scope": UNKNOWN_STRING_VALUE}),
    ]
    assert stack_violations(LOCK, res, stack="prod") == []


def test_azure_locks_not_required_outside_prod():
    assert stack_violations(LOCK, [(AZ_APPGW, "gw", APPGW)], stack="dev") == []


def test_lock_outputs_without_scope_count_on_up():
    # On `up` stack rules see outputs, where a lock's scope/resourceName (path parameters) are absent.
    gw_out = {"name": "appgw-prod"}
    lock_out = {"level": "CanNotDelete", "name": "lock", "type": "Microsoft.Authorization/locks"}
    assert (
        stack_violations(LOCK, [(AZ_APPGW, "gw", gw_out), (LOCK_SCOPE, "l", lock_out)], stack="prod", dry_run=False)
        == []
    )
    assert (
        stack_violations(LOCK, [(AZ_APPGW, "gw", gw_out), (LOCK_RES, "l", lock_out)], stack="prod", dry_run=False) == []
    )
    found = stack_violations(
        LOCK,
        [(AZ_APPGW, "gw", gw_out), (AZ_VM, "vm", {"name": "vm-0"}), (LOCK_RES, "l", lock_out)],
        stack="prod",
        dry_run=False,
    )
    assert len(found) == 2


def test_scale_sets_need_no_lock_in_prod():
    # Scale-in and automatic repairs delete the scale set's VMs: a lock would get in their way.
    vmss = {"resourceGroupName": "rg-prod", "vmScaleSetName": "vmss-prod"}
    assert stack_violations(LOCK, [("azure-native:compute:VirtualMachineScaleSet", "vmss", vmss)], stack="prod") == []


# ---------------------------------------------------------------------------------------------
# Through the Analyzer gRPC protocol, as the CLI runs the pack


@pytest.fixture(scope="module")
def prod_group_gate():
    from tools.policy_gate import run_gate

    def res(type_: str, name: str, props: dict) -> dict:
        return {"type": type_, "name": name, "urn": f"urn:pulumi:prod::appstack::{type_}::{name}", "properties": props}

    resources = [
        res(AWS_LT, "guarded-template", LT),
        res(AWS_LT, "open-template", {**LT, "disableApiTermination": False}),
        res(AWS_ASG, "asg", {"minSize": 2, "maxSize": 6, "launchTemplate": {"id": "lt-1", "version": "1"}}),
    ]
    return run_gate(resources, project="appstack", stack="prod", stack_config={"appstack:cloud": "aws"}, dry_run=False)


def test_launch_template_termination_protection_through_grpc(prod_group_gate):
    found = {(v.name, v.level) for v in prod_group_gate.violations if v.policy == VM}
    assert found == {("open-template", "mandatory")}, prod_group_gate.violations
    (v,) = [v for v in prod_group_gate.violations if v.policy == VM]
    assert "disableApiTermination is False on a production launch template" in v.message
