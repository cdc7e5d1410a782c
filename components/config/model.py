"""The stack config: one pydantic model tree for everything under the `appstack` namespace.

Every key of a stack file (`Pulumi.<stack>.yaml`) maps to one field here; the YAML spelling is
the camelCase alias (`appstack:compute` → `instanceCount`). Models are frozen and forbid unknown
keys, so a typo is an error rather than a silently ignored setting. Values that depend on the
environment come from `profiles.PROFILES`; field descriptions state every default.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from .profiles import (
    AWS_TLS_POLICIES,
    AZURE_MAX_ZONES,
    AZURE_TLS_POLICIES,
    AZURE_WORKSPACE_RETENTION_DAYS,
    CLOUDWATCH_RETENTION_DAYS,
    GCP_LOG_BUCKET_RETENTION_DAYS,
    GCP_TLS_POLICIES,
    GROUP_MAX_SIZE,
    PROFILES,
    RETENTION_FLOOR_DAYS,
    Cloud,
    Environment,
    Size,
    deep_merge,
)


class ConfigProblem(ValueError):
    """A bad value with its fix; `key` (dotted, camelCase) is set for cross-field checks."""

    def __init__(self, problem: str, fix: str, key: str | None = None, value: Any = None) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix
        self.key = key
        self.value = value


class _Model(BaseModel):
    # Frozen: config is read once and never mutated. Forbid: a typo must not be ignored.
    # Aliases only: the stack file has exactly one spelling for each key.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        str_strip_whitespace=True,
    )


# ---------------------------------------------------------------------------------------------
# Reusable value types


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ConfigProblem(
            f"{value!r} is not a valid CIDR", "write an address range like 203.0.113.0/24 or 2001:db8::/32"
        ) from None


def _is_internet(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    # Anything broader than a /8 (v4) or /16 (v6) is "the internet" for admin access purposes.
    return net.prefixlen < (8 if net.version == 4 else 16)


def _admin_cidr(value: str) -> str:
    cidr = _cidr(value)
    if _is_internet(ipaddress.ip_network(cidr)):
        raise ConfigProblem(
            f"{value!r} would open admin access (ssh) to the internet",
            "use the CIDR of your admin network or VPN, e.g. 203.0.113.0/24",
        )
    return cidr


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ConfigProblem(f"{value!r} is not an e-mail address", "write it like ops@example.com")
    return value


_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _hostname(value: str) -> str:
    value = value.lower().rstrip(".")
    if not _HOSTNAME.match(value):
        raise ConfigProblem(f"{value!r} is not a DNS name", "write a fully qualified name like app.example.com")
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
AdminCidr = Annotated[str, AfterValidator(_admin_cidr)]
Email = Annotated[str, AfterValidator(_email)]
Hostname = Annotated[str, AfterValidator(_hostname)]


# ---------------------------------------------------------------------------------------------
# Sections


class AppConfig(_Model):
    """`appstack:app` — what runs on the VMs and who owns it."""

    name: str = Field(
        "appstack",
        pattern=r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$",
        description="Short app name used in resource names and tags (3-20 chars, a-z0-9-). Default: `appstack`.",
    )
    owner: str = Field(
        min_length=1,
        description="Owning team, tagged on every resource and named in alerts. Required: no sensible default.",
    )
    port: int = Field(
        8080,
        ge=1024,
        le=65535,
        description="Port the app listens on behind the load balancer; unprivileged so the app never runs as root. Default: 8080.",
    )
    health_check_path: str = Field(
        "/health", pattern=r"^/[^\s]*$", description="HTTP path the load balancer probes. Default: `/health`."
    )
    command: str | None = Field(
        None,
        min_length=1,
        # One line: a newline would let the value add its own directives (User=root) to the unit.
        pattern=r"^[^\r\n]+$",
        description="Command that starts the app (systemd ExecStart, one line). Default: the built-in demo app.",
    )
    image: str | None = Field(
        None,
        pattern=r"^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)*$",
        description="Container image to run instead of a command (e.g. `public.ecr.aws/nginx/nginx:1.27` with `containerPort: 80` and `healthCheckPath: /`). Default: none.",
    )
    container_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port the container image listens on, published on `port` (nginx: 80). Default: the same as `port`.",
    )

    @model_validator(mode="after")
    def _one_entrypoint(self) -> AppConfig:
        if self.command and self.image:
            raise ConfigProblem(
                "both command and image are set",
                "set only one of appstack:app.command or appstack:app.image",
                key="app.image",
                value=self.image,
            )
        if self.container_port is not None and not self.image:
            raise ConfigProblem(
                "containerPort is set but no image runs",
                "set appstack:app.image, or remove appstack:app.containerPort",
                key="app.containerPort",
                value=self.container_port,
            )
        return self


class GroupConfig(_Model):
    """`appstack:compute.group` — the self-healing VM group (`mode: group`)."""

    min: int = Field(
        ge=1,
        description="Fewest VMs the autoscaler keeps; the cloud replaces dead ones to stay at or above it. "
        "Default: 1 (dev), 2 (prod).",
    )
    desired: int = Field(
        ge=1,
        description="VMs the group starts with (AWS, Azure; GCP's autoscaler starts at `min` and scales up). "
        "Afterwards the autoscaler owns the count: `pulumi up` never resets it. Default: 1 (dev), 3 (prod).",
    )
    max: int = Field(
        ge=1,
        description="Most VMs the autoscaler may add; at most 1000 on AWS and Azure (a Flexible scale set's "
        "limit), 2000 on GCP (a regional managed instance group's). Default: 2 (dev), 6 (prod).",
    )
    cpu_target_percent: int = Field(
        ge=10,
        le=90,
        description="Average CPU the autoscaler keeps the group at by adding and removing VMs (%); below "
        "`monitoring.cpuHighPercent`, so the group scales out before the CPU alarm pages. Default: 60.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> GroupConfig:
        if not self.min <= self.desired <= self.max:
            key, value = ("desired", self.desired) if self.min <= self.max else ("min", self.min)
            raise ConfigProblem(
                f"the group needs min <= desired <= max, got min {self.min}, desired {self.desired}, max {self.max}",
                f"set appstack:compute.group.desired to {self.min}..{self.max}, or widen min and max"
                if key == "desired"
                else f"set appstack:compute.group.min to {self.max} or less, or raise max",
                key=f"compute.group.{key}",
                value=value,
            )
        return self


class ComputeConfig(_Model):
    """`appstack:compute` — the VM tier."""

    mode: Literal["instances", "group"] = Field(
        description="`instances`: `instanceCount` VMs with stable IDs; a changed boot config replaces them all in one "
        "`pulumi up`, a dead VM stays dead. `group`: a self-healing group (AWS auto scaling group, Azure "
        "Flexible scale set, GCP regional managed instance group) sized by `group`, replacing unhealthy VMs, "
        "rolling a changed boot config out with no capacity drop and scaling on CPU. Default: `instances` "
        "(dev), `group` (prod)."
    )
    instance_count: int = Field(
        ge=1,
        le=20,
        description="Number of VMs, spread over the zones (`mode: instances`). Default: 1 (dev), 3 (prod).",
    )
    group: GroupConfig = Field(description="Size and scaling of the VM group (`mode: group`).")
    size: Size = Field(
        description="Abstract size mapped to each cloud's machine type. Default: `small` (dev), `medium` (prod)."
    )
    instance_type: str | None = Field(
        None,
        min_length=2,
        description="Explicit machine type (e.g. `c7i.large`), overriding `size`. Default: none.",
    )
    architecture: Literal["x86_64", "arm64"] = Field(
        "x86_64", description="CPU architecture of the image and size mapping. Default: `x86_64`."
    )
    image_id: str | None = Field(
        None,
        min_length=3,
        description="Pinned image (AWS AMI ID, Azure image ID, GCP image). Default: latest Amazon Linux 2023 / "
        "Ubuntu LTS looked up at plan time (running VMs are not replaced when it changes).",
    )
    root_volume_gb: int = Field(20, ge=8, le=1024, description="Root disk size in GiB (encrypted). Default: 20.")


class ExistingNetwork(_Model):
    """`appstack:network.existing` — deploy into a network you already have."""

    network_id: str = Field(min_length=3, description="VPC / VNet / VPC network ID.")
    public_subnet_ids: list[str] = Field(min_length=2, description="Subnets for the load balancer, in ≥ 2 zones.")
    private_subnet_ids: list[str] = Field(
        min_length=2, description="Subnets for the VMs (no public IPs), in ≥ 2 zones."
    )


class NetworkConfig(_Model):
    """`appstack:network` — the network the stack creates (or reuses)."""

    cidr: Cidr = Field(
        "10.0.0.0/16", description="Address range of the new network (/16 to /22). Default: `10.0.0.0/16`."
    )
    zone_count: int = Field(
        ge=2, le=6, description="Availability zones used (≥ 2 for the load balancer). Default: 2 (dev), 3 (prod)."
    )
    nat_per_zone: bool = Field(
        description="One NAT gateway per zone instead of one shared. Default: false (dev), true (prod)."
    )
    existing: ExistingNetwork | None = Field(
        None, description="Reuse an existing network instead of creating one. Default: none."
    )

    @model_validator(mode="after")
    def _cidr_size(self) -> NetworkConfig:
        net = ipaddress.ip_network(self.cidr)
        if net.version != 4 or not 16 <= net.prefixlen <= 22:
            raise ConfigProblem(
                f"{self.cidr!r} cannot hold the stack's subnets",
                "use an IPv4 range from /16 to /22, e.g. 10.0.0.0/16",
                key="network.cidr",
                value=self.cidr,
            )
        return self


class AccessConfig(_Model):
    """`appstack:access` — who may reach what."""

    ingress_cidrs: list[Cidr] = Field(
        ["0.0.0.0/0"],
        min_length=1,
        description="Sources allowed to reach the load balancer on 443 (and 80, which only redirects). Default: the internet.",
    )
    admin_cidrs: list[AdminCidr] = Field(
        [], description="Admin networks allowed to SSH when `ssh` is on; never the internet. Default: none."
    )
    ssh: bool = Field(
        False,
        description="Open SSH (22) to the VMs from `adminCidrs`. Default: false — admins use the cloud's session manager.",
    )
    egress_cidrs: list[Cidr] = Field(
        ["0.0.0.0/0"],
        min_length=1,
        description="Destinations the VMs may reach on 443 (packages, agents, cloud APIs). Default: anywhere, HTTPS only.",
    )

    @model_validator(mode="after")
    def _ssh_needs_admins(self) -> AccessConfig:
        if self.ssh and not self.admin_cidrs:
            raise ConfigProblem(
                "ssh is on but no admin networks are listed",
                "set appstack:access.adminCidrs (e.g. [203.0.113.0/24]) or turn ssh off",
                key="access.ssh",
                value=True,
            )
        return self


class DnsConfig(_Model):
    """`appstack:dns` — the name users reach the app by."""

    domain: Hostname = Field(description="FQDN of the app, e.g. `app.example.com`. Required.")
    zone: Hostname = Field(
        description="DNS zone that holds `domain` and the certificate's validation records. Required."
    )

    @model_validator(mode="after")
    def _domain_in_zone(self) -> DnsConfig:
        if self.domain != self.zone and not self.domain.endswith("." + self.zone):
            raise ConfigProblem(
                f"domain {self.domain!r} is not inside zone {self.zone!r}",
                "set appstack:dns.zone to a parent of the domain",
                key="dns.domain",
                value=self.domain,
            )
        return self


class LoadBalancerConfig(_Model):
    """`appstack:loadBalancer` — the TLS front door."""

    tls_policy: str | None = Field(
        None,
        description="TLS policy of the HTTPS listener, from the cloud's allow-list. "
        "Default: `ELBSecurityPolicy-TLS13-1-2-Res-2021-06` (AWS), `AppGwSslPolicy20220101S` (Azure), "
        "`RESTRICTED` (GCP SSL policy profile, or `MODERN`; TLS 1.2 minimum either way).",
    )
    certificate_id: str | None = Field(
        None,
        min_length=10,
        description="Existing certificate instead of a managed one: AWS ACM ARN; Azure versionless Key Vault secret ID "
        "(`https://<vault>.vault.azure.net/secrets/<name>`). Default: none — AWS: DNS-validated ACM certificate; "
        "Azure: a self-signed Key Vault certificate (for trying the stack; browsers warn). "
        "GCP: `projects/<project>/global/sslCertificates/<name>` instead of a Google-managed certificate.",
    )
    access_log_retention_days: int = Field(
        ge=1, le=3650, description="Days load balancer access logs are kept. Default: 30 (dev), 365 (prod)."
    )
    waf: bool = Field(
        description="Put a web application firewall with the cloud's managed rule sets in front of the load "
        "balancer, logging to the log sink. Default: false (dev), true (prod)."
    )


class LoggingConfig(_Model):
    """`appstack:logging` — the log sink."""

    retention_days: int = Field(
        ge=1,
        le=3653,
        description="Days VM, app and flow logs are kept; at least 7 in dev, 365 in prod. Default: 30 (dev), 365 (prod).",
    )


class MonitoringConfig(_Model):
    """`appstack:monitoring` — alert channel and alarm thresholds."""

    alert_emails: list[Email] = Field(min_length=1, description="Addresses subscribed to the alert channel. Required.")
    cpu_high_percent: int = Field(
        ge=1, le=100, description="Per-VM CPU alarm threshold (%). Default: 90 (dev), 80 (prod)."
    )
    response_time_seconds: float = Field(
        gt=0, le=60, description="Target response time alarm threshold (s, average). Default: 2.0 (dev), 1.0 (prod)."
    )
    server_errors_per_period: int = Field(
        ge=1, description="HTTP 5xx responses per period that raise an alarm. Default: 50 (dev), 10 (prod)."
    )
    unhealthy_hosts: int = Field(ge=1, description="Unhealthy targets that raise an alarm. Default: 1.")
    period_seconds: int = Field(
        300, ge=60, le=86400, multiple_of=60, description="Alarm evaluation period (s). Default: 300."
    )


class ProtectionConfig(_Model):
    """`appstack:protection` — guards against accidental deletion."""

    deletion_protection: bool = Field(
        description="Deletion protection on the load balancer; on the VMs, termination protection against the console and CLI only (the provider turns it off to destroy or replace a VM). Default: false (dev), true (prod)."
    )
    protect_stateful: bool = Field(
        description="Pulumi `protect` and `retain_on_delete` on keys, log groups and log buckets. Default: false (dev), true (prod)."
    )


class AwsConfig(_Model):
    """`appstack:aws` — settings only AWS needs."""

    region: str = Field(
        pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$", description="AWS region, e.g. `eu-west-1`. Required for AWS."
    )


#: SSH public key types Azure accepts for Linux VMs (RSA of at least 2048 bits, and Ed25519).
_AZURE_SSH_KEY_TYPES = ("ssh-rsa", "ssh-ed25519")


def _ssh_public_key(value: str) -> str:
    fix = "paste one OpenSSH public key line, e.g. the content of ~/.ssh/id_ed25519.pub (ssh-ed25519 AAAA... you@host)"
    parts = value.split()
    if len(parts) < 2 or parts[0] not in _AZURE_SSH_KEY_TYPES:
        raise ConfigProblem(f"{value[:40]!r} is not an ssh-rsa or ssh-ed25519 public key", fix)
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise ConfigProblem(f"the key data of {value[:40]!r} is not base64", fix) from None
    # The blob starts with its own type as an SSH string: a pasted private key or a truncated
    # line does not.
    size = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else 0
    if blob[4 : 4 + size].decode("ascii", "replace") != parts[0]:
        raise ConfigProblem(f"the key data of {value[:40]!r} does not hold a {parts[0]} key", fix)
    if parts[0] == "ssh-rsa" and len(blob) < 270:  # a 2048-bit modulus alone is 257 bytes
        raise ConfigProblem(f"{value[:40]!r} is an RSA key shorter than 2048 bits", "use ssh-ed25519 or RSA 2048+")
    if "PRIVATE" in value:
        raise ConfigProblem("that is a private key", fix)
    return value


SshPublicKey = Annotated[str, AfterValidator(_ssh_public_key)]


class AzureConfig(_Model):
    """`appstack:azure` — settings only Azure needs."""

    location: str = Field(pattern=r"^[a-z0-9]+$", description="Azure location, e.g. `westeurope`. Required for Azure.")
    admin_ssh_public_key: SshPublicKey | None = Field(
        None,
        description="OpenSSH public key (ssh-ed25519 or ssh-rsa 2048+) of the VMs' admin user `azureuser`. Azure "
        "Linux VMs need one when password login is off, which it always is; SSH itself stays closed unless "
        "`access.ssh`. Required for Azure.",
    )
    customer_managed_keys: bool = Field(
        True,
        description="Encrypt VM disks with a Key Vault key through a disk encryption set (as AWS uses KMS keys; the "
        "policy pack requires it). `false` uses platform-managed keys and fails the pack's CMK rule unless "
        "that rule is configured off. Default: true.",
    )
    encryption_at_host: bool = Field(
        True,
        description="Encryption at host (temp disk, caches, data in flight to storage). Needs the subscription "
        "feature `Microsoft.Compute/EncryptionAtHost` registered once; `false` fails the pack. Default: true.",
    )
    dns_zone_resource_group: str | None = Field(
        None,
        pattern=r"^[-\w._()]{1,90}$",
        description="Resource group of the Azure DNS zone `dns.zone`: the stack then writes the A record of "
        "`dns.domain`. Default: none — point `dns.domain` at the `loadBalancerAddress` output yourself.",
    )
    network_watcher_resource_group: str = Field(
        "NetworkWatcherRG",
        pattern=r"^[-\w._()]{1,90}$",
        description="Resource group of the region's Network Watcher, which holds the VNet flow log. Default: "
        "`NetworkWatcherRG`, where Azure creates it.",
    )
    network_watcher_name: str | None = Field(
        None,
        pattern=r"^[-\w.]{1,80}$",
        description="Name of the region's Network Watcher. Default: `NetworkWatcher_<location>`, Azure's own name.",
    )


class GcpConfig(_Model):
    """`appstack:gcp` — settings only Google Cloud needs.

    The stack's explicit provider uses this project and region; key rings, the log bucket, the
    subnet and the VMs are created in that region (the load balancer is global).
    """

    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", description="GCP project ID. Required for GCP.")
    region: str = Field(pattern=r"^[a-z]+-[a-z]+\d+$", description="GCP region, e.g. `europe-west1`. Required for GCP.")


class StackConfig(_Model):
    """Everything under the `appstack` config namespace of one stack."""

    cloud: Cloud = Field(description="Cloud to deploy to: `aws`, `azure` or `gcp`. Required.")
    environment: Environment = Field(
        description="Environment profile: `dev` or `prod`; selects the defaults. Required."
    )
    app: AppConfig = Field(description="What runs and who owns it.")
    compute: ComputeConfig = Field(description="The VM tier; defaults from the profile.")
    network: NetworkConfig = Field(description="The network; defaults from the profile.")
    access: AccessConfig = Field(
        default_factory=lambda: AccessConfig.model_validate({}), description="Who may reach what; secure defaults."
    )
    dns: DnsConfig = Field(description="App domain and DNS zone. Required.")
    load_balancer: LoadBalancerConfig = Field(description="The TLS front door; defaults from the profile.")
    logging: LoggingConfig = Field(description="The log sink; defaults from the profile.")
    monitoring: MonitoringConfig = Field(description="Alert channel and thresholds; `alertEmails` is required.")
    protection: ProtectionConfig = Field(description="Deletion guards; defaults from the profile.")
    tags: dict[str, str] = Field({}, description="Extra tags on every resource. Default: none.")
    aws: AwsConfig | None = Field(None, description="AWS settings; required when `cloud` is aws.")
    azure: AzureConfig | None = Field(None, description="Azure settings; required when `cloud` is azure.")
    gcp: GcpConfig | None = Field(None, description="GCP settings; required when `cloud` is gcp.")

    @model_validator(mode="before")
    @classmethod
    def _apply_profile(cls, data: Any) -> Any:
        # The stack file only states what differs from its environment's profile.
        if isinstance(data, dict) and data.get("environment") in PROFILES:
            return deep_merge(PROFILES[data["environment"]], data)
        return data

    @model_validator(mode="after")
    def _cross_checks(self) -> StackConfig:
        if getattr(self, self.cloud) is None:
            example = {
                "aws": "region: eu-west-1",
                "azure": "location: westeurope",
                "gcp": "project: my-project, region: europe-west1",
            }
            raise ConfigProblem(
                f"cloud is {self.cloud} but appstack:{self.cloud} is missing",
                f"add appstack:{self.cloud} with {example[self.cloud]}",
                key=self.cloud,
                value=None,
            )
        floor = RETENTION_FLOOR_DAYS[self.environment]
        if self.logging.retention_days < floor:
            raise ConfigProblem(
                f"{self.logging.retention_days} days is below the {self.environment} floor of {floor} days",
                f"set appstack:logging.retentionDays to {floor} or more",
                key="logging.retentionDays",
                value=self.logging.retention_days,
            )
        self._group_checks()
        if self.cloud == "aws":
            self._aws_checks()
        if self.cloud == "azure":
            self._azure_checks()
        if self.cloud == "gcp":
            self._gcp_checks()
        return self

    def _group_checks(self) -> None:
        group = self.compute.group
        limit = GROUP_MAX_SIZE[self.cloud]
        if self.compute.mode == "group" and group.max > limit:
            raise ConfigProblem(
                f"a VM group on {self.cloud} holds at most {limit} VMs",
                f"set appstack:compute.group.max to {limit} or less",
                key="compute.group.max",
                value=group.max,
            )
        if self.compute.mode == "group" and group.cpu_target_percent >= self.monitoring.cpu_high_percent:
            raise ConfigProblem(
                f"the group scales at {group.cpu_target_percent}% CPU, at or above the CPU alarm's "
                f"{self.monitoring.cpu_high_percent}%, so the alarm would page before the group scales out",
                f"set appstack:compute.group.cpuTargetPercent below {self.monitoring.cpu_high_percent}",
                key="compute.group.cpuTargetPercent",
                value=group.cpu_target_percent,
            )

    def _gcp_checks(self) -> None:
        days = self.logging.retention_days
        low, high = GCP_LOG_BUCKET_RETENTION_DAYS
        if not low <= days <= high:
            raise ConfigProblem(
                f"a Cloud Logging bucket does not accept {days} days",
                f"use {low} to {high} days",
                key="logging.retentionDays",
                value=days,
            )
        policy = self.load_balancer.tls_policy
        if policy is not None and policy not in GCP_TLS_POLICIES:
            raise ConfigProblem(
                f"SSL policy profile {policy!r} is not allowed on GCP (it must refuse legacy cipher suites)",
                f"use one of {', '.join(GCP_TLS_POLICIES)}",
                key="loadBalancer.tlsPolicy",
                value=policy,
            )
        cert = self.load_balancer.certificate_id
        if cert is not None and not re.match(
            r"^(https://www\.googleapis\.com/compute/v1/)?projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/global/"
            r"sslCertificates/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$",
            cert,
        ):
            raise ConfigProblem(
                f"{cert!r} is not a global Compute Engine SSL certificate",
                "use projects/<project>/global/sslCertificates/<name>, or remove it for a Google-managed certificate",
                key="loadBalancer.certificateId",
                value=cert,
            )

    def _azure_checks(self) -> None:
        assert self.azure is not None
        if self.azure.admin_ssh_public_key is None:
            raise ConfigProblem(
                "cloud is azure but no admin SSH public key is set (Azure Linux VMs need one; passwords stay off)",
                "set appstack:azure.adminSshPublicKey to the content of your ~/.ssh/id_ed25519.pub",
                key="azure.adminSshPublicKey",
                value=None,
            )
        if self.network.zone_count > AZURE_MAX_ZONES:
            raise ConfigProblem(
                f"Azure regions have {AZURE_MAX_ZONES} availability zones, not {self.network.zone_count}",
                f"set appstack:network.zoneCount to 2 or {AZURE_MAX_ZONES}",
                key="network.zoneCount",
                value=self.network.zone_count,
            )
        if self.compute.architecture == "arm64":
            raise ConfigProblem(
                "Azure's Arm64 sizes (Dpsv5 family) do not support Trusted Launch (secure boot + vTPM), which "
                "every VM of the stack has",
                "set appstack:compute.architecture to x86_64 on Azure",
                key="compute.architecture",
                value="arm64",
            )
        if self.network.existing is not None:
            raise ConfigProblem(
                "reusing an existing VNet is not supported on Azure yet",
                "remove appstack:network.existing so the stack creates its VNet",
                key="network.existing",
                value=self.network.existing.network_id,
            )
        days = self.logging.retention_days
        if not AZURE_WORKSPACE_RETENTION_DAYS[0] <= days <= AZURE_WORKSPACE_RETENTION_DAYS[1]:
            low, high = AZURE_WORKSPACE_RETENTION_DAYS
            raise ConfigProblem(
                f"a Log Analytics workspace does not accept {days} days",
                f"use {low} to {high} days (e.g. {min(max(days, low), high)})",
                key="logging.retentionDays",
                value=days,
            )
        policy = self.load_balancer.tls_policy
        if policy is not None and policy not in AZURE_TLS_POLICIES:
            raise ConfigProblem(
                f"TLS policy {policy!r} is not allowed on Azure (it must refuse TLS 1.0/1.1 and CBC suites)",
                f"use one of {', '.join(AZURE_TLS_POLICIES)}",
                key="loadBalancer.tlsPolicy",
                value=policy,
            )
        cert = self.load_balancer.certificate_id
        if cert is not None and not re.match(
            r"^https://[a-z][a-z0-9-]{1,22}[a-z0-9]\.vault\.azure\.net/secrets/[A-Za-z0-9-]{1,127}/?$", cert
        ):
            raise ConfigProblem(
                f"{cert!r} is not a versionless Key Vault secret ID",
                "use https://<vault>.vault.azure.net/secrets/<certificate-name> (no version, so renewals are picked "
                "up), or remove it for a Key Vault self-signed certificate",
                key="loadBalancer.certificateId",
                value=cert,
            )

    def _aws_checks(self) -> None:
        days = self.logging.retention_days
        if days not in CLOUDWATCH_RETENTION_DAYS:
            allowed = [d for d in CLOUDWATCH_RETENTION_DAYS if d >= days][:1] or [3653]
            raise ConfigProblem(
                f"CloudWatch Logs does not accept {days} days",
                f"use one of {', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))} (e.g. {allowed[0]})",
                key="logging.retentionDays",
                value=days,
            )
        policy = self.load_balancer.tls_policy
        if policy is not None and policy not in AWS_TLS_POLICIES:
            raise ConfigProblem(
                f"TLS policy {policy!r} is not allowed (it must refuse TLS 1.0/1.1 and CBC suites)",
                f"use one of {', '.join(AWS_TLS_POLICIES)}",
                key="loadBalancer.tlsPolicy",
                value=policy,
            )
        cert = self.load_balancer.certificate_id
        if cert is not None and not re.match(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$", cert):
            raise ConfigProblem(
                f"{cert!r} is not an ACM certificate ARN",
                "use arn:aws:acm:<region>:<account>:certificate/<uuid>, or remove it for a managed certificate",
                key="loadBalancer.certificateId",
                value=cert,
            )
