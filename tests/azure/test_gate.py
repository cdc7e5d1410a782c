"""Both stack files on Azure pass the policy pack (through gRPC) as a preview and as an up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.azure.conftest import azure_plan
from tools import mocks_azure
from tools.mocks import PROJECT, Plan, run_program
from tools.plan import load_stack_config
from tools.policy_gate import run_gate

ROOT = Path(__file__).resolve().parent.parent.parent


def _gate(plan: Plan, stack: str, resources: list[dict], dry_run: bool):
    result = run_gate(
        resources,
        project=PROJECT,
        stack=stack,
        stack_config=load_stack_config(stack, ["cloud=azure"]),
        dry_run=dry_run,
    )
    assert len(result.policies) >= 80
    return result


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_passes_the_pack(stack):
    plan = azure_plan(stack)
    result = _gate(plan, stack, [r.as_json() for r in plan.resources], dry_run=True)
    assert result.mandatory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.mandatory]
    # Advisory findings on the stack are defects too: it is the reference.
    assert result.advisory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.advisory]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_up_passes_the_pack_with_outputs(stack):
    """As on `pulumi up`: not a dry run, and every Azure resource judged with its outputs (state)."""
    mocks_azure.STATES.clear()
    plan = run_program(stack, load_stack_config(stack, ["cloud=azure"]), preview=False)
    resources = []
    for r in plan.resources:
        res = r.as_json()
        state = mocks_azure.STATES.get((r.type, r.name))
        if state is not None:
            res["properties"] = state
        resources.append(res)
    assert sum(1 for r in plan.resources if (r.type, r.name) in mocks_azure.STATES) > 40
    result = _gate(plan, stack, resources, dry_run=False)
    assert result.mandatory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.mandatory]
    assert result.advisory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.advisory]


def test_prod_without_waf_or_locks_is_blocked():
    plan = azure_plan("prod", ["loadBalancer.waf=false", "protection.deletionProtection=false"])
    result = _gate(plan, "prod", [r.as_json() for r in plan.resources], dry_run=True)
    assert {v.policy for v in result.mandatory} >= {"deletion-azure-resource-lock"}
    assert any("WAF_v2" in v.message for v in result.mandatory)


def test_an_azure_plan_imports_only_the_azure_sdk():
    code = (
        "import sys\n"
        "from tools.mocks import run_program\n"
        "from tools.plan import load_stack_config\n"
        "plan = run_program('dev', load_stack_config('dev', ['cloud=azure']))\n"
        "assert len(plan.resources) > 50\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('pulumi_')}))\n"
        # The package registers every service lazily; a service is loaded once its modules are.
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('pulumi_azure_native.') and m.count('.') >= 2}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    sdks, submodules = proc.stdout.strip().splitlines()
    assert sdks == "['pulumi_azure_native']"
    # Only the services the parts use are loaded (~270 exist); dns only with a DNS zone group.
    used = "authorization compute keyvault managedidentity monitor network operationalinsights resources storage"
    assert submodules == str(used.split())
