"""The project's own stacks pass the pack with zero mandatory violations, through gRPC."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import plan_of
from tools.mocks import PROJECT
from tools.plan import load_stack_config
from tools.policy_gate import run_gate

ROOT = Path(__file__).resolve().parent.parent.parent
STACKS = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_the_pack(stack: str):
    plan = plan_of(stack)
    result = run_gate(
        [r.as_json() for r in plan.resources],
        project=PROJECT,
        stack=stack,
        stack_config=load_stack_config(stack),
        dry_run=True,
    )
    assert len(result.policies) >= 80
    assert result.mandatory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.mandatory]
    # Advisory findings on our own stacks are defects too: the stack is the reference.
    assert result.advisory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.advisory]


def test_prod_without_waf_is_blocked():
    plan = plan_of("prod", ["loadBalancer.waf=false"])
    result = run_gate([r.as_json() for r in plan.resources], project=PROJECT, stack="prod", dry_run=True)
    assert [v.policy for v in result.mandatory] == ["waf-alb-web-acl-associated"]


@pytest.mark.parametrize(
    ("mode", "blocked"),
    [
        ("instances", {"deletion-lb-protection", "deletion-vm-protection"}),
        # A group's launch template carries termination protection too (it stops console and
        # API terminations; Auto Scaling's own scale-in and replacement ignore it).
        ("group", {"deletion-lb-protection", "deletion-vm-protection"}),
    ],
)
def test_prod_without_deletion_protection_is_blocked(mode: str, blocked: set[str]):
    plan = plan_of("prod", [f"compute.mode={mode}", "protection.deletionProtection=false"])
    result = run_gate([r.as_json() for r in plan.resources], project=PROJECT, stack="prod", dry_run=True)
    assert {v.policy for v in result.mandatory} == blocked
