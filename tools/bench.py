"""Benchmark of the offline plan: wall time and peak RSS per stack, with and without the gate.

    python -m tools.bench [--runs 3]

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


def measure(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) of the process tree's largest process, and exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    # ru_maxrss is KiB on Linux; for the plan process itself (the pack is a grandchild).
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench")
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
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
