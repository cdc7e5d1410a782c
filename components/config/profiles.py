"""Environment profiles and size maps: the defaults a stack file does not have to state.

A stack file only states what differs from its environment's profile. Profile values are merged
under the stack file's values before validation, so the model's documented defaults and the
profiles below are the single source of truth (the README's config reference is generated from
both).
"""

from __future__ import annotations

from typing import Any, Literal

Environment = Literal["dev", "prod"]
Cloud = Literal["aws", "azure", "gcp"]
Size = Literal["small", "medium", "large"]

#: Per-environment defaults, keyed like the stack file (camelCase). Why each differs:
PROFILES: dict[str, dict[str, Any]] = {
    "dev": {
        # One small VM is enough to exercise the stack; cost matters more than HA in dev. Plain
        # instances: stable IDs to debug against, and nothing scales or replaces VMs by itself.
        # `mode: group` in a dev stack gets a group of 1 (growing to 2 under load).
        "compute": {
            "instanceCount": 1,
            "size": "small",
            "mode": "instances",
            "group": {"min": 1, "desired": 1, "max": 2, "cpuTargetPercent": 60},
        },
        # One NAT gateway for the whole VPC: an AZ outage only takes dev egress down.
        "network": {"zoneCount": 2, "natPerZone": False},
        "logging": {"retentionDays": 30},
        # Dev stacks are torn down often: nothing blocks `pulumi destroy`.
        "protection": {"deletionProtection": False, "protectStateful": False},
        # Dev alarms are noisy by nature; page less.
        "monitoring": {
            "cpuHighPercent": 90,
            "responseTimeSeconds": 2.0,
            "serverErrorsPerPeriod": 50,
            "unhealthyHosts": 1,
        },
        # A WAF costs per rule and request; dev traffic is the team's own.
        "loadBalancer": {"accessLogRetentionDays": 30, "waf": False},
    },
    "prod": {
        # Survive the loss of an instance and of an AZ. A group: dead VMs are replaced by the
        # cloud, a changed boot config rolls out with no capacity drop, and load adds VMs. Two
        # VMs at least (one may be replaced while the other serves), three at the start (one
        # per zone, as many as the instances mode's three), six at most (cost ceiling).
        "compute": {
            "instanceCount": 3,
            "size": "medium",
            "mode": "group",
            "group": {"min": 2, "desired": 3, "max": 6, "cpuTargetPercent": 60},
        },
        # NAT per AZ so an AZ outage does not cut every instance's egress.
        "network": {"zoneCount": 3, "natPerZone": True},
        # A year of logs is the usual audit floor (ISO 27001, SOC 2 evidence windows).
        "logging": {"retentionDays": 365},
        # Stateful and front-door resources must not disappear by accident.
        "protection": {"deletionProtection": True, "protectStateful": True},
        "monitoring": {
            "cpuHighPercent": 80,
            "responseTimeSeconds": 1.0,
            "serverErrorsPerPeriod": 10,
            "unhealthyHosts": 1,
        },
        # Public production traffic goes through AWS managed rule groups (OWASP top 10, bad inputs).
        "loadBalancer": {"accessLogRetentionDays": 365, "waf": True},
    },
}

#: Minimum log retention per environment; below it the config is rejected.
RETENTION_FLOOR_DAYS: dict[str, int] = {"dev": 7, "prod": 365}

#: Abstract sizes to each cloud's machine types (x86_64). Burstable in small; general purpose above.
MACHINE_TYPES: dict[str, dict[str, str]] = {
    "aws": {"small": "t3.small", "medium": "m6i.large", "large": "m6i.xlarge"},
    "azure": {"small": "Standard_B2s", "medium": "Standard_D2s_v5", "large": "Standard_D4s_v5"},
    "gcp": {"small": "e2-small", "medium": "e2-standard-2", "large": "e2-standard-4"},
}

#: Arm64 (Graviton) equivalents on AWS, used when `compute.architecture` is arm64.
AWS_ARM_MACHINE_TYPES: dict[str, str] = {"small": "t4g.small", "medium": "m7g.large", "large": "m7g.xlarge"}

#: Retention values CloudWatch Logs accepts (any other value is rejected by the API).
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

#: ALB TLS policies allowed for the HTTPS listener: TLS 1.3 capable, no TLS 1.0/1.1 and no
#: CBC-mode suites (ECDHE AES-GCM in TLS 1.2), exactly the policy pack's default for
#: transport-tls-policy (`awsSslPolicies`), so no accepted choice is refused at deploy time.
#: ELBSecurityPolicy-TLS13-1-2-2021-06 and -TLS13-1-2-PQ-2025-09 still offer CBC suites.
AWS_TLS_POLICIES: tuple[str, ...] = (
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
)
AWS_DEFAULT_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"

#: Application Gateway predefined TLS policies allowed for the HTTPS listener. Only the strict
#: "S" one: TLS 1.2 minimum with ECDHE AEAD (GCM) suites only, plus TLS 1.3; its sibling
#: AppGwSslPolicy20220101 also offers CBC suites.
AZURE_TLS_POLICIES: tuple[str, ...] = ("AppGwSslPolicy20220101S",)
AZURE_DEFAULT_TLS_POLICY = "AppGwSslPolicy20220101S"

#: Largest group (`compute.group.max`) each cloud allows. Azure: a Flexible scale set holds at
#: most 1,000 VMs; GCP: a regional managed instance group at most 2,000 (the
#: regionInstanceGroupManagers.insert reference). AWS sets no per-group limit (the account's
#: EC2 vCPU quota is the real one); 1,000 keeps a typo like 10000 from planning.
GROUP_MAX_SIZE: dict[str, int] = {"aws": 1000, "azure": 1000, "gcp": 2000}

#: Availability zones of an Azure region ("1" to "3").
AZURE_MAX_ZONES = 3

#: Interactive retention a Log Analytics workspace (PerGB2018) accepts, in days.
AZURE_WORKSPACE_RETENTION_DAYS: tuple[int, int] = (30, 730)

#: GCP SSL policy profiles allowed on the HTTPS proxy (always with minTlsVersion TLS_1_2):
#: RESTRICTED offers ECDHE with AES-GCM or ChaCha20 only (like the AWS default); MODERN adds a
#: few more suites. COMPATIBLE (legacy suites) and CUSTOM are refused.
GCP_TLS_POLICIES: tuple[str, ...] = ("RESTRICTED", "MODERN")
GCP_DEFAULT_TLS_POLICY = "RESTRICTED"

#: Arm64 (Tau T2A) equivalents on GCP, used when `compute.architecture` is arm64. T2A runs in
#: fewer regions than E2 (e.g. us-central1, europe-west4, asia-southeast1): check the region.
GCP_ARM_MACHINE_TYPES: dict[str, str] = {
    "small": "t2a-standard-1",
    "medium": "t2a-standard-2",
    "large": "t2a-standard-4",
}

#: Retention a Cloud Logging bucket accepts, in days.
GCP_LOG_BUCKET_RETENTION_DAYS: tuple[int, int] = (1, 3650)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`, recursing into nested mappings; neither is modified."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
