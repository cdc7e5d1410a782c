"""The offline plan: profiles (dev vs prod), the CLI, import isolation, the gate end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import plan_of
from tools import plan as plan_cli

ROOT = Path(__file__).resolve().parent.parent


def count(plan, type_: str) -> int:
    return len(plan.of_type(type_))


def test_dev_and_prod_differ_where_the_profiles_say(dev_plan, prod_plan):
    assert count(dev_plan, "aws:ec2/instance:Instance") == 1
    # Prod: a VM group of 2-6, starting at 3.
    assert count(prod_plan, "aws:ec2/instance:Instance") == 0
    asg = prod_plan.named("appstack-vm-asg").properties
    assert (asg["minSize"], asg["desiredCapacity"], asg["maxSize"]) == (2, 3, 6)
    template = prod_plan.named("appstack-vm-template").properties
    assert count(dev_plan, "aws:ec2/natGateway:NatGateway") == 1
    assert count(prod_plan, "aws:ec2/natGateway:NatGateway") == 3
    assert count(dev_plan, "aws:ec2/subnet:Subnet") == 4
    assert count(prod_plan, "aws:ec2/subnet:Subnet") == 6
    assert dev_plan.named("appstack-vm-0").properties["instanceType"] == "t3.small"
    assert template["instanceType"] == "m6i.large"
    assert dev_plan.named("appstack-logs-app").properties["retentionInDays"] == 30
    assert prod_plan.named("appstack-logs-app").properties["retentionInDays"] == 365
    assert dev_plan.named("appstack-lb-alb").properties["enableDeletionProtection"] is False
    assert prod_plan.named("appstack-lb-alb").properties["enableDeletionProtection"] is True
    assert dev_plan.named("appstack-vm-0").properties["disableApiTermination"] is False
    assert template["disableApiTermination"] is True
    assert dev_plan.named("appstack-monitoring-cpu-0").properties["threshold"] == 90
    assert prod_plan.named("appstack-monitoring-cpu").properties["threshold"] == 80
    assert dev_plan.named("appstack-monitoring-response-time").properties["threshold"] == 2.0
    assert prod_plan.named("appstack-monitoring-response-time").properties["threshold"] == 1.0
    assert count(dev_plan, "aws:wafv2/webAcl:WebAcl") == 0
    assert count(prod_plan, "aws:wafv2/webAcl:WebAcl") == 1


def test_prod_protects_stateful_resources_and_dev_does_not(dev_plan, prod_plan):
    stateful = ("aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup", "aws:s3/bucket:Bucket")
    for type_ in stateful:
        assert all(r.protect and r.retain_on_delete for r in prod_plan.of_type(type_)), type_
        assert not any(r.protect or r.retain_on_delete for r in dev_plan.of_type(type_)), type_
    assert prod_plan.named("appstack-lb-logs", "aws:s3/bucket:Bucket").properties["forceDestroy"] is False


def test_prod_waf_uses_managed_rules_and_logs(prod_plan):
    acl = prod_plan.of_type("aws:wafv2/webAcl:WebAcl")[0].properties
    assert acl["scope"] == "REGIONAL"
    assert [r["statement"]["managedRuleGroupStatement"]["name"] for r in acl["rules"]] == [
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    ]
    assoc = prod_plan.of_type("aws:wafv2/webAclAssociation:WebAclAssociation")[0].properties
    assert assoc["resourceArn"].startswith("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/")
    logging = prod_plan.of_type("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")[0].properties
    assert logging["logDestinationConfigs"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-appstack-lb-prod"
    ]


def test_arm64_maps_sizes_to_graviton_and_looks_up_the_arm_image():
    plan = plan_of("dev", ["compute.architecture=arm64"])
    assert plan.named("appstack-vm-0").properties["instanceType"] == "t4g.small"
    explicit = plan_of("dev", ["compute.instanceType=c7i.large"])
    assert explicit.named("appstack-vm-0").properties["instanceType"] == "c7i.large"


def test_existing_network_creates_no_vpc():
    plan = plan_of(
        "dev",
        [
            "network.existing={networkId: vpc-0abc, publicSubnetIds: [subnet-1, subnet-2], "
            "privateSubnetIds: [subnet-3, subnet-4]}"
        ],
    )
    assert count(plan, "aws:ec2/vpc:Vpc") == 0
    assert plan.named("appstack-vm-0").properties["subnetId"] == "subnet-3"
    assert plan.named("appstack-lb-alb").properties["subnets"] == ["subnet-1", "subnet-2"]


def test_apply_override_sets_nested_and_scalar_keys():
    config = {"appstack:compute": json.dumps({"size": "small"})}
    plan_cli.apply_override(config, "compute.instanceCount=2")
    plan_cli.apply_override(config, "appstack:cloud=gcp")
    plan_cli.apply_override(config, "access.adminCidrs=[198.51.100.0/24]")
    assert json.loads(config["appstack:compute"]) == {"size": "small", "instanceCount": 2}
    assert config["appstack:cloud"] == "gcp"
    assert json.loads(config["appstack:access"]) == {"adminCidrs": ["198.51.100.0/24"]}
    with pytest.raises(plan_cli.UsageError, match="only appstack:"):
        plan_cli.apply_override(config, "aws:region=us-east-1")
    assert plan_cli.apply_override(config, "monitoring.cpuHighPercent=70") == "monitoring.cpuHighPercent"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "nope"], "error: no stack file Pulumi.nope.yaml; known stacks: dev, prod"),
        (["--stack", "dev", "--set", "compute"], "error: --set 'compute': write key=value"),
        (["--stack", "dev", "--set", "aws:region=x"], "error: --set 'aws:region=x': only appstack:* keys can be set"),
        (["--stack", "dev", "--set", "tags={a: [}"], "the value is not valid YAML"),
        (["--stack", "dev", "--policy-config", "/nonexistent.json"], "error: --policy-config /nonexistent.json"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, message, capsys):
    assert plan_cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_set_errors_name_the_set_not_the_stack_file(capsys):
    assert plan_cli.main(["--stack", "dev", "--no-policy", "--set", "compute.instanceCount=0"]) == 2
    err = capsys.readouterr().err
    assert (
        err.splitlines()[1]
        .strip()
        .startswith(
            "--set compute.instanceCount=0: appstack:compute.instanceCount = 0: input should be greater than or equal to 1"
        )
    )
    assert "Pulumi.dev.yaml" not in err


def test_stack_file_errors_still_name_the_stack_file(capsys):
    # A --set on another key does not take the blame for what the file says.
    assert (
        plan_cli.main(
            ["--stack", "dev", "--no-policy", "--set", "compute.instanceCount=2", "--set", "compute.sise=small"]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "--set compute.sise=small: appstack:compute.sise = 'small': unknown key; did you mean 'size'?" in err


def test_whole_numbers_print_as_integers(tmp_path):
    out = tmp_path / "plan.json"
    assert plan_cli.main(["--stack", "prod", "--no-policy", "--quiet", "--json", str(out)]) == 0
    key = next(r for r in json.loads(out.read_text()) if r["type"] == "aws:kms/key:Key")
    assert key["properties"]["deletionWindowInDays"] == 30
    assert isinstance(key["properties"]["deletionWindowInDays"], int)
    assert ".0," not in out.read_text() and ".0\n" not in out.read_text()


def test_tree_shows_components_with_their_resources(dev_plan):
    tree = plan_cli.render_tree(dev_plan).splitlines()
    assert tree[0] == "■ appstack:aws:AppStack  appstack"
    assert "    ■ appstack:aws:LoadBalancer  appstack-lb" in tree
    assert "        + aws:lb/listener:Listener  appstack-lb-https" in tree


def _run_plan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.plan", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_plans_dev_writes_json_and_passes_the_gate(tmp_path):
    out = tmp_path / "plan.json"
    proc = _run_plan("--stack", "dev", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "plan for stack dev on aws: 77 resources (7 components, 70 cloud resources)" in proc.stdout
    assert "0 mandatory" in proc.stdout
    resources = json.loads(out.read_text())
    assert len(resources) == 77
    first = resources[0]
    assert set(first) >= {"type", "name", "urn", "parent", "properties"}
    vm = next(r for r in resources if r["type"] == "aws:ec2/instance:Instance")
    assert vm["properties"]["metadataOptions"]["httpTokens"] == "required"
    assert (
        vm["urn"]
        == "urn:pulumi:dev::appstack::appstack:aws:AppStack$appstack:aws:Vm$aws:ec2/instance:Instance::appstack-vm-0"
    )
    assert vm["parent"].endswith("appstack:aws:AppStack$appstack:aws:Vm::appstack-vm")


def test_cli_config_error_exits_2_with_the_message():
    proc = _run_plan("--stack", "dev", "--set", "access.adminCidrs=[0.0.0.0/0]", "--no-policy")
    assert proc.returncode == 2
    assert "--set access.adminCidrs=[0.0.0.0/0]: appstack:access.adminCidrs[0] = '0.0.0.0/0'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "resources" not in proc.stdout


def test_cli_unknown_cloud_exits_2_without_traceback():
    proc = _run_plan("--stack", "prod", "--set", "cloud=oci")
    assert proc.returncode == 2
    assert "--set cloud=oci: appstack:cloud = 'oci': not an allowed value" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_gate_blocks_a_planted_violation_end_to_end():
    # SSH on, and an admin "network" that is public but narrower than the model's internet floor,
    # plus a policy config that makes the pack treat a /8 as the internet: the gate must block.
    policy_config = ROOT / "tests" / "data" / "strict-policy-config.json"
    proc = _run_plan(
        "--stack",
        "dev",
        "--set",
        "access.ssh=true",
        "--set",
        "access.adminCidrs=[11.0.0.0/8]",
        "--policy-config",
        str(policy_config),
        "--quiet",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "network-no-ssh-from-internet" in proc.stdout
    assert "appstack-firewall-vm-ssh-0" in proc.stdout


def test_a_plan_imports_only_its_own_clouds_sdk():
    code = (
        "import sys\n"
        "from tools.mocks import run_program\n"
        "from tools.plan import load_stack_config\n"
        "plan = run_program('dev', load_stack_config('dev'))\n"
        "assert len(plan.resources) > 50\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('pulumi_')}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['pulumi_aws']"


def test_mocks_use_only_the_public_sdk_api():
    # Internals (the mock monitor, SETTINGS, _sync_await) change between SDK releases and once
    # gave wrong URNs; the offline plan may lean on `pulumi` and `pulumi.runtime`'s exports only.
    import ast

    import pulumi.runtime

    tree = ast.parse((ROOT / "tools" / "mocks.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pulumi"):
            assert node.module == "pulumi", f"imports from {node.module}"
        if isinstance(node, ast.Import):
            assert all(a.name == "pulumi" or not a.name.startswith("pulumi") for a in node.names)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner = node.value
            if isinstance(inner.value, ast.Name) and inner.value.id == "pulumi" and inner.attr == "runtime":
                assert node.attr in pulumi.runtime.__all__, f"pulumi.runtime.{node.attr} is not public"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "pulumi":
            assert not node.attr.startswith("_"), f"pulumi.{node.attr}"
