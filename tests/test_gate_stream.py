"""The offline plan's gate judges resources while the program registers them (`GateStream`).

The engine hands each registration to the analyzers as it arrives; the gate does the same: a
resource submitted before the pack is up goes out as soon as it is configured, one submitted
after goes out at once, and the verdict lists violations in submission order either way. A
program that fails leaves no pack process behind.
"""

from __future__ import annotations

import time

from tests.conftest import process_gone
from tools import plan as plan_cli
from tools.policy_gate import GateStream, PackSession, run_gate

PROJECT = "appstack"
SG = "aws:ec2/securityGroup:SecurityGroup"
STACK_CONFIG = {"appstack:cloud": "aws"}


def _sg(name: str, cidr: str) -> dict:
    return {
        "type": SG,
        "name": name,
        "urn": f"urn:pulumi:dev::{PROJECT}::{SG}::{name}",
        "parent": None,
        "properties": {
            "description": "test",
            "vpcId": "vpc-1",
            "ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": [cidr]}],
            "egress": [],
        },
    }


RESOURCES = [_sg("open-a", "0.0.0.0/0"), _sg("closed", "10.0.0.0/16"), _sg("open-b", "0.0.0.0/0")]


def _key(result) -> list[tuple[str, str, str, str]]:
    return [(v.policy, v.level, v.urn, v.message) for v in result.violations]


def test_resources_before_and_after_the_pack_is_ready_are_judged_in_submission_order():
    session = PackSession(project=PROJECT, stack="dev", stack_config=STACK_CONFIG)
    session.spawn()
    gate = GateStream(session)
    try:
        gate.submit(RESOURCES[0])
        gate.submit(RESOURCES[1])
        deadline = time.monotonic() + 60
        while not gate._ready and time.monotonic() < deadline and gate._thread.is_alive():
            time.sleep(0.02)
        assert gate._ready, "the pack never became ready"
        # The backlog went out when the pack was configured; a later resource goes out at once.
        assert len(gate._sent) == 2
        gate.submit(RESOURCES[2])
        assert len(gate._sent) == 3
    except BaseException:
        gate.abort()
        raise
    streamed = gate.finish()
    assert streamed.pack_pid and process_gone(streamed.pack_pid)

    ssh = [v.name for v in streamed.violations if v.policy == "network-no-ssh-from-internet"]
    assert ssh == ["open-a", "open-b"]
    # The same verdict, in the same order, as judging the finished list.
    at_once = run_gate(RESOURCES, project=PROJECT, stack="dev", stack_config=STACK_CONFIG)
    assert _key(streamed) == _key(at_once)
    assert streamed.timings["after_program_s"] >= 0 and streamed.timings["startup_s"] > 0


def test_abort_while_the_pack_starts_stops_it(spawned):
    session = PackSession(project=PROJECT, stack="dev", stack_config=STACK_CONFIG)
    session.spawn()
    gate = GateStream(session)
    gate.submit(RESOURCES[0])
    gate.abort()
    assert not gate._thread.is_alive()
    assert spawned and spawned[0].poll() is not None and process_gone(spawned[0].pid)


def test_a_program_that_fails_leaves_no_pack_behind(spawned, capsys):
    # Four zones in a three-zone region: the program fails while it registers resources.
    assert plan_cli.main(["--stack", "dev", "--quiet", "--set", "network.zoneCount=4"]) == 2
    err = capsys.readouterr().err
    assert "network.zoneCount" in err
    assert spawned and all(p.poll() is not None and process_gone(p.pid) for p in spawned)
