"""`make bench-compare`: the AWS dev stack checked by appstack, by AWS CDK + cdk-nag, by Checkov.

    python -m tools.compare.run [--instances N] [--checkov CMD] [--no-write]

One run of each on the same machine, back to back, after one untimed warm-up run of each (caches
warm: bytecode, jsii's unpacked aws-cdk-lib, Checkov's environment):

- appstack: `python -m tools.plan --stack dev --quiet` (the offline plan + policy gate), and the
  plan alone (`--no-policy`);
- AWS CDK: `python -m tools.compare.cdk_app` — the same stack as a CDK app, `app.synth()` with
  cdk-nag's AwsSolutions checks as an aspect (and without them, `--no-nag`);
- Checkov on the same stack as Terraform (`tools/compare/terraform/`), no `terraform init`.

Reports wall time, peak RSS (the largest process of each tool's process tree: the plan and its
pack; python and jsii's node; checkov) and the ratios to appstack's plan + gate, and writes them
to docs/performance.md between ``<!-- compare:start -->`` and ``<!-- compare:end -->``. Target:
appstack's plan + gate ≤ 0.3× CDK synth + cdk-nag.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "performance.md"
TF_DIR = ROOT / "tools" / "compare" / "terraform"
TARGET_RATIO = 0.3
#: Checkov pins packaging<24, which the Pulumi SDK's own bounds exclude, so it runs in a tool
#: environment of its own (uv's `tool run`), never in the project's virtualenv.
CHECKOV_VERSION = "3.3.30"

_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
# jsii warns on every start that node 20 is past its end of life; the output is not measured.
_ENV["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] = "1"


def _uv() -> str:
    local = ROOT / ".tools" / "uv" / "bin" / "uv"
    return str(local) if local.exists() else "uv"


def run(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS in MB of the process tree's largest process, exit status, stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    # wait4's ru_maxrss is the largest of the process and the descendants it reaped (Linux).
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.compare.run")
    ap.add_argument("--instances", type=int, default=1, help="VMs in every tool's stack (the dev stack has 1)")
    ap.add_argument(
        "--checkov",
        default=f"{_uv()} tool run --from checkov=={CHECKOV_VERSION} checkov",
        help="how to run checkov (default: uv's tool environment, pinned)",
    )
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = ap.parse_args(argv)
    py = sys.executable
    n = str(args.instances)
    cases: list[tuple[str, list[str]]] = [
        (
            "appstack: offline plan + policy gate",
            [py, "-m", "tools.plan", "--stack", "dev", "--quiet", "--set", f"compute.instanceCount={n}"],
        ),
        (
            "appstack: offline plan alone",
            [py, "-m", "tools.plan", "--stack", "dev", "--quiet", "--no-policy", "--set", f"compute.instanceCount={n}"],
        ),
        ("AWS CDK: synth + cdk-nag (AwsSolutions)", [py, "-m", "tools.compare.cdk_app", "--instances", n]),
        ("AWS CDK: synth alone", [py, "-m", "tools.compare.cdk_app", "--instances", n, "--no-nag"]),
        (
            "Checkov on the Terraform equivalent",
            [
                *shlex.split(args.checkov),
                *("-d", str(TF_DIR), "--quiet", "--compact", "-o", "json"),
                *("--var-file", str(_tfvars(args.instances))),
            ],
        ),
    ]
    load_before = _load()
    print(f"warm-up (one untimed run of each); load average {load_before}", flush=True)
    for label, cmd in cases:
        _, _, code, _ = run(cmd)
        if code not in (0, 1):
            print(f"{label}: exit {code} ({shlex.join(cmd)})", file=sys.stderr)
            return 2
    results: list[tuple[str, float, float, str]] = []
    for label, cmd in cases:
        t, rss, _, out = run(cmd)
        results.append((label, t, rss, _detail(label, out)))
        print(f"{label:<42} {t:6.2f} s  peak RSS {rss:5.0f} MB  {results[-1][3]}", flush=True)
    load_after = _load()
    base = results[0][1]
    cdk_nag = results[2][1]
    ratio = base / cdk_nag
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `make bench-compare` "
        f"(`tools/compare/run.py`): the AWS dev stack with {n} VM(s), one timed run of each tool after one "
        f"untimed warm-up of each, back to back on the same machine; load average {load_before} before, "
        f"{load_after} after.",
        "",
        "| tool | wall | peak RSS | ratio to appstack plan + gate | what it checked |",
        "|---|---:|---:|---:|---|",
    ]
    for label, t, rss, detail in results:
        lines.append(f"| {label} | {t:.2f} s | {rss:.0f} MB | {t / base:.1f}× | {detail} |")
    verdict = "met" if ratio <= TARGET_RATIO else "**not met**"
    lines += [
        "",
        f"appstack's offline plan + gate takes **{ratio:.2f}×** the time of an AWS CDK synth + cdk-nag of the "
        f"same stack (target ≤ {TARGET_RATIO}×: {verdict}); Checkov on the Terraform equivalent takes "
        f"{results[4][1] / base:.1f}× appstack's time. Peak RSS is the largest process of each tool's tree "
        "(appstack: the plan or its pack; CDK: python or jsii's node; Checkov: its python).",
        "",
        "The stacks: `tools/compare/cdk_app.py` (VPC over two zones with one NAT gateway and flow logs, the "
        "load balancer's and the VMs' security groups, the access-log bucket, an ALB with an HTTPS listener "
        "(TLS 1.3 policy, DNS-validated certificate) and an HTTP redirect, the VMs with IMDSv2 and "
        "customer-key disks and an SSM role, KMS-encrypted log groups, an SNS topic and the CPU, status, "
        "5xx, unhealthy-host and latency alarms, an alias record) and the same in "
        "`tools/compare/terraform/main.tf`. CDK needs no CLI for `app.synth()` (jsii runs aws-cdk-lib "
        f"under node); Checkov {CHECKOV_VERSION} scans .tf without terraform. Both come from the `compare` "
        "dependency group (aws-cdk-lib, cdk-nag) and `uv tool run` (Checkov, whose packaging<24 pin "
        "conflicts with the Pulumi SDK), so `make test` installs neither.",
    ]
    body = "\n".join(lines)
    print()
    print(body)
    if not args.no_write:
        from tools.bench import DOC_HEAD, _replace_block

        DOC.parent.mkdir(parents=True, exist_ok=True)
        text = DOC.read_text() if DOC.exists() else DOC_HEAD
        DOC.write_text(_replace_block(text, "<!-- compare:start -->", "<!-- compare:end -->", body))
        print(f"\nwrote {DOC.relative_to(ROOT)}")
    return 0


def _tfvars(instances: int) -> Path:
    path = ROOT / "build" / "compare.tfvars.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"instance_count": instances}) + "\n")
    return path


def _detail(label: str, out: str) -> str:
    try:
        if label.startswith("AWS CDK"):
            d = json.loads(out.strip().splitlines()[-1])
            return f"{d['resources']} CloudFormation resources" + (
                f", {d['nag_findings']} cdk-nag findings" if "nag" in label and "alone" not in label else ""
            )
        if label.startswith("Checkov"):
            d = json.loads(out)
            d = d[0] if isinstance(d, list) else d
            s = d["summary"]
            return f"{s['resource_count']} Terraform resources, {s['passed']} checks passed, {s['failed']} failed"
        if label.startswith("appstack"):
            line = next((ln for ln in out.splitlines() if ln.startswith("plan for stack")), "")
            count = line.split(":", 1)[1].split("(")[0].strip() if ":" in line else "?"
            pol = re.search(r"with (\d+) policies", out)
            return f"{count} planned" + (f", {pol.group(1)} policies" if pol else "")
    except (ValueError, KeyError, IndexError, StopIteration):
        pass
    return ""


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
