"""Concern `deletion-protection` (policy names `deletion-...`): D1-D2: deletion protection on load balancers and VMs in production."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
