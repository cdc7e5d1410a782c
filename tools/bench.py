"""Benchmarks of the offline plan: per cloud, stack file, VM mode and instance count.

    python -m tools.bench                    # every case; writes docs/performance.md, its chart, README
    python -m tools.bench --runs 3 --no-write --cloud aws
    python -m tools.bench --setup [--cold]   # a fresh clone's first `make plan`, set-up included

For each cloud (``--set cloud=…``) and stack file: wall time and peak RSS of the plan without and
with the policy gate, the pack's own start-up and analysis time, and scaling with
`compute.instanceCount` (1, 5, 20, the model's maximum) in `instances` mode and the `group` mode
when the config accepts it — each as milliseconds per planned resource. Wall times come from
hyperfine (one warm-up run, then ``--runs``; median and min–max) when it is installed, else from
the same warm-up-then-runs loop here. Every run goes through ``python -m tools.bench --one``: the
plan in that process (its ``RUSAGE_SELF`` peak RSS is the plan's) and the pack as its child
(``RUSAGE_CHILDREN`` after the pack is reaped is the pack's peak RSS), and the gate's timings.

Caches are warm: plans run as on a developer's machine, writing and reusing ``__pycache__``
(a PYTHONDONTWRITEBYTECODE in the environment is dropped), and each case runs once untimed first.
Prints figures and asserts nothing (timed assertions flake on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance.png"
README = ROOT / "README.md"
CLOUDS: tuple[str, ...] = ("aws", "azure", "gcp")
STACKS = ("dev", "prod")
#: Targets on the 2-core reference machine (issue 13): one stack's plan + gate.
BUDGET_S, BUDGET_MB, BUDGET_MS_PER_RESOURCE = 2.0, 200.0, 4.0
#: A fresh clone's first `make plan` (uv bootstrap, install, plan, gate) and its virtualenv.
SETUP_BUDGET_S, VENV_BUDGET_MB = 20.0, 450.0

#: The plans run as on a developer's machine: Python writes and reuses its bytecode caches
#: (a PYTHONDONTWRITEBYTECODE in the environment would make every run recompile the SDK).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# ---------------------------------------------------------------------------------------------
# One measured run (in the process hyperfine starts)


def run_one(out: Path, plan_args: list[str]) -> int:
    """Run one plan in this process and append its figures to `out` (one JSON line)."""
    import resource

    t0 = time.perf_counter()
    import tools.plan as plan_mod

    plan_mod.tune_gc()  # as `python -m tools.plan` does
    import tools.policy_gate as gate_mod

    rec: dict[str, Any] = {}
    real_run_program, real_finish = plan_mod.run_program, gate_mod.GateStream.finish

    def run_program(*a, **kw):
        t = time.perf_counter()
        plan = real_run_program(*a, **kw)
        rec["program_s"] = time.perf_counter() - t
        rec["resources"] = len(plan.resources)
        rec["custom"] = sum(1 for r in plan.resources if r.custom)
        return plan

    def finish(self):
        result = real_finish(self)
        rec["gate_after_program_s"] = result.timings.get("after_program_s", 0.0)
        rec["pack_ready_s"] = result.timings.get("startup_s", 0.0)
        rec["pack_startup_s"] = self.session.startup_s
        rec["mandatory"] = len(result.mandatory)
        return result

    plan_mod.run_program = run_program
    gate_mod.GateStream.finish = finish
    code = plan_mod.main(plan_args)
    rec["wall_s"] = time.perf_counter() - t0
    rec["exit"] = code
    # ru_maxrss is KiB on Linux; the pack (the only child) has been reaped by now.
    rec["plan_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rec["pack_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with out.open("a") as f:
        f.write(json.dumps(rec) + "\n")
    return code


# ---------------------------------------------------------------------------------------------
# Cases and the harness


@dataclass
class Case:
    cloud: str
    stack: str
    mode: str
    """`instances` or `group` (what the stack file gives unless a --set changes it)."""
    n: int | None
    """`compute.instanceCount` set, or None for the stack file's own."""
    gate: bool
    kind: str
    """`matrix` (stack files as they are), `scale` (instance count), `group`."""
    sets: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    """Wall seconds of the timed runs (hyperfine's, else our own)."""
    alone: dict[str, float] = field(default_factory=dict)
    """The gate by itself over this case's plan (`gate_alone`): start-up and analysis seconds."""

    @property
    def plan_args(self) -> list[str]:
        args = ["--stack", self.stack, "--quiet", "--set", f"cloud={self.cloud}"]
        for s in self.sets:
            args += ["--set", s]
        return args + ([] if self.gate else ["--no-policy"])

    @property
    def label(self) -> str:
        n = f" N={self.n}" if self.n is not None else ""
        return f"{self.cloud} {self.stack} {self.mode}{n} {'plan+gate' if self.gate else 'plan'}"

    def median(self, key: str) -> float:
        vals = [r[key] for r in self.runs if key in r]
        return statistics.median(vals) if vals else float("nan")

    def peak(self, key: str) -> float:
        vals = [r[key] for r in self.runs if key in r]
        return max(vals) if vals else float("nan")

    @property
    def resources(self) -> int:
        return int(self.runs[0]["resources"]) if self.runs else 0

    @property
    def wall(self) -> float:
        return statistics.median(self.walls) if self.walls else float("nan")

    @property
    def spread(self) -> tuple[float, float]:
        return (min(self.walls), max(self.walls)) if self.walls else (float("nan"), float("nan"))


def _plan_exit(args: list[str]) -> int:
    proc = subprocess.run(
        [sys.executable, "-m", "tools.plan", *args], cwd=ROOT, env=_ENV, capture_output=True, text=True
    )
    return proc.returncode


def max_instance_count() -> int:
    """`compute.instanceCount`'s upper bound in the config model (its `le`)."""
    from components.config.model import ComputeConfig

    for meta in ComputeConfig.model_fields["instance_count"].metadata:
        le = getattr(meta, "le", None)
        if le is not None:
            return int(le)
    return 20


def group_mode_supported() -> bool:
    """Whether the config accepts `compute.mode: group` (another change adds it)."""
    return _plan_exit(["--stack", "dev", "--quiet", "--no-policy", "--set", "compute.mode=group"]) == 0


def stack_compute(stack: str) -> tuple[str, int]:
    """The VM mode and instance count a stack file gives (through its profile)."""
    try:
        from components.config import parse_config, raw_from_config_map
        from tools.plan import load_stack_config

        compute = parse_config(raw_from_config_map(load_stack_config(stack)), stack).compute
        return str(getattr(compute, "mode", "instances")), int(compute.instance_count)
    except Exception:
        return "instances", 1


def build_cases(clouds: list[str], group: bool, n_max: int) -> list[Case]:
    cases: list[Case] = []
    computes = {s: stack_compute(s) for s in STACKS}
    modes = {s: m for s, (m, _) in computes.items()}
    dev_mode, dev_count = computes["dev"]
    for cloud in clouds:
        for stack in STACKS:
            for gate in (False, True):
                cases.append(Case(cloud, stack, modes[stack], None, gate, "matrix"))
        for n in sorted({1, 5, 20, n_max}):
            if dev_mode == "instances" and n == dev_count:
                # The dev stack file as it is: the same plan as its matrix row (measured once).
                sets = []
            else:
                sets = [f"compute.instanceCount={n}"] + ([] if dev_mode == "instances" else ["compute.mode=instances"])
            cases.append(Case(cloud, "dev", "instances", n, True, "scale", sets=sets))
        if group:
            for stack in STACKS:
                if modes[stack] != "group":
                    cases.append(Case(cloud, stack, "group", None, True, "group", sets=["compute.mode=group"]))
    return cases


def gate_alone(case: Case, reps: int = 3) -> dict[str, float]:
    """The gate by itself over the case's planned resources, nothing else running: the pack's
    start-up (spawn to `GetAnalyzerInfo`) and the analysis (Configure, every Analyze and
    AnalyzeStack), medians of `reps` fresh packs. In a plan both overlap the program."""
    from tools.mocks import PROJECT
    from tools.plan import load_stack_config
    from tools.policy_gate import GateStream, PackSession

    sets = [f"cloud={case.cloud}", *case.sets]  # what `case.plan_args` passes as --set
    with tempfile.TemporaryDirectory(prefix="appstack-bench-") as tmp:
        path = Path(tmp) / "plan.json"
        args = [a for a in case.plan_args if a != "--no-policy"]
        subprocess.run(
            [sys.executable, "-m", "tools.plan", *args, "--no-policy", "--json", str(path)],
            cwd=ROOT,
            env=_ENV,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        resources = json.loads(path.read_text())
    config = load_stack_config(case.stack, sets)
    starts, analyses = [], []
    for _ in range(reps):
        session = PackSession(project=PROJECT, stack=case.stack, stack_config=config)
        t = time.perf_counter()
        try:
            session.start()
        except BaseException:
            session.close()
            raise
        starts.append(time.perf_counter() - t)
        gate = GateStream(session)
        t = time.perf_counter()
        for res in resources:
            gate.submit(res)
        gate.finish()
        analyses.append(time.perf_counter() - t)
    return {
        "startup_s": statistics.median(starts),
        "analysis_s": statistics.median(analyses),
        "resources": float(len(resources)),
    }


def _one_cmd(out: Path, case: Case) -> list[str]:
    return [sys.executable, "-m", "tools.bench", "--one", str(out), "--", *case.plan_args]


def measure(case: Case, runs: int, use_hyperfine: bool) -> None:
    """Warm-up run, then `runs` timed runs; fills `case.runs` and `case.walls`."""
    with tempfile.TemporaryDirectory(prefix="appstack-bench-") as tmp:
        out = Path(tmp) / "runs.jsonl"
        cmd = _one_cmd(out, case)
        if use_hyperfine:
            export = Path(tmp) / "hyperfine.json"
            # -N: no shell in between; the exit status 1 (a mandatory violation) is a result too.
            subprocess.run(
                [
                    *("hyperfine", "-N", "--style", "none", "--warmup", "1", "--runs", str(runs), "-i"),
                    *("--export-json", str(export), " ".join(_quote(c) for c in cmd)),
                ],
                cwd=ROOT,
                env=_ENV,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            case.walls = list(json.loads(export.read_text())["results"][0]["times"])
            lines = out.read_text().splitlines()[1:]  # the first line is the warm-up's
        else:
            walls = []
            for i in range(runs + 1):
                t = time.perf_counter()
                subprocess.run(cmd, cwd=ROOT, env=_ENV, stdout=subprocess.DEVNULL, check=False)
                if i:
                    walls.append(time.perf_counter() - t)
            case.walls = walls
            lines = out.read_text().splitlines()[1:]
        case.runs = [json.loads(line) for line in lines]
    _check_exits(case)


def _check_exits(case: Case) -> None:
    """Stop on a plan that failed (exit 0 is clean, 1 a mandatory violation: both are results)."""
    bad = [r["exit"] for r in case.runs if r.get("exit") not in (0, 1)]
    if bad:
        raise SystemExit(f"{case.label}: the plan exited {bad[0]} ({' '.join(case.plan_args)})")


def measure_interleaved(cases: list[Case], runs: int) -> None:
    """One warm-up run of each case, then `runs` rounds of one run of each in turn.

    For a scaling series (N = 1, 5, 20): this VM's speed drifts within minutes, and timing the
    Ns one after the other put that drift into the slope; in rounds it lands on every N alike.
    Timed with the built-in loop (hyperfine times one command's runs back to back)."""
    with tempfile.TemporaryDirectory(prefix="appstack-bench-") as tmp:
        outs = [Path(tmp) / f"{i}.jsonl" for i in range(len(cases))]
        walls: list[list[float]] = [[] for _ in cases]
        for round_ in range(runs + 1):
            for i, case in enumerate(cases):
                t = time.perf_counter()
                subprocess.run(_one_cmd(outs[i], case), cwd=ROOT, env=_ENV, stdout=subprocess.DEVNULL, check=False)
                if round_:
                    walls[i].append(time.perf_counter() - t)
        for i, case in enumerate(cases):
            case.walls = walls[i]
            case.runs = [json.loads(line) for line in outs[i].read_text().splitlines()[1:]]
            _check_exits(case)


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


# ---------------------------------------------------------------------------------------------
# Machine, report, chart


def machine() -> dict[str, str]:
    from importlib import metadata

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:", 1)[1].split()[0])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    versions = []
    for pkg in (
        "pulumi",
        "pulumi-aws",
        "pulumi-azure-native",
        "pulumi-gcp",
        "pulumi-policy",
        "grpcio",
        "protobuf",
        "pydantic",
    ):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pass
    hf = shutil.which("hyperfine")
    harness = "own loop (hyperfine not installed)"
    if hf:
        harness = subprocess.run([hf, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": ", ".join(versions),
        "harness": harness,
    }


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _fmt_wall(c: Case) -> str:
    lo, hi = c.spread
    return f"{c.wall:.2f} s ({lo:.2f}–{hi:.2f})"


def _verdict(c: Case) -> str:
    ok_t = c.wall <= BUDGET_S
    ok_m = max(c.peak("plan_rss_mb"), c.peak("pack_rss_mb")) <= BUDGET_MB
    return "within" if ok_t and ok_m else "**over**"


def tables(cases: list[Case], runs: int, plain_runs: int, scale_runs: int) -> str:
    out: list[str] = []
    matrix = [c for c in cases if c.kind == "matrix"]
    out.append(
        f"Stack files as they are, `--set cloud=…` (median of {runs} runs with the gate, {plain_runs} without, "
        "each after one warm-up run; min–max in brackets). "
        "Peak RSS is the largest of the runs, of the plan process and of the pack process (a child)."
    )
    out.append("")
    out.append(
        "| cloud | stack | mode | resources | plan | plan + gate | ms / resource (plan + gate) "
        "| peak RSS plan / pack | budget (≤ 2.0 s, ≤ 200 MB) |"
    )
    out.append("|---|---|---|---:|---:|---:|---:|---:|---|")
    by_key = {(c.cloud, c.stack, c.gate): c for c in matrix}
    for c in matrix:
        if c.gate:
            continue
        g = by_key.get((c.cloud, c.stack, True))
        if g is None:
            continue
        out.append(
            f"| {c.cloud} | {c.stack} | {c.mode} | {g.resources} | {_fmt_wall(c)} | {_fmt_wall(g)} "
            f"| {g.wall * 1000 / max(g.resources, 1):.1f} | {g.peak('plan_rss_mb'):.0f} / {g.peak('pack_rss_mb'):.0f} MB "
            f"| {_verdict(g) if c.stack == 'dev' else '(dev only)'} |"
        )
    out.append("")
    out.append(
        "The gate (medians). In the plan runs above: the program's time, when the pack was ready to judge "
        "(configured, from the program's start; it is spawned before the program and boots on the other "
        "core), and what the plan still waited for after the program's last resource (the Analyze answers "
        "not yet in, and AnalyzeStack) — the pack judges each resource as it registers, as the engine "
        "does. Alone (`gate_alone`, 3 fresh packs over the same planned resources, nothing else running): "
        "the pack's start-up (spawn to `GetAnalyzerInfo`) and its analysis (Configure, every Analyze, "
        "AnalyzeStack) per resource."
    )
    out.append("")
    out.append(
        "| cloud | stack | program | pack ready | verdict after the program | gate's share of wall "
        "| alone: pack start-up | alone: analysis per resource |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for c in matrix:
        if not c.gate:
            continue
        plain = by_key.get((c.cloud, c.stack, False))
        share = (c.wall - plain.wall) if plain else float("nan")
        alone = c.alone or {}
        per = alone.get("analysis_s", float("nan")) * 1000 / max(alone.get("resources", 0.0), 1.0)
        out.append(
            f"| {c.cloud} | {c.stack} | {c.median('program_s'):.2f} s "
            f"| {c.median('pack_ready_s'):.2f} s | {c.median('gate_after_program_s'):.2f} s | {share:+.2f} s "
            f"| {alone.get('startup_s', float('nan')):.2f} s | {per:.2f} ms |"
        )
    scale = [c for c in cases if c.kind in ("scale", "group")]
    if scale:
        out.append("")
        out.append(
            f"Scaling: the dev stack with the gate (median of {scale_runs} runs after one warm-up; a "
            "cloud's instance counts run in rounds, one run of each N in turn, so the machine's drift "
            "lands on every N alike; timed by the built-in loop, so N = 1 reads a little above the "
            "hyperfine figure of the same plan above), "
            "`--set compute.instanceCount=N` in `instances` mode, and `compute.mode=group`. "
            f"Target: ≤ {BUDGET_MS_PER_RESOURCE:.0f} ms per planned resource at the largest N — the cost of each "
            "resource N adds (the least-squares slope of wall time against planned resources over N = 1 up to "
            "this N, each N's median), since the average over all resources is mostly the fixed start-up "
            "(interpreter, SDK imports, pack start-up)."
        )
        out.append("")
        out.append(
            "| cloud | stack | mode | N | resources | plan + gate | average ms / resource "
            "| ms per added resource | peak RSS plan / pack |"
        )
        out.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for c in scale:
            ms = c.wall * 1000 / max(c.resources, 1)
            marg = marginal_ms(c, cases) if c.kind == "scale" else float("nan")
            flag = " **over**" if marg == marg and marg > BUDGET_MS_PER_RESOURCE else ""
            out.append(
                f"| {c.cloud} | {c.stack} | {c.mode} | {c.n if c.n is not None else '—'} | {c.resources} "
                f"| {_fmt_wall(c)} | {ms:.1f} | {'—' if marg != marg else f'{marg:.1f}'}{flag} "
                f"| {c.peak('plan_rss_mb'):.0f} / {c.peak('pack_rss_mb'):.0f} MB |"
            )
    return "\n".join(out)


def marginal_ms(case: Case, cases: list[Case]) -> float:
    """Milliseconds per planned resource added: the least-squares slope of wall time (each N's
    median) against planned resources, over the cloud's instance counts up to `case`'s N.

    A slope over every N is steadier than the difference of two medians (a 0.1 s wobble at
    either end is 1 ms a resource when N = 1 to 20 adds ~100 resources)."""
    pts = [
        (float(c.resources), c.wall)
        for c in cases
        if c.kind == "scale" and c.cloud == case.cloud and (c.n or 0) <= (case.n or 0) and c.walls
    ]
    if len(pts) < 2 or len({x for x, _ in pts}) < 2:
        return float("nan")
    mx = statistics.fmean(x for x, _ in pts)
    my = statistics.fmean(y for _, y in pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx * 1000


def chart(cases: list[Case], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"aws": "#d97706", "azure": "#2563eb", "gcp": "#16a34a"}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.6), dpi=110)
    for cloud in CLOUDS:
        pts = sorted(
            (c for c in cases if c.cloud == cloud and c.gate and c.kind in ("scale", "matrix")),
            key=lambda c: c.resources,
        )
        if not pts:
            continue
        scale = sorted((c for c in pts if c.kind == "scale"), key=lambda c: c.resources)
        xs = [c.resources for c in scale]
        ys = [c.wall for c in scale]
        err = [[c.wall - c.spread[0] for c in scale], [c.spread[1] - c.wall for c in scale]]
        ax.errorbar(
            xs,
            ys,
            yerr=err,
            color=colors[cloud],
            marker="o",
            capsize=3,
            label=f"{cloud}: dev, N = {', '.join(str(c.n) for c in scale)}",
        )
        for c in scale:
            ax.annotate(
                f"N={c.n}",
                (c.resources, c.wall),
                textcoords="offset points",
                xytext=(4, -11),
                fontsize=7,
                color=colors[cloud],
            )
        others = [
            c
            for c in cases
            if c.cloud == cloud and c.gate and (c.kind == "group" or (c.kind == "matrix" and c.stack == "prod"))
        ]
        ax.scatter(
            [c.resources for c in others], [c.wall for c in others], color=colors[cloud], marker="s", facecolors="none"
        )
        for c in others:
            ax.annotate(
                f"{c.stack} {c.mode}",
                (c.resources, c.wall),
                textcoords="offset points",
                xytext=(4, 3),
                fontsize=7,
                color=colors[cloud],
            )
        ax2.plot(
            xs, [c.wall * 1000 / c.resources for c in scale], color=colors[cloud], marker="o", label=f"{cloud}: average"
        )
        marg = [(c.resources, marginal_ms(c, cases)) for c in scale[1:]]
        marg = [(x, y) for x, y in marg if y > 0]  # noise can make a small step negative
        ax2.plot(
            [x for x, _ in marg],
            [y for _, y in marg],
            color=colors[cloud],
            marker="^",
            linestyle=":",
            label=f"{cloud}: per added resource",
        )
    ax.axhline(BUDGET_S, color="#b91c1c", linestyle="--", linewidth=1)
    ax.text(
        ax.get_xlim()[0], BUDGET_S, f" {BUDGET_S:.1f} s budget (dev stack)", va="bottom", fontsize=8, color="#b91c1c"
    )
    ax.set_xlabel("planned resources")
    ax.set_ylabel("wall time, plan + policy gate (s)")
    ax.set_title("Offline plan + gate: time against stack size")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax2.axhline(BUDGET_MS_PER_RESOURCE, color="#b91c1c", linestyle="--", linewidth=1)
    ax2.text(
        ax2.get_xlim()[0],
        BUDGET_MS_PER_RESOURCE,
        f" {BUDGET_MS_PER_RESOURCE:.0f} ms budget per added resource",
        va="bottom",
        fontsize=8,
        color="#b91c1c",
    )
    ax2.set_xlabel("planned resources (dev stack, instances mode)")
    ax2.set_ylabel("ms per planned resource")
    ax2.set_title("Cost per planned resource (dev stack, N = 1 … max)")
    ax2.set_yscale("log")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _replace_block(text: str, start: str, end: str, body: str) -> str:
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        return f"{head}{start}\n{body}\n{end}{tail}"
    return f"{text.rstrip()}\n\n{start}\n{body}\n{end}\n"


DOC_HEAD = """# Performance

How long the offline plan (`python -m tools.plan`) and its policy gate take, how much memory they
use, and how that scales — measured by `make bench` (`tools/bench.py`, `tools/bench_policy.py`);
the comparison with AWS CDK + cdk-nag and Checkov by `make bench-compare` (`tools/compare/`).
Nothing in the test suite asserts on time.

Targets on the 2-core reference machine, for one stack: the dev stack planned and judged by the
gate in ≤ 2.0 s and ≤ 200 MB peak on each cloud; ≤ 4 ms per planned resource at the largest
instance count; the offline plan + gate of the AWS dev stack ≤ 0.3× an AWS CDK synth + cdk-nag of
the same stack.
"""


def write_doc(body: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.exists() else DOC_HEAD
    DOC.write_text(_replace_block(text, "<!-- bench:start -->", "<!-- bench:end -->", body))


def write_readme(summary: str) -> None:
    text = README.read_text()
    README.write_text(_replace_block(text, "<!-- bench:start -->", "<!-- bench:end -->", summary))


def readme_summary(cases: list[Case], info: dict[str, str], load: str, runs: int) -> str:
    lines = [
        f"Measured on the 2-core reference machine ({info['cpu']}, {info['memory']}; load average {load} before "
        f"the run), `make bench`, median of {runs} runs with warm caches; the full tables, the machine, "
        "the scaling chart and the comparison with AWS CDK + cdk-nag and Checkov are in "
        "[docs/performance.md](docs/performance.md).",
        "",
        "| cloud | dev: plan + gate | dev: peak RSS plan / pack | prod: plan + gate | largest N: ms / planned resource |",
        "|---|---:|---:|---:|---:|",
    ]
    for cloud in CLOUDS:
        dev = next((c for c in cases if c.kind == "matrix" and c.cloud == cloud and c.stack == "dev" and c.gate), None)
        prod = next(
            (c for c in cases if c.kind == "matrix" and c.cloud == cloud and c.stack == "prod" and c.gate), None
        )
        scale = [c for c in cases if c.kind == "scale" and c.cloud == cloud]
        big = max(scale, key=lambda c: c.n or 0) if scale else None
        if dev is None:
            continue
        lines.append(
            f"| {cloud} | {dev.wall:.2f} s ({dev.resources} resources) | {dev.peak('plan_rss_mb'):.0f} / {dev.peak('pack_rss_mb'):.0f} MB "
            f"| {prod.wall:.2f} s ({prod.resources}) | "
            + (
                f"{marginal_ms(big, cases):.1f} ms per added resource, {big.wall * 1000 / big.resources:.0f} ms "
                f"average (N={big.n}, {big.resources} resources, {big.wall:.2f} s)"
                if big
                else "—"
            )
            + " |"
            if prod
            else "| — | — |"
        )
    compare = _compare_ratios()
    if compare:
        lines += ["", compare]
    return "\n".join(lines)


def _compare_ratios() -> str:
    """The sentence on `make bench-compare`'s ratios, from docs/performance.md when it has them."""
    import re

    text = DOC.read_text() if DOC.exists() else ""
    cdk = re.search(r"takes \*\*([\d.]+)×\*\* the time of an AWS CDK synth \+ cdk-nag", text)
    checkov = re.search(r"Checkov on the Terraform equivalent takes ([\d.]+)×", text)
    if not cdk:
        return ""
    return (
        f"`make bench-compare`: the AWS dev stack's plan + gate takes {cdk.group(1)}× the time of an AWS CDK "
        "synth + cdk-nag of the same stack (target ≤ 0.3×)"
        + (f"; Checkov on its Terraform equivalent takes {checkov.group(1)}× appstack's time." if checkov else ".")
    )


# ---------------------------------------------------------------------------------------------
# Set-up benchmark (a fresh clone's first `make plan`)


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


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--one"]:
        # python -m tools.bench --one OUT -- <tools.plan arguments>
        rest = argv[2:]
        status = run_one(Path(argv[1]), rest[1:] if rest[:1] == ["--"] else rest)
        # As `python -m tools.plan` does: no interpreter teardown after the plan.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    parser = argparse.ArgumentParser(prog="python -m tools.bench")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per stack-file case (after one warm-up)")
    parser.add_argument("--plain-runs", type=int, default=3, help="timed runs per stack-file case without the gate")
    parser.add_argument("--scale-runs", type=int, default=5, help="timed runs per scaling / group case")
    parser.add_argument("--cloud", action="append", choices=CLOUDS, help="only this cloud (repeatable)")
    parser.add_argument("--no-scale", action="store_true", help="stack files only: no instance counts, no group")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ and README.md alone")
    parser.add_argument("--no-hyperfine", action="store_true", help="time with the built-in loop")
    parser.add_argument("--replot", type=Path, help="rewrite the docs from a results file of an earlier run")
    parser.add_argument("--setup", action="store_true", help="time a fresh clone's first `make plan` instead")
    parser.add_argument("--cold", action="store_true", help="with --setup: empty uv and pip caches")
    opts = parser.parse_args(argv)
    if opts.setup:
        return bench_setup(opts.cold)

    clouds = opts.cloud or list(CLOUDS)
    use_hf = bool(shutil.which("hyperfine")) and not opts.no_hyperfine
    if opts.replot:
        saved = json.loads(opts.replot.read_text())
        cases = [Case(**c) for c in saved["cases"]]
        return report(cases, saved["meta"], opts, clouds)
    load_before = _load()
    probe_before = cpu_probe_ms()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    n_max = max_instance_count()
    group = group_mode_supported()
    notes = [f"`compute.instanceCount` is at most {n_max} (`components/config/model.py`), so the largest N is {n_max}."]
    if group:
        notes.append("`compute.mode: group` is accepted: the group rows plan one VM group instead of N VMs.")
    else:
        notes.append(
            "`compute.mode: group` is not accepted by the config yet (`--set compute.mode=group` fails): group mode skipped."
        )
    cases = build_cases(clouds, group and not opts.no_scale, n_max)
    if opts.no_scale:
        cases = [c for c in cases if c.kind == "matrix"]
    print(
        f"{len(cases)} cases; harness: {'hyperfine' if use_hf else 'own loop'}; load average {load_before}", flush=True
    )
    seen: dict[tuple[str, ...], Case] = {}
    failed: list[Case] = []
    for case in cases:
        if case in failed:
            continue
        key = tuple(case.plan_args)
        if case.kind == "scale" and not case.walls:
            # A cloud's instance counts are measured together, in rounds (`measure_interleaved`).
            series = [c for c in cases if c.kind == "scale" and c.cloud == case.cloud]
            try:
                measure_interleaved(series, opts.scale_runs)
            except SystemExit as exc:
                print(exc, flush=True)
                notes.append(f"{case.cloud} scaling: not measured, {exc}.")
                failed.extend(series)
                continue
            for c in series:
                seen.setdefault(tuple(c.plan_args), c)
        if case.kind == "scale":
            pass  # measured with its series above
        elif key in seen:  # the same command (e.g. N=1 is the dev stack file): measured once
            case.runs, case.walls = seen[key].runs, seen[key].walls
        else:
            runs = (opts.runs if case.gate else opts.plain_runs) if case.kind == "matrix" else opts.scale_runs
            try:
                measure(case, runs, use_hf)
            except SystemExit as exc:  # a plan that fails: say so and go on with the other cases
                print(exc, flush=True)
                notes.append(f"{case.label}: not measured, {exc}.")
                failed.append(case)
                continue
            seen[key] = case
            if case.kind == "matrix" and case.gate:
                case.alone = gate_alone(case)
        lo, hi = case.spread
        print(
            f"{case.label:<40} {case.resources:4d} resources  wall {case.wall:5.2f} s ({lo:.2f}–{hi:.2f})  "
            f"{case.wall * 1000 / max(case.resources, 1):5.1f} ms/resource  RSS plan {case.peak('plan_rss_mb'):4.0f} MB"
            + (f" pack {case.peak('pack_rss_mb'):4.0f} MB" if case.gate else ""),
            flush=True,
        )
    cases = [c for c in cases if c not in failed and c.runs]
    meta = {
        "started": started,
        "load_before": load_before,
        "load_after": _load(),
        "probe_before_ms": probe_before,
        "probe_after_ms": cpu_probe_ms(),
        "notes": notes,
        "runs": opts.runs,
        "plain_runs": opts.plain_runs,
        "scale_runs": opts.scale_runs,
    }
    results = ROOT / "build" / "bench-results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"meta": meta, "cases": [c.__dict__ for c in cases]}, indent=1) + "\n")
    print(f"results: {results.relative_to(ROOT)} (python -m tools.bench --replot {results.relative_to(ROOT)})")
    return report(cases, meta, opts, clouds)


def cpu_probe_ms(repeats: int = 5) -> float:
    """Milliseconds a fixed pure-Python workload takes here (median of `repeats`).

    This 2-core VM's speed changes during a day (the same plan took 2x as long one hour as the
    next, at the same load average), so every result states how fast the machine was while it ran.
    """
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        acc: dict[int, str] = {}
        for i in range(200_000):
            acc[i % 1000] = f"{i:x}"
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def _probe_line(meta: dict[str, Any]) -> str:
    before, after = meta.get("probe_before_ms"), meta.get("probe_after_ms")
    if before is None:
        return "CPU probe: not recorded."
    return (
        f"CPU probe (`tools/bench.py` `cpu_probe_ms`, a fixed pure-Python loop, median of 5): {before:.1f} ms "
        f"before the run, {after:.1f} ms after — compare runs taken on different occasions by it, since "
        "this VM's speed varies by up to 2x during a day."
    )


def report(cases: list[Case], meta: dict[str, Any], opts: argparse.Namespace, clouds: list[str]) -> int:
    """Print the tables and (unless --no-write) write docs/performance.md, its chart and README."""
    started, load_before, load_after, notes = meta["started"], meta["load_before"], meta["load_after"], meta["notes"]
    info = machine()
    body = "\n".join(
        [
            f"Measured {started}: load average (1, 5, 15 min) {load_before} before the run, {load_after} after.",
            "",
            _probe_line(meta),
            "",
            "Machine: " + f"{info['cpu']}, {info['cores']} cores, {info['memory']} memory, {info['os']}; "
            f"Python {info['python']}; {info['packages']}. Harness: {info['harness']}.",
            "",
            "Warm caches: `__pycache__` written and reused as on a developer's machine (bench drops "
            "PYTHONDONTWRITEBYTECODE), one untimed run of each case first.",
            "",
            tables(cases, meta["runs"], meta["plain_runs"], meta["scale_runs"]),
            "",
            *[f"- {n}" for n in notes],
            "",
            "![plan + gate wall time against planned resources, per cloud](performance.png)",
        ]
    )
    print()
    print(body)
    if not opts.no_write and clouds == list(CLOUDS):
        chart(cases, CHART)
        write_doc(body)
        write_readme(readme_summary(cases, info, load_before, meta["runs"]))
        print(f"\nwrote {DOC.relative_to(ROOT)}, {CHART.relative_to(ROOT)} and README.md's Budgets section")
    return 0


if __name__ == "__main__":
    sys.exit(main())
