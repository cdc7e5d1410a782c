"""Concern `secure-boot` (policy names `boot-...`): S1-S2: shielded VM / trusted launch.

AWS has no per-instance equivalent: UEFI Secure Boot and NitroTPM are properties of the AMI
(``bootMode``/``tpmSupport`` at registration), not inputs of ``aws:ec2/instance``, so S1-S2 cover
GCP and Azure only.

GCP defaults vTPM and integrity monitoring to on but Secure Boot to off (and Checkov's check
ignores Secure Boot); this pack requires all three explicitly, so a missing setting fails closed.

VM groups: GCP instance templates (global and regional) carry ``shieldedInstanceConfig`` like
instances and are judged (a managed instance group has no boot settings of its own); an Azure
scale set carries ``virtualMachineProfile.securityProfile`` and is judged like a VM.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..framework import Context, Knob, Props, Rule, StackRule, dig, is_map, truthy
from ..shapes import get, show
from ..tokens import AZ_VM, AZ_VMSS, GCP_VM_TYPES

_SHIELDED_KEYS = ("enableSecureBoot", "enableVtpm", "enableIntegrityMonitoring")


def check_gcp_shielded_vm(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    cfg = get(props, "shieldedInstanceConfig")
    if cfg is None:
        yield (
            "shieldedInstanceConfig is not set, so Secure Boot is off; set enableSecureBoot, enableVtpm "
            "and enableIntegrityMonitoring to true (use a Shielded VM image)"
        )
        return
    if not is_map(cfg):
        yield f"shieldedInstanceConfig is not an object ({show(cfg)}); set the three Shielded VM options to true"
        return
    for key in _SHIELDED_KEYS:
        value = get(cfg, key)
        if not truthy(value):
            shown = "not set" if value is None else show(value)
            yield f"shieldedInstanceConfig.{key} is {shown}; set it to true"


def check_azure_trusted_launch(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    base = "virtualMachineProfile.securityProfile" if resource_type == AZ_VMSS else "securityProfile"
    profile: Any = (
        dig(props, "virtualMachineProfile", "securityProfile")
        if resource_type == AZ_VMSS
        else get(props, "securityProfile")
    )
    allowed = list(ctx["securityTypes"])
    if profile is None:
        yield f"{base} is not set (a standard VM without Secure Boot or vTPM); set securityType to one of {allowed}"
        return
    if not is_map(profile):
        yield f"{base} is not an object ({show(profile)}); set securityType to one of {allowed}"
        return
    stype = get(profile, "securityType")
    if not isinstance(stype, str) or stype.lower() not in {str(a).lower() for a in allowed}:
        shown = "not set" if stype is None else show(stype)
        yield f"{base}.securityType is {shown}; set it to one of {allowed}"
    uefi = get(profile, "uefiSettings")
    if uefi is not None and not is_map(uefi):
        yield f"{base}.uefiSettings is not an object ({show(uefi)}); set secureBootEnabled and vTpmEnabled to true"
        return
    for key in ("secureBootEnabled", "vTpmEnabled"):
        value = get(uefi, key) if uefi is not None else None
        if not truthy(value):
            shown = "not set" if value is None else show(value)
            yield f"{base}.uefiSettings.{key} is {shown}; set it to true"


RULES: list[Rule | StackRule] = [
    Rule(
        name="boot-gcp-shielded-vm",
        description="GCP VMs and instance templates must enable Secure Boot, vTPM and integrity monitoring.",
        concern="secure-boot",
        clouds=("gcp",),
        resource_types=GCP_VM_TYPES,
        check=check_gcp_shielded_vm,
        catalogue=("S1",),
        peers=("CKV_GCP_39", "AVD-GCP-0067", "AVD-GCP-0041", "AVD-GCP-0045", "gpl:…shielded_v1"),
    ),
    Rule(
        name="boot-azure-trusted-launch",
        description="Azure VMs and scale sets must use Trusted Launch (or Confidential VM) with Secure Boot and vTPM on.",
        concern="secure-boot",
        clouds=("azure",),
        resource_types=(AZ_VM, AZ_VMSS),
        check=check_azure_trusted_launch,
        knobs={
            "securityTypes": Knob(
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
                ["TrustedLaunch", "ConfidentialVM"],
                "accepted securityProfile.securityType values",
            )
        },
        catalogue=("S2",),
    ),
]
