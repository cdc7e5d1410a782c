"""The pack's rule list, importable without starting a server (tests and the catalogue use it)."""

from __future__ import annotations

import importlib

from .framework import Rule, StackRule, to_policy

#: Rule modules, one per concern, in catalogue order. Each exports ``RULES``.
RULE_MODULES: tuple[str, ...] = (
    "network_exposure",
    "admin_access",
    "metadata_service",
    "public_exposure",
    "encryption_at_rest",
    "key_management",
    "transport_security",
    "audit_logging",
    "observability",
    "deletion_protection",
    "waf",
    "secure_boot",
    "identities",
    "stack_baseline",
)

PACK_NAME = "appstack"


def all_rules() -> list[Rule | StackRule]:
    """Every rule of the pack, in catalogue order; names are unique."""
    rules: list[Rule | StackRule] = []
    for mod in RULE_MODULES:
        rules.extend(importlib.import_module(f"{__package__}.rules.{mod}").RULES)
    names = [r.name for r in rules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicate policy names: {dupes}; give each rule a unique name")
    return rules


def all_policies() -> list:
    """The pulumi_policy objects for `PolicyPack(...)`."""
    return [to_policy(r) for r in all_rules()]
