"""Concern `stack-baseline` (policy names `stack-...`): L4, O2: stack-level policies - a stack with a load balancer has a log sink, an alert channel and the baseline alarms."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
