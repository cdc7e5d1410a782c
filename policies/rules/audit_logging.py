"""Concern `audit-logging` (policy names `logging-...`): L1-L3: load balancer access logs, flow logs, log retention floors."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
