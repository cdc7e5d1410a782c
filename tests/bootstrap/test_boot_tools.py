"""Everything a VM boots with, judged by the programs that read it (see harness.py).

For every cloud (a `CloudBoot` each in `CLOUDS`: AWS on Amazon Linux 2023, Azure and GCP on
Ubuntu), both stack files and each way of running the app (built-in demo, own command,
container), the user data the program plans for the first VM must pass cloud-init's schema,
leave sshd with root, password and keyboard-interactive login off whatever comes later, hold
only units systemd verifies cleanly and scripts shellcheck passes, and write a log agent config
its agent's schema accepts. The demo app is started and must answer its health path.

The `*_catches_*` tests feed each tool the defect it is here for, so a tool that silently
judges nothing cannot pass the suite.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

from components.aws.vm import CW_AGENT_CONFIG
from components.bootstrap.cloud_init import APP_LOG, INSTALLER, SSHD_DROP_IN
from tests.bootstrap import harness
from tests.bootstrap.harness import AL2023, DEBIAN, UBUNTU, BootConfig, CloudBoot
from tests.conftest import plan_of

SCHEMAS = Path(__file__).parent / "schemas"


@cache
def cloudwatch_agent_schema() -> dict:
    return json.loads((SCHEMAS / "amazon-cloudwatch-agent.schema.json").read_text())


def aws_user_data(stack_file: str, overrides: tuple[str, ...]) -> str:
    """The first VM's user data (or the VM group's launch template's), as the offline plan registers it."""
    plan = plan_of(stack_file, overrides)
    if templates := plan.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        return base64.b64decode(templates[0].properties["userData"]).decode()
    return plan.of_type("aws:ec2/instance:Instance")[0].properties["userData"]


def gcp_user_data(stack_file: str, overrides: tuple[str, ...]) -> str:
    """The first VM's (or the group template's) `user-data` metadata, as the offline plan on GCP registers it."""
    plan = plan_of(stack_file, ("cloud=gcp", *overrides))
    vms = plan.of_type("gcp:compute/regionInstanceTemplate:RegionInstanceTemplate") or plan.of_type(
        "gcp:compute/instance:Instance"
    )
    return vms[0].properties["metadata"]["user-data"]


def azure_user_data(stack_file: str, overrides: tuple[str, ...]) -> str:
    """The first VM's (or the scale set's) custom data (base64 on the wire), as the offline plan on Azure registers it."""
    plan = plan_of(stack_file, ("cloud=azure", *overrides))
    if sets := plan.of_type("azure-native:compute:VirtualMachineScaleSet"):
        return base64.b64decode(sets[0].properties["virtualMachineProfile"]["osProfile"]["customData"]).decode()
    vm = plan.of_type("azure-native:compute:VirtualMachine")[0]
    return base64.b64decode(vm.properties["osProfile"]["customData"]).decode()


#: A stand-in for the docker package's unit (Amazon Linux 2023 ships it with docker).
DOCKER_UNIT = (
    "[Unit]\nDescription=Docker (stub)\n[Service]\nExecStart=/usr/bin/dockerd\n[Install]\nWantedBy=multi-user.target\n"
)

CLOUDS = {
    "aws": CloudBoot(
        "aws",
        AL2023,
        aws_user_data,
        json_schemas={CW_AGENT_CONFIG: {"$ref": "cloudwatch-agent"}},
        image_units={"docker.service": DOCKER_UNIT},
    ),
    # Ubuntu LTS images (components/gcp/vm.py); the Ops Agent's config has no published JSON
    # schema to check it against.
    "gcp": CloudBoot("gcp", UBUNTU, gcp_user_data, image_units={"docker.service": DOCKER_UNIT}),
    # Ubuntu LTS images too; the Azure Monitor Agent is configured by a data collection rule,
    # not by a file the boot config writes.
    "azure": CloudBoot("azure", UBUNTU, azure_user_data, image_units={"docker.service": DOCKER_UNIT}),
}
STACK_FILES = ("dev", "prod")
VARIANTS: dict[str, tuple[str, ...]] = {
    "demo": (),
    "command": ("app.command=/usr/local/bin/server --port 8080",),
    # The README's example image: nginx listens on 80 and answers / (not /health).
    "container": ("app.image=public.ecr.aws/nginx/nginx:1.27", "app.containerPort=80", "app.healthCheckPath=/"),
    # The VM group's template (launch template, instance template, scale set model).
    "group": ("compute.mode=group",),
}
CASES = [
    pytest.param(cloud, file, variant, id=f"{cloud}-{file}-{variant}")
    for cloud in CLOUDS
    for file in STACK_FILES
    for variant in VARIANTS
]


@cache
def boot(cloud: str, file: str, variant: str) -> BootConfig:
    return BootConfig.parse(CLOUDS[cloud].render(file, VARIANTS[variant]))


def schema_for(ref: object) -> dict:
    assert ref == {"$ref": "cloudwatch-agent"}
    return cloudwatch_agent_schema()


@pytest.mark.parametrize(("cloud", "file", "variant"), CASES)
def test_cloud_init_accepts_the_user_data(cloud, file, variant, tmp_path):
    harness.cloud_init_schema(boot(cloud, file, variant), tmp_path)


@pytest.mark.parametrize("distro", [AL2023, UBUNTU, DEBIAN], ids=lambda d: d.name)
@pytest.mark.parametrize(("cloud", "file", "variant"), CASES)
def test_sshd_keeps_root_password_and_keyboard_interactive_login_off(cloud, file, variant, distro, tmp_path):
    settings = harness.sshd_effective(boot(cloud, file, variant), distro, tmp_path)
    assert {k: settings[k] for k in ("permitrootlogin", "passwordauthentication", "kbdinteractiveauthentication")} == {
        "permitrootlogin": "no",
        "passwordauthentication": "no",
        "kbdinteractiveauthentication": "no",
    }
    assert (settings["permitemptypasswords"], settings["x11forwarding"], settings["maxauthtries"]) == ("no", "no", "3")


@pytest.mark.parametrize(("cloud", "file", "variant"), CASES)
def test_every_unit_passes_systemd_analyze_verify(cloud, file, variant, tmp_path):
    b = boot(cloud, file, variant)
    reports = harness.verify_units(b, tmp_path, CLOUDS[cloud].image_units)
    assert "/etc/systemd/system/appstack.service" in reports


@pytest.mark.parametrize(("cloud", "file", "variant"), CASES)
def test_every_script_written_or_run_passes_shellcheck(cloud, file, variant, tmp_path):
    scripts = harness.shellcheck(boot(cloud, file, variant), tmp_path)
    assert {"<runcmd>", INSTALLER} <= set(scripts)


@pytest.mark.parametrize(("cloud", "file", "variant"), [c for c in CASES if CLOUDS[str(c.values[0])].json_schemas])
def test_log_agent_config_matches_the_agents_published_schema(cloud, file, variant):
    b = boot(cloud, file, variant)
    for path, ref in CLOUDS[cloud].json_schemas.items():
        harness.validate_json(b, path, schema_for(ref))


@pytest.mark.parametrize(("cloud", "file", "variant"), CASES)
def test_the_app_log_stays_where_every_log_agent_can_read_it(cloud, file, variant):
    b = boot(cloud, file, variant)
    unit = b.files["/etc/systemd/system/appstack.service"].content.splitlines()
    assert f"StandardOutput=append:{APP_LOG}" in unit and f"StandardError=append:{APP_LOG}" in unit
    # With DynamicUser=, a LogsDirectory= (or StateDirectory=/CacheDirectory=) is moved under
    # the root-only /var/log/private; the agents that tail APP_LOG do not all run as root.
    assert not [line for line in unit if line.startswith(("LogsDirectory=", "StateDirectory=", "CacheDirectory="))]
    # The directory exists (root-owned, world-readable) before the app first starts.
    runcmd = [c if isinstance(c, str) else " ".join(c) for c in b.doc["runcmd"]]
    made = runcmd.index(f"mkdir -p {Path(APP_LOG).parent}")
    assert made < runcmd.index("systemctl enable --now appstack.service")


@pytest.mark.parametrize("file", STACK_FILES)
@pytest.mark.parametrize("cloud", list(CLOUDS))
def test_demo_app_answers_its_health_path(cloud, file, tmp_path):
    b = boot(cloud, file, "demo")
    env = harness.unit_environment(b.files["/etc/systemd/system/appstack.service"].content)
    with harness.serve_demo_app(b.files["/opt/appstack/app.py"].content, env, tmp_path) as url:
        assert harness.http_get(url + env["HEALTH_PATH"]) == (200, "ok")
        status, body = harness.http_get(url + "/")
        assert status == 200 and json.loads(body)["app"] == "appstack"


@pytest.mark.parametrize("cloud", list(CLOUDS))
def test_first_boot_installer_retries_until_the_packages_install(cloud, tmp_path):
    """The package manager fails twice (no route yet), then succeeds: the installer keeps going."""
    b = boot(cloud, "dev", "container")
    installer = tmp_path / "install"
    installer.write_text(b.files[INSTALLER].content)
    installer.chmod(0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    count = tmp_path / "count"
    count.write_text("0")
    fake = bin_dir / "dnf"
    fake.write_text(
        f'#!/bin/sh\nn=$(($(cat {count}) + 1)); echo "$n" > {count}\n[ "$n" -ge 3 ] && echo "installed $*" && exit 0\nexit 1\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "APPSTACK_INSTALL_DELAY": "0"}
    packages = next(line.split()[1:] for line in b.doc["runcmd"] if line.startswith(INSTALLER))
    result = subprocess.run(
        ["/bin/sh", str(installer), *packages], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert count.read_text().strip() == "3"
    assert f"installed -y install {' '.join(packages)}" in result.stdout
    # And it gives up (non-zero) after its attempts rather than hanging the boot forever.
    count.write_text("-100")
    result = subprocess.run(
        ["/bin/sh", str(installer), "x"],
        env={**env, "APPSTACK_INSTALL_ATTEMPTS": "2"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1 and "giving up after 2 attempts" in result.stderr


# ---------------------------------------------------------------------------------------------
# The tools catch what they are here for (each of these is a defect the suite must reject)


def _with_file(b: BootConfig, path: str, content: str) -> BootConfig:

    doc = dict(b.doc)
    doc["write_files"] = [f if f["path"] != path else {**f, "content": content} for f in doc["write_files"]]
    return BootConfig.parse("#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=1000))


def test_systemd_analyze_catches_unit_keys_in_the_wrong_section(tmp_path):
    """The container unit before issue 7: After=/Requires= in [Service], which systemd ignores."""
    b = boot("aws", "dev", "container")
    unit = b.files["/etc/systemd/system/appstack.service"].content
    moved = unit.replace("After=docker.service\nRequires=docker.service\n", "").replace(
        "[Service]\n", "[Service]\nAfter=docker.service\nRequires=docker.service\n"
    )
    with pytest.raises(AssertionError, match=r"Unknown key '?After'? in section \[?Service"):
        harness.verify_units(
            _with_file(b, "/etc/systemd/system/appstack.service", moved), tmp_path, {"docker.service": DOCKER_UNIT}
        )


def test_sshd_check_catches_a_drop_in_read_after_one_that_allows_passwords(tmp_path):
    b = boot("aws", "dev", "demo")
    content = b.files[SSHD_DROP_IN].content

    doc = dict(b.doc)
    doc["write_files"] = [
        {**f, "path": "/etc/ssh/sshd_config.d/99-appstack-hardening.conf"} if f["path"] == SSHD_DROP_IN else f
        for f in doc["write_files"]
    ]
    late = BootConfig.parse("#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=1000))
    assert late.files["/etc/ssh/sshd_config.d/99-appstack-hardening.conf"].content == content
    settings = harness.sshd_effective(late, AL2023, tmp_path)
    assert settings["passwordauthentication"] == "yes"


def test_shellcheck_catches_an_unquoted_expansion(tmp_path):
    b = boot("aws", "dev", "demo")

    doc = {**b.doc, "runcmd": [*b.doc["runcmd"], "rm -rf $APPSTACK_TMP/*"]}
    with pytest.raises(AssertionError, match="SC2086"):
        harness.shellcheck(BootConfig.parse("#cloud-config\n" + yaml.safe_dump(doc, width=1000)), tmp_path)


def test_agent_schema_catches_a_misspelt_key():
    b = boot("aws", "dev", "demo")
    config = json.loads(b.files[CW_AGENT_CONFIG].content)
    config["logs"]["logs_collected"]["files"]["collect_list"][0]["log_group_nam"] = "x"
    with pytest.raises(AssertionError, match="log_group_nam"):
        harness.validate_json(
            _with_file(b, CW_AGENT_CONFIG, json.dumps(config)), CW_AGENT_CONFIG, cloudwatch_agent_schema()
        )


def test_cloud_init_schema_catches_a_wrongly_typed_key(tmp_path):

    b = boot("aws", "dev", "demo")
    doc = {**b.doc, "disable_root": "yes please"}
    with pytest.raises(AssertionError, match="disable_root"):
        harness.cloud_init_schema(BootConfig.parse("#cloud-config\n" + yaml.safe_dump(doc, width=1000)), tmp_path)


def test_missing_tools_fail_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.fail.Exception, match="no-such-tool not installed"):
        harness.require("no-such-tool")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        harness.require("no-such-tool")


def test_ci_runs_as_a_newcomer_would():
    """Under CI every tool is present (the CI installs the Debian packages)."""
    if os.environ.get("CI") != "true":
        pytest.skip("only meaningful under CI=true")
    for tool in harness.PACKAGES:
        harness.require(tool)
