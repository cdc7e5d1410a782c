"""Benchmark of the offline plan: wall time and peak RSS per stack, with and without the gate.

    python -m tools.bench [--runs 3]
    python -m tools.bench --setup [--cold]   # a fresh clone's first `make plan`, set-up included

Prints figures; it asserts nothing (timed assertions flake on a busy machine). Budget on the
2-core reference machine: ≤ 3 s and ≤ 250 MB for one stack's plan.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S, BUDGET_MB = 3.0, 250.0
#: A fresh clone's first `make plan` (uv bootstrap, install, plan, gate) and its virtualenv.
SETUP_BUDGET_S, VENV_BUDGET_MB = 20.0, 450.0


def _du_mb(path: Path) -> float:
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total / 1e6


def bench_setup(cold: bool) -> int:
    """Clone HEAD, run its first `make plan` as a newcomer would, report time and venv size.

    Warm: uv's and pip's caches as this machine has them (a second project, or a re-clone).
    Cold (--cold): empty caches, so every package is downloaded (network-bound).
    """
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="appstack-setup-") as tmp:
        clone = Path(tmp) / "appstack"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        env = dict(_ENV)
        # A newcomer's machine: no uv on PATH, so the Makefile bootstraps its own.
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not (Path(p) / "uv").exists())
        env.pop("VIRTUAL_ENV", None)
        if cold:
            env["UV_CACHE_DIR"] = str(Path(tmp) / "uv-cache")
            env["PIP_NO_CACHE_DIR"] = "1"
        start = time.perf_counter()
        proc = subprocess.run(["make", "plan"], cwd=clone, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n")
            return 1
        venv = _du_mb(clone / ".venv")
        label = "cold caches (downloads everything)" if cold else "warm caches"
        time_ok = "within budget" if elapsed <= SETUP_BUDGET_S else "OVER BUDGET"
        size_ok = "within budget" if venv <= VENV_BUDGET_MB else "OVER BUDGET"
        print(f"fresh clone `make plan` (dev, {label}): {elapsed:5.1f} s   {time_ok} (budget {SETUP_BUDGET_S:.0f} s)")
        print(f"dev stack virtualenv: {venv:6.0f} MB   {size_ok} (budget {VENV_BUDGET_MB:.0f} MB)")
        shutil.rmtree(clone / ".venv", ignore_errors=True)
    return 0


#: The plans run as on a developer's machine: Python writes and reuses its bytecode caches
#: (a PYTHONDONTWRITEBYTECODE in the environment would make every run recompile the SDK).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) of the process tree's largest process, and exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_ENV
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    # ru_maxrss is KiB on Linux; for the plan process itself (the pack is a grandchild).
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--setup", action="store_true", help="time a fresh clone's first `make plan` instead")
    parser.add_argument("--cold", action="store_true", help="with --setup: empty uv and pip caches")
    opts = parser.parse_args()
    if opts.setup:
        return bench_setup(opts.cold)
    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
    print(f"offline plan, median of {opts.runs} runs (budget {BUDGET_S:.0f} s, {BUDGET_MB:.0f} MB per stack)")
    for stack in stacks:
        for label, extra in (("plan", ["--no-policy"]), ("plan+gate", [])):
            times, rss = [], []
            for _ in range(opts.runs):
                t, m, code = measure(["-m", "tools.plan", "--stack", stack, "--quiet", *extra])
                if code not in (0, 1):
                    print(f"{stack} {label}: exit {code}")
                    return 1
                times.append(t)
                rss.append(m)
            t, m = statistics.median(times), max(rss)
            verdict = "within budget" if t <= BUDGET_S and m <= BUDGET_MB else "OVER BUDGET"
            print(f"{stack:>6} {label:<10} wall {t:5.2f} s   peak RSS {m:6.1f} MB   {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
