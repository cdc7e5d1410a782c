"""What a real account needs and mocks alone would not show: ordering, physical names, grants.

Each test here failed on the code before issue 7: see the docstrings for what each one guards.
"""

from __future__ import annotations

import functools
import json
import re

import pytest

from components.aws.load_balancer import ELB_LOG_ACCOUNTS, LB_NAME_LIMIT, lb_name, target_group_name
from tests.aws.capture import Captured, capture
from tests.conftest import plan_of

#: The provider's own list of legacy ELB log-delivery accounts: hashicorp/terraform-provider-aws,
#: internal/service/elb/service_account_data_source.go (`accountIDPerRegionMap`), read at commit
#: 01f431114674c27cf790fafb67ac274bf8f765e1. Copied here as data to compare the table with.
PROVIDER_ELB_ACCOUNTS = {
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-south-1": "718504428378",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580",
    "ca-central-1": "985666609251",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "eu-south-1": "635631232127",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-gov-east-1": "190560391635",
    "us-gov-west-1": "048591011584",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
}

#: The longest app name the config accepts (3-20 characters).
LONGEST_APP = "a" * 18 + "-z"


@functools.cache
def captured(file: str = "dev", stack: str = "dev", overrides: tuple[str, ...] = ()) -> Captured:
    return capture(file, stack, overrides)


def test_elb_log_accounts_match_the_providers_list():
    """eu-west-1 was 156460647715 (no such ELB account): access logs would never arrive."""
    assert ELB_LOG_ACCOUNTS == PROVIDER_ELB_ACCOUNTS


def test_alb_is_created_only_once_the_internet_gateway_route_exists():
    """An internet-facing ALB in a VPC without a routed IGW fails to create."""
    deps = captured().waits_for("appstack-lb-alb")
    assert {"appstack-network-public-default", "appstack-network-igw"} <= deps
    assert {"appstack-network-public-0", "appstack-network-public-1"} <= captured().dependencies("appstack-lb-alb")


def test_vms_boot_only_once_their_nat_route_exists():
    """A VM that boots before its NAT route cannot install the agent, rsyslog or docker."""
    for file, count in (("dev", 1), ("prod", 3)):
        c = captured(file, file, ("compute.mode=instances",))
        zones = 2 if file == "dev" else 3
        for i in range(count):
            deps = c.dependencies(f"appstack-vm-{i}")
            assert {f"appstack-network-private-default-{z}" for z in range(zones)} <= deps, (file, i)
            assert {f"appstack-network-private-{z}" for z in range(zones)} <= deps, (file, i)
        # A VM group's: the auto scaling group launches VMs only once every route exists.
        deps = captured(file, file, ("compute.mode=group",)).dependencies("appstack-vm-asg")
        assert {f"appstack-network-private-default-{z}" for z in range(zones)} <= deps, file


def test_vms_are_deleted_before_the_log_groups_their_agent_writes():
    """A destroy deletes in reverse dependency order: the instance (and its running agent) first."""
    c = captured()
    deps = c.waits_for("appstack-vm-0")
    assert {"appstack-logs-system", "appstack-logs-auth", "appstack-logs-app"} <= deps
    # Directly on the agent's permissions, so the agent also has them from first boot.
    assert "appstack-vm-agent" in c.dependencies("appstack-vm-0")


def test_vm_role_cannot_create_log_groups_or_set_retention():
    """CloudWatchAgentServerPolicy allowed logs:CreateLogGroup and PutRetentionPolicy on `*`."""
    plan = plan_of("dev")
    statements = [
        s
        for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name == "appstack-vm-agent"
        for s in json.loads(r.properties["policy"])["Statement"]
    ]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents", "cloudwatch:PutMetricData"}
    for s in statements:
        if s["Action"] != "cloudwatch:PutMetricData":
            assert all(
                r.startswith("arn:aws:logs:eu-west-1:123456789012:log-group:/appstack/appstack/dev/")
                for r in s["Resource"]
            )


def test_flow_log_role_can_describe_log_groups():
    """AWS documents logs:DescribeLogGroups in the minimum for flow logs to CloudWatch Logs."""
    policy = json.loads(
        plan_of("dev").named("appstack-network-flow-logs", "aws:iam/rolePolicy:RolePolicy").properties["policy"]
    )
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["FindTheFlowLogGroup"] == {
        "Sid": "FindTheFlowLogGroup",
        "Effect": "Allow",
        "Action": "logs:DescribeLogGroups",
        "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:*",
    }
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/appstack/appstack/dev/flow"
    assert by_sid["WriteTheFlowLogGroup"]["Resource"] == [group, f"{group}:*"]
    assert "logs:CreateLogGroup" not in json.dumps(policy)


#: Inputs that are physical names (unique per account and region) when the program sets them;
#: `bucket` only on the bucket itself (elsewhere it refers to one).
NAME_INPUTS = ("name", "name_prefix", "bucket", "bucket_prefix")
BUCKET = "aws:s3/bucket:Bucket"
#: Names that come from the stack file, not the program: two stacks need two domains anyway.
CONFIG_NAMED = {"aws:route53/record:Record"}


def resolved(c: Captured) -> dict[tuple[str, str, str], str]:
    """Every physical name the program set itself (not the provider's auto-names), resolved."""
    return {
        (s.type, s.name, key): str(s.values[key])
        for s in c.seen.values()
        if s.type not in CONFIG_NAMED and not s.type.startswith(("appstack:", "pulumi:"))
        for key in NAME_INPUTS
        if s.values.get(key) is not None and (s.type == BUCKET or not key.startswith("bucket"))
    }


@pytest.mark.parametrize("file", ["dev", "prod"])
def test_two_stacks_of_one_environment_share_no_physical_name(file):
    """`dev` and `dev-alice` in one account: KMS aliases and log groups collided."""
    mine, theirs = captured(file, file), captured(file, f"{file}-alice")
    a, b = resolved(mine), resolved(theirs)
    assert set(a) == set(b)
    kinds = {k[0] for k in a}
    assert {"aws:kms/alias:Alias", "aws:cloudwatch/logGroup:LogGroup", "aws:lb/loadBalancer:LoadBalancer"} <= kinds
    for key in a:
        assert a[key] != b[key], key
        assert file in a[key] and f"{file}-alice" in b[key], (key, a[key], b[key])


def test_kms_aliases_and_log_groups_carry_the_stack():
    c = captured("dev", "dev-alice")
    names = resolved(c)
    assert names[("aws:kms/alias:Alias", "appstack-logs-key-alias", "name")] == "alias/appstack-logs/dev-alice"
    assert (
        names[("aws:cloudwatch/logGroup:LogGroup", "appstack-logs-app", "name")] == "/appstack/appstack/dev-alice/app"
    )


VALID_LB_NAME = re.compile(r"^(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")


@pytest.mark.parametrize("stack", ["prod", "dev-alice", "feature-very-long-branch-name-2026"])
def test_longest_app_name_keeps_alb_and_target_group_names_within_32(stack):
    """With an app name of 17-20 characters the auto-names (`<logical>-<7 hex>`) overflowed 32."""
    c = captured("prod", stack, (f"app.name={LONGEST_APP}",))
    names = resolved(c)
    alb = names[("aws:lb/loadBalancer:LoadBalancer", f"{LONGEST_APP}-lb-alb", "name")]
    tg = names[("aws:lb/targetGroup:TargetGroup", f"{LONGEST_APP}-lb-tg", "name")]
    for n in (alb, tg):
        assert len(n) <= LB_NAME_LIMIT and VALID_LB_NAME.match(n), n
    assert alb != tg


def test_target_group_name_changes_with_what_forces_a_new_target_group():
    """Pulumi replaces create-before-delete: the new target group must not reuse the old name."""
    base = target_group_name("appstack-lb", 8080, "vpc-1")
    assert target_group_name("appstack-lb", 8081, "vpc-1") != base
    assert target_group_name("appstack-lb", 8080, "vpc-2") != base
    assert target_group_name("appstack-lb", 8080, "vpc-1") == base


def test_lb_names_never_take_the_reserved_internal_prefix():
    assert not lb_name("internal-app-lb").startswith("internal-")
