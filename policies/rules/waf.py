"""Concern `waf` (policy names `waf-...`): W1-W2: public load balancers behind a WAF in production."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
