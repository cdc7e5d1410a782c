"""Project files: Pulumi.yaml against the CLI's own schema, stack files through the model."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from components.config import parse_config, raw_from_config_map
from components.config.profiles import PROFILES
from tools.mocks import config_map_from_stack_file

ROOT = Path(__file__).resolve().parent.parent
VENDORED_SCHEMA = ROOT / "tests" / "schemas" / "pulumi-project.schema.json"
SHARED_SCHEMA = ROOT.parent / "shared" / "schemas" / "pulumi-project.schema.json"
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))


def test_vendored_schema_is_the_shared_one():
    # The schema is vendored so a newcomer's clone can run the test; CI checks it is current.
    if not SHARED_SCHEMA.exists():
        pytest.skip("../shared is not beside this clone (only CI and developer machines have it)")
    assert json.loads(VENDORED_SCHEMA.read_text()) == json.loads(SHARED_SCHEMA.read_text())


def test_pulumi_yaml_matches_the_cli_schema():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    schema = json.loads(VENDORED_SCHEMA.read_text())
    jsonschema.validate(project, schema, cls=jsonschema.Draft202012Validator)
    assert project["name"] == "appstack"
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "uv", "virtualenv": ".venv", "typechecker": "pyright"},
    }
    assert project["description"]


def test_pulumi_yaml_schema_rejects_an_object_declaration():
    # The schema has no object type: structured settings must live in the stack files.
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    project["config"]["appstack:compute"] = {"type": "object"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(project, json.loads(VENDORED_SCHEMA.read_text()), cls=jsonschema.Draft202012Validator)


def test_declared_config_keys_are_model_fields():
    from components.config.model import StackConfig

    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    aliases = {f.alias for f in StackConfig.model_fields.values()}
    for key, decl in project["config"].items():
        ns, _, name = key.partition(":")
        assert ns == "appstack" and name in aliases
        assert decl["type"] in ("string", "integer", "boolean", "array")


def test_there_are_dev_and_prod_stack_files():
    assert {p.name for p in STACK_FILES} >= {"Pulumi.dev.yaml", "Pulumi.prod.yaml"}


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_stack_file_parses_through_the_model(path: Path):
    stack = path.name[len("Pulumi.") : -len(".yaml")]
    cfg = parse_config(raw_from_config_map(config_map_from_stack_file(path)), stack)
    assert cfg.environment == stack
    # Every cloud's settings are present, so switching appstack:cloud alone is enough.
    assert cfg.aws is not None and cfg.azure is not None and cfg.gcp is not None


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_stack_file_uses_example_values_only(path: Path):
    text = path.read_text()
    data = yaml.safe_load(text)["config"]
    assert "example.com" in data["appstack:dns"]["domain"]
    for cidr in data["appstack:access"].get("adminCidrs", []):
        # RFC 5737 documentation ranges only.
        assert cidr.startswith(("192.0.2.", "198.51.100.", "203.0.113."))
    for email in data["appstack:monitoring"]["alertEmails"]:
        assert email.endswith("@example.com")
    assert "secure:" not in text


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_stack_file_states_only_what_differs_from_its_profile(path: Path):
    data = yaml.safe_load(path.read_text())["config"]
    env = data["appstack:environment"]
    for section, defaults in PROFILES[env].items():
        stated = data.get(f"appstack:{section}") or {}
        repeated = {k: v for k, v in stated.items() if defaults.get(k) == v}
        assert not repeated, f"{path.name} repeats profile defaults in appstack:{section}: {repeated}"


def _bounds(requirements: list[str]) -> dict[str, str]:
    from packaging.requirements import Requirement

    return {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in requirements}


def test_pack_requirements_have_the_bounds_of_pyproject():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ours = _bounds(project["dependencies"])
    lines = [
        line
        for line in (ROOT / "policies" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    pack = _bounds(lines)
    assert pack == {name: ours[name] for name in pack}


def test_each_cloud_sdk_is_an_extra_with_one_major_version():
    import tomllib

    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(extras) == {"aws", "azure", "gcp"}
    sdks = {"aws": "pulumi-aws", "azure": "pulumi-azure-native", "gcp": "pulumi-gcp"}
    for cloud, reqs in extras.items():
        (bounds,) = _bounds(reqs).items()
        name, spec = bounds
        assert name == sdks[cloud]
        lower = next(s.version for s in SpecifierSet(spec) if s.operator == ">=")
        upper = next(s.version for s in SpecifierSet(spec) if s.operator == "<")
        assert int(upper.split(".")[0]) == int(lower.split(".")[0]) + 1, (cloud, spec)
    # No provider SDK in the base dependencies: a stack installs only its own cloud's.
    assert not any(r.startswith("pulumi-") and "policy" not in r for r in project["dependencies"])
