"""Concern `key-management` (policy names `keys-...`): K1-K3: key rotation, least-privilege key policies, deletion guards."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
