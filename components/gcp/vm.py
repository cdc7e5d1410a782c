"""GCP VMs: N hardened Compute Engine instances spread over the region's zones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp.compute as compute
import pulumi_gcp.kms as kms
import pulumi_gcp.organizations as organizations
import pulumi_gcp.projects as projects
import pulumi_gcp.serviceaccount as serviceaccount

from ..bootstrap.cloud_init import APP_LOG, INSTALLER, AgentSetup
from ..interfaces import VmArgs
from ..naming import bounded_name, digest
from .kms import ENCRYPTER_DECRYPTER, client_config, customer_key
from .log_sink import agent_log_id
from .names import app_of, base, labels, physical

#: Ubuntu 24.04 LTS image families: Canonical's GCE images run cloud-init from `user-data`
#: metadata (Debian's GCE images do not by default).
UBUNTU_FAMILIES = {"x86_64": "ubuntu-os-cloud/ubuntu-2404-lts-amd64", "arm64": "ubuntu-os-cloud/ubuntu-2404-lts-arm64"}

#: The only project roles the VMs' service account gets: write logs and metrics (the Ops Agent).
VM_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")
#: OAuth scopes, the second lock next to IAM: even a future broad role grants nothing else.
VM_SCOPES = ("https://www.googleapis.com/auth/logging.write", "https://www.googleapis.com/auth/monitoring.write")

#: Instance metadata as the guest agent parses it (strconv.ParseBool: TRUE/FALSE are canonical).
HARDENED_METADATA = {
    # OS Login: SSH keys from IAM identities only, never from metadata.
    "enable-oslogin": "TRUE",
    # Project-wide SSH keys would grant every project key holder access to these VMs.
    "block-project-ssh-keys": "TRUE",
    # No interactive serial console (a login path around the firewall).
    "serial-port-enable": "FALSE",
}

#: Google's Ops Agent apt repository (https; signed) and its key, as Google's own install script
#: (add-google-cloud-ops-agent-repo.sh) configures them: suite google-cloud-ops-agent-<codename>-all.
OPS_AGENT_REPO = "https://packages.cloud.google.com/apt"
OPS_AGENT_KEY_URL = "https://packages.cloud.google.com/apt/doc/apt-key.gpg"
OPS_AGENT_KEY = "/etc/apt/keyrings/google-cloud-ops-agent.asc"
OPS_AGENT_REPO_SCRIPT = "/usr/local/sbin/appstack-add-ops-agent-repo"
#: Outside the agent's own directory: the package owns /etc/google-cloud-ops-agent/config.yaml
#: (a conffile), so ours is copied over it after the install, never left for dpkg to prompt about.
OPS_AGENT_CONFIG_SOURCE = "/etc/appstack/ops-agent-config.yaml"
OPS_AGENT_CONFIG = "/etc/google-cloud-ops-agent/config.yaml"


def _repo_script() -> str:
    # A shell script, not cloud-init's `apt:` sources: the key download must retry while the
    # NAT route or DNS is not ready, exactly like the package installer.
    return "\n".join(
        [
            "#!/bin/sh",
            "# Managed by appstack: add Google's Ops Agent apt repository, retrying while the network",
            "# is not ready yet. The package itself is installed by appstack-install-packages.",
            "set -u",
            "# shellcheck source=/dev/null",
            ". /etc/os-release",
            "mkdir -p /etc/apt/keyrings",
            "i=1",
            f'until curl -fsS --connect-timeout 10 -o "{OPS_AGENT_KEY}.tmp" {OPS_AGENT_KEY_URL}; do',
            '    if [ "$i" -ge 30 ]; then echo "appstack-add-ops-agent-repo: giving up" >&2; exit 1; fi',
            "    sleep 20",
            "    i=$((i + 1))",
            "done",
            f'mv "{OPS_AGENT_KEY}.tmp" "{OPS_AGENT_KEY}"',
            f'echo "deb [signed-by={OPS_AGENT_KEY}] {OPS_AGENT_REPO} google-cloud-ops-agent-${{VERSION_CODENAME}}-all main"'
            " > /etc/apt/sources.list.d/google-cloud-ops-agent.list",
            "",
        ]
    )


def ops_agent_config(base_name: str) -> dict:
    """Ops Agent config: syslog, auth and app logs under the stack's log IDs; host metrics.

    Each `files` receiver's ID is the log ID its entries get, so the log sink can select this
    stack's agent logs by name (`log_sink.agent_log_id`).
    """
    receivers = {
        agent_log_id(base_name, "system"): {"type": "files", "include_paths": ["/var/log/syslog"]},
        agent_log_id(base_name, "auth"): {"type": "files", "include_paths": ["/var/log/auth.log"]},
        agent_log_id(base_name, "app"): {"type": "files", "include_paths": [APP_LOG]},
    }
    return {
        "logging": {
            "receivers": receivers,
            # Replaces the built-in default pipeline (which would ship syslog under another name).
            "service": {"pipelines": {"default_pipeline": {"receivers": list(receivers)}}},
        },
        "metrics": {
            "receivers": {"hostmetrics": {"type": "hostmetrics", "collection_interval": "60s"}},
            "service": {"pipelines": {"default_pipeline": {"receivers": ["hostmetrics"]}}},
        },
    }


def ops_agent(base_name: str) -> AgentSetup:
    """Google's Ops Agent from its signed apt repository, installed with retries."""
    return AgentSetup(
        files=(
            (OPS_AGENT_REPO_SCRIPT, _repo_script()),
            (OPS_AGENT_CONFIG_SOURCE, json.dumps(ops_agent_config(base_name), indent=2)),
        ),
        commands=(
            f"sh {OPS_AGENT_REPO_SCRIPT}",
            f"{INSTALLER} google-cloud-ops-agent",
            f"install -D -m 0644 {OPS_AGENT_CONFIG_SOURCE} {OPS_AGENT_CONFIG}",
            "systemctl restart google-cloud-ops-agent",
        ),
    )


def zone_count(subnet_ids: object) -> int:
    """Zones to spread over: the network part lists its regional subnet once per zone used."""
    return max(1, len(subnet_ids)) if isinstance(subnet_ids, Sequence) and not isinstance(subnet_ids, str) else 1


def zone_of(zones: pulumi.Output[list[str]], index: int, count: int) -> pulumi.Output[str]:
    """The zone of the `index`-th VM: round-robin over the first `count` zones (sorted, UP)."""

    def pick(names: list[str]) -> str:
        ordered = sorted(names)
        if len(ordered) < count:
            raise ValueError(
                f"the region has {len(ordered)} zones up ({', '.join(ordered)}) but network.zoneCount is {count}; "
                f"set appstack:network.zoneCount to {len(ordered)} or less"
            )
        return ordered[index % count]

    return zones.apply(pick)


@dataclass(frozen=True)
class VmBasis:
    """What every VM of a stack boots with, whether a plain instance or a group member."""

    key: kms.CryptoKey
    """The rotating customer-managed key of the boot disks (the Compute Engine agent may use it)."""
    email: pulumi.Output[str]
    """The VMs' own service account: log and metric writer only."""
    grants: list[pulumi.Resource]
    """The key grant, the account and its roles: VMs are created after them."""


def vm_basis(name: str, args: VmArgs, parent: pulumi.Resource) -> VmBasis:
    """The disk key, service account and grants of `args`' VMs, children of `parent`.

    Shared by `Vm` and `VmGroup`, so both boot with exactly the same identity and disks.
    """
    child = pulumi.ResourceOptions(parent=parent)
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    gcp_labels = labels(args.tags)
    base_name = base(app_of(name, "vm"))
    client = client_config(parent)
    project, region = client.project, client.region
    number = organizations.get_project_output(project_id=project, opts=invoke).number

    key = customer_key(name, base_name, "disks", region, args.protect, gcp_labels, parent)
    # Compute Engine encrypts the disks as its service agent, which needs the key first.
    disk_grant = kms.CryptoKeyIAMMember(
        f"{name}-key-compute",
        crypto_key_id=key.id,
        role=ENCRYPTER_DECRYPTER,
        member=number.apply(lambda n: f"serviceAccount:service-{n}@compute-system.iam.gserviceaccount.com"),
        opts=child,
    )
    account_id = bounded_name(base_name, "vm", limit=30)
    account = serviceaccount.Account(
        f"{name}-sa",
        # 6-30 characters: the base is cut (with a digest) to fit.
        account_id=account_id,
        display_name=f"appstack VMs of {base_name}",
        # Names the log sink: the VMs are created after it and deleted before it.
        description=pulumi.Output.all(*args.log_destinations).apply(
            lambda d: f"Writes logs and metrics only; logs land in {', '.join(map(str, d)) or 'Cloud Logging'}"[:256]
        ),
        project=project,
        opts=child,
    )
    # The e-mail Google gives the account, known before it exists (so a preview's policy
    # checks see it); the grants wait for the account itself.
    email = project.apply(lambda p: f"{account_id}@{p}.iam.gserviceaccount.com")
    grants: list[pulumi.Resource] = [disk_grant, account]
    for role in VM_ROLES:
        grants.append(
            projects.IAMMember(
                f"{name}-{role.split('/')[-1].replace('.', '-').lower()}",
                project=project,
                role=role,
                member=email.apply(lambda e: f"serviceAccount:{e}"),
                opts=pulumi.ResourceOptions(parent=parent, depends_on=[account]),
            )
        )
    return VmBasis(key=key, email=email, grants=grants)


class Vm(pulumi.ComponentResource):
    """`count` Compute Engine instances, round-robin over the zones.

    Each instance: Shielded VM (Secure Boot, vTPM, integrity monitoring), OS Login with
    project-wide SSH keys blocked, no serial console, no external IP, no IP forwarding, a
    dedicated service account with only log-writer and metric-writer roles (and matching
    scopes), a boot disk encrypted with a rotating customer-managed key (the Compute Engine
    service agent may use it), and hardened cloud-init user data. Plain instances rather than a
    managed instance group, as on AWS: stable instance names and IDs as outputs, per-instance
    deletion protection, and the same model on every cloud (see README, design notes).
    Outputs: `instance_ids` (``projects/<p>/zones/<z>/instances/<name>``), `private_ips`.
    """

    instance_ids: list[pulumi.Output[str]]
    private_ips: list[pulumi.Output[str]]

    def __init__(self, name: str, args: VmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:gcp:Vm", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        gcp_labels = labels(args.tags)
        base_name = base(app_of(name, "vm"))
        region = client_config(self).region
        basis = vm_basis(name, args, self)
        key, email, grants = basis.key, basis.email, basis.grants

        image = args.image_id or UBUNTU_FAMILIES[args.architecture]
        # A new image in the family must not replace running VMs; pin compute.imageId to roll.
        ignore = [] if args.image_id else ["bootDisk.initializeParams.image"]
        zones = compute.get_zones_output(region=region, status="UP", opts=invoke).names
        count = zone_count(args.subnet_ids)
        subnets = pulumi.Output.from_input(args.subnet_ids)
        metadata = {**HARDENED_METADATA, "user-data": args.user_data}
        # cloud-init reads user-data at first boot only, so a changed boot config must replace
        # the VMs; so does a newly pinned image (the provider's `bootDisk.initializeParams.image`
        # is ForceNew). The name carries a digest of both: the replacement gets a new name, so
        # Pulumi creates it before deleting the old one (the same name in the same zone is
        # refused with 409 alreadyExists) and the load balancer's instance groups switch to it
        # in the same update. Without a pinned image the family name is constant.
        boot = digest(args.user_data, image) if args.image_id else digest(args.user_data)

        self.instance_ids, self.private_ips = [], []
        for i in range(args.count):
            instance = compute.Instance(
                f"{name}-{i}",
                name=physical(base_name, f"vm-{i}-{boot}"),
                description="appstack VM",
                machine_type=args.machine_type,
                zone=zone_of(zones, i, count),
                boot_disk=compute.InstanceBootDiskArgs(
                    auto_delete=True,
                    kms_key_self_link=key.id,
                    initialize_params=compute.InstanceBootDiskInitializeParamsArgs(
                        image=image,
                        size=args.root_volume_gb,
                        type="pd-balanced",
                        labels=gcp_labels,
                    ),
                ),
                network_interfaces=[
                    # No access_configs: no external IP; egress goes through Cloud NAT.
                    compute.InstanceNetworkInterfaceArgs(subnetwork=subnets.apply(lambda s, i=i: s[i % len(s)]))
                ],
                can_ip_forward=False,
                shielded_instance_config=compute.InstanceShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True
                ),
                service_account=compute.InstanceServiceAccountArgs(email=email, scopes=list(VM_SCOPES)),
                metadata=metadata,
                tags=[args.security_group_id],
                labels=gcp_labels,
                deletion_protection=args.deletion_protection,
                # Live-migrate on host maintenance and restart after a crash.
                scheduling=compute.InstanceSchedulingArgs(automatic_restart=True, on_host_maintenance="MIGRATE"),
                # Machine type or service account changes stop and start the VM instead of failing.
                allow_stopping_for_update=True,
                # Boot with the key usable and the roles granted.
                opts=pulumi.ResourceOptions(parent=self, depends_on=grants, ignore_changes=ignore),
            )
            self.instance_ids.append(instance.id)
            self.private_ips.append(instance.network_interfaces.apply(lambda nics: str(nics[0].network_ip or "")))
        self.register_outputs({"instance_ids": self.instance_ids, "private_ips": self.private_ips})
