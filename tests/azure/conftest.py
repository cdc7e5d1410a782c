"""Offline plans of the stack files switched to Azure (`--set cloud=azure`), cached."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from tests.conftest import plan_of
from tools.mocks import Plan


def azure_plan(stack: str, overrides: Iterable[str] = ()) -> Plan:
    """The offline plan of `Pulumi.<stack>.yaml` on Azure, with `--set`-style overrides."""
    return plan_of(stack, ("cloud=azure", *overrides))


@pytest.fixture(scope="session")
def az_dev() -> Plan:
    return azure_plan("dev")


@pytest.fixture(scope="session")
def az_prod() -> Plan:
    # The instances mode (prod's default is a VM group: tests/azure/test_vm_group.py).
    return azure_plan("prod", ["compute.mode=instances"])
