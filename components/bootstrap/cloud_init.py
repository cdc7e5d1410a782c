"""cloud-init user data shared by every cloud: sshd hardening, the app service, an agent hook.

The output is a ``#cloud-config`` document. Each cloud adds its log agent through `AgentSetup`
(packages, files, commands); the hardening and the app service are the same everywhere.
tests/bootstrap/ judges what this renders with the programs that read it on the VM
(cloud-init, sshd, systemd, shellcheck, the agent's schema) and runs the demo app.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import yaml

from ..config.model import StackConfig

#: sshd drop-in. AL2023 and Ubuntu include sshd_config.d/*.conf before their own settings and
#: sshd keeps the first value it reads, so a 00- file wins over anything later.
SSHD_HARDENING = textwrap.dedent(
    """\
    # Managed by appstack: no root login, keys only.
    PermitRootLogin no
    PasswordAuthentication no
    KbdInteractiveAuthentication no
    PermitEmptyPasswords no
    X11Forwarding no
    MaxAuthTries 3
    """
)
SSHD_DROP_IN = "/etc/ssh/sshd_config.d/00-appstack-hardening.conf"

APP_LOG = "/var/log/appstack/app.log"

#: The built-in demo app: a tiny HTTP server with a health endpoint, stdlib only.
DEMO_APP = textwrap.dedent(
    """\
    import http.server, json, os, socket

    PORT = int(os.environ["APP_PORT"])
    HEALTH = os.environ.get("HEALTH_PATH", "/health")
    # Every interface on the VM (the load balancer connects to its private address).
    HOST = os.environ.get("APP_HOST", "0.0.0.0")


    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == HEALTH:
                body, ctype = b"ok", "text/plain"
            else:
                body = json.dumps({"app": "appstack", "host": socket.gethostname()}).encode()
                ctype = "application/json"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            print("%s %s" % (self.address_string(), fmt % args), flush=True)


    http.server.ThreadingHTTPServer((HOST, PORT), Handler).serve_forever()
    """
)


#: First-boot package installer. cloud-init's own `packages` step tries once: a VM that boots
#: before its NAT route (or DNS, or the mirror) answers would never get its agent, rsyslog or
#: docker. This retries with backoff for about 40 minutes, on dnf (AL2023) or apt (Ubuntu/Debian).
INSTALLER = "/usr/local/sbin/appstack-install-packages"
INSTALLER_SCRIPT = textwrap.dedent(
    """\
    #!/bin/sh
    # Managed by appstack: install packages on first boot, retrying while the network is not
    # ready yet (NAT route, DNS or package mirror). Usage: appstack-install-packages PKG...
    set -u
    attempts=${APPSTACK_INSTALL_ATTEMPTS:-30}
    delay=${APPSTACK_INSTALL_DELAY:-10}
    i=1
    while :; do
        if command -v dnf >/dev/null 2>&1; then
            dnf -y install "$@" && exit 0
        elif command -v apt-get >/dev/null 2>&1; then
            apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" && exit 0
        else
            echo "appstack-install-packages: neither dnf nor apt-get found" >&2
            exit 2
        fi
        if [ "$i" -ge "$attempts" ]; then
            echo "appstack-install-packages: giving up after $i attempts: $*" >&2
            exit 1
        fi
        echo "appstack-install-packages: attempt $i failed; next in ${delay}s" >&2
        sleep "$delay"
        i=$((i + 1))
        if [ "$delay" -lt 60 ]; then
            delay=$((delay * 2))
        fi
    done
    """
)


@dataclass(frozen=True)
class AgentSetup:
    """What a cloud adds to ship logs and metrics: packages, files and commands."""

    packages: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    """``(path, content)`` pairs written root-owned, mode 0644."""
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppSpec:
    """What runs as the `appstack` systemd service."""

    port: int
    health_check_path: str = "/health"
    command: str | None = None
    image: str | None = None
    container_port: int | None = None
    """Port the container listens on, published on `port`. None: the same as `port`."""
    python: str = "/usr/bin/python3"
    extra_packages: tuple[str, ...] = field(default=())
    container_package: str = "docker"
    """Package with the docker engine and client: `docker` on AL2023, `docker.io` on Ubuntu."""


def app_spec(cfg: StackConfig, container_package: str = "docker") -> AppSpec:
    """The app service every cloud's VMs run, from `appstack:app` (one mapping for all clouds).

    `container_package` is the distribution's docker package: `docker` on Amazon Linux 2023,
    `docker.io` on Ubuntu.
    """
    return AppSpec(
        port=cfg.app.port,
        health_check_path=cfg.app.health_check_path,
        command=cfg.app.command,
        image=cfg.app.image,
        container_port=cfg.app.container_port,
        container_package=container_package,
    )


def _unit(app: AppSpec) -> str:
    # The container variant needs docker running: ordering and requirement belong in [Unit]
    # (systemd ignores, with a warning, unit-level keys placed in [Service]).
    unit_section = [
        "[Unit]",
        "Description=appstack application",
        "After=network-online.target",
        "Wants=network-online.target",
        *(["After=docker.service", "Requires=docker.service"] if app.image else []),
    ]
    service_section = [
        "[Service]",
        f"Environment=APP_PORT={app.port} HEALTH_PATH={app.health_check_path}",
        "Restart=always",
        "RestartSec=5",
        f"StandardOutput=append:{APP_LOG}",
        f"StandardError=append:{APP_LOG}",
    ]
    common = "\n".join(unit_section) + "\n\n" + "\n".join(service_section) + "\n"
    if app.image:
        inside = app.container_port or app.port
        # The docker client needs the docker socket; the container itself is the isolation. The
        # load balancer probes `port` on the VM; the image listens on its own port (nginx: 80),
        # so that one is published explicitly, and told to the image as APP_PORT.
        body = textwrap.dedent(
            f"""\
            ExecStartPre=-/usr/bin/docker rm -f appstack
            ExecStart=/usr/bin/docker run --rm --name appstack -p {app.port}:{inside} -e APP_PORT={inside} {app.image}
            ExecStop=/usr/bin/docker stop appstack
            """
        )
    else:
        start = app.command or f"{app.python} /opt/appstack/app.py"
        # Never root: a throwaway user, read-only system, no privilege escalation. The app logs
        # to stdout/stderr, which systemd appends to APP_LOG itself. No LogsDirectory=: with
        # DynamicUser= systemd would move /var/log/appstack under the root-only /var/log/private,
        # where a log agent that does not run as root (the Azure Monitor Agent's) cannot read it.
        body = textwrap.dedent(
            f"""\
            ExecStart={start}
            DynamicUser=yes
            NoNewPrivileges=yes
            ProtectSystem=strict
            ProtectHome=yes
            PrivateTmp=yes
            """
        )
    return common + body + "\n[Install]\nWantedBy=multi-user.target\n"


def render(app: AppSpec, agent: AgentSetup = AgentSetup()) -> str:
    """The ``#cloud-config`` user data for one VM of the stack."""
    files = [
        {"path": SSHD_DROP_IN, "content": SSHD_HARDENING, "owner": "root:root", "permissions": "0600"},
        {"path": "/etc/systemd/system/appstack.service", "content": _unit(app), "permissions": "0644"},
        {"path": INSTALLER, "content": INSTALLER_SCRIPT, "owner": "root:root", "permissions": "0755"},
    ]
    if not app.command and not app.image:
        files.append({"path": "/opt/appstack/app.py", "content": DEMO_APP, "permissions": "0644"})
    files += [{"path": p, "content": c, "permissions": "0644"} for p, c in agent.files]
    packages = list(agent.packages) + list(app.extra_packages) + ([app.container_package] if app.image else [])
    commands = [
        "mkdir -p /var/log/appstack",
        "systemctl restart sshd",
        # Not cloud-init's `packages`: it tries once (see INSTALLER_SCRIPT).
        *([f"{INSTALLER} {' '.join(packages)}"] if packages else []),
        *agent.commands,
        *(["systemctl enable --now docker"] if app.image else []),
        "systemctl daemon-reload",
        "systemctl enable --now appstack.service",
    ]
    doc = {
        # No root login and no passwords, whatever the image's defaults are.
        "disable_root": True,
        "ssh_pwauth": False,
        "write_files": files,
        "runcmd": commands,
    }
    return "#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=1000)
