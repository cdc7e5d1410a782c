"""Concern `observability` (policy names `observability-...`): O1: alarms have actions."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
