"""Azure network: a VNet with a gateway subnet and one VM subnet per zone, NSGs, NAT, flow logs."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_azure_native.network as network

from ..interfaces import NetworkArgs
from .names import AzureNames, app_of
from .settings import settings_of

#: Longest retention a VNet flow log's own retention policy accepts (days).
FLOW_LOG_MAX_RETENTION = 365
#: Traffic analytics processing interval (minutes): 10 is the fine-grained option (60 the other).
TRAFFIC_ANALYTICS_INTERVAL = 10


def carve(cidr: str, zones: int) -> tuple[str, list[str]]:
    """The gateway subnet and one VM subnet per zone: eighths of `cidr` (a /22 gives /25s).

    Application Gateway v2 needs a subnet of its own (nothing else may be in it) with an address
    per instance up to the autoscaling maximum plus Azure's 5 reserved: 10 + 5 for the stack's
    gateway, which the smallest eighth allowed (/25 of a /22) holds; Microsoft recommends /24
    (*Application Gateway infrastructure configuration*).
    """
    eighths = list(ipaddress.ip_network(cidr).subnets(prefixlen_diff=3))
    return str(eighths[0]), [str(s) for s in eighths[1 : 1 + zones]]


def vm_address(cidr: str, zones: int, index: int) -> str:
    """The static private address of VM `index`: in its zone's subnet, after Azure's 4 reserved.

    Static and computed, so the gateway's backend pool lists the VMs' addresses as the VMs are
    created (Azure has no target-group attachment resource for Application Gateway).
    """
    _, subnets = carve(cidr, zones)
    subnet = ipaddress.ip_network(subnets[index % zones])
    return str(subnet.network_address + 4 + index // zones)


def nsg_names(names: AzureNames) -> tuple[str, str]:
    """Names of the gateway subnet's and the VM subnets' NSGs (the firewall writes their rules)."""
    return names.of("nsg", "agw"), names.of("nsg", "vm")


def workspace_id(subscription: str, group: str, names: AzureNames) -> str:
    """ARM ID of the log sink's workspace (same resource group; `log_sink.py` names it)."""
    return (
        f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.OperationalInsights/"
        f"workspaces/{names.of('log')}"
    )


class Network(pulumi.ComponentResource):
    """A VNet with a dedicated Application Gateway subnet and one VM subnet per zone.

    Both kinds of subnet get an NSG (rules come from the firewall part; until then Azure's
    defaults deny inbound from the internet). VM subnets have no default outbound access: egress
    goes through a NAT gateway (one per zone with `nat_per_zone`, else one shared). A VNet flow
    log (NSG flow logs are retiring) writes to the log sink's storage account with traffic
    analytics into its workspace.

    Outputs: `network_id` (VNet ID, resolved once subnets exist), `public_subnet_ids` (the gateway
    subnet), `private_subnet_ids` (VM subnets, one per zone, in zone order), `zones`.
    """

    network_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:azure:Network", name, None, opts)
        az = settings_of(args.extras)
        names = AzureNames(app_of(name, "network"))
        rg = args.scope
        assert rg is not None, "the Azure network needs the resource group (args.scope)"
        if args.existing is not None:
            raise ValueError(
                "appstack:network.existing is not supported on Azure yet; remove it to let the stack create its VNet"
            )
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        zones = list(az.zones)
        gateway_cidr, vm_cidrs = carve(args.cidr, args.zone_count)

        agw_nsg_name, vm_nsg_name = nsg_names(names)
        agw_nsg = network.NetworkSecurityGroup(
            f"{name}-agw-nsg",
            network_security_group_name=agw_nsg_name,
            resource_group_name=rg,
            tags=tags,
            opts=child,
        )
        vm_nsg = network.NetworkSecurityGroup(
            f"{name}-vm-nsg",
            network_security_group_name=vm_nsg_name,
            resource_group_name=rg,
            tags=tags,
            opts=child,
        )

        # NAT: zonal gateways (one per zone) survive a zone outage; one shared gateway is cheaper.
        nat_zones: list[str | None] = list(zones) if args.nat_per_zone else [None]
        nats = []
        for zone in nat_zones:
            suffix = f"z{zone}" if zone else ""
            pip = network.PublicIPAddress(
                f"{name}-nat-ip{'-' + suffix if suffix else ''}",
                public_ip_address_name=names.of("pip", "nat", suffix),
                resource_group_name=rg,
                sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
                public_ip_allocation_method="Static",
                public_ip_address_version="IPv4",
                zones=[zone] if zone else None,
                tags=tags,
                opts=child,
            )
            nats.append(
                network.NatGateway(
                    f"{name}-nat{'-' + suffix if suffix else ''}",
                    nat_gateway_name=names.of("ng", suffix),
                    resource_group_name=rg,
                    sku=network.NatGatewaySkuArgs(name="Standard"),
                    public_ip_addresses=[network.SubResourceArgs(id=pip.id)],
                    idle_timeout_in_minutes=4,
                    zones=[zone] if zone else None,
                    tags=tags,
                    opts=child,
                )
            )

        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=names.of("vnet"),
            resource_group_name=rg,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.cidr]),
            tags=tags,
            # Subnets are their own resources below; the provider leaves them alone on updates.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
        )
        gateway_subnet = network.Subnet(
            f"{name}-agw-subnet",
            subnet_name="snet-agw",
            virtual_network_name=vnet.name,
            resource_group_name=rg,
            address_prefix=gateway_cidr,
            network_security_group=network.NetworkSecurityGroupArgs(id=agw_nsg.id),
            # The Key Vault accepts the gateway (it reads the TLS certificate) through this endpoint.
            service_endpoints=[network.ServiceEndpointPropertiesFormatArgs(service="Microsoft.KeyVault")],
            opts=child,
        )
        vm_subnets: list[network.Subnet] = []
        previous: pulumi.Resource = gateway_subnet
        for i, (zone, cidr) in enumerate(zip(zones, vm_cidrs, strict=True)):
            nat = nats[i % len(nats)]
            subnet = network.Subnet(
                f"{name}-vm-subnet-z{zone}",
                subnet_name=f"snet-vm-z{zone}",
                virtual_network_name=vnet.name,
                resource_group_name=rg,
                address_prefix=cidr,
                network_security_group=network.NetworkSecurityGroupArgs(id=vm_nsg.id),
                nat_gateway=network.SubResourceArgs(id=nat.id),
                # Private subnets: no implicit outbound IP; the NAT gateway is the only way out.
                default_outbound_access=False,
                # One subnet operation per VNet at a time: Azure rejects concurrent ones.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]),
            )
            vm_subnets.append(subnet)
            previous = subnet

        if args.flow_log_destination is not None:
            network.FlowLog(
                f"{name}-flow-log",
                flow_log_name=names.of("fl"),
                network_watcher_name=az.network_watcher_name,
                resource_group_name=az.network_watcher_resource_group,
                location=az.location,
                target_resource_id=vnet.id,
                storage_id=args.flow_log_destination,
                enabled=True,
                format=network.FlowLogFormatParametersArgs(type="JSON", version=2),
                retention_policy=network.RetentionPolicyParametersArgs(
                    days=min(az.retention_days, FLOW_LOG_MAX_RETENTION), enabled=True
                ),
                flow_analytics_configuration=network.TrafficAnalyticsPropertiesArgs(
                    network_watcher_flow_analytics_configuration=network.TrafficAnalyticsConfigurationPropertiesArgs(
                        enabled=True,
                        workspace_resource_id=pulumi.Output.all(az.subscription_id, rg).apply(
                            lambda v: workspace_id(v[0], v[1], names)
                        ),
                        workspace_region=az.location,
                        traffic_analytics_interval=TRAFFIC_ANALYTICS_INTERVAL,
                    )
                ),
                tags=tags,
                opts=child,
            )

        subnets = [gateway_subnet, *vm_subnets]
        self.network_id = pulumi.Output.all(vnet.id, *[s.id for s in subnets]).apply(lambda ids: ids[0])
        self.public_subnet_ids = pulumi.Output.all(gateway_subnet.id).apply(list)
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in vm_subnets]).apply(list)
        self.zones = zones
        self.register_outputs(
            {
                "network_id": self.network_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )
