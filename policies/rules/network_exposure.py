"""Concern `network-exposure` (policy names `network-...`): N1-N8: SSH/RDP/admin/all-ports ingress from the internet, VM ingress only from the LB, port 80, egress, default networks."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
