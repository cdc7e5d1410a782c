"""Concern `public-exposure` (policy names `public-...`): P1-P2: no public IPs on VMs, no IP forwarding.

VMs are reached through the load balancer only, so a VM never gets a public address of its own:
no AWS auto-assigned or Elastic IP, no Azure public IP on a NIC, no GCP access config. Load
balancers keep theirs (an ALB, an AppGw frontend PIP, a GCP global address), which these rules
do not look at. NAT/appliance VMs that must forward traffic are exempted per resource.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from ..framework import ADVISORY, Context, Props, Rule, StackRule, as_list, dig, is_map, truthy
from ..shapes import as_number, filled_count, get, is_set, show, text
from ..tokens import (
    AWS_INSTANCE,
    AWS_LAUNCH_CONFIGURATION,
    AWS_LAUNCH_TEMPLATE,
    AWS_SPOT_FLEET,
    AWS_SPOT_INSTANCE,
    AZ_VM,
    AZ_VMSS,
    GCP_VM_TYPES,
)

AWS_SUBNET = "aws:ec2/subnet:Subnet"
#: Lightsail VMs always get a public IPv4 address (there is no private-only Lightsail instance).
AWS_LIGHTSAIL_INSTANCE = "aws:lightsail/instance:Instance"
AWS_EIP = "aws:ec2/eip:Eip"
AWS_EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation"
AWS_ENI = "aws:ec2/networkInterface:NetworkInterface"
AZ_NIC = "azure-native:network:NetworkInterface"
AZ_PIP = "azure-native:network:PublicIPAddress"


def _objects(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, item) for each item of a list property; a non-object item is yielded as-is."""
    for i, item in enumerate(as_list(value)):
        yield f"{path}[{i}]", item


def _azure_vm_nic_configs(resource_type: str, props: Props) -> tuple[str, Any]:
    if resource_type == AZ_VMSS:
        return "virtualMachineProfile.networkProfile.networkInterfaceConfigurations", dig(
            props, "virtualMachineProfile", "networkProfile", "networkInterfaceConfigurations"
        )
    return "networkProfile.networkInterfaceConfigurations", dig(
        props, "networkProfile", "networkInterfaceConfigurations"
    )


# ---------------------------------------------------------------------------------------------
# P1: no public IP on VMs


def _aws_ipv6(m: Any, prefix: str) -> Iterator[str]:
    """AWS IPv6 addresses are global unicast, i.e. public addresses of the VM (GCP's external
    IPv6, ipv6AccessConfigs, is judged the same way): a second way to a public IP."""
    count = as_number(get(m, "ipv6AddressCount"))
    addresses = get(m, "ipv6Addresses")
    if (count is not None and count > 0) or filled_count(addresses) > 0:
        yield (
            f"{prefix}ipv6AddressCount/ipv6Addresses give the VM a globally routable IPv6 address; remove them "
            "and reach the VM through the load balancer (exempt the VM if it relies on an egress-only gateway)"
        )


def _present(m: Any, key: str) -> bool:
    """A public-IP object counts as soon as it is there: ``publicIPAddressConfiguration: {}`` still
    makes Azure create an address with defaults, so emptiness is no escape (only absent or null)."""
    try:
        return get(m, key) is not None
    except UnknownValueError:
        return True


def check_vm_no_public_ip(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type in (AWS_INSTANCE, AWS_SPOT_INSTANCE, AWS_LAUNCH_CONFIGURATION):
        value = get(props, "associatePublicIpAddress")
        if truthy(value):
            yield f"associatePublicIpAddress is {show(value)}; set it to false and reach the VM through the load balancer"
        if resource_type != AWS_LAUNCH_CONFIGURATION:
            yield from _aws_ipv6(props, "")
    elif resource_type == AWS_SPOT_FLEET:
        for path, spec in _objects(get(props, "launchSpecifications"), "launchSpecifications"):
            if not is_map(spec):
                yield f"{path} is not an object ({show(spec)}); cannot verify it has no public IP"
                continue
            value = get(spec, "associatePublicIpAddress")
            if truthy(value):
                yield f"{path}.associatePublicIpAddress is {show(value)}; set it to false and reach the VMs through the load balancer"
    elif resource_type == AWS_LAUNCH_TEMPLATE:
        for path, nic in _objects(get(props, "networkInterfaces"), "networkInterfaces"):
            if not is_map(nic):
                yield f"{path} is not an object ({show(nic)}); cannot verify it has no public IP"
                continue
            value = get(nic, "associatePublicIpAddress")
            if truthy(value):
                yield f'{path}.associatePublicIpAddress is {show(value)}; set it to "false"'
            yield from _aws_ipv6(nic, f"{path}.")
    elif resource_type == AWS_LIGHTSAIL_INSTANCE:
        yield "a Lightsail instance always has a public IP address; run the VM on EC2 in a private subnet behind the load balancer"
    elif resource_type in (AWS_EIP, AWS_EIP_ASSOCIATION):
        # An EIP reaches a VM through its instance or through a network interface: an ENI is
        # what an instance (or a NAT instance) wears, so both count. NAT gateways and NLBs take
        # their EIPs by allocationId on their own resources, never through these fields.
        keys = ("instance", "networkInterface") if resource_type == AWS_EIP else ("instanceId", "networkInterfaceId")
        for key in keys:
            if is_set(props, key):
                yield (
                    f"the Elastic IP is attached to a VM ({key} is set); put the VM behind the load balancer instead "
                    "(exempt NAT instances by name)"
                )
    elif resource_type == AZ_NIC:
        for path, ipc in _objects(get(props, "ipConfigurations"), "ipConfigurations"):
            if not is_map(ipc):
                yield f"{path} is not an object ({show(ipc)}); cannot verify it has no public IP"
            elif _present(ipc, "publicIPAddress"):
                yield f"{path}.publicIPAddress is set; remove it and reach the VM through the application gateway"
    elif resource_type in (AZ_VM, AZ_VMSS):
        base, configs = _azure_vm_nic_configs(resource_type, props)
        for path, nic in _objects(configs, base):
            if not is_map(nic):
                yield f"{path} is not an object ({show(nic)}); cannot verify it has no public IP"
                continue
            for ipath, ipc in _objects(get(nic, "ipConfigurations"), f"{path}.ipConfigurations"):
                if not is_map(ipc):
                    yield f"{ipath} is not an object ({show(ipc)}); cannot verify it has no public IP"
                elif _present(ipc, "publicIPAddressConfiguration"):
                    yield f"{ipath}.publicIPAddressConfiguration is set; remove it"
    elif resource_type in GCP_VM_TYPES:
        for path, nic in _objects(get(props, "networkInterfaces"), "networkInterfaces"):
            if not is_map(nic):
                yield f"{path} is not an object ({show(nic)}); cannot verify it has no external IP"
                continue
            for key in ("accessConfigs", "ipv6AccessConfigs"):
                if is_set(nic, key):
                    yield f"{path}.{key} is set, which gives the VM an external IP; remove it (use Cloud NAT for egress)"


def check_subnet_no_auto_public_ip(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    value = get(props, "mapPublicIpOnLaunch")
    if truthy(value):
        yield (
            f"mapPublicIpOnLaunch is {show(value)}, so every instance launched here gets a public IP; set it "
            "to false (load balancers and NAT gateways do not need it)"
        )


def check_pip_standard_sku(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    sku = get(props, "sku")
    name = get(sku, "name") if is_map(sku) else None
    if text(name) != "standard":
        shown = "not set (Basic)" if sku is None or name is None else show(name)
        yield f'public IP sku.name is {shown}; use "Standard" (secure by default, Basic is retired)'


# ---------------------------------------------------------------------------------------------
# P2: no IP forwarding


def check_no_ip_forwarding(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type in (AWS_INSTANCE, AWS_SPOT_INSTANCE, AWS_ENI):
        value = get(props, "sourceDestCheck")
        if value is not None and not truthy(value):
            yield f"sourceDestCheck is {show(value)}, so the VM can forward traffic; leave it true"
    elif resource_type in GCP_VM_TYPES:
        value = get(props, "canIpForward")
        if truthy(value):
            yield f"canIpForward is {show(value)}; set it to false"
    elif resource_type == AZ_NIC:
        value = get(props, "enableIPForwarding")
        if truthy(value):
            yield f"enableIPForwarding is {show(value)}; set it to false"
    elif resource_type in (AZ_VM, AZ_VMSS):
        base, configs = _azure_vm_nic_configs(resource_type, props)
        for path, nic in _objects(configs, base):
            if not is_map(nic):
                yield f"{path} is not an object ({show(nic)}); cannot verify IP forwarding is off"
                continue
            value = get(nic, "enableIPForwarding")
            if truthy(value):
                yield f"{path}.enableIPForwarding is {show(value)}; set it to false"


RULES: list[Rule | StackRule] = [
    Rule(
        name="public-vm-no-public-ip",
        description="VMs, launch templates and NICs must not get a public IP address (reach VMs through the load balancer).",
        concern="public-exposure",
        clouds=("aws", "azure", "gcp"),
        resource_types=(
            AWS_INSTANCE,
            AWS_SPOT_INSTANCE,
            AWS_SPOT_FLEET,
            AWS_LAUNCH_TEMPLATE,
            AWS_LAUNCH_CONFIGURATION,
            AWS_EIP,
            AWS_EIP_ASSOCIATION,
            AWS_LIGHTSAIL_INSTANCE,
            AZ_NIC,
            AZ_VM,
            AZ_VMSS,
            *GCP_VM_TYPES,
        ),
        check=check_vm_no_public_ip,
        catalogue=("P1",),
        peers=(
            "CKV_AWS_88",
            "CKV_AZURE_119",
            "CKV_GCP_40",
            "AVD-AWS-0009",
            "AVD-AZU-0076",
            "AVD-GCP-0031",
            "AWSGuard:ec2-instance-no-public-ip",
        ),
    ),
    Rule(
        # A separate rule so that policy config can lower it (enforcementLevel) for a legacy VPC.
        name="public-subnet-no-auto-public-ip",
        description="Subnets must not auto-assign public IPs to instances launched in them (mapPublicIpOnLaunch = false).",
        concern="public-exposure",
        clouds=("aws",),
        resource_types=(AWS_SUBNET,),
        check=check_subnet_no_auto_public_ip,
        catalogue=("P1",),
        peers=("CKV_AWS_130", "AVD-AWS-0164"),
    ),
    Rule(
        # Advisory: a Basic public IP is not exposed by itself (only where it is attached), and
        # Azure no longer creates Basic IPs; this is hygiene, not an exposure.
        name="public-ip-standard-sku",
        description="Azure public IP addresses should use the Standard SKU.",
        concern="public-exposure",
        clouds=("azure",),
        resource_types=(AZ_PIP,),
        check=check_pip_standard_sku,
        level=ADVISORY,
        catalogue=("P1",),
        peers=("PSR:PublicIP.StandardSKU",),
    ),
    Rule(
        name="public-no-ip-forwarding",
        description="VMs and NICs must not forward IP traffic (AWS sourceDestCheck true, GCP canIpForward false, Azure enableIPForwarding false).",
        concern="public-exposure",
        clouds=("aws", "azure", "gcp"),
        resource_types=(AWS_INSTANCE, AWS_SPOT_INSTANCE, AWS_ENI, AZ_NIC, AZ_VM, AZ_VMSS, *GCP_VM_TYPES),
        check=check_no_ip_forwarding,
        catalogue=("P2",),
        peers=("CKV_GCP_36", "CKV_AZURE_118", "AVD-GCP-0043", "AVD-AZU-0075"),
    ),
]
