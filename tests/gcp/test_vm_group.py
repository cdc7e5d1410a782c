"""GCP `compute.mode: group`: a regional instance template + managed instance group."""

from __future__ import annotations

import pytest

from components.gcp.vm import HARDENED_METADATA, VM_SCOPES
from tests.conftest import assert_passes_the_pack, plan_of
from tests.gcp.test_stack_plan import _check_names
from tools.mocks import Plan, run_program
from tools.plan import load_stack_config

GROUP = ("cloud=gcp", "compute.mode=group")
COMPUTE = "https://www.googleapis.com/compute/v1/projects/appstack-prod-example/regions/europe-west1/"


@pytest.fixture(scope="module")
def group_plan() -> Plan:
    return plan_of("prod", GROUP)


def test_the_group_replaces_the_instances_under_its_own_type_token(group_plan: Plan):
    assert group_plan.of_type("gcp:compute/instance:Instance") == []
    assert group_plan.of_type("gcp:compute/instanceGroup:InstanceGroup") == []
    group = group_plan.named("appstack-vm", "appstack:gcp:VmGroup")
    children = {r.name for r in group_plan.resources if r.parent == group.urn}
    assert {"appstack-vm-template", "appstack-vm-mig", "appstack-vm-autoscaler", "appstack-vm-autoheal"} <= children


def test_instances_mode_keeps_its_type_token_and_child_names():
    plan = plan_of("prod", ("cloud=gcp", "compute.mode=instances"))
    assert plan.named("appstack-vm", "appstack:gcp:Vm").urn.endswith(
        "appstack:gcp:AppStack$appstack:gcp:Vm::appstack-vm"
    )
    assert [i.name for i in plan.of_type("gcp:compute/instance:Instance")] == [f"appstack-vm-{i}" for i in range(3)]


def test_template_has_the_instances_hardening(group_plan: Plan):
    instances = plan_of("prod", ("cloud=gcp", "compute.mode=instances"))
    vm = instances.named("appstack-vm-0").properties
    t = group_plan.named("appstack-vm-template").properties
    assert t["metadata"] == {**HARDENED_METADATA, "user-data": vm["metadata"]["user-data"]}
    assert t["shieldedInstanceConfig"] == {
        "enableSecureBoot": True,
        "enableVtpm": True,
        "enableIntegrityMonitoring": True,
    }
    assert t["networkInterfaces"] == [{"subnetwork": vm["networkInterfaces"][0]["subnetwork"]}]  # no accessConfigs
    assert t["canIpForward"] is False
    assert t["serviceAccount"] == {"email": vm["serviceAccount"]["email"], "scopes": list(VM_SCOPES)}
    assert t["tags"] == vm["tags"]
    assert t["disks"] == [
        {
            "boot": True,
            "autoDelete": True,
            "sourceImage": "ubuntu-os-cloud/ubuntu-2404-lts-amd64",
            "diskSizeGb": 20,
            "diskType": "pd-balanced",
            "diskEncryptionKey": {"kmsKeySelfLink": vm["bootDisk"]["kmsKeySelfLink"]},
            "labels": t["labels"],
        }
    ]


def test_a_changed_boot_config_is_a_new_template_name():
    before = plan_of("prod", GROUP).named("appstack-vm-template").properties["name"]
    after = plan_of("prod", (*GROUP, "app.healthCheckPath=/ready")).named("appstack-vm-template").properties["name"]
    assert before != after and before.startswith("appstack-prod-tpl-") and after.startswith("appstack-prod-tpl-")


def test_a_rollout_never_drops_capacity(group_plan: Plan):
    """Surge one VM per zone, never take one down first: capacity stays at the group's size."""
    mig = group_plan.named("appstack-vm-mig").properties
    assert mig["updatePolicy"] == {
        "type": "PROACTIVE",
        "minimalAction": "REPLACE",
        "mostDisruptiveAllowedAction": "REPLACE",
        "replacementMethod": "SUBSTITUTE",
        "maxSurgeFixed": 3,
        "maxUnavailableFixed": 0,
        "minReadySec": 60,
        "instanceRedistributionType": "PROACTIVE",
    }
    assert mig["updatePolicy"]["maxSurgeFixed"] >= len(mig["distributionPolicyZones"])


def test_group_heals_on_its_own_health_check_and_spreads_over_the_zones(group_plan: Plan):
    mig = group_plan.named("appstack-vm-mig").properties
    assert mig["autoHealingPolicies"] == {
        "healthCheck": "projects/appstack-prod-example/global/healthChecks/appstack-prod-autoheal",
        "initialDelaySec": 300,
    }
    check = group_plan.named("appstack-vm-autoheal").properties
    assert check["httpHealthCheck"] == {"port": 8080, "requestPath": "/health"}
    assert mig["distributionPolicyZones"] == ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
    assert mig["versions"] == [
        {
            "name": "primary",
            "instanceTemplate": COMPUTE
            + "instanceTemplates/"
            + group_plan.named("appstack-vm-template").properties["name"],
        }
    ]
    # The autoscaler owns the size: the group sets none.
    assert "targetSize" not in mig


def test_autoscaler_keeps_average_cpu_at_the_target(group_plan: Plan):
    scaler = group_plan.named("appstack-vm-autoscaler").properties
    assert (
        scaler["target"]
        == "projects/appstack-prod-example/regions/europe-west1/instanceGroupManagers/appstack-prod-mig"
    )
    assert scaler["autoscalingPolicy"] == {
        "minReplicas": 2,
        "maxReplicas": 6,
        "cooldownPeriod": 120,
        "cpuUtilization": {"target": 0.6},
    }


def test_backend_service_uses_the_managed_instance_group(group_plan: Plan):
    backend = group_plan.named("appstack-lb-backend").properties
    assert backend["backends"] == [
        {"group": COMPUTE + "instanceGroups/appstack-prod-mig", "balancingMode": "UTILIZATION", "capacityScaler": 1}
    ]


def test_instance_ids_output_is_the_group(group_plan: Plan):
    assert group_plan.outputs["instanceIds"] == [
        "projects/appstack-prod-example/regions/europe-west1/instanceGroupManagers/appstack-prod-mig"
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "up"])
def test_group_mode_passes_the_pack(stack: str, dry_run: bool):
    assert_passes_the_pack(stack, GROUP, dry_run)


def test_group_plan_does_not_grow_with_the_group_size():
    small = plan_of("prod", (*GROUP, "compute.group.desired=2", "compute.group.max=6"))
    large = plan_of("prod", (*GROUP, "compute.group.desired=500", "compute.group.max=2000"))
    assert len(small.resources) == len(large.resources)


def test_every_group_name_fits_at_the_longest_app_name_and_a_long_stack_name():
    stack = "feature-Branch_with.a-very-long-stack-name-for-testing-limits"
    plan = run_program(stack, load_stack_config("prod", [*GROUP, "app.name=abcdefghij-klmnopqrs"]))
    _check_names(plan)
    assert plan.named("abcdefghij-klmnopqrs-vm-mig").properties["name"].endswith("-mig")


def test_a_template_in_another_subnet_is_a_new_template_name(group_plan: Plan):
    """A template cannot change: a new subnet (`network.existing`) replaces it, create-first, so
    the name must change too or GCE refuses the replacement (alreadyExists)."""
    subnet = "projects/p/regions/europe-west1/subnetworks/shared"
    existing = (
        "network.existing={networkId: projects/p/global/networks/shared, "
        f"publicSubnetIds: [{subnet}, {subnet}], privateSubnetIds: [{subnet}, {subnet}]}}"
    )
    moved = plan_of("prod", (*GROUP, existing)).named("appstack-vm-template").properties
    assert moved["networkInterfaces"] == [{"subnetwork": subnet}]
    before = group_plan.named("appstack-vm-template").properties["name"]
    assert moved["name"] != before and moved["name"].startswith("appstack-prod-tpl-")
