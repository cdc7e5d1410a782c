"""Shared fixtures: offline plans of the stack files, cached per (stack, overrides)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pytest

from tools.mocks import Plan, run_program
from tools.plan import load_stack_config, tune_gc

# The suite plans stacks in-process all the time, as `python -m tools.plan` does: collect cyclic
# garbage as rarely as it does (the suite ran ~20% longer with the default thresholds).
tune_gc()


@functools.cache
def _plan(stack: str, overrides: tuple[str, ...]) -> Plan:
    return run_program(stack, load_stack_config(stack, overrides))


def plan_of(stack: str, overrides: Iterable[str] = ()) -> Plan:
    """The offline plan of `Pulumi.<stack>.yaml` with `--set`-style overrides (cached)."""
    return _plan(stack, tuple(overrides))


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return plan_of("dev")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return plan_of("prod")
