"""S1-S2: GCP Shielded VM (all three options) and Azure Trusted Launch."""

from __future__ import annotations

import copy

import pytest

from policies.framework import MANDATORY
from tests.policies.support import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, rule, violations

SHIELDED = "boot-gcp-shielded-vm"
TRUSTED = "boot-azure-trusted-launch"

GCP_TYPES = [
    "gcp:compute/instance:Instance",
    "gcp:compute/instanceTemplate:InstanceTemplate",
    "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
    "gcp:compute/instanceFromTemplate:InstanceFromTemplate",
]
AZ_VM = "azure-native:compute:VirtualMachine"
AZ_VMSS = "azure-native:compute:VirtualMachineScaleSet"

GCE = {
    "machineType": "e2-small",
    "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True},
}
PROFILE = {
    "securityType": "TrustedLaunch",
    "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
    "encryptionAtHost": True,
}
AZ = {"resourceGroupName": "rg", "securityProfile": PROFILE}
AZ_SS = {"resourceGroupName": "rg", "virtualMachineProfile": {"securityProfile": PROFILE}}


def test_levels_and_catalogue():
    assert rule(SHIELDED).level == MANDATORY and rule(SHIELDED).catalogue == ("S1",)
    assert rule(TRUSTED).level == MANDATORY and rule(TRUSTED).catalogue == ("S2",)


@pytest.mark.parametrize("type_", GCP_TYPES)
def test_passes_when_shielded(type_):
    assert violations(SHIELDED, type_, GCE) == []


@pytest.mark.parametrize("key", ["enableSecureBoot", "enableVtpm", "enableIntegrityMonitoring"])
@pytest.mark.parametrize("value,needle", [(False, "is False"), (None, "is not set"), ("false", "'false'")])
def test_fails_when_shielded_option_off(key, value, needle):
    props = copy.deepcopy(GCE)
    if value is None:
        del props["shieldedInstanceConfig"][key]
    else:
        props["shieldedInstanceConfig"][key] = value
    msgs = violations(SHIELDED, GCP_TYPES[0], props)
    assert msgs == [m for m in msgs if key in m] and len(msgs) == 1 and needle in msgs[0]


def test_fails_when_shielded_config_missing_or_malformed():
    msgs = violations(SHIELDED, GCP_TYPES[1], {"machineType": "e2-small"})
    assert len(msgs) == 1 and "Secure Boot is off" in msgs[0]
    msgs = violations(SHIELDED, GCP_TYPES[0], {"shieldedInstanceConfig": [True, True, True]})
    assert len(msgs) == 1 and "not an object" in msgs[0]


def test_unknown_secure_boot_raises_in_preview_and_fails_on_up():
    props = copy.deepcopy(GCE)
    props["shieldedInstanceConfig"]["enableSecureBoot"] = UNKNOWN_BOOLEAN_VALUE
    with pytest.raises(UnknownValueError):
        violations(SHIELDED, GCP_TYPES[0], props)
    assert "unknown" in violations(SHIELDED, GCP_TYPES[0], props, dry_run=False)[0]


@pytest.mark.parametrize("type_,props", [(AZ_VM, AZ), (AZ_VMSS, AZ_SS)])
def test_passes_when_trusted_launch(type_, props):
    assert violations(TRUSTED, type_, props) == []


def test_passes_when_confidential_vm():
    props = copy.deepcopy(AZ)
    props["securityProfile"]["securityType"] = "ConfidentialVM"
    assert violations(TRUSTED, AZ_VM, props) == []


@pytest.mark.parametrize(
    "path,value,needle",
    [
        (("securityType",), "Standard", "securityType is 'Standard'"),
        (("securityType",), None, "securityType is not set"),
        (("uefiSettings", "secureBootEnabled"), False, "secureBootEnabled is False"),
        (("uefiSettings", "vTpmEnabled"), None, "vTpmEnabled is not set"),
    ],
)
@pytest.mark.parametrize(
    "type_,props,base",
    [(AZ_VM, AZ, ("securityProfile",)), (AZ_VMSS, AZ_SS, ("virtualMachineProfile", "securityProfile"))],
)
def test_fails_when_trusted_launch_incomplete(type_, props, base, path, value, needle):
    props = copy.deepcopy(props)
    cur = props
    for key in base + path[:-1]:
        cur = cur[key]
    if value is None:
        del cur[path[-1]]
    else:
        cur[path[-1]] = value
    msgs = violations(TRUSTED, type_, props)
    assert len(msgs) == 1 and needle in msgs[0], msgs


def test_fails_when_security_profile_missing_or_malformed():
    msgs = violations(TRUSTED, AZ_VM, {"resourceGroupName": "rg"})
    assert len(msgs) == 1 and "securityProfile is not set" in msgs[0]
    msgs = violations(TRUSTED, AZ_VMSS, {"virtualMachineProfile": {"securityProfile": "TrustedLaunch"}})
    assert len(msgs) == 1 and "not an object" in msgs[0]
    msgs = violations(TRUSTED, AZ_VM, {"securityProfile": {"securityType": "TrustedLaunch"}})
    assert len(msgs) == 2  # no uefiSettings: secure boot and vTPM both unset


def test_unknown_security_type_raises_in_preview_and_fails_on_up():
    props = copy.deepcopy(AZ)
    props["securityProfile"]["securityType"] = UNKNOWN_STRING_VALUE
    with pytest.raises(UnknownValueError):
        violations(TRUSTED, AZ_VM, props)
    assert "unknown" in violations(TRUSTED, AZ_VM, props, dry_run=False)[0]


def test_security_types_knob():
    props = copy.deepcopy(AZ)
    props["securityProfile"]["securityType"] = "ConfidentialVM"
    assert violations(TRUSTED, AZ_VM, props, config={"securityTypes": ["TrustedLaunch"]})
