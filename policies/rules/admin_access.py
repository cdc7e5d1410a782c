"""Concern `admin-access` (policy names `access-...`): A1-A7: password and root login, SSH keys or SSM, boot configuration, OS Login, project SSH keys, serial console, secrets in boot data."""

from __future__ import annotations

from ..framework import Rule, StackRule

RULES: list[Rule | StackRule] = []
