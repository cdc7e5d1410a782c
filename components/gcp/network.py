"""GCP network: a custom-mode VPC, one regional subnet with flow logs, Cloud Router and Cloud NAT."""

from __future__ import annotations

import pulumi
import pulumi_gcp.compute as compute

from ..interfaces import NetworkArgs
from .names import app_of, base, physical

#: Every flow, sampled at 100 % and aggregated every 5 s: the same evidence AWS flow logs keep.
FLOW_SAMPLING = 1.0
FLOW_INTERVAL = "INTERVAL_5_SEC"


class Network(pulumi.ComponentResource):
    """A custom-mode VPC (no auto subnets, never the default network) with one regional subnet.

    GCP subnets are regional: the one subnet serves every zone, so `private_subnet_ids` and
    `public_subnet_ids` repeat it once per zone used (``zone_count`` entries) and the VM and
    load balancer parts spread over that many zones. The subnet has Private Google Access (the
    VMs reach Google APIs without external IPs) and flow logs; Cloud NAT (regional and
    zone-redundant by design, so `nat_per_zone` needs no extra gateways) gives the VMs egress
    and logs its translations and errors. The global load balancer needs no subnet of its own.
    Outputs: `network_id`, `public_subnet_ids`, `private_subnet_ids` (self links).
    """

    network_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:gcp:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.existing is not None:
            # Reused as is: its subnets, flow logs and NAT are the owner's.
            self.network_id = pulumi.Output.from_input(args.existing.network_id)
            self.public_subnet_ids = [pulumi.Output.from_input(s) for s in args.existing.public_subnet_ids]
            self.private_subnet_ids = [pulumi.Output.from_input(s) for s in args.existing.private_subnet_ids]
            self._register()
            return
        base_name = base(app_of(name, "network"))
        vpc = compute.Network(
            f"{name}-vpc",
            name=physical(base_name, "vpc"),
            description="appstack VPC (custom mode)",
            # Custom mode: no subnet in every region with the default network's open ranges.
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=child,
        )
        subnet = compute.Subnetwork(
            f"{name}-subnet",
            name=physical(base_name, "vms"),
            description="appstack VMs (no external IPs)",
            network=vpc.id,
            ip_cidr_range=args.cidr,
            # Google APIs (logging, monitoring, KMS) over Google's network, no external IP needed.
            private_ip_google_access=True,
            log_config=compute.SubnetworkLogConfigArgs(
                aggregation_interval=FLOW_INTERVAL,
                flow_sampling=FLOW_SAMPLING,
                metadata="INCLUDE_ALL_METADATA",
            )
            if args.flow_log_destination is not None
            else None,
            opts=child,
        )
        router = compute.Router(
            f"{name}-router",
            name=physical(base_name, "router"),
            description="appstack Cloud NAT router",
            network=vpc.id,
            opts=child,
        )
        nat = compute.RouterNat(
            f"{name}-nat",
            name=physical(base_name, "nat"),
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            # Only the stack's subnet, not every subnet a later change adds to the VPC.
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[compute.RouterNatSubnetworkArgs(name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])],
            # Translations and errors: who talked to what outside, and what was dropped.
            log_config=compute.RouterNatLogConfigArgs(enable=True, filter="ALL"),
            opts=child,
        )
        self.network_id = vpc.id
        # Ready once NAT exists: VMs booting before it would start without egress.
        ready = pulumi.Output.all(subnet.self_link, nat.id).apply(lambda v: str(v[0]))
        self.private_subnet_ids = [ready] * args.zone_count
        self.public_subnet_ids = [ready] * args.zone_count
        self._register()

    def _register(self) -> None:
        self.register_outputs(
            {
                "network_id": self.network_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )
