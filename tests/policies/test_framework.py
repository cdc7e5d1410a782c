"""Tests of policies/framework.py with toy rules: knobs, exemptions, unknowns, fail-closed, helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)

from policies import framework as fw
from policies.framework import (
    ADVISORY,
    MANDATORY,
    Knob,
    Rule,
    StackResource,
    StackRule,
    as_list,
    dig,
    effective_config,
    exact_false,
    find_exemption,
    is_map,
    run_resource_rule,
    run_stack_rule,
    to_policy,
    truthy,
)

SG = "test:index:FirewallRule"
OTHER = "test:index:Other"


def _check_ports(resource_type, props, ctx):
    """Toy checker: every ingress entry's port must not be in the forbidden list."""
    for i, entry in enumerate(as_list(props.get("ingress"))):
        port = entry["port"]  # a string entry -> TypeError -> fail-closed violation
        if port in ctx["forbiddenPorts"]:
            yield f"ingress {i} opens port {port} from {entry.get('source', '?')}"
    if "ingress" not in props:
        yield "no ingress list: cannot tell what is open; set ingress explicitly"


TOY = Rule(
    name="toy-no-forbidden-ports",
    description="Firewall rules must not open forbidden ports.",
    concern="toy",
    clouds=("aws",),
    resource_types=(SG,),
    check=_check_ports,
    knobs={
        "forbiddenPorts": Knob({"type": "array", "items": {"type": "integer"}}, [22], "ports never opened"),
        "minDays": Knob({"type": "integer", "minimum": 1}, 365, "an integer knob"),
    },
    catalogue=("N1",),
    peers=("CKV_AWS_24",),
)


def _check_count(resources, ctx):
    things = [r for r in resources if r.type == SG]
    for r in things[ctx["maxRules"] :]:
        yield (f"too many firewall rules: {r.name} exceeds maxRules={ctx['maxRules']}", r.urn)
    if not any(r.type == OTHER for r in resources):
        yield ("the stack has no Other resource", None)


TOY_STACK = StackRule(
    name="toy-stack-limits",
    description="Stacks stay small.",
    concern="toy",
    clouds=("aws",),
    check=_check_count,
    knobs={"maxRules": Knob({"type": "integer", "minimum": 0}, 1, "maximum firewall rules")},
    catalogue=("L4",),
)

OPEN_22 = {"ingress": [{"port": 22, "source": "0.0.0.0/0"}]}
CLOSED = {"ingress": [{"port": 443, "source": "0.0.0.0/0"}]}


def urn(name: str, type_: str = SG, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::appstack::{type_}::{name}"


def run(props, config=None, name="web-sg", dry_run=True, stack="dev", rule=TOY, type_=SG):
    return run_resource_rule(
        rule, type_, unknown_checking_proxy(dict(props)), urn(name, type_, stack), name, config, stack, dry_run
    )


def exemption(resource="web-sg", reason="ticket SEC-1: migration window", expires="2999-12-31"):
    return {"resource": resource, "reason": reason, "expires": expires}


# --- knobs -----------------------------------------------------------------------------------


def test_fails_with_default_knob():
    msgs = run(OPEN_22)
    assert len(msgs) == 1 and "port 22" in msgs[0] and "0.0.0.0/0" in msgs[0]


def test_passes_compliant_baseline():
    assert run(CLOSED) == []


def test_unknown_config_key_fails_closed_with_a_suggestion():
    # The CLI passes keys its schema does not list: a misspelt knob must not leave the default on.
    msgs = run(CLOSED, {"forbidenPorts": [3389]})
    assert msgs == [
        "policy config of toy-no-forbidden-ports has an unknown key 'forbidenPorts'; "
        "did you mean 'forbiddenPorts'? (failing closed)"
    ]
    # Known keys, exemptions and the level are not problems.
    assert run(CLOSED, {"forbiddenPorts": [22], "exemptions": [], "enforcementLevel": "advisory"}) == []
    # A resource the rule does not judge is not reported.
    assert run(CLOSED, {"forbidenPorts": [3389]}, type_=OTHER) == []


def test_unknown_stack_rule_config_key_fails_closed():
    found = run_stack_rule(TOY_STACK, [], {"maxRulez": 3}, "dev", True)
    assert len(found) == 1 and found[0][1] is None
    assert "unknown key 'maxRulez'; did you mean 'maxRules'?" in found[0][0]


def test_knob_override_replaces_default():
    assert run(OPEN_22, {"forbiddenPorts": [3389]}) == []
    msgs = run({"ingress": [{"port": 3389}]}, {"forbiddenPorts": [3389]})
    assert len(msgs) == 1 and "3389" in msgs[0]


def test_effective_config_merges_defaults_and_drops_enforcement_level():
    cfg = effective_config(TOY, {"minDays": 30, "enforcementLevel": "advisory"})
    assert cfg == {"forbiddenPorts": [22], "minDays": 30, "exemptions": []}
    assert effective_config(TOY, None) == {"forbiddenPorts": [22], "minDays": 365, "exemptions": []}


def test_effective_config_turns_struct_doubles_back_into_integers():
    # Through the CLI every number in policy config is a protobuf double.
    cfg = effective_config(TOY, {"minDays": 30.0, "forbiddenPorts": [22.0, 3389.0]})
    assert cfg["minDays"] == 30 and isinstance(cfg["minDays"], int)
    assert all(isinstance(p, int) for p in cfg["forbiddenPorts"])
    assert effective_config(TOY, {"minDays": 30.5})["minDays"] == 30.5  # not integral: left to the schema


def test_rule_ignores_other_resource_types():
    assert run(OPEN_22, type_=OTHER) == []


# --- exemptions ------------------------------------------------------------------------------


def test_active_exemption_by_name_skips_the_rule():
    assert run(OPEN_22, {"exemptions": [exemption()]}) == []


def test_active_exemption_by_name_glob():
    assert run(OPEN_22, {"exemptions": [exemption(resource="web-*")]}) == []


def test_active_exemption_by_urn_glob():
    pattern = "urn:pulumi:dev::appstack::*::web-sg"
    assert run(OPEN_22, {"exemptions": [exemption(resource=pattern)]}) == []
    # the same URN glob for another stack does not exempt
    assert len(run(OPEN_22, {"exemptions": [exemption(resource=pattern)]}, stack="prod")) == 1


def test_exemption_for_another_resource_does_not_apply():
    msgs = run(OPEN_22, {"exemptions": [exemption(resource="db-*")]})
    assert len(msgs) == 1 and "expired" not in msgs[0]


def test_expired_exemption_reports_violation_and_says_it_expired():
    msgs = run(OPEN_22, {"exemptions": [exemption(expires="2000-01-01")]})
    assert len(msgs) == 1
    assert "port 22" in msgs[0] and "expired on 2000-01-01" in msgs[0] and "SEC-1" in msgs[0]


@pytest.mark.parametrize("expires", ["next week", "2024-13-45", "", None])
def test_malformed_expires_fails_closed(expires):
    ex = exemption()
    ex["expires"] = expires
    msgs = run(OPEN_22, {"exemptions": [ex]})
    assert len(msgs) == 1 and "port 22" in msgs[0] and "malformed" in msgs[0]


def test_exemption_without_reason_does_not_exempt():
    msgs = run(OPEN_22, {"exemptions": [exemption(reason="  ")]})
    assert len(msgs) == 1


def test_malformed_exemption_entry_exempts_nothing():
    msgs = run(OPEN_22, {"exemptions": ["web-sg", exemption(resource="db")]})
    assert len(msgs) == 1 and "port 22" in msgs[0]


def test_exemption_expiring_today_still_applies_and_yesterday_does_not():
    today = dt.date(2030, 6, 1)
    ex = exemption(expires="2030-06-01")
    assert find_exemption([ex], urn("web-sg"), "web-sg", today=today) == (ex, None)
    assert find_exemption([ex], urn("web-sg"), "web-sg", today=today + dt.timedelta(days=1)) == (None, ex)


def test_active_exemption_wins_over_an_expired_one():
    old, new = exemption(expires="2001-01-01"), exemption()
    assert find_exemption([old, new], urn("web-sg"), "web-sg") == (new, None)


def test_compliant_resource_with_expired_exemption_has_no_violation():
    assert run(CLOSED, {"exemptions": [exemption(expires="2000-01-01")]}) == []


# --- unknown values and malformed shapes ---------------------------------------------------------


def test_unknown_deciding_value_in_preview_raises():
    props = {"ingress": [{"port": UNKNOWN_NUMBER_VALUE, "source": "0.0.0.0/0"}]}
    with pytest.raises(UnknownValueError):
        run(props, dry_run=True)


def test_unknown_list_in_preview_raises():
    with pytest.raises(UnknownValueError):
        run({"ingress": UNKNOWN_ARRAY_VALUE}, dry_run=True)


def test_unknown_deciding_value_on_up_is_a_violation():
    props = {"ingress": [{"port": UNKNOWN_NUMBER_VALUE, "source": "0.0.0.0/0"}]}
    msgs = run(props, dry_run=False)
    assert len(msgs) == 1 and "unknown at apply time" in msgs[0] and "failing closed" in msgs[0]


def test_unknown_value_is_not_evaluated_when_exempt():
    props = {"ingress": [{"port": UNKNOWN_NUMBER_VALUE}]}
    assert run(props, {"exemptions": [exemption()]}, dry_run=True) == []


@pytest.mark.parametrize(
    "props",
    [
        {"ingress": "22"},  # a string where a list of objects is expected
        {"ingress": [None]},
        {"ingress": [{"source": "0.0.0.0/0"}]},  # entry without port
        {"ingress": [22]},
    ],
)
def test_malformed_shape_is_a_violation_not_a_crash(props):
    msgs = run(props)
    assert len(msgs) == 1 and "could not evaluate" in msgs[0] and "failing closed" in msgs[0]


def test_missing_deciding_property_is_a_violation():
    msgs = run({})
    assert len(msgs) == 1 and "no ingress" in msgs[0]


def test_unexpected_exception_types_are_not_swallowed():
    def boom(t, p, c):
        raise RuntimeError("bug in the rule")
        yield  # pragma: no cover

    rule = Rule("toy-boom", "x", "toy", ("aws",), (SG,), boom)
    with pytest.raises(RuntimeError):
        run({}, rule=rule)


# --- stack rules -----------------------------------------------------------------------------


def _stack(*names, other=True, unknown=False):
    res = [
        StackResource(
            type=SG, name=n, urn=urn(n), props=unknown_checking_proxy({"port": UNKNOWN_STRING_VALUE if unknown else 1})
        )
        for n in names
    ]
    if other:
        res.append(StackResource(type=OTHER, name="o", urn=urn("o", OTHER), props=unknown_checking_proxy({})))
    return res


def test_stack_rule_reports_with_urn_and_knob():
    out = run_stack_rule(TOY_STACK, _stack("a", "b", "c"))
    assert [u for _, u in out] == [urn("b"), urn("c")]
    assert "maxRules=1" in out[0][0]
    assert run_stack_rule(TOY_STACK, _stack("a", "b", "c"), {"maxRules": 3}) == []


def test_stack_rule_violation_without_urn():
    out = run_stack_rule(TOY_STACK, _stack("a", other=False))
    assert out == [("the stack has no Other resource", None)]


def test_stack_rule_exemption_by_name_and_expired_note():
    out = run_stack_rule(TOY_STACK, _stack("a", "b", "c"), {"exemptions": [exemption(resource="b")]})
    assert [u for _, u in out] == [urn("c")]
    out = run_stack_rule(TOY_STACK, _stack("a", "b"), {"exemptions": [exemption(resource="b", expires="2001-02-03")]})
    assert len(out) == 1 and "expired on 2001-02-03" in out[0][0]


def test_stack_rule_unknown_in_preview_raises_and_on_up_fails_closed():
    def needs_port(resources, ctx):
        for r in resources:
            if r.props.get("port") == 1:
                yield ("x", r.urn)

    rule = StackRule("toy-needs-port", "d", "toy", ("aws",), needs_port)
    with pytest.raises(UnknownValueError):
        run_stack_rule(rule, _stack("a", unknown=True), dry_run=True)
    out = run_stack_rule(rule, _stack("a", unknown=True), dry_run=False)
    assert len(out) == 1 and "unknown at apply time" in out[0][0] and out[0][1] is None


def test_stack_rule_malformed_fails_closed():
    def bad(resources, ctx):
        yield (resources[0].props["missing"], None)

    out = run_stack_rule(StackRule("toy-bad", "d", "toy", ("aws",), bad), _stack("a"))
    assert len(out) == 1 and "could not evaluate the stack" in out[0][0]


# --- shape helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, []),
        ("x", ["x"]),
        (b"x", [b"x"]),
        ({"a": 1}, [{"a": 1}]),
        ([1, 2], [1, 2]),
        ((1, 2), [1, 2]),
        (5, [5]),
    ],
)
def test_as_list(value, expected):
    assert as_list(value) == expected


def test_as_list_and_is_map_on_sdk_proxies():
    props = unknown_checking_proxy({"l": [{"a": 1}, {"a": 2}], "m": {"k": "v"}})
    assert not isinstance(props["l"], list) and not isinstance(props["m"], dict)
    items = as_list(props["l"])
    assert len(items) == 2 and all(is_map(i) for i in items) and items[1]["a"] == 2
    assert as_list(props["m"]) == [props["m"]]
    assert is_map(props) and not is_map(props["l"]) and not is_map("x")


def test_dig():
    props = unknown_checking_proxy({"a": {"b": [{"c": 1}, {"c": 2}]}, "s": "str"})
    assert dig(props, "a", "b", 1, "c") == 2
    assert dig(props, "a", "b", -1, "c") == 2
    assert dig(props, "a", "b", 5, "c", default="d") == "d"
    assert dig(props, "a", "x", default=0) == 0
    assert dig(props, "s", "x") is None  # a string is not a mapping
    assert dig(props, "s", 0) is None  # nor a sequence for dig's purpose
    assert dig(None, "a") is None
    assert dig(props) is props


def test_dig_raises_on_unknown_deciding_value():
    props = unknown_checking_proxy({"a": {"b": UNKNOWN_STRING_VALUE}})
    with pytest.raises(UnknownValueError):
        dig(props, "a", "b")


@pytest.mark.parametrize(
    "value, expected",
    [
        (True, True),
        ("true", True),
        ("True", True),
        (" TRUE ", True),
        (False, False),
        ("false", False),
        ("False", False),
        ("", False),
        (None, False),
        (1, False),
        ("yes", False),
    ],
)
def test_truthy(value, expected):
    assert truthy(value) is expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (False, True),
        ("false", True),
        ("False", True),
        (True, False),
        ("true", False),
        (None, False),
        (0, False),
        ("", False),
    ],
)
def test_exact_false(value, expected):
    assert exact_false(value) is expected


# --- to_policy -------------------------------------------------------------------------------


def test_to_policy_resource_rule():
    policy = to_policy(TOY)
    assert isinstance(policy, ResourceValidationPolicy)
    assert policy.name == TOY.name and policy.description == TOY.description
    assert policy.enforcement_level == EnforcementLevel.MANDATORY == MANDATORY
    assert isinstance(policy.config_schema, PolicyConfigSchema)
    props = policy.config_schema.properties
    assert props["exemptions"] == fw.EXEMPTION_SCHEMA
    assert props["forbiddenPorts"] == {"type": "array", "items": {"type": "integer"}}
    assert props["minDays"] == {"type": "integer", "minimum": 1}


def test_rule_default_level_is_mandatory_and_advisory_is_kept():
    assert TOY.level == MANDATORY
    adv = Rule("toy-adv", "d", "toy", ("aws",), (SG,), _check_ports, level=ADVISORY)
    assert to_policy(adv).enforcement_level == EnforcementLevel.ADVISORY


def test_to_policy_stack_rule():
    policy = to_policy(TOY_STACK)
    assert isinstance(policy, StackValidationPolicy)
    assert policy.enforcement_level == EnforcementLevel.MANDATORY
    assert isinstance(policy.config_schema, PolicyConfigSchema)
    assert "exemptions" in policy.config_schema.properties and "maxRules" in policy.config_schema.properties


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _args(props: dict[str, Any], config: Mapping[str, Any] | None = None, name: str = "web-sg"):
    return ResourceValidationArgs(SG, unknown_checking_proxy(props), urn(name), name, _opts(), None, config)


def test_policy_validate_reports_through_the_callback(monkeypatch):
    monkeypatch.setenv("PULUMI_STACK", "dev")
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    reported = []
    to_policy(TOY).validate(_args(dict(OPEN_22)), lambda m, u=None: reported.append((m, u)))
    assert len(reported) == 1 and "port 22" in reported[0][0] and reported[0][1] == urn("web-sg")
    reported.clear()
    to_policy(TOY).validate(_args(dict(OPEN_22), {"exemptions": [exemption()]}), lambda m, u=None: reported.append(m))
    assert reported == []


def test_policy_validate_reads_dry_run_from_the_environment(monkeypatch):
    props = {"ingress": [{"port": UNKNOWN_NUMBER_VALUE}]}
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    with pytest.raises(UnknownValueError):
        to_policy(TOY).validate(_args(props), lambda m, u=None: None)
    monkeypatch.setenv("PULUMI_DRY_RUN", "false")
    reported = []
    to_policy(TOY).validate(_args(props), lambda m, u=None: reported.append(m))
    assert len(reported) == 1 and "unknown at apply time" in reported[0]


def test_stack_policy_validate_passes_parent_and_reports(monkeypatch):
    monkeypatch.setenv("PULUMI_STACK", "dev")
    parent = PolicyResource(OTHER, {}, urn("parent", OTHER), "parent", _opts(), None, None, [], {})
    res = [PolicyResource(SG, unknown_checking_proxy({}), urn(n), n, _opts(), None, parent, [], {}) for n in ("a", "b")]
    reported = []
    to_policy(TOY_STACK).validate(StackValidationArgs(res, None), lambda m, u=None: reported.append((m, u)))
    assert [u for _, u in reported] == [urn("b"), None]


# --- shapes.peek_all -------------------------------------------------------------------------


def test_peek_all_reads_ids_one_by_one():
    from policies.shapes import UNKNOWN, peek_all

    props = unknown_checking_proxy({"one": "sg-1", "many": ["sg-1", UNKNOWN_STRING_VALUE], "gone": UNKNOWN_ARRAY_VALUE})
    assert peek_all(props, "one") == ["sg-1"]
    assert peek_all(props, "many") == ["sg-1", UNKNOWN]
    assert peek_all(props, "gone") == [UNKNOWN]
    assert peek_all(props, "absent") == []
