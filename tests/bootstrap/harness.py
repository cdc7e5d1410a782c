"""Judge a rendered boot configuration with the programs that read it on the VM.

Cloud-neutral: everything here takes a ``#cloud-config`` document (any cloud's user data) and a
`Distro` describing how the image reads it (where sshd includes its drop-ins, and so on). A cloud
plugs in by rendering its user data and naming its distro and its agent-config validators (see
tests/bootstrap/test_boot_tools.py).

Each check runs the real tool:

- `cloud_init_schema`: ``cloud-init schema -c`` (Debian package cloud-init);
- `sshd_effective`: ``sshd -T`` over a config laid out as the distro lays it out, with the
  drop-ins written where the user data writes them and later files that turn logins back on;
- `verify_units`: ``systemd-analyze verify`` on every unit written, in a scratch root that has the
  host's stock units and stubs for the programs the units start, failing on any diagnostic
  (systemd only *warns* about unknown keys and sections and still exits 0);
- `shellcheck`: every script written (by shebang) and the runcmd/bootcmd lists as the
  ``/bin/sh`` scripts cloud-init runs them as;
- `validate_json`: a JSON file against a JSON schema (e.g. the CloudWatch agent's, vendored);
- `serve_demo_app`: the app started for real on a loopback port.

A missing tool skips the test with the package to install; under ``CI=true`` it fails instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml

#: Debian packages that provide the tools (the CI installs these).
PACKAGES = {
    "cloud-init": "cloud-init",
    "sshd": "openssh-server",
    "ssh-keygen": "openssh-client",
    "systemd-analyze": "systemd",
    "shellcheck": "shellcheck",
}


def require(tool: str) -> str:
    """The path of `tool`; skips the test when missing, or fails it under CI=true."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if path:
        return path
    unavailable(f"{tool} not installed (Debian package {PACKAGES.get(tool, tool)})")


def unavailable(message: str) -> NoReturn:
    """Skip the test for a missing tool; under CI=true, where the tools must be, fail it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: CI must install it", pytrace=False)
    pytest.skip(message)


def run(argv: Sequence[str], timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


# ---------------------------------------------------------------------------------------------
# The boot configuration as data


@dataclass(frozen=True)
class WrittenFile:
    path: str
    content: str
    permissions: str = "0644"


@dataclass(frozen=True)
class BootConfig:
    """A ``#cloud-config`` document and what it writes and runs."""

    user_data: str
    doc: Mapping[str, Any]
    files: Mapping[str, WrittenFile]

    @classmethod
    def parse(cls, user_data: str) -> BootConfig:
        assert user_data.startswith("#cloud-config\n"), "not a #cloud-config document"
        doc = yaml.safe_load(user_data)
        files = {}
        for f in doc.get("write_files", []):
            # Only plain text content is judged; other encodings would need decoding first.
            assert f.get("encoding") in (None, "text/plain"), f"{f['path']}: encoding {f.get('encoding')}"
            files[f["path"]] = WrittenFile(f["path"], f.get("content", ""), str(f.get("permissions", "0644")))
        return cls(user_data, doc, files)

    def under(self, directory: str, suffixes: tuple[str, ...] = ("",)) -> dict[str, WrittenFile]:
        return {
            p: f for p, f in self.files.items() if p.startswith(directory.rstrip("/") + "/") and p.endswith(suffixes)
        }

    @property
    def units(self) -> dict[str, WrittenFile]:
        """systemd units written (services, timers, sockets, mounts, paths)."""
        suffixes = (".service", ".timer", ".socket", ".mount", ".path", ".target")
        return {
            p: f
            for d in ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
            for p, f in self.under(d, suffixes).items()
        }

    @property
    def scripts(self) -> dict[str, str]:
        """Every shell script written or run: files with a sh/bash shebang, runcmd, bootcmd.

        cloud-init runs runcmd and bootcmd as one ``/bin/sh`` script each: a string entry is a
        line as is, a list entry is its words shell-quoted (cloudinit.subp.shellify).
        """
        out = {p: f.content for p, f in self.files.items() if _shell_shebang(f.content)}
        for key in ("bootcmd", "runcmd"):
            entries = self.doc.get(key) or []
            if entries:
                lines = [e if isinstance(e, str) else shlex.join(str(w) for w in e) for e in entries]
                out[f"<{key}>"] = "#!/bin/sh\n" + "\n".join(lines) + "\n"
        return out


def _shell_shebang(content: str) -> bool:
    words = content.split("\n", 1)[0].removeprefix("#!").split() if content.startswith("#!") else []
    if words and Path(words[0]).name == "env":
        words = words[1:]
    return bool(words) and Path(words[0]).name in ("sh", "bash", "dash")


@dataclass(frozen=True)
class Distro:
    """How an image reads the boot config: what differs between AL2023, Ubuntu and Debian."""

    name: str
    sshd_config: str
    """The image's stock sshd_config, with ``{include}`` where it includes sshd_config.d."""
    later_sshd_drop_ins: Mapping[str, str] = field(default_factory=dict)
    """Drop-ins that come after ours (the image's or cloud-init's), turning logins back on."""


#: Amazon Linux 2023, Ubuntu and Debian all include sshd_config.d/*.conf on the first line of
#: sshd_config; sshd keeps the first value it reads, so what is included first wins. Their stock
#: configs then set a few things of their own (kept here where they touch logins).
_TURN_LOGINS_ON = {
    # What cloud-init writes with ssh_pwauth: true, or an admin's later drop-in.
    "50-cloud-init.conf": "PasswordAuthentication yes\n",
    "99-later.conf": "PermitRootLogin yes\nPasswordAuthentication yes\nKbdInteractiveAuthentication yes\n",
}
AL2023 = Distro(
    "al2023",
    "{include}\nPermitRootLogin yes\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n"
    "UsePAM yes\nX11Forwarding yes\nSubsystem sftp /usr/libexec/openssh/sftp-server\n",
    {**_TURN_LOGINS_ON, "50-redhat.conf": "ChallengeResponseAuthentication no\nGSSAPIAuthentication yes\n"},
)
UBUNTU = Distro(
    "ubuntu",
    "{include}\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\n"
    "AcceptEnv LANG LC_*\nSubsystem sftp /usr/lib/openssh/sftp-server\n",
    _TURN_LOGINS_ON,
)
DEBIAN = Distro(
    "debian",
    "{include}\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\n"
    "AcceptEnv LANG LC_*\nSubsystem sftp /usr/lib/openssh/sftp-server\n",
    _TURN_LOGINS_ON,
)


# ---------------------------------------------------------------------------------------------
# The checks


def cloud_init_schema(boot: BootConfig, tmp: Path) -> str:
    """``cloud-init schema -c``: the user data against cloud-init's own schema. Returns its report."""
    tool = require("cloud-init")
    path = tmp / "user-data.yaml"
    path.write_text(boot.user_data)
    result = run([tool, "schema", "-c", str(path)])
    report = result.stdout + result.stderr
    # 22.x says "Valid cloud-config: <file>", 23.x and later "Valid schema <file>"; errors exit 1.
    assert result.returncode == 0 and re.search(r"^Valid (cloud-config|schema)", report, re.MULTILINE), report
    return report


def sshd_effective(boot: BootConfig, distro: Distro, tmp: Path) -> dict[str, str]:
    """``sshd -T``: the settings sshd would run with, given the image's config and our drop-ins.

    The drop-ins land in a scratch sshd_config.d under their own file names, next to the
    distro's later files; sshd_config includes them the way the distro's does.
    """
    sshd = require("sshd")
    keygen = require("ssh-keygen")
    confd = tmp / "sshd_config.d"
    confd.mkdir(parents=True, exist_ok=True)
    for f in boot.under("/etc/ssh/sshd_config.d", (".conf",)).values():
        (confd / Path(f.path).name).write_text(f.content)
    for name, content in distro.later_sshd_drop_ins.items():
        assert not (confd / name).exists(), f"{name} would replace one of ours"
        (confd / name).write_text(content)
    config = tmp / "sshd_config"
    config.write_text(distro.sshd_config.format(include=f"Include {confd}/*.conf"))
    key = tmp / "ssh_host_ed25519_key"
    if not key.exists():
        made = run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
        assert made.returncode == 0, made.stderr
    if os.geteuid() == 0:
        # As root, sshd insists on its privilege separation directory (the package's tmpfiles
        # create it at boot); as any other user it does not.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    result = run([sshd, "-T", "-f", str(config), "-h", str(key)])
    assert result.returncode == 0, result.stderr
    settings: dict[str, str] = {}
    for line in result.stdout.splitlines():
        k, _, v = line.partition(" ")
        settings.setdefault(k, v)
    return settings


#: Programs that stand in for the image's (systemd-analyze verify checks that each exists).
_STUB = "#!/bin/sh\nexit 0\n"


def verify_units(boot: BootConfig, tmp: Path, extra_units: Mapping[str, str] = {}) -> dict[str, str]:
    """``systemd-analyze verify`` on every unit written; returns its (empty) output per unit.

    The units go into a scratch root with the host's stock units (targets such as
    multi-user.target) and `extra_units` (units the image brings, e.g. docker.service); the
    programs they start are stubbed there. Any diagnostic fails: systemd only warns, exit 0,
    about an unknown key or section ("Unknown key 'After' in section [Service], ignoring").
    """
    tool = require("systemd-analyze")
    units = boot.units
    assert units, "no systemd unit written"
    root = tmp / "root"
    stock = next((Path(d) for d in ("/usr/lib/systemd/system", "/lib/systemd/system") if Path(d).is_dir()), None)
    if stock is None:
        unavailable("no stock systemd units (Debian package systemd)")
    lib = root / "usr/lib/systemd/system"
    if not lib.exists():
        shutil.copytree(stock, lib, symlinks=True)
    for name, content in extra_units.items():
        (lib / name).write_text(content)
    for unit in units.values():
        dest = root / unit.path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(unit.content)
        for program in _programs(unit.content):
            stub = root / program.lstrip("/")
            if not stub.exists():
                stub.parent.mkdir(parents=True, exist_ok=True)
                stub.write_text(_STUB)
                stub.chmod(0o755)
    reports = {}
    for unit in units.values():
        result = run([tool, "verify", f"--root={root}", "--man=no", Path(unit.path).name])
        report = (result.stdout + result.stderr).strip()
        assert result.returncode == 0 and not report, f"{unit.path}:\n{report}"
        reports[unit.path] = report
    return reports


def _programs(unit: str) -> Iterator[str]:
    """Absolute paths of the programs a unit's Exec*= lines start."""
    for line in unit.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().startswith("Exec") and value.strip():
            program = value.strip().lstrip("-@:+!").split()[0]
            if program.startswith("/"):
                yield program


def shellcheck(boot: BootConfig, tmp: Path) -> dict[str, str]:
    """``shellcheck`` on every script written or run; returns the scripts checked."""
    tool = require("shellcheck")
    scripts = boot.scripts
    assert scripts, "no script written or run"
    for i, (name, content) in enumerate(scripts.items()):
        path = tmp / f"script-{i}.sh"
        path.write_text(content)
        # SC1091 ("not following" a sourced file) only says the file is not here to read: what a
        # script sources (/etc/os-release) is the image's, not something the boot config writes.
        result = run([tool, "--severity=style", "--exclude=SC1091", "--format=gcc", str(path)])
        assert result.returncode == 0, f"{name}:\n{content}\n{result.stdout}{result.stderr}"
    return scripts


def validate_json(boot: BootConfig, path: str, schema: Mapping[str, Any]) -> Any:
    """The JSON file `path` written by the boot config, against `schema` (draft from $schema)."""
    import jsonschema.validators

    assert path in boot.files, f"{path} is not written"
    document = json.loads(boot.files[path].content)
    validator_class = jsonschema.validators.validator_for(schema)
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return document


def unit_environment(unit: str) -> dict[str, str]:
    """The variables a unit's Environment= lines set."""
    env: dict[str, str] = {}
    for line in unit.splitlines():
        if line.startswith("Environment="):
            for word in shlex.split(line[len("Environment=") :]):
                k, _, v = word.partition("=")
                env[k] = v
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_demo_app(app: str, env: Mapping[str, str], tmp: Path, timeout: float = 15) -> Iterator[str]:
    """Start the app (a Python script) on a free loopback port; yields its base URL."""
    path = tmp / "app.py"
    path.write_text(app)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(path)],
        env={**os.environ, **env, "APP_PORT": str(port), "APP_HOST": "127.0.0.1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"the app exited with {process.returncode}:\n{process.stdout and process.stdout.read()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"the app did not listen on {port} within {timeout}s") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# ---------------------------------------------------------------------------------------------
# A cloud's boot config, for the tests to iterate over


@dataclass(frozen=True)
class CloudBoot:
    """How one cloud's boot config is rendered and read.

    `render(stack_file, overrides)` returns the user data of the stack's first VM as the
    program plans it; `json_schemas` maps files the boot config writes to the JSON schema
    they must satisfy (the cloud's log agent config).
    """

    cloud: str
    distro: Distro
    render: Callable[[str, tuple[str, ...]], str]
    json_schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    image_units: Mapping[str, str] = field(default_factory=dict)
    """Units the image brings that ours depend on (docker.service), as stubs."""
