"""Concern `transport-security` (policy names `transport-...`): T1-T6: HTTPS only, HTTP redirects, TLS policies, managed certificates, header hygiene."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
