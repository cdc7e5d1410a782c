"""`policies/speedups.py` changes how fast the pack answers, never what it answers.

The same resources go through pulumi-policy's servicer in two fresh processes, one with the
speed-ups installed (as `policies/__main__.py` does) and one without: every Analyze answer
(diagnostics, not-applicable entries) and the AnalyzeStack answer must be identical. The
resources are the evasion attempts and their compliant look-alikes (violations of every kind,
unknowns, secrets) and the AWS prod plan, on preview and on up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, os, sys
speedups = sys.argv[1] == "on"
from google.protobuf import json_format
from pulumi_policy.policy import EnforcementLevel, _PolicyAnalyzerServicer
from policies import pack
if speedups:
    from policies import speedups as s
    s.install()
from tests.policies import test_evasions as ev
from tools.policy_gate import PackSession, analyzer_pb2, _struct
from tools.mocks import run_program
from tools.plan import load_stack_config

resources = []
for group in (ev.ATTEMPTS, ev.MORE_ATTEMPTS, ev.LOOKALIKES, ev.UNKNOWN_ATTEMPTS):
    for param in group:
        type_, props = param.values[1], param.values[2]  # (rule, type, props[, stack])
        resources.append(ev._res(type_, f"case-{len(resources)}", props))
resources += ev.GRPC_RESOURCES
resources += [r.as_json() for r in run_program("prod", load_stack_config("prod")).resources]

servicer = _PolicyAnalyzerServicer("appstack", "1.0.0", pack.all_policies(), EnforcementLevel.MANDATORY)
session = PackSession.__new__(PackSession)
answers = []
requests = []
for res in resources:
    req = PackSession._analyze_request(session, res)
    requests.append(req)
    answers.append(json_format.MessageToDict(servicer.Analyze(req, None)))
stack = analyzer_pb2.AnalyzeStackRequest()
for res, req in zip(resources, requests):
    stack.resources.add(type=res["type"], urn=res["urn"], name=res["name"], parent=res.get("parent") or "",
                        properties=req.properties)
answers.append(json_format.MessageToDict(servicer.AnalyzeStack(stack, None)))
json.dump({"resources": len(resources), "answers": answers}, sys.stdout)
"""


def _answers(speedups: bool, dry_run: bool) -> dict:
    env = {
        **__import__("os").environ,
        "PULUMI_PROJECT": "appstack",
        "PULUMI_STACK": "prod",
        "PULUMI_DRY_RUN": "true" if dry_run else "false",
        "PULUMI_CONFIG": json.dumps({"appstack:cloud": "aws"}),
    }
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, "on" if speedups else "off"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "up"])
def test_the_pack_answers_the_same_with_and_without_its_speedups(dry_run):
    fast, plain = _answers(True, dry_run), _answers(False, dry_run)
    assert fast["resources"] == plain["resources"] > 300
    # Not vacuous: the cases produce violations (and, in preview, unknown-value diagnostics).
    assert sum(len(a.get("diagnostics", [])) for a in plain["answers"]) > 200
    for i, (a, b) in enumerate(zip(fast["answers"], plain["answers"], strict=True)):
        assert a == b, f"answer {i} differs"
