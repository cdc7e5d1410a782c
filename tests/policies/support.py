"""Helpers for the rule tests: run one rule on one resource exactly as the pack does, and build
mutated copies of compliant baseline props."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import (  # noqa: F401  (re-exported for tests)
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)

from policies.framework import Rule, StackResource, StackRule, run_resource_rule, run_stack_rule
from policies.pack import all_rules


def rule(name: str) -> Rule | StackRule:
    """The rule called `name` from the assembled pack (fails if it is not registered)."""
    found = [r for r in all_rules() if r.name == name]
    assert len(found) == 1, f"rule {name!r} not registered in policies/pack.py"
    return found[0]


def resource_rule(name: str) -> Rule:
    """The resource rule called `name` (fails if it is a stack rule)."""
    found = rule(name)
    assert isinstance(found, Rule), f"{name!r} is a stack rule"
    return found


def stack_rule(name: str) -> StackRule:
    """The stack rule called `name` (fails if it is a resource rule)."""
    found = rule(name)
    assert isinstance(found, StackRule), f"{name!r} is a resource rule"
    return found


def violations(
    name: str,
    type_: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    stack: str = "dev",
    dry_run: bool = True,
    resource_name: str = "res",
) -> list[str]:
    """Violation messages of rule `name` for one resource; props go through the SDK's proxy."""
    urn = f"urn:pulumi:{stack}::appstack::{type_}::{resource_name}"
    return run_resource_rule(
        resource_rule(name), type_, unknown_checking_proxy(dict(props)), urn, resource_name, config, stack, dry_run
    )


def stack_violations(
    name: str,
    resources: Sequence[tuple[str, str, Mapping[str, Any]]],
    config: Mapping[str, Any] | None = None,
    stack: str = "dev",
    dry_run: bool = True,
) -> list[tuple[str, str | None]]:
    """Violations of stack rule `name` for ``(type, name, props)`` resources."""
    res = [
        StackResource(
            type=t, name=n, urn=f"urn:pulumi:{stack}::appstack::{t}::{n}", props=unknown_checking_proxy(dict(p))
        )
        for t, n, p in resources
    ]
    return run_stack_rule(stack_rule(name), res, config, stack, dry_run)


def reported_name(urn: str | None) -> str:
    """The resource name at the end of a reported URN ('' for a stack-level violation)."""
    return urn.rsplit("::", 1)[-1] if urn else ""


# ---------------------------------------------------------------------------------------------
# Mutations of a compliant baseline (the baselines themselves are never modified)

Change = Callable[[dict[str, Any]], None]
"""Modifies props in place; build one with `set_at`, `delete_at` or `all_of`."""

#: `mutate` value that removes the key instead of setting it.
DEL = object()


def _parent(props: Any, path: tuple) -> Any:
    for key in path[:-1]:
        props = props[key]
    return props


def set_at(path: tuple, value: Any) -> Change:
    """A change that sets the value at `path` (dict keys and list indexes)."""

    def change(props: dict[str, Any]) -> None:
        _parent(props, path)[path[-1]] = value

    return change


def delete_at(path: tuple) -> Change:
    """A change that removes the key (or list item) at `path`."""

    def change(props: dict[str, Any]) -> None:
        del _parent(props, path)[path[-1]]

    return change


def all_of(*changes: Change) -> Change:
    """A change that applies `changes` in order."""

    def change(props: dict[str, Any]) -> None:
        for c in changes:
            c(props)

    return change


def changed(base: Mapping[str, Any], change: Change) -> dict[str, Any]:
    """A deep copy of `base` (as a dict) with `change` applied."""
    props = copy.deepcopy(dict(base))
    change(props)
    return props


def mutate(base: Mapping[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    """A deep copy of `base` with the value at `path` set to `value`, or removed when it is `DEL`."""
    return changed(base, delete_at(path) if value is DEL else set_at(path, value))
