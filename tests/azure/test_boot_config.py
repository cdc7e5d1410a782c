"""Azure's boot config (the VMs' custom data) judged by the real tools, as tests/bootstrap does for AWS.

The custom data is the shared cloud-init (`cloud_init.render`), base64-encoded as Azure takes it;
decoded, it must pass cloud-init's schema, leave sshd with root, password and keyboard-interactive
login off on Ubuntu, hold only units systemd verifies and scripts shellcheck passes, and run the
demo app. Uses the harness of tests/bootstrap/ (the tool checks are cloud-neutral).
"""

from __future__ import annotations

import base64
import json
from functools import cache

import pytest

from components.bootstrap.cloud_init import INSTALLER
from tests.azure.conftest import azure_plan

harness = pytest.importorskip("tests.bootstrap.harness")

#: A stand-in for docker.io's unit (Ubuntu ships it with the package).
DOCKER_UNIT = (
    "[Unit]\nDescription=Docker (stub)\n[Service]\nExecStart=/usr/bin/dockerd\n[Install]\nWantedBy=multi-user.target\n"
)
VARIANTS: dict[str, tuple[str, ...]] = {
    "demo": (),
    "command": ("app.command=/usr/local/bin/server --port 8080",),
    "container": ("app.image=public.ecr.aws/nginx/nginx:1.27", "app.containerPort=80", "app.healthCheckPath=/"),
}
CASES = [pytest.param(f, v, id=f"azure-{f}-{v}") for f in ("dev", "prod") for v in VARIANTS]


def azure_user_data(stack_file: str, overrides: tuple[str, ...]) -> str:
    """The first VM's cloud-init, decoded from the custom data the plan registers."""
    vm = azure_plan(stack_file, overrides).of_type("azure-native:compute:VirtualMachine")[0]
    return base64.b64decode(vm.properties["osProfile"]["customData"]).decode()


@cache
def boot(file: str, variant: str):
    return harness.BootConfig.parse(azure_user_data(file, VARIANTS[variant]))


@pytest.mark.parametrize(("file", "variant"), CASES)
def test_cloud_init_accepts_the_custom_data(file, variant, tmp_path):
    harness.cloud_init_schema(boot(file, variant), tmp_path)


@pytest.mark.parametrize(("file", "variant"), CASES)
def test_sshd_on_ubuntu_keeps_root_password_and_keyboard_interactive_login_off(file, variant, tmp_path):
    settings = harness.sshd_effective(boot(file, variant), harness.UBUNTU, tmp_path)
    assert (
        settings["permitrootlogin"],
        settings["passwordauthentication"],
        settings["kbdinteractiveauthentication"],
    ) == (
        "no",
        "no",
        "no",
    )


@pytest.mark.parametrize(("file", "variant"), CASES)
def test_every_unit_passes_systemd_analyze_verify(file, variant, tmp_path):
    reports = harness.verify_units(boot(file, variant), tmp_path, {"docker.service": DOCKER_UNIT})
    assert "/etc/systemd/system/appstack.service" in reports


@pytest.mark.parametrize(("file", "variant"), CASES)
def test_every_script_passes_shellcheck(file, variant, tmp_path):
    scripts = harness.shellcheck(boot(file, variant), tmp_path)
    assert "<runcmd>" in scripts
    assert INSTALLER in scripts


def test_demo_app_answers_its_health_path(tmp_path):
    b = boot("dev", "demo")
    env = harness.unit_environment(b.files["/etc/systemd/system/appstack.service"].content)
    with harness.serve_demo_app(b.files["/opt/appstack/app.py"].content, env, tmp_path) as url:
        assert harness.http_get(url + env["HEALTH_PATH"]) == (200, "ok")
        status, body = harness.http_get(url + "/")
        assert status == 200 and json.loads(body)["app"] == "appstack"
