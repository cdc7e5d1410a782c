"""Concern `encryption-at-rest` (policy names `encryption-...`): E1-E6: disks, logs, alert topics and log buckets encrypted."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
