"""Concern `secure-boot` (policy names `boot-...`): S1-S2: shielded VM / trusted launch."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
