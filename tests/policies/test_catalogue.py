"""The README's catalogue is generated from the rules and every rule carries its metadata."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies import catalogue
from policies.framework import CLOUDS, StackRule
from policies.pack import all_rules

RULES = all_rules()
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")


def test_readme_catalogue_is_current():
    text = catalogue.README.read_text()
    assert catalogue.generated_section(text) == catalogue.generate(), (
        "policies/README.md is out of date: run `python -m policies.catalogue --write`"
    )


def test_readme_keeps_its_hand_written_intro():
    text = catalogue.README.read_text()
    intro = text.split(catalogue.START)[0]
    for needle in ("--policy-pack policies", "--policy-pack-config", "exemptions", "expires", "python -m tools.plan"):
        assert needle in intro


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_metadata_is_complete(rule):
    assert NAME.match(rule.name), f"{rule.name}: lowercase words joined by hyphens"
    assert rule.description and rule.description.strip().endswith("."), "a one-sentence description"
    assert rule.concern, "a concern"
    assert rule.clouds and set(rule.clouds) <= set(CLOUDS)
    assert rule.catalogue, "at least one catalogue ID"
    assert set(rule.catalogue) <= catalogue.KNOWN_IDS, (
        f"unknown catalogue IDs {set(rule.catalogue) - catalogue.KNOWN_IDS}"
    )
    assert rule.resource_types and all(rule.resource_types), "at least one resource type"
    if not isinstance(rule, StackRule):
        assert all(":" in t for t in rule.resource_types), "engine type tokens, e.g. aws:ec2/instance:Instance"
    for key, knob in rule.knobs.items():
        assert knob.doc, f"knob {key} needs a one-line doc"
        assert key != "exemptions", "exemptions are handled by the framework"


def test_generation_is_deterministic_and_lists_every_rule():
    text = catalogue.generate()
    assert text == catalogue.generate()
    for r in RULES:
        assert f"`{r.name}`" in text


def test_coverage_table_marks_uncovered_ids():
    from policies.framework import Rule

    toy = Rule("toy-x", "X.", "toy", ("aws",), ("aws:x/y:Z",), lambda t, p, c: iter(()), catalogue=("N1",))
    text = catalogue.generate([toy])
    assert "| N1 | no SSH from the internet | `toy-x` |" in text
    assert "| I2 | no broad privileges | **not covered** |" in text
    assert "1 of 48 catalogue IDs are covered." in text


def test_splice_round_trip():
    text = f"intro\n{catalogue.START}\nold\n{catalogue.END}\noutro\n"
    out = catalogue.splice(text, "new\n")
    assert out.startswith("intro\n") and out.endswith("outro\n")
    assert catalogue.generated_section(out) == "new\n"


def test_embedded_ids_match_the_shared_catalogue():
    shared = Path(__file__).resolve().parents[3] / "shared" / "policy-catalogue.md"
    if not shared.exists():
        pytest.skip("shared/policy-catalogue.md not available")
    ids = re.findall(r"^\| ([A-Z]\d) \|", shared.read_text(), flags=re.M)
    assert ids == [i for i, _ in catalogue.CATALOGUE_IDS]
