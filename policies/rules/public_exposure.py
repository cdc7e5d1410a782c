"""Concern `public-exposure` (policy names `public-...`): P1-P2: no public IPs on VMs, no IP forwarding."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
