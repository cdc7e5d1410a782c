"""P1-P2: no public IPs on VMs, no auto-assigned subnet IPs, Standard SKU PIPs, no IP forwarding."""

from __future__ import annotations

import copy

import pytest

from policies.framework import ADVISORY, MANDATORY
from tests.policies.support import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    mutate,
    rule,
    violations,
)

NO_PIP = "public-vm-no-public-ip"
SUBNET = "public-subnet-no-auto-public-ip"
SKU = "public-ip-standard-sku"
FWD = "public-no-ip-forwarding"

AWS_INSTANCE = "aws:ec2/instance:Instance"
AWS_LT = "aws:ec2/launchTemplate:LaunchTemplate"
AWS_SUBNET = "aws:ec2/subnet:Subnet"
AWS_EIP = "aws:ec2/eip:Eip"
AWS_EIP_ASSOC = "aws:ec2/eipAssociation:EipAssociation"
AWS_ENI = "aws:ec2/networkInterface:NetworkInterface"
AZ_NIC = "azure-native:network:NetworkInterface"
AZ_PIP = "azure-native:network:PublicIPAddress"
AZ_VM = "azure-native:compute:VirtualMachine"
AZ_VMSS = "azure-native:compute:VirtualMachineScaleSet"
GCP_INSTANCE = "gcp:compute/instance:Instance"
GCP_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
GCP_REGION_TEMPLATE = "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate"

AWS_INSTANCE_PROPS = {
    "ami": "ami-1",
    "associatePublicIpAddress": False,
    "sourceDestCheck": True,
    "subnetId": "subnet-1",
}
AWS_LT_PROPS = {"imageId": "ami-1", "networkInterfaces": [{"associatePublicIpAddress": "false", "deviceIndex": 0}]}
AWS_SUBNET_PROPS = {"vpcId": "vpc-1", "cidrBlock": "10.0.1.0/24", "mapPublicIpOnLaunch": False}
AZ_NIC_PROPS = {
    "resourceGroupName": "rg",
    "enableIPForwarding": False,
    "ipConfigurations": [
        {"name": "ip", "subnet": {"id": "/subscriptions/s/.../subnets/app"}, "privateIPAllocationMethod": "Dynamic"}
    ],
}
AZ_VM_PROPS = {
    "resourceGroupName": "rg",
    "networkProfile": {"networkInterfaces": [{"id": "/subscriptions/s/.../networkInterfaces/nic"}]},
}
AZ_VM_INLINE_PROPS = {
    "resourceGroupName": "rg",
    "networkProfile": {
        "networkApiVersion": "2020-11-01",
        "networkInterfaceConfigurations": [
            {"name": "nic", "enableIPForwarding": False, "ipConfigurations": [{"name": "ip", "subnet": {"id": "x"}}]}
        ],
    },
}
AZ_VMSS_PROPS = {
    "resourceGroupName": "rg",
    "virtualMachineProfile": {"networkProfile": copy.deepcopy(AZ_VM_INLINE_PROPS["networkProfile"])},
}
AZ_PIP_PROPS = {
    "resourceGroupName": "rg",
    "sku": {"name": "Standard", "tier": "Regional"},
    "publicIPAllocationMethod": "Static",
}
GCP_VM_PROPS = {
    "machineType": "e2-small",
    "canIpForward": False,
    "networkInterfaces": [{"subnetwork": "projects/p/regions/r/subnetworks/app"}],
}

BASELINES = [
    (NO_PIP, AWS_INSTANCE, AWS_INSTANCE_PROPS),
    (NO_PIP, AWS_LT, AWS_LT_PROPS),
    (NO_PIP, AWS_EIP, {"domain": "vpc"}),
    (NO_PIP, AWS_EIP_ASSOC, {"allocationId": "eipalloc-1"}),
    (NO_PIP, AZ_NIC, AZ_NIC_PROPS),
    (NO_PIP, AZ_VM, AZ_VM_PROPS),
    (NO_PIP, AZ_VM, AZ_VM_INLINE_PROPS),
    (NO_PIP, AZ_VMSS, AZ_VMSS_PROPS),
    (NO_PIP, GCP_INSTANCE, GCP_VM_PROPS),
    (NO_PIP, GCP_TEMPLATE, GCP_VM_PROPS),
    (NO_PIP, GCP_REGION_TEMPLATE, GCP_VM_PROPS),
    (SUBNET, AWS_SUBNET, AWS_SUBNET_PROPS),
    (SKU, AZ_PIP, AZ_PIP_PROPS),
    (FWD, AWS_INSTANCE, AWS_INSTANCE_PROPS),
    (FWD, AWS_ENI, {"subnetId": "subnet-1", "sourceDestCheck": True}),
    (FWD, AZ_NIC, AZ_NIC_PROPS),
    (FWD, AZ_VM, AZ_VM_INLINE_PROPS),
    (FWD, AZ_VMSS, AZ_VMSS_PROPS),
    (FWD, GCP_INSTANCE, GCP_VM_PROPS),
    (FWD, GCP_TEMPLATE, GCP_VM_PROPS),
]


def test_levels_and_catalogue():
    assert rule(NO_PIP).level == MANDATORY and rule(NO_PIP).catalogue == ("P1",)
    assert rule(SUBNET).level == MANDATORY and rule(SUBNET).catalogue == ("P1",)
    assert rule(SKU).level == ADVISORY
    assert rule(FWD).level == MANDATORY and rule(FWD).catalogue == ("P2",)


@pytest.mark.parametrize("name,type_,props", BASELINES, ids=lambda x: x if isinstance(x, str) else "")
def test_passes_when_compliant_baseline(name, type_, props):
    assert violations(name, type_, props) == []


@pytest.mark.parametrize(
    "name,type_,props,path,value,needle",
    [
        (
            NO_PIP,
            AWS_INSTANCE,
            AWS_INSTANCE_PROPS,
            ("associatePublicIpAddress",),
            True,
            "associatePublicIpAddress is True",
        ),
        (
            NO_PIP,
            AWS_LT,
            AWS_LT_PROPS,
            ("networkInterfaces", 0, "associatePublicIpAddress"),
            "true",
            "networkInterfaces[0].associatePublicIpAddress is 'true'",
        ),
        (NO_PIP, AWS_EIP, {"domain": "vpc"}, ("instance",), "i-123", "instance is set"),
        (NO_PIP, AWS_EIP_ASSOC, {"allocationId": "a"}, ("instanceId",), "i-123", "instanceId is set"),
        # An ENI is what a VM wears: an EIP on it is a public IP on the VM.
        (NO_PIP, AWS_EIP, {"domain": "vpc"}, ("networkInterface",), "eni-1", "networkInterface is set"),
        (NO_PIP, AWS_EIP_ASSOC, {"allocationId": "a"}, ("networkInterfaceId",), "eni-1", "networkInterfaceId is set"),
        (
            NO_PIP,
            AZ_NIC,
            AZ_NIC_PROPS,
            ("ipConfigurations", 0, "publicIPAddress"),
            {"id": "/x/publicIPAddresses/pip"},
            "ipConfigurations[0].publicIPAddress is set",
        ),
        (
            NO_PIP,
            AZ_VM,
            AZ_VM_INLINE_PROPS,
            (
                "networkProfile",
                "networkInterfaceConfigurations",
                0,
                "ipConfigurations",
                0,
                "publicIPAddressConfiguration",
            ),
            {"name": "pip"},
            "publicIPAddressConfiguration is set",
        ),
        (
            NO_PIP,
            AZ_VMSS,
            AZ_VMSS_PROPS,
            (
                "virtualMachineProfile",
                "networkProfile",
                "networkInterfaceConfigurations",
                0,
                "ipConfigurations",
                0,
                "publicIPAddressConfiguration",
            ),
            {"name": "pip"},
            "virtualMachineProfile.networkProfile",
        ),
        (
            NO_PIP,
            GCP_INSTANCE,
            GCP_VM_PROPS,
            ("networkInterfaces", 0, "accessConfigs"),
            [{}],
            "networkInterfaces[0].accessConfigs is set",
        ),
        (
            NO_PIP,
            GCP_TEMPLATE,
            GCP_VM_PROPS,
            ("networkInterfaces", 0, "accessConfigs"),
            [{"networkTier": "PREMIUM"}],
            "accessConfigs is set",
        ),
        (
            NO_PIP,
            GCP_INSTANCE,
            GCP_VM_PROPS,
            ("networkInterfaces", 0, "ipv6AccessConfigs"),
            [{"networkTier": "PREMIUM"}],
            "ipv6AccessConfigs is set",
        ),
        (SUBNET, AWS_SUBNET, AWS_SUBNET_PROPS, ("mapPublicIpOnLaunch",), True, "mapPublicIpOnLaunch is True"),
        (SKU, AZ_PIP, AZ_PIP_PROPS, ("sku", "name"), "Basic", "'Basic'"),
        (FWD, AWS_INSTANCE, AWS_INSTANCE_PROPS, ("sourceDestCheck",), False, "sourceDestCheck is False"),
        (FWD, AWS_INSTANCE, AWS_INSTANCE_PROPS, ("sourceDestCheck",), "false", "sourceDestCheck is 'false'"),
        (FWD, AWS_ENI, {"subnetId": "s"}, ("sourceDestCheck",), False, "sourceDestCheck is False"),
        (FWD, AZ_NIC, AZ_NIC_PROPS, ("enableIPForwarding",), True, "enableIPForwarding is True"),
        (
            FWD,
            AZ_VM,
            AZ_VM_INLINE_PROPS,
            ("networkProfile", "networkInterfaceConfigurations", 0, "enableIPForwarding"),
            True,
            "enableIPForwarding is True",
        ),
        (
            FWD,
            AZ_VMSS,
            AZ_VMSS_PROPS,
            ("virtualMachineProfile", "networkProfile", "networkInterfaceConfigurations", 0, "enableIPForwarding"),
            True,
            "enableIPForwarding is True",
        ),
        (FWD, GCP_INSTANCE, GCP_VM_PROPS, ("canIpForward",), True, "canIpForward is True"),
        (FWD, GCP_REGION_TEMPLATE, GCP_VM_PROPS, ("canIpForward",), True, "canIpForward is True"),
    ],
    ids=lambda x: x if isinstance(x, str) and len(x) < 40 else "",
)
def test_fails_when_mutated(name, type_, props, path, value, needle):
    msgs = violations(name, type_, mutate(props, path, value))
    assert len(msgs) == 1 and needle in msgs[0], msgs


def test_passes_when_public_ip_settings_missing_default_to_private():
    # Missing associatePublicIpAddress: the subnet decides, and the subnet rule checks it.
    assert violations(NO_PIP, AWS_INSTANCE, {"ami": "ami-1"}) == []
    assert violations(FWD, AWS_INSTANCE, {"ami": "ami-1"}) == []  # sourceDestCheck defaults to true


def test_fails_when_pip_sku_missing():
    msgs = violations(SKU, AZ_PIP, {"resourceGroupName": "rg"})
    assert len(msgs) == 1 and "not set" in msgs[0]


@pytest.mark.parametrize(
    "type_,props",
    [
        (AWS_LT, {"networkInterfaces": ["eni-1"]}),
        (AZ_NIC, {"ipConfigurations": "ip"}),
        (AZ_VM, {"networkProfile": {"networkInterfaceConfigurations": ["nic"]}}),
        (GCP_INSTANCE, {"networkInterfaces": "default"}),
    ],
)
def test_fails_when_shape_malformed(type_, props):
    msgs = violations(NO_PIP, type_, props)
    assert len(msgs) == 1 and "not an object" in msgs[0]


@pytest.mark.parametrize(
    "name,type_,props",
    [
        (NO_PIP, AWS_INSTANCE, {**AWS_INSTANCE_PROPS, "associatePublicIpAddress": UNKNOWN_BOOLEAN_VALUE}),
        (NO_PIP, GCP_INSTANCE, {"networkInterfaces": UNKNOWN_OBJECT_VALUE}),
        (FWD, AZ_NIC, {**AZ_NIC_PROPS, "enableIPForwarding": UNKNOWN_BOOLEAN_VALUE}),
        (FWD, AWS_INSTANCE, {**AWS_INSTANCE_PROPS, "sourceDestCheck": UNKNOWN_BOOLEAN_VALUE}),
    ],
)
def test_unknown_deciding_value_raises_in_preview_and_fails_on_up(name, type_, props):
    with pytest.raises(UnknownValueError):
        violations(name, type_, props, dry_run=True)
    msgs = violations(name, type_, props, dry_run=False)
    assert len(msgs) == 1 and "unknown" in msgs[0]


@pytest.mark.parametrize("pip", [{"id": UNKNOWN_STRING_VALUE}, UNKNOWN_OBJECT_VALUE])
def test_fails_when_nic_public_ip_reference_is_unknown_in_preview(pip):
    # An unknown public IP reference is still a public IP: presence decides, not the value.
    props = mutate(AZ_NIC_PROPS, ("ipConfigurations", 0, "publicIPAddress"), pip)
    msgs = violations(NO_PIP, AZ_NIC, props, dry_run=True)
    assert len(msgs) == 1 and "publicIPAddress is set" in msgs[0]


SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
SPOT_FLEET_PROPS = {
    "iamFleetRole": "arn:aws:iam::111122223333:role/fleet",
    "targetCapacity": 1,
    "launchSpecifications": [{"ami": "ami-1", "instanceType": "t3.small", "associatePublicIpAddress": False}],
}


def test_spot_fleet_launch_specifications_get_no_public_ip():
    assert violations(NO_PIP, SPOT_FLEET, SPOT_FLEET_PROPS) == []
    found = violations(
        NO_PIP, SPOT_FLEET, mutate(SPOT_FLEET_PROPS, ("launchSpecifications", 0, "associatePublicIpAddress"), True)
    )
    assert len(found) == 1 and "launchSpecifications[0].associatePublicIpAddress" in found[0]
