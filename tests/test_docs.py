"""The README's generated config reference matches the models; cloud-init renders as documented."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.bootstrap import cloud_init
from components.config.model import StackConfig
from tools import config_doc

ROOT = Path(__file__).resolve().parent.parent


def test_readme_config_reference_is_generated_from_the_models():
    text = (ROOT / "README.md").read_text()
    assert config_doc.current_section(text) == config_doc.generate(), "run: python -m tools.config_doc --write"


def test_every_config_key_is_documented_with_its_default():
    doc = config_doc.generate()
    for name, field in StackConfig.model_fields.items():
        assert f"appstack:{field.alias}" in doc
        assert field.description, f"{name} has no description"
    assert "| `instanceCount` | int | dev: `1`, prod: `3` |" in doc
    assert "| `retentionDays` | int | dev: `30`, prod: `365` |" in doc


def test_cloud_init_is_valid_yaml_with_hardening_first():
    text = cloud_init.render(cloud_init.AppSpec(port=9000, health_check_path="/healthz"))
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    assert doc["write_files"][0]["path"] == cloud_init.SSHD_DROP_IN
    assert doc["write_files"][0]["permissions"] == "0600"
    assert "Environment=APP_PORT=9000 HEALTH_PATH=/healthz" in doc["write_files"][1]["content"]
    assert "/opt/appstack/app.py" in [f["path"] for f in doc["write_files"]]


def test_cloud_init_with_a_command_has_no_demo_app():
    doc = yaml.safe_load(cloud_init.render(cloud_init.AppSpec(port=8080, command="/usr/local/bin/server --port 8080")))
    paths = [f["path"] for f in doc["write_files"]]
    assert "/opt/appstack/app.py" not in paths
    unit = doc["write_files"][1]["content"]
    assert "ExecStart=/usr/local/bin/server --port 8080" in unit and "DynamicUser=yes" in unit


def test_demo_app_compiles():
    compile(cloud_init.DEMO_APP, "app.py", "exec")
