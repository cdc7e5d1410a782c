"""End to end through the Analyzer gRPC protocol: tools/policy_gate.py drives the pack as the CLI does.

Each pack start costs a fraction of a second, so every start is a module-scoped fixture that
analyzes many resources at once, and the tests read its result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pulumi.runtime.proto import analyzer_pb2

from policies.framework import MANDATORY
from policies.pack import all_rules
from tests.conftest import process_gone
from tools import policy_gate
from tools.policy_gate import UNKNOWN, GateError, PackSession, format_table, reconcile_policy_config, run_gate

REPO = Path(__file__).resolve().parents[2]
PROJECT = "appstack"


def _urn(type_: str, name: str, stack: str = "dev", parent_type: str = "") -> str:
    qual = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{PROJECT}::{qual}::{name}"


def res(type_: str, name: str, props: dict, stack: str = "dev", parent: str | None = None, **extra) -> dict:
    return {
        "type": type_,
        "name": name,
        "urn": _urn(type_, name, stack),
        "parent": parent,
        "properties": props,
        **extra,
    }


# =============================================================================================
# A toy pack written against pulumi_policy directly (plus one framework rule): protocol checks
# that do not depend on the real rules.

THING = "test:index:Thing"

TOY_MAIN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, PolicyPack,
                               ResourceValidationPolicy, StackValidationPolicy)
    from policies.framework import Knob, Rule, to_policy

    def no_open(args, report):
        if args.resource_type == "{thing}" and args.props.get("open"):
            report(f"thing {{args.name}} is open")

    def small(args, report):
        if args.props.get("size", 0) > args.get_config()["maxSize"]:
            report(f"size {{args.props.get('size'):g}} exceeds maxSize {{args.get_config()['maxSize']:g}}")

    def labelled(args, report):
        if "label" not in args.props:
            report("no label")

    def add_label(args):
        if "label" not in args.props:
            props = dict(args.props)
            props["label"] = "remediated"
            return props
        return None

    def few(args, report):
        if len(args.resources) > args.get_config().get("maxResources", 100):
            report(f"{{len(args.resources)}} resources", None)
        for r in args.resources:
            if r.parent is not None and r.parent.urn not in [x.urn for x in args.resources]:
                report("dangling parent", r.urn)

    def fw_port(resource_type, props, ctx):
        if props.get("port") in ctx["forbidden"]:
            yield f"port {{props['port']}} is forbidden"

    FW = Rule("toy-fw-port", "Things must not use forbidden ports.", "toy", ("aws",), ("{thing}",), fw_port,
              knobs={{"forbidden": Knob({{"type": "array", "items": {{"type": "integer"}}}}, [22], "ports")}})

    PolicyPack("toy", enforcement_level=EnforcementLevel.MANDATORY, policies=[
        ResourceValidationPolicy(name="toy-no-open", description="Things must not be open.",
                                 validate=no_open, enforcement_level=EnforcementLevel.MANDATORY),
        ResourceValidationPolicy(name="toy-small", description="Things should be small.", validate=small,
                                 enforcement_level=EnforcementLevel.ADVISORY,
                                 config_schema=PolicyConfigSchema(properties={{"maxSize": {{"type": "number", "default": 10}}}})),
        ResourceValidationPolicy(name="toy-label", description="Things get a label.", remediate=add_label,
                                 enforcement_level=EnforcementLevel.REMEDIATE),
        ResourceValidationPolicy(name="toy-labelled", description="Things have a label.", validate=labelled,
                                 enforcement_level=EnforcementLevel.ADVISORY),
        StackValidationPolicy(name="toy-few", description="Few things.", validate=few,
                              config_schema=PolicyConfigSchema(properties={{"maxResources": {{"type": "integer"}}}})),
        to_policy(FW),
    ])
    """
)


@pytest.fixture(scope="module")
def toy_pack(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("toypack")
    (d / "__main__.py").write_text(TOY_MAIN.format(repo=str(REPO), thing=THING))
    (d / "PulumiPolicy.yaml").write_text("runtime: python\n")
    return d


TOY_RESOURCES = [
    res(THING, "open-big", {"open": True, "size": 20, "port": 443}),
    res(THING, "closed-small", {"open": False, "size": 2, "port": 443, "label": "mine"}),
    res(THING, "open-unknown", {"open": UNKNOWN, "size": 1, "port": 443}),
    res(THING, "fw-ssh", {"port": 22}),
    res(THING, "fw-exempt", {"port": 22}),
    res(THING, "fw-unknown", {"port": UNKNOWN}),
    res(THING, "child", {"port": 443}, parent=_urn(THING, "open-big"), dependencies=[_urn(THING, "open-big")]),
]


@pytest.fixture(scope="module")
def toy_default(toy_pack):
    return run_gate(TOY_RESOURCES, project=PROJECT, stack="dev", pack_dir=toy_pack)


TOY_OVERRIDES = {
    "toy-no-open": "advisory",
    "toy-small": {"maxSize": 100},
    "toy-label": "disabled",
    "toy-few": {"enforcementLevel": "mandatory", "maxResources": 2},
    "toy-fw-port": {
        "forbidden": [22, 3389],
        "exemptions": [{"resource": "fw-exempt", "reason": "test exemption", "expires": "2999-01-01"}],
    },
}


@pytest.fixture(scope="module")
def toy_overridden(toy_pack):
    # dry_run=False: on `up`, an unknown value is a violation for framework rules.
    return run_gate(
        TOY_RESOURCES, project=PROJECT, stack="dev", pack_dir=toy_pack, policy_config=TOY_OVERRIDES, dry_run=False
    )


def _found(result, policy: str, name: str):
    return [v for v in result.violations if v.policy == policy and v.name == name]


def test_toy_analyzer_info_levels(toy_default):
    assert toy_default.pack == "toy"
    assert dict(toy_default.policies) == {
        "toy-no-open": "mandatory",
        "toy-small": "advisory",
        "toy-label": "remediate",
        "toy-labelled": "advisory",
        "toy-few": "mandatory",  # from the pack default
        "toy-fw-port": "mandatory",
    }
    assert toy_default.configured == dict(toy_default.policies)


def test_toy_default_levels_and_messages(toy_default):
    (v,) = _found(toy_default, "toy-no-open", "open-big")
    assert v.level == "mandatory" and v.message == "thing open-big is open"
    assert v.description == "Things must not be open." and v.urn == _urn(THING, "open-big")
    (v,) = _found(toy_default, "toy-small", "open-big")
    assert v.level == "advisory" and "exceeds maxSize 10" in v.message  # schema default sent by Configure
    assert not _found(toy_default, "toy-no-open", "closed-small")
    assert not _found(toy_default, "toy-small", "closed-small")


def test_toy_remediation_applies_before_analyze(toy_default):
    assert ("toy-label", _urn(THING, "open-big")) in toy_default.remediations
    assert not [v for v in toy_default.violations if v.policy == "toy-labelled"]


def test_toy_analyze_stack_runs_with_parents(toy_default):
    # 7 resources <= 100: no count violation; the child's parent is among the resources.
    assert not [v for v in toy_default.violations if v.policy == "toy-few"]


def test_toy_unknown_in_preview_is_advisory_not_a_pass(toy_default):
    for policy, name, prop in (("toy-no-open", "open-unknown", "open"), ("toy-fw-port", "fw-unknown", "port")):
        (v,) = _found(toy_default, policy, name)
        assert v.level == "advisory", v
        assert "during preview" in v.message and f"value at .{prop} " in v.message
        assert v.urn == _urn(THING, name)  # attached to the analyzed resource


def test_toy_framework_rule_default_knob(toy_default):
    (v,) = _found(toy_default, "toy-fw-port", "fw-ssh")
    assert v.level == "mandatory" and "port 22" in v.message
    assert _found(toy_default, "toy-fw-port", "fw-exempt")


def test_toy_configure_overrides_levels(toy_overridden):
    assert toy_overridden.configured["toy-no-open"] == "advisory"
    assert toy_overridden.configured["toy-label"] == "disabled"
    (v,) = _found(toy_overridden, "toy-no-open", "open-big")
    assert v.level == "advisory"


def test_toy_configure_properties(toy_overridden):
    assert not _found(toy_overridden, "toy-small", "open-big")  # maxSize 100
    (v,) = [v for v in toy_overridden.violations if v.policy == "toy-few"]
    assert v.level == "mandatory" and v.message == "7 resources" and v.urn == ""


def test_toy_disabled_remediation_does_not_run(toy_overridden):
    assert toy_overridden.remediations == []
    labelled = {v.name for v in toy_overridden.violations if v.policy == "toy-labelled"}
    assert labelled == {r["name"] for r in TOY_RESOURCES} - {"closed-small"}


def test_toy_exemption_in_policy_config_suppresses(toy_overridden):
    assert _found(toy_overridden, "toy-fw-port", "fw-ssh")
    assert not _found(toy_overridden, "toy-fw-port", "fw-exempt")


def test_toy_unknown_on_up_fails_closed_for_framework_rules(toy_overridden):
    (v,) = _found(toy_overridden, "toy-fw-port", "fw-unknown")
    assert v.level == "mandatory" and "unknown at apply time" in v.message


def test_pack_process_is_gone_after_run_gate(toy_default, toy_overridden):
    for result in (toy_default, toy_overridden):
        assert result.pack_pid and process_gone(result.pack_pid)


def test_timings_and_table(toy_default):
    assert 0 < toy_default.timings["startup_s"] < 30 and toy_default.timings["analyze_s"] >= 0
    table = format_table(toy_default)
    assert table.index("MANDATORY") < table.index("ADVISORY")
    assert "toy-no-open" in table and "open-big" in table and "thing open-big is open" in table
    assert "mandatory" in table.splitlines()[-1] or "mandatory" in table.splitlines()[-2]


def test_format_table_wraps_long_messages():
    v = policy_gate.Violation("p", "pk", "advisory", "urn:x::r", "r", "word " * 60)
    table = format_table(policy_gate.GateResult(violations=[v], pack="pk"), width=80)
    body = [line for line in table.splitlines() if line.startswith(("p ", "  "))]
    assert len(body) > 3 and all(len(line) <= 80 for line in table.splitlines())


# --- errors: the pack is always terminated -----------------------------------------------------


def test_pack_start_failure_raises_with_stderr(tmp_path, spawned):
    (tmp_path / "__main__.py").write_text("raise RuntimeError('pack is broken on purpose')\n")
    with pytest.raises(GateError, match="pack is broken on purpose"):
        run_gate([], project=PROJECT, stack="dev", pack_dir=tmp_path)
    assert spawned and all(p.poll() is not None for p in spawned)


def test_pack_start_timeout_terminates_the_process(tmp_path, spawned):
    (tmp_path / "__main__.py").write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(GateError, match="did not print its port"):
        with PackSession(tmp_path, project=PROJECT, stack="dev", startup_timeout=1.5):
            pass
    assert spawned and spawned[0].poll() is not None


def test_bad_policy_config_raises_and_terminates(toy_pack, spawned):
    with pytest.raises(GateError, match="toy-small"):
        run_gate(
            TOY_RESOURCES[:1],
            project=PROJECT,
            stack="dev",
            pack_dir=toy_pack,
            policy_config={"toy-small": {"maxSize": "big"}},
        )
    assert spawned and spawned[0].poll() is not None and process_gone(spawned[0].pid)


def test_malformed_resource_is_rejected_before_start(spawned):
    with pytest.raises(GateError, match="missing or empty 'urn'"):
        run_gate([{"type": THING, "name": "x", "properties": {}}], project=PROJECT, stack="dev")
    assert spawned == []


# --- config reconciliation as the CLI does it (no pack start) ------------------------------------


def _info() -> analyzer_pb2.AnalyzerInfo:
    info = analyzer_pb2.AnalyzerInfo(name="p")
    a = info.policies.add(name="a", enforcementLevel=analyzer_pb2.MANDATORY)
    a.configSchema.properties.update({"n": {"type": "integer", "default": 3}})
    info.policies.add(name="b", enforcementLevel=analyzer_pb2.ADVISORY)
    return info


def test_reconcile_all_then_specific():
    out = reconcile_policy_config(_info(), {"all": "advisory", "b": {"enforcementLevel": "mandatory"}})
    assert out["a"][0] == analyzer_pb2.ADVISORY and out["b"][0] == analyzer_pb2.MANDATORY
    assert out["a"][1] == {"n": 3}
    out = reconcile_policy_config(_info(), {"all": {"enforcementLevel": "disabled"}, "a": {"n": 5}})
    assert out["a"] == (analyzer_pb2.DISABLED, {"n": 5}) and out["b"][0] == analyzer_pb2.DISABLED


@pytest.mark.parametrize(
    "cfg, match",
    [
        ({"a": {"n": "x"}}, "a: n"),
        ({"a": "blocking"}, "enforcement level"),
        ({"nope": "advisory"}, "unknown policy"),
        ({"a": 3}, "level string or an object"),
    ],
)
def test_reconcile_rejects_bad_config(cfg, match):
    with pytest.raises(GateError, match=match):
        reconcile_policy_config(_info(), cfg)


# =============================================================================================
# The real pack


def _rule_names() -> list[str]:
    return [r.name for r in all_rules()]


def _need(prefix: str) -> None:
    if not any(n.startswith(prefix) for n in _rule_names()):
        pytest.skip(f"no '{prefix}' rules in the pack yet")


SG = "aws:ec2/securityGroup:SecurityGroup"
INSTANCE = "aws:ec2/instance:Instance"
LISTENER = "aws:lb/listener:Listener"
COMPONENT = "appstack:index:WebTier"
COMPONENT_URN = _urn(COMPONENT, "web")

GOOD_SG = {
    "description": "app tier: HTTPS from the VPC only",
    "vpcId": "vpc-123",
    "ingress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/16"], "description": "lb"}
    ],
    "egress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/16"], "description": "out"}
    ],
}


def _sg_with(ingress: dict) -> dict:
    return {**GOOD_SG, "ingress": [ingress]}


GOOD_INSTANCE = {
    "ami": "ami-0123456789abcdef0",
    "instanceType": "t3.small",
    "subnetId": "subnet-1",
    "vpcSecurityGroupIds": ["sg-1"],
    "associatePublicIpAddress": False,
    "sourceDestCheck": True,
    "iamInstanceProfile": "app-profile",
    "monitoring": True,
    "ebsOptimized": True,
    "disableApiTermination": True,
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
    "rootBlockDevice": {
        "encrypted": True,
        "kmsKeyId": "arn:aws:kms:eu-west-1:111122223333:key/abc",
        "volumeType": "gp3",
    },
    "userData": "#cloud-config\nssh_pwauth: false\ndisable_root: true\npackages: [nginx]\n",
}

BAD_USERDATA = (
    "#!/bin/bash\nsed -i 's/^#\\?PermitRootLogin.*/PermitRootLogin yes/' /etc/ssh/sshd_config\nsystemctl restart sshd\n"
)

LB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/1"
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/1"
CERT_ARN = "arn:aws:acm:eu-west-1:111122223333:certificate/abc"

GOOD_HTTPS = {
    "loadBalancerArn": LB_ARN,
    "port": 443,
    "protocol": "HTTPS",
    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "certificateArn": CERT_ARN,
    "defaultActions": [{"type": "forward", "targetGroupArn": TG_ARN}],
}
REDIRECT_HTTP = {
    "loadBalancerArn": LB_ARN,
    "port": 80,
    "protocol": "HTTP",
    "defaultActions": [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ],
}
FORWARD_HTTP = {
    "loadBalancerArn": LB_ARN,
    "port": 80,
    "protocol": "HTTP",
    "defaultActions": [{"type": "forward", "targetGroupArn": TG_ARN}],
}

SSH_WORLD = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"], "description": "ssh"}

REAL_PREVIEW = [
    res(COMPONENT, "web", {}),
    res(SG, "good-sg", GOOD_SG, parent=COMPONENT_URN),
    res(SG, "ssh-world-sg", _sg_with(SSH_WORLD), parent=COMPONENT_URN),
    res(SG, "ssh-v6-sg", _sg_with({"protocol": "tcp", "fromPort": 22, "toPort": 22, "ipv6CidrBlocks": ["::/0"]})),
    res(SG, "all-traffic-sg", _sg_with({"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]})),
    res(SG, "ssh-unknown-sg", _sg_with({**SSH_WORLD, "cidrBlocks": [UNKNOWN]})),
    res(INSTANCE, "good-vm", GOOD_INSTANCE),
    res(INSTANCE, "root-login-vm", {**GOOD_INSTANCE, "userData": BAD_USERDATA}),
    res(LISTENER, "good-https", GOOD_HTTPS),
    res(LISTENER, "old-tls-https", {**GOOD_HTTPS, "sslPolicy": "ELBSecurityPolicy-2016-08"}),
    res(LISTENER, "redirect-http", REDIRECT_HTTP),
    res(LISTENER, "forward-http", FORWARD_HTTP),
]


@pytest.fixture(scope="module")
def real_preview():
    if not _rule_names():
        pytest.skip("the pack has no rules yet (it cannot start without policies)")
    return run_gate(REAL_PREVIEW, project=PROJECT, stack="dev", stack_config={"appstack:cloud": "aws"}, dry_run=True)


EXEMPT_SSH = {
    "network-no-ssh-from-internet": {
        "exemptions": [
            {"resource": "legacy-bastion-sg", "reason": "INC-42: bastion retired next sprint", "expires": "2999-12-31"},
            {"resource": "old-bastion-sg", "reason": "INC-7: long gone", "expires": "2001-01-01"},
        ]
    }
}

REAL_UP = [
    res(SG, "bastion-sg", _sg_with(SSH_WORLD)),
    res(SG, "legacy-bastion-sg", _sg_with(SSH_WORLD)),
    res(SG, "old-bastion-sg", _sg_with(SSH_WORLD)),
    res(SG, "ssh-unknown-sg", _sg_with({**SSH_WORLD, "cidrBlocks": [UNKNOWN]})),
]


@pytest.fixture(scope="module")
def real_up():
    _need("network-no-ssh-from-internet")
    return run_gate(
        REAL_UP,
        project=PROJECT,
        stack="dev",
        stack_config={"appstack:cloud": "aws"},
        policy_config=EXEMPT_SSH,
        dry_run=False,
    )


def _policies_on(result, name: str, prefix: str = "") -> set[str]:
    return {v.policy for v in result.violations if v.name == name and v.policy.startswith(prefix)}


def _mandatory_on(result, name: str, policy: str):
    return [v for v in result.violations if v.name == name and v.policy == policy and v.level == "mandatory"]


def test_real_pack_lists_every_rule_with_its_level(real_preview):
    expected = {r.name: ("mandatory" if r.level == MANDATORY else "advisory") for r in all_rules()}
    assert dict(real_preview.policies) == expected
    assert real_preview.pack == "appstack"
    assert real_preview.pack_pid and process_gone(real_preview.pack_pid)


def test_real_ssh_from_internet(real_preview):
    _need("network-no-ssh-from-internet")
    for name in ("ssh-world-sg", "ssh-v6-sg", "all-traffic-sg"):
        assert _mandatory_on(real_preview, name, "network-no-ssh-from-internet"), name
    (v,) = _mandatory_on(real_preview, "ssh-world-sg", "network-no-ssh-from-internet")
    assert "0.0.0.0/0" in v.message
    assert "network-no-ssh-from-internet" not in _policies_on(real_preview, "good-sg")


def test_real_unknown_cidr_in_preview_is_advisory(real_preview):
    _need("network-no-ssh-from-internet")
    found = [
        v for v in real_preview.violations if v.name == "ssh-unknown-sg" and v.policy == "network-no-ssh-from-internet"
    ]
    assert found, "an unknown source CIDR must not pass silently in preview"
    assert all(v.level == "advisory" for v in found) and "during preview" in found[0].message


def test_real_root_login_in_user_data(real_preview):
    _need("access-")
    bad = _policies_on(real_preview, "root-login-vm", "access-")
    good = _policies_on(real_preview, "good-vm", "access-")
    assert bad - good, f"no access- rule flags PermitRootLogin yes (bad: {bad}, good: {good})"
    assert any(
        v.level == "mandatory" for v in real_preview.violations if v.name == "root-login-vm" and v.policy in bad - good
    )


def test_real_old_tls_policy(real_preview):
    _need("transport-")
    bad = _policies_on(real_preview, "old-tls-https", "transport-")
    good = _policies_on(real_preview, "good-https", "transport-")
    assert bad - good and not good, f"bad: {bad}, good: {good}"
    assert any("ELBSecurityPolicy-2016-08" in v.message for v in real_preview.violations if v.name == "old-tls-https")


def test_real_http_forwarding_listener(real_preview):
    _need("transport-")
    bad = _policies_on(real_preview, "forward-http", "transport-")
    assert bad, "an HTTP listener that forwards must violate a transport- rule"
    assert not _policies_on(real_preview, "redirect-http", "transport-")


def test_real_unknown_on_up_is_mandatory(real_up):
    assert _mandatory_on(real_up, "ssh-unknown-sg", "network-no-ssh-from-internet")


def test_real_exemption_through_grpc(real_up):
    assert _mandatory_on(real_up, "bastion-sg", "network-no-ssh-from-internet")
    assert not [
        v for v in real_up.violations if v.name == "legacy-bastion-sg" and v.policy == "network-no-ssh-from-internet"
    ]
    (v,) = _mandatory_on(real_up, "old-bastion-sg", "network-no-ssh-from-internet")
    assert "expired on 2001-01-01" in v.message
    assert real_up.pack_pid and process_gone(real_up.pack_pid)


def test_gate_cli_exits_1_on_mandatory_violation(tmp_path, toy_pack):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(TOY_RESOURCES[:2]))
    cmd = [sys.executable, "-m", "tools.policy_gate", "--plan", str(plan), "--stack", "dev", "--pack", str(toy_pack)]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stderr
    assert "MANDATORY" in out.stdout and "toy-no-open" in out.stdout and "open-big" in out.stdout


def test_gate_cli_exits_0_without_mandatory_and_2_on_errors(tmp_path, monkeypatch, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(TOY_RESOURCES[1:2]))
    advisory = policy_gate.Violation("toy-small", "toy", "advisory", "u", "n", "m")
    monkeypatch.setattr(policy_gate, "run_gate", lambda *a, **k: policy_gate.GateResult(violations=[advisory]))
    assert policy_gate.main(["--plan", str(plan), "--stack", "dev"]) == 0
    plan.write_text("{not json")
    assert policy_gate.main(["--plan", str(plan), "--stack", "dev"]) == 2
    assert "policy gate error" in capsys.readouterr().err

    def fail(*a, **k):
        raise GateError("pack died")

    monkeypatch.setattr(policy_gate, "run_gate", fail)
    plan.write_text("[]")
    assert policy_gate.main(["--plan", str(plan), "--stack", "dev"]) == 2


# =============================================================================================
# Issue 11 classes end to end: boot-data forms, carriers, metadata booleans, effective NSG
# rules, TLS suites and the stack rules that link resources.

GCE = "gcp:compute/instance:Instance"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
PROJECT_META = "gcp:compute/projectMetadata:ProjectMetadata"
VM_EXTENSION = "azure-native:compute:VirtualMachineExtension"
NSG = "azure-native:network:NetworkSecurityGroup"
ELB_POLICY = "aws:elb/loadBalancerPolicy:LoadBalancerPolicy"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"

SED_ADDRESS = "#!/bin/sh\nsed -i '/^PermitRootLogin/s/no/yes/' /etc/ssh/sshd_config\n"
GREP_THEN_FIX = (
    "#!/bin/sh\ngrep -q '^PermitRootLogin yes' /etc/ssh/sshd_config && "
    "sed -i 's/^PermitRootLogin yes/PermitRootLogin no/' /etc/ssh/sshd_config\n"
)
JSON_CLOUD_INIT = '#cloud-config\n{"ssh_pwauth": true}\n'
PORT_2222 = "#!/bin/sh\necho 'Port 2222' >> /etc/ssh/sshd_config\n"
PL_ID = "pl-0123456789abcdef0"
HTTP_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/web/1/http"


def _nsg(deny_priority: int) -> dict:
    allow = {
        "name": "ssh-in",
        "priority": 200,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "sourceAddressPrefix": "Internet",
        "destinationPortRange": "22",
    }
    deny = {**allow, "name": "deny-ssh", "priority": deny_priority, "access": "Deny", "sourceAddressPrefix": "*"}
    return {"resourceGroupName": "rg", "securityRules": [allow, deny]}


HARDENED_UP = [
    res(INSTANCE, "sed-address-vm", {**GOOD_INSTANCE, "userData": SED_ADDRESS}),
    res(INSTANCE, "grep-then-fix-vm", {**GOOD_INSTANCE, "userData": GREP_THEN_FIX}),
    res(INSTANCE, "json-cloud-init-vm", {**GOOD_INSTANCE, "userData": JSON_CLOUD_INIT}),
    res(
        SPOT_FLEET,
        "spot-fleet",
        {"iamFleetRole": "r", "targetCapacity": 1, "launchSpecifications": [{"ami": "a", "userData": SED_ADDRESS}]},
    ),
    res(PROJECT_META, "project-meta", {"metadata": {"startup-script": SED_ADDRESS}}),
    res(
        VM_EXTENSION,
        "custom-script",
        {
            "vmName": "vm",
            "publisher": "Microsoft.Azure.Extensions",
            "type": "CustomScript",
            "settings": {"commandToExecute": SED_ADDRESS},
        },
    ),
    res(GCE, "oslogin-yes-vm", {"metadata": {"enable-oslogin": "yes", "block-project-ssh-keys": "TRUE"}}),
    res(NSG, "shadowed-nsg", _nsg(100)),
    res(NSG, "deny-too-late-nsg", _nsg(300)),
    res(
        ELB_POLICY,
        "old-elb-policy",
        {
            "policyTypeName": "SSLNegotiationPolicyType",
            "policyAttributes": [{"name": "Reference-Security-Policy", "value": "ELBSecurityPolicy-2016-08"}],
        },
    ),
    res(
        "aws:elb/loadBalancer:LoadBalancer",
        "classic-elb",
        {
            "name": "classic",
            "listeners": [{"lbPort": 443, "lbProtocol": "https", "instancePort": 80, "instanceProtocol": "http"}],
        },
    ),
    res(INSTANCE, "port-2222-vm", {**GOOD_INSTANCE, "userData": PORT_2222}),
    res(SG, "port-2222-sg", {**_sg_with({**SSH_WORLD, "fromPort": 2222, "toPort": 2222}), "id": "sg-1"}),
    res(PREFIX_LIST, "admins-pl", {"id": PL_ID, "entries": [{"cidr": "0.0.0.0/0"}]}),
    res(SG, "prefix-list-sg", _sg_with({"protocol": "tcp", "fromPort": 22, "toPort": 22, "prefixListIds": [PL_ID]})),
    res(LISTENER, "http", {**REDIRECT_HTTP, "arn": HTTP_ARN}),
    res(
        LISTENER_RULE, "api-rule", {"listenerArn": HTTP_ARN, "actions": [{"type": "forward", "targetGroupArn": TG_ARN}]}
    ),
]


@pytest.fixture(scope="module")
def hardened_up():
    return run_gate(HARDENED_UP, project=PROJECT, stack="dev", stack_config={"appstack:cloud": "aws"}, dry_run=False)


@pytest.mark.parametrize(
    "name,policy,needle",
    [
        ("sed-address-vm", "access-boot-config-no-root-or-password-login", "PermitRootLogin yes"),
        ("json-cloud-init-vm", "access-boot-config-no-root-or-password-login", "ssh_pwauth"),
        ("spot-fleet", "access-boot-config-no-root-or-password-login", "launchSpecifications[0].userData"),
        ("project-meta", "access-boot-config-no-root-or-password-login", "project metadata startup-script"),
        ("custom-script", "access-boot-config-no-root-or-password-login", "settings.commandToExecute"),
        ("oslogin-yes-vm", "access-gcp-oslogin-required", "'yes'"),
        ("deny-too-late-nsg", "network-no-ssh-from-internet", "security rule 0"),
        ("old-elb-policy", "transport-tls-policy", "ELBSecurityPolicy-2016-08"),
        ("port-2222-sg", "network-no-moved-ssh-from-internet", "port 2222"),
        ("prefix-list-sg", "network-no-ssh-from-open-prefix-list", "admins-pl"),
        ("api-rule", "transport-http-listener-rules-redirect", "'forward'"),
        ("classic-elb", "transport-elb-listener-tls-policy", "ELBSecurityPolicy-2016-08"),
    ],
)
def test_hardened_classes_through_grpc(hardened_up, name, policy, needle):
    found = _mandatory_on(hardened_up, name, policy)
    assert found and needle in found[0].message, [v for v in hardened_up.violations if v.name == name]


def test_hardened_compliant_forms_pass_through_grpc(hardened_up):
    assert not _policies_on(hardened_up, "grep-then-fix-vm", "access-boot-config")
    assert not _policies_on(hardened_up, "shadowed-nsg", "network-no-ssh")
