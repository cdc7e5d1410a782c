"""Concern `identities` (policy names `identity-...`): I1-I2: dedicated least-privilege VM identities."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
