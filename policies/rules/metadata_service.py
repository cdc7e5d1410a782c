"""Concern `metadata-service` (policy names `metadata-...`): M1-M2: IMDSv2 required, hop limit 1."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
