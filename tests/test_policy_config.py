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
