"""Measure the policy pack through the gRPC gate (prints numbers; asserts nothing).

    python -m tools.bench_policy [--resources 1000] [--starts 3]

Reports pack start-up (process start to GetAnalyzerInfo + Configure), per-resource Analyze time
over synthetic AWS resources (security groups, instances, listeners, log groups), the gate time
for a 60-resource stack including start-up, and the pack process's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from tools.policy_gate import DEFAULT_PACK_DIR, UNKNOWN, PackSession, run_gate

PROJECT = "appstack"
STACK = "dev"
STACK_CONFIG = {"appstack:cloud": "aws"}

SG = "aws:ec2/securityGroup:SecurityGroup"
INSTANCE = "aws:ec2/instance:Instance"
LISTENER = "aws:lb/listener:Listener"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/1"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/abc"


def _resource(i: int) -> dict:
    kind = i % 4
    name = f"r{i}"
    if kind == 0:
        cidr = ["0.0.0.0/0"] if i % 8 == 0 else ["10.0.0.0/16"]
        props = {
            "description": "bench",
            "ingress": [
                {
                    "protocol": "tcp",
                    "fromPort": 22 if i % 3 else 443,
                    "toPort": 22 if i % 3 else 443,
                    "cidrBlocks": cidr,
                },
                {
                    "protocol": "tcp",
                    "fromPort": 8080,
                    "toPort": 8080,
                    "cidrBlocks": [UNKNOWN] if i % 16 == 0 else ["10.1.0.0/16"],
                },
            ],
            "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
        }
        type_ = SG
    elif kind == 1:
        props = {
            "ami": "ami-0123456789abcdef0",
            "instanceType": "t3.small",
            "associatePublicIpAddress": i % 5 == 0,
            "iamInstanceProfile": "app",
            "metadataOptions": {"httpTokens": "required" if i % 3 else "optional", "httpPutResponseHopLimit": 1},
            "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY_ARN},
            "userData": "#cloud-config\nssh_pwauth: false\n"
            + ("runcmd: [echo PermitRootLogin yes]\n" if i % 7 == 0 else ""),
        }
        type_ = INSTANCE
    elif kind == 2:
        https = i % 3 != 0
        props = {
            "loadBalancerArn": LB_ARN,
            "port": 443 if https else 80,
            "protocol": "HTTPS" if https else "HTTP",
            **(
                {
                    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
                    "certificateArn": "arn:aws:acm:eu-west-1:1:certificate/x",
                }
                if https
                else {}
            ),
            "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}]
            if https
            else [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}],
        }
        type_ = LISTENER
    else:
        props = {"name": f"/app/{i}", "retentionInDays": 365 if i % 2 else 7, "kmsKeyId": KEY_ARN}
        type_ = LOG_GROUP
    return {
        "type": type_,
        "name": name,
        "urn": f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}",
        "parent": None,
        "properties": props,
    }


def synthetic(n: int) -> list[dict]:
    return [_resource(i) for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.bench_policy")
    ap.add_argument("--resources", type=int, default=1000)
    ap.add_argument("--starts", type=int, default=3, help="pack starts to time (median reported)")
    ap.add_argument("--pack", default=str(DEFAULT_PACK_DIR))
    args = ap.parse_args(argv)
    pack = Path(args.pack)

    starts: list[float] = []
    n_policies = 0
    for _ in range(args.starts):
        t0 = time.perf_counter()
        with PackSession(pack, project=PROJECT, stack=STACK, stack_config=STACK_CONFIG) as s:
            s.configure(None)
            starts.append(time.perf_counter() - t0)
            n_policies = len(s.info.policies) if s.info else 0
    print(
        f"pack start-up: {statistics.median(starts):.2f} s (median of {len(starts)}; min {min(starts):.2f} s; {n_policies} policies)"
    )

    resources = synthetic(args.resources)
    with PackSession(pack, project=PROJECT, stack=STACK, stack_config=STACK_CONFIG) as s:
        s.configure(None)
        rss_idle = s.peak_rss_kb()
        per: list[float] = []
        diagnostics = 0
        t_all = time.perf_counter()
        for r in resources:
            s.remediate(r)
            t0 = time.perf_counter()
            diagnostics += len(s.analyze(r).diagnostics)
            per.append(time.perf_counter() - t0)
        t_stack = time.perf_counter()
        diagnostics += len(s.analyze_stack(resources).diagnostics)
        stack_s = time.perf_counter() - t_stack
        total = time.perf_counter() - t_all
        rss_peak = s.peak_rss_kb()
    per_ms = sorted(x * 1000 for x in per)
    print(
        f"analyze: {statistics.mean(per_ms):.2f} ms/resource mean, p50 {per_ms[len(per_ms) // 2]:.2f} ms, "
        f"p95 {per_ms[int(len(per_ms) * 0.95)]:.2f} ms over {len(per)} resources ({diagnostics} diagnostics)"
    )
    print(
        f"analyze-stack: {stack_s * 1000:.0f} ms for {len(resources)} resources; all calls incl. Remediate: {total:.2f} s"
    )
    if rss_peak is not None:
        print(
            f"pack peak RSS: {rss_peak / 1024:.0f} MiB (after start-up: {rss_idle / 1024 if rss_idle else 0:.0f} MiB)"
        )

    stack60 = synthetic(60)
    t0 = time.perf_counter()
    result = run_gate(stack60, project=PROJECT, stack=STACK, stack_config=STACK_CONFIG, pack_dir=pack)
    gate_s = time.perf_counter() - t0
    print(
        f"gate, 60 resources incl. start-up: {gate_s:.2f} s (start-up {result.timings['startup_s']:.2f} s, "
        f"analysis {result.timings['analyze_s']:.2f} s; {len(result.mandatory)} mandatory, "
        f"{len(result.advisory)} advisory)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
