"""Azure `compute.mode: group`: a Flexible VM scale set hardened like the VMs."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import assert_passes_the_pack, plan_of
from tools.mocks import Plan

GROUP = ("cloud=azure", "compute.mode=group")
RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-appstack-prod/providers/"
VMSS_ID = RG + "Microsoft.Compute/virtualMachineScaleSets/vmss-appstack-prod"


@pytest.fixture(scope="module")
def group_plan() -> Plan:
    return plan_of("prod", GROUP)


def vmss(plan: Plan) -> dict:
    return plan.named("appstack-vm-vmss").properties


def test_the_group_replaces_the_vms_under_its_own_type_token(group_plan: Plan):
    assert group_plan.of_type("azure-native:compute:VirtualMachine") == []
    assert group_plan.of_type("azure-native:network:NetworkInterface") == []
    group = group_plan.named("appstack-vm", "appstack:azure:VmGroup")
    children = {r.name for r in group_plan.resources if r.parent == group.urn}
    assert {"appstack-vm-vmss", "appstack-vm-autoscale", "appstack-vm-dcr", "appstack-vm-des"} <= children
    # The gateway's pool lists no addresses: the scale set's NICs join it.
    assert group_plan.named("appstack-lb-gateway").properties["backendAddressPools"] == [
        {"name": "vms", "backendAddresses": []}
    ]


def test_instances_mode_keeps_its_type_token_and_child_names():
    plan = plan_of("prod", ("cloud=azure", "compute.mode=instances"))
    vm = plan.named("appstack-vm", "appstack:azure:Vm")
    assert vm.urn.endswith("appstack:azure:AppStack$appstack:azure:Vm::appstack-vm")
    assert sorted(v.name for v in plan.of_type("azure-native:compute:VirtualMachine")) == [
        f"appstack-vm-{i}" for i in range(3)
    ]


def test_scale_set_has_the_vms_hardening(group_plan: Plan):
    instances = plan_of("prod", ("cloud=azure", "compute.mode=instances"))
    vm = instances.named("appstack-vm-0", "azure-native:compute:VirtualMachine").properties
    p = vmss(group_plan)
    profile = p["virtualMachineProfile"]
    assert p["orchestrationMode"] == "Flexible"
    assert profile["securityProfile"] == {
        "securityType": "TrustedLaunch",
        "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
        "encryptionAtHost": True,
    }
    assert profile["securityProfile"] == vm["securityProfile"]
    os = profile["osProfile"]
    assert os["linuxConfiguration"] == vm["osProfile"]["linuxConfiguration"]
    assert os["linuxConfiguration"]["disablePasswordAuthentication"] is True
    assert "adminPassword" not in os
    assert base64.b64decode(os["customData"]) == base64.b64decode(vm["osProfile"]["customData"])
    disk = profile["storageProfile"]["osDisk"]
    assert disk["managedDisk"] == {
        "storageAccountType": "Premium_LRS",
        "diskEncryptionSet": {"id": RG + "Microsoft.Compute/diskEncryptionSets/des-appstack-prod"},
    }
    (nic,) = profile["networkProfile"]["networkInterfaceConfigurations"]
    (ip,) = nic["ipConfigurations"]
    assert "publicIPAddressConfiguration" not in ip
    assert ip["applicationGatewayBackendAddressPools"] == [
        {"id": RG + "Microsoft.Network/applicationGateways/agw-appstack-prod/backendAddressPools/vms"}
    ]
    assert p["identity"] == {"type": "SystemAssigned"}


def test_health_extension_and_automatic_repairs(group_plan: Plan):
    p = vmss(group_plan)
    health = next(
        e for e in p["virtualMachineProfile"]["extensionProfile"]["extensions"] if e["name"] == "ApplicationHealthLinux"
    )
    assert (health["publisher"], health["type"], health["typeHandlerVersion"]) == (
        "Microsoft.ManagedServices",
        "ApplicationHealthLinux",
        "1.0",
    )
    assert health["settings"] == {
        "protocol": "http",
        "port": 8080,
        "requestPath": "/health",
        "intervalInSeconds": 5,
        "numberOfProbes": 1,
    }
    assert p["automaticRepairsPolicy"] == {"enabled": True, "gracePeriod": "PT10M", "repairAction": "Replace"}


def test_a_rollout_never_drops_capacity(group_plan: Plan):
    """Rolling with surge: each batch's new VMs exist before the old ones go."""
    assert vmss(group_plan)["upgradePolicy"] == {
        "mode": "Rolling",
        "rollingUpgradePolicy": {
            "maxSurge": True,
            "maxBatchInstancePercent": 20,
            "maxUnhealthyInstancePercent": 20,
            "maxUnhealthyUpgradedInstancePercent": 20,
            "pauseTimeBetweenBatches": "PT0S",
            "prioritizeUnhealthyInstances": True,
            "rollbackFailedInstancesOnPolicyBreach": True,
        },
    }


def test_autoscale_on_cpu_between_min_and_max(group_plan: Plan):
    setting = group_plan.named("appstack-vm-autoscale").properties
    assert setting["targetResourceUri"] == VMSS_ID
    (profile,) = setting["profiles"]
    assert profile["capacity"] == {"minimum": "2", "maximum": "6", "default": "3"}
    out, in_ = profile["rules"]
    assert (
        out["metricTrigger"]["metricName"],
        out["metricTrigger"]["operator"],
        out["metricTrigger"]["threshold"],
    ) == (
        "Percentage CPU",
        "GreaterThan",
        60,
    )
    assert (in_["metricTrigger"]["operator"], in_["metricTrigger"]["threshold"]) == ("LessThan", 35)
    assert group_plan.named("appstack-vm-vmss").ignore_changes[0] == "sku.capacity"


def test_group_alerts_name_the_scale_set(group_plan: Plan):
    alerts = {a.name: a.properties for a in group_plan.of_type("azure-native:monitor:MetricAlert")}
    assert not any(name.startswith("appstack-monitoring-vm0") for name in alerts)
    for key, metric in (("cpu", "Percentage CPU"), ("availability", "VmAvailabilityMetric")):
        alert = alerts[f"appstack-monitoring-vmss-{key}"]
        assert alert["scopes"] == [VMSS_ID]
        (criterion,) = alert["criteria"]["allOf"]
        assert (criterion["metricNamespace"], criterion["metricName"]) == (
            "Microsoft.Compute/virtualMachineScaleSets",
            metric,
        )


def test_instance_ids_output_is_the_group(group_plan: Plan):
    assert group_plan.outputs["instanceIds"] == [VMSS_ID]


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "up"])
def test_group_mode_passes_the_pack(stack: str, dry_run: bool):
    assert_passes_the_pack(stack, GROUP, dry_run)


def test_group_plan_does_not_grow_with_the_group_size():
    small = plan_of("prod", (*GROUP, "compute.group.desired=2", "compute.group.max=6"))
    large = plan_of("prod", (*GROUP, "compute.group.desired=500", "compute.group.max=1000"))
    assert len(small.resources) == len(large.resources)
