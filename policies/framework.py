"""The small framework every rule in this pack is written against.

A rule is data (name, description, clouds, resource types, level, knobs, peer IDs) plus a pure
checker over the engine's camelCase input properties. `to_policy` turns a rule into a
pulumi_policy policy and adds what every rule must do the same way:

- knobs: defaults merged with `--policy-pack-config`, so every threshold is configurable;
- exemptions as data: ``{"resource": "<urn or name glob>", "reason": "...", "expires":
  "YYYY-MM-DD"}`` in the rule's config; an expired exemption no longer applies and the violation
  says so;
- unknown values: during preview a deciding value that is not known yet raises the SDK's
  ``UnknownValueError``, which the SDK reports as an advisory "can't run policy during preview"
  diagnostic (never a silent pass); on ``up`` the same error is a violation (fail closed);
- malformed shapes never crash the pack: the rule reports that it could not evaluate the
  resource, which is a violation at the rule's level (fail closed).

This module imports nothing from the program (``components/``): the pack judges whatever
program it is pointed at.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import fnmatch
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

if TYPE_CHECKING:  # annotations only (postponed): the pack needs no typing_extensions at run time
    from typing_extensions import TypeIs

Props = Mapping[str, Any]

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

#: The clouds a rule can cover; the catalogue lists them in this order.
CLOUDS = ("aws", "azure", "gcp")

#: JSON schema of one exemption entry in a rule's policy config.
EXEMPTION_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "resource": {"type": "string", "description": "URN or resource name; glob patterns allowed"},
            "reason": {"type": "string", "minLength": 1},
            "expires": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        },
        "required": ["resource", "reason", "expires"],
        "additionalProperties": False,
    },
}


@dataclass(frozen=True)
class Knob:
    """One configurable threshold or switch of a rule (a `--policy-pack-config` property)."""

    schema: Mapping[str, Any]
    """JSON schema of the value, e.g. ``{"type": "integer", "minimum": 1}``."""
    default: Any
    """Value used when policy config does not set it."""
    doc: str
    """One line for the catalogue: what the knob changes."""


@dataclass(frozen=True)
class Context:
    """What a checker may know besides the resource: its knobs and the deployment."""

    config: Mapping[str, Any]
    """The rule's knobs, defaults merged with policy config."""
    stack: str = ""
    """The stack name (``PULUMI_STACK``); used by rules that only apply to production stacks."""
    dry_run: bool = True
    """True during preview: unknown values are expected then."""

    def __getitem__(self, key: str) -> Any:
        return self.config[key]


@dataclass(frozen=True)
class StackResource:
    """A planned resource as a stack rule sees it (plain data, no SDK objects)."""

    type: str
    name: str
    urn: str
    props: Props
    parent: str | None = None


ResourceChecker = Callable[[str, Props, Context], Iterable[str]]
"""``check(resource_type, props, ctx)`` yields one message per violation."""
StackChecker = Callable[[Sequence[StackResource], Context], Iterable[tuple[str, str | None]]]
"""``check(resources, ctx)`` yields ``(message, urn or None)`` per violation."""


@dataclass(frozen=True)
class Rule:
    """A resource rule: what must hold for every resource of `resource_types`."""

    name: str
    """``<concern>-<rule>``, stable: policy config and exemptions refer to it."""
    description: str
    """What must hold, as one sentence."""
    concern: str
    """The module (concern) the rule belongs to, e.g. ``network-exposure``."""
    clouds: tuple[str, ...]
    resource_types: tuple[str, ...]
    """Engine type tokens the checker handles, e.g. ``aws:ec2/securityGroup:SecurityGroup``."""
    check: ResourceChecker
    level: EnforcementLevel = MANDATORY
    knobs: Mapping[str, Knob] = field(default_factory=dict)
    catalogue: tuple[str, ...] = ()
    """IDs in shared/policy-catalogue.md this rule implements, e.g. ``("N1",)``."""
    peers: tuple[str, ...] = ()
    """Peer IDs (Checkov, Trivy, cdk-nag ...) that check the same thing."""


@dataclass(frozen=True)
class StackRule:
    """A stack rule: what must hold for the set of planned resources as a whole."""

    name: str
    description: str
    concern: str
    clouds: tuple[str, ...]
    check: StackChecker
    level: EnforcementLevel = MANDATORY
    knobs: Mapping[str, Knob] = field(default_factory=dict)
    catalogue: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()

    resource_types: tuple[str, ...] = ("(stack)",)


# ---------------------------------------------------------------------------------------------
# Production stacks

#: The knob of production-only rules (deletion protection, WAF, retention floors, bucket locks):
#: register it as ``knobs={"prodStacks": PROD_STACKS_KNOB}`` and test with `is_prod`.
PROD_STACKS_KNOB = Knob(
    {"type": "array", "items": {"type": "string"}},
    ["prod", "prod-*", "*-prod", "production"],
    "stack-name globs treated as production",
)


def is_prod(ctx: Context) -> bool:
    """True when the stack name matches one of the rule's ``prodStacks`` globs."""
    return any(fnmatch.fnmatchcase(ctx.stack, str(g)) for g in ctx.config.get("prodStacks") or ())


# ---------------------------------------------------------------------------------------------
# Turning rules into pulumi_policy policies


def _config_schema(rule: Rule | StackRule) -> PolicyConfigSchema:
    properties: dict[str, Any] = {k: dict(v.schema) for k, v in rule.knobs.items()}
    properties["exemptions"] = EXEMPTION_SCHEMA
    return PolicyConfigSchema(properties=properties)


def effective_config(rule: Rule | StackRule, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Knob defaults overlaid with what policy config sets (unknown keys are kept for exemptions)."""
    merged: dict[str, Any] = {k: v.default for k, v in rule.knobs.items()}
    merged["exemptions"] = []
    if given:
        merged.update({k: v for k, v in given.items() if k != "enforcementLevel"})
    for k, knob in rule.knobs.items():
        merged[k] = _as_schema_ints(knob.schema, merged[k])
    return merged


def config_key_problems(rule: Rule | StackRule, given: Mapping[str, Any] | None) -> list[str]:
    """One message per policy-config key the rule does not know, with the closest known key.

    The CLI checks policy config against the rule's schema, which cannot forbid extra keys, and
    passes them through: a misspelt threshold (``minDays`` for ``minRetentionDays``) would leave
    the default silently in force. The rule fails closed instead, naming the key and the fix.
    """
    known = sorted([*rule.knobs, "exemptions", "enforcementLevel"])
    problems = []
    for key in given or ():
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            fix = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            problems.append(f"policy config of {rule.name} has an unknown key {key!r}; {fix} (failing closed)")
    return problems


def _as_schema_ints(schema: Mapping[str, Any], value: Any) -> Any:
    """Integral floats back to int where the knob's schema says integer.

    Policy config travels as a protobuf Struct, where every number is a double: through the
    CLI a ``365`` arrives as ``365.0`` and would show up as such in violation messages.
    """
    if schema.get("type") == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, Mapping) and isinstance(value, list):
        return [_as_schema_ints(items, v) for v in value]
    return value


def _today() -> _dt.date:
    return _dt.datetime.now(_dt.UTC).date()


def find_exemption(
    exemptions: Sequence[Mapping[str, Any]], urn: str, name: str, today: _dt.date | None = None
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """Return ``(active, expired)``: the exemption that applies to the resource, or the expired one.

    An exemption matches when its ``resource`` pattern matches the URN or the resource name. A
    malformed ``expires`` never exempts (fail closed).
    """
    today = today or _today()
    expired = None
    for ex in exemptions or ():
        if not isinstance(ex, Mapping):
            continue  # a malformed entry exempts nothing (fail closed)
        pattern = str(ex.get("resource", ""))
        if not pattern or not (fnmatch.fnmatchcase(urn, pattern) or fnmatch.fnmatchcase(name, pattern)):
            continue
        try:
            until = _dt.date.fromisoformat(str(ex.get("expires", "")))
        except ValueError:
            expired = ex
            continue
        if until >= today and str(ex.get("reason", "")).strip():
            return ex, None
        expired = ex
    return None, expired


def _expired_note(ex: Mapping[str, Any] | None) -> str:
    if ex is None:
        return ""
    return (
        f" (exemption for '{ex.get('resource')}' expired on {ex.get('expires')} or is malformed; "
        f"reason given: {ex.get('reason')!r}; renew it or fix the resource)"
    )


def _deployment() -> tuple[str, bool]:
    """Stack name and preview flag, from the environment the CLI starts the pack with."""
    return os.environ.get("PULUMI_STACK", ""), os.environ.get("PULUMI_DRY_RUN", "true") == "true"


def run_resource_rule(
    rule: Rule,
    resource_type: str,
    props: Props,
    urn: str,
    name: str,
    given_config: Mapping[str, Any] | None = None,
    stack: str = "",
    dry_run: bool = True,
) -> list[str]:
    """Apply a rule to one resource exactly as the pack does and return the violation messages.

    Raises ``UnknownValueError`` during preview when a deciding value is unknown, so that the SDK
    reports it as advisory. Tests call this directly; `to_policy` calls it from the pack.
    """
    if resource_type not in rule.resource_types:
        return []
    problems = config_key_problems(rule, given_config)
    if problems:
        return problems
    config = effective_config(rule, given_config)
    active, expired = find_exemption(config.get("exemptions") or (), urn, name)
    if active is not None:
        return []
    ctx = Context(config=config, stack=stack, dry_run=dry_run)
    try:
        messages = [str(m) for m in rule.check(resource_type, props, ctx)]
    except UnknownValueError as exc:
        if dry_run:
            raise
        # Values are known on `up`; an unknown here means the pack cannot decide: fail closed.
        messages = [f"a deciding value is still unknown at apply time ({exc.message}); failing closed"]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        # A malformed or unexpected property shape never crashes the pack and never passes.
        messages = [f"could not evaluate the resource ({type(exc).__name__}: {exc}); failing closed"]
    note = _expired_note(expired)
    return [m + note for m in messages]


def run_stack_rule(
    rule: StackRule,
    resources: Sequence[StackResource],
    given_config: Mapping[str, Any] | None = None,
    stack: str = "",
    dry_run: bool = True,
) -> list[tuple[str, str | None]]:
    """Apply a stack rule to the planned resources and return ``(message, urn)`` violations."""
    problems = config_key_problems(rule, given_config)
    if problems:
        return [(p, None) for p in problems]
    config = effective_config(rule, given_config)
    ctx = Context(config=config, stack=stack, dry_run=dry_run)
    out: list[tuple[str, str | None]] = []
    try:
        found = list(rule.check(resources, ctx))
    except UnknownValueError as exc:
        if dry_run:
            raise
        found = [(f"a deciding value is still unknown at apply time ({exc.message}); failing closed", None)]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        found = [(f"could not evaluate the stack ({type(exc).__name__}: {exc}); failing closed", None)]
    for message, urn in found:
        if urn:
            res = next((r for r in resources if r.urn == urn), None)
            active, expired = find_exemption(config.get("exemptions") or (), urn, res.name if res else "")
            if active is not None:
                continue
            message += _expired_note(expired)
        out.append((message, urn))
    return out


@overload
def to_policy(rule: Rule) -> ResourceValidationPolicy: ...
@overload
def to_policy(rule: StackRule) -> StackValidationPolicy: ...
def to_policy(rule: Rule | StackRule) -> ResourceValidationPolicy | StackValidationPolicy:
    """The pulumi_policy object for a rule, with knobs, exemptions and unknown handling."""
    schema = _config_schema(rule)
    if isinstance(rule, StackRule):

        def validate_stack(args, report_violation) -> None:
            stack, dry_run = _deployment()
            resources = [
                StackResource(
                    type=r.resource_type,
                    name=r.name,
                    urn=r.urn,
                    props=r.props,
                    parent=r.parent.urn if r.parent is not None else None,
                )
                for r in args.resources
            ]
            for message, urn in run_stack_rule(rule, resources, args.get_config(), stack, dry_run):
                report_violation(message, urn)

        return StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=validate_stack,
            enforcement_level=rule.level,
            config_schema=schema,
        )

    applies_to = frozenset(rule.resource_types)

    def validate(args, report_violation) -> None:
        # The servicer calls every policy for every resource; most return here, so this check
        # comes before any other per-call work (config, environment).
        if args.resource_type not in applies_to:
            return
        stack, dry_run = _deployment()
        for message in run_resource_rule(
            rule, args.resource_type, args.props, args.urn, args.name, args.get_config(), stack, dry_run
        ):
            report_violation(message, args.urn)

    policy = ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=rule.level,
        config_schema=schema,
    )
    # The types it judges, for the servicer's per-type dispatch (`speedups.install`).
    policy.appstack_resource_types = applies_to  # type: ignore[attr-defined]
    return policy


# ---------------------------------------------------------------------------------------------
# Shape helpers shared by the rules. Properties arrive as plain dicts/lists in tests and as the
# SDK's unknown-checking proxies (Mapping/Sequence, not dict/list) in the pack: use these (and the
# helpers built on them in `shapes`).


def is_map(value: Any) -> TypeIs[Mapping[str, Any]]:
    """True for a property object (a dict or the SDK's proxy of one)."""
    return isinstance(value, Mapping)


def as_list(value: Any) -> list[Any]:
    """A property that may be absent, a single value or a list, as a list."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def dig(props: Any, *path: str | int, default: Any = None) -> Any:
    """Nested lookup that tolerates missing keys and wrong shapes (returns `default`)."""
    cur = props
    for key in path:
        if isinstance(key, int):
            if isinstance(cur, Sequence) and not isinstance(cur, (str, bytes)) and -len(cur) <= key < len(cur):
                cur = cur[key]
            else:
                return default
        elif isinstance(cur, Mapping) and key in cur:
            cur = cur[key]
        else:
            return default
    return cur


def truthy(value: Any) -> bool:
    """Booleans as the engine may carry them: ``True`` or the strings ``"true"``/``"True"``.

    Launch templates carry ``encrypted`` as a string, so ``"false"`` must be false.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return False


def exact_false(value: Any) -> bool:
    """True only for an explicit false (boolean or string)."""
    if isinstance(value, bool):
        return value is False
    if isinstance(value, str):
        return value.strip().lower() == "false"
    return False
