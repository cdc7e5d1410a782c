"""cloud-init user data shared by every cloud: sshd hardening, the app service, an agent hook.

The output is a ``#cloud-config`` document. Each cloud adds its log agent through `AgentSetup`
(packages, files, commands); the hardening and the app service are the same everywhere.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import yaml

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


    http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
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
    python: str = "/usr/bin/python3"
    extra_packages: tuple[str, ...] = field(default=())


def _unit(app: AppSpec) -> str:
    common = textwrap.dedent(
        f"""\
        [Unit]
        Description=appstack application
        After=network-online.target
        Wants=network-online.target

        [Service]
        Environment=APP_PORT={app.port} HEALTH_PATH={app.health_check_path}
        Restart=always
        RestartSec=5
        StandardOutput=append:{APP_LOG}
        StandardError=append:{APP_LOG}
        """
    )
    if app.image:
        # The docker client needs the docker socket; the container itself is the isolation.
        body = textwrap.dedent(
            f"""\
            After=docker.service
            Requires=docker.service
            ExecStartPre=-/usr/bin/docker rm -f appstack
            ExecStart=/usr/bin/docker run --rm --name appstack -p {app.port}:{app.port} -e APP_PORT={app.port} {app.image}
            ExecStop=/usr/bin/docker stop appstack
            """
        )
    else:
        start = app.command or f"{app.python} /opt/appstack/app.py"
        # Never root: a throwaway user, read-only system, no privilege escalation.
        body = textwrap.dedent(
            f"""\
            ExecStart={start}
            DynamicUser=yes
            NoNewPrivileges=yes
            ProtectSystem=strict
            ProtectHome=yes
            PrivateTmp=yes
            LogsDirectory=appstack
            """
        )
    return common + body + "\n[Install]\nWantedBy=multi-user.target\n"


def render(app: AppSpec, agent: AgentSetup = AgentSetup()) -> str:
    """The ``#cloud-config`` user data for one VM of the stack."""
    files = [
        {"path": SSHD_DROP_IN, "content": SSHD_HARDENING, "owner": "root:root", "permissions": "0600"},
        {"path": "/etc/systemd/system/appstack.service", "content": _unit(app), "permissions": "0644"},
    ]
    if not app.command and not app.image:
        files.append({"path": "/opt/appstack/app.py", "content": DEMO_APP, "permissions": "0644"})
    files += [{"path": p, "content": c, "permissions": "0644"} for p, c in agent.files]
    packages = list(agent.packages) + list(app.extra_packages) + (["docker"] if app.image else [])
    commands = [
        "mkdir -p /var/log/appstack",
        "systemctl restart sshd",
        *agent.commands,
        *(["systemctl enable --now docker"] if app.image else []),
        "systemctl daemon-reload",
        "systemctl enable --now appstack.service",
    ]
    doc = {
        # No root login and no passwords, whatever the image's defaults are.
        "disable_root": True,
        "ssh_pwauth": False,
        "package_update": True,
        "packages": packages,
        "write_files": files,
        "runcmd": commands,
    }
    return "#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=1000)
