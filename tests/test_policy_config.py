"""Policy config as a user writes it: the pack's README examples work, typos are errors.

Runs against the real pack's AnalyzerInfo (started once over gRPC), reconciled the way the CLI
reconciles `--policy-pack-config`, as the offline plan's gate does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools.mocks import PROJECT
from tools.policy_gate import GateError, PackSession, reconcile_policy_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def info():
    with PackSession(project=PROJECT, stack="dev") as session:
        assert session.info is not None
        yield session.info


def _json_blocks(markdown: str) -> list[dict]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", markdown, flags=re.S)]


@pytest.mark.parametrize("doc", ["policies/README.md", "README.md"])
def test_every_json_policy_config_example_in_the_docs_is_accepted(info, doc):
    names = {p.name for p in info.policies} | {"all"}
    # Policy configs, not the other JSON the docs show (IAM trust policies, plan output): any
    # block that names a policy is one, and then every key in it must be right.
    examples = [b for b in _json_blocks((ROOT / doc).read_text()) if isinstance(b, dict) and names & set(b)]
    assert examples or doc != "policies/README.md"
    for example in examples:
        reconciled = reconcile_policy_config(info, example)
        for name, entry in example.items():
            if isinstance(entry, dict):
                # What the example sets is what the rule gets (no key silently dropped).
                props = reconciled[name][1]
                for key, value in entry.items():
                    if key != "enforcementLevel":
                        assert props[key] == value, (doc, name, key)


def test_the_pack_readme_has_a_config_example(info):
    assert _json_blocks((ROOT / "policies/README.md").read_text())


def test_unknown_key_in_a_policy_is_an_error_with_a_suggestion(info):
    with pytest.raises(GateError) as exc:
        reconcile_policy_config(info, {"logging-retention-floor": {"minDays": 400}})
    assert "unknown key 'minDays'" in str(exc.value)
    assert "did you mean 'min" in str(exc.value)


def test_unknown_policy_name_is_an_error_with_a_suggestion(info):
    with pytest.raises(
        GateError, match=r"unknown policy 'network-no-ssh-from-internt'; did you mean 'network-no-ssh-from-internet'\?"
    ):
        reconcile_policy_config(info, {"network-no-ssh-from-internt": "advisory"})


def test_a_known_key_still_sets_the_knob(info):
    out = reconcile_policy_config(info, {"logging-retention-floor": {"minRetentionDays": 400}})
    assert out["logging-retention-floor"][1]["minRetentionDays"] == 400


def test_the_pack_itself_fails_closed_on_an_unknown_key_the_cli_passes_through():
    # `pulumi preview --policy-pack-config` validates against the schema, which cannot forbid
    # extra keys, and sends them on: the pack must not run the rule with its default silently.
    from pulumi.runtime.proto import analyzer_pb2

    with PackSession(project=PROJECT, stack="prod", dry_run=False) as session:
        session.configure(None)
        req = analyzer_pb2.ConfigureAnalyzerRequest()
        req.policyConfig["logging-retention-floor"].CopyFrom(
            analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY, properties=_struct({"minDays": 400}))
        )
        session._call("Configure", req)
        group = {
            "type": "aws:cloudwatch/logGroup:LogGroup",
            "name": "app-logs",
            "urn": "urn:pulumi:prod::appstack::aws:cloudwatch/logGroup:LogGroup::app-logs",
            "properties": {
                "name": "/app",
                "retentionInDays": 365,
                "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/x",
            },
        }
        found = [d for d in session.analyze(group).diagnostics if d.policyName == "logging-retention-floor"]
    assert len(found) == 1
    assert "unknown key 'minDays'; did you mean 'minRetentionDays'?" in found[0].message
    assert found[0].enforcementLevel == analyzer_pb2.MANDATORY


def _struct(value):
    from google.protobuf import struct_pb2

    s = struct_pb2.Struct()
    s.update(value)
    return s
