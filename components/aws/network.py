"""AWS network: a VPC with public (load balancer) and private (VM) subnets, NAT and flow logs."""

from __future__ import annotations

import ipaddress
import json

import pulumi
import pulumi_aws as aws

from ..interfaces import NetworkArgs


def subnet_cidrs(cidr: str, zone_count: int) -> tuple[list[str], list[str]]:
    """Public and private subnet ranges: the network split in 16, publics first, privates from 8."""
    blocks = list(ipaddress.ip_network(cidr).subnets(prefixlen_diff=4))
    return [str(b) for b in blocks[:zone_count]], [str(b) for b in blocks[8 : 8 + zone_count]]


class Network(pulumi.ComponentResource):
    """A VPC across `zone_count` zones, or an existing one passed through.

    Public subnets hold only the load balancer and NAT gateways; VMs live in private subnets
    and reach the internet through NAT (one shared, or one per zone). All traffic is recorded
    as flow logs in the log sink. The default security group is emptied so nothing can use it.
    """

    network_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:aws:Network", name, None, opts)
        if args.existing is not None:
            # Someone else owns this network (and its flow logs); only pass it through.
            self.network_id = pulumi.Output.from_input(args.existing.network_id)
            self.public_subnet_ids = pulumi.Output.from_input(list(args.existing.public_subnet_ids))
            self.private_subnet_ids = pulumi.Output.from_input(list(args.existing.private_subnet_ids))
            self._register()
            return

        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        ).names.apply(lambda names: _enough_zones(names, args.zone_count))

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={**tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        # Nothing may use the default security group: it allows all traffic between members.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], tags=tags, opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=child)

        public_cidrs, private_cidrs = subnet_cidrs(args.cidr, args.zone_count)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-public"}, opts=child
        )
        public_default = aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )

        public, private, nats = [], [], []
        # Routes and route-table associations, per tier: the subnet IDs this component hands out
        # resolve only once these exist (see `_ready`).
        public_routes: list[pulumi.CustomResource] = [public_default]
        private_routes: list[pulumi.CustomResource] = []
        for i in range(args.zone_count):
            zone = zones.apply(lambda names, i=i: names[i])
            pub = aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[i],
                availability_zone=zone,
                # The load balancer gets its addresses from AWS; nothing launched here gets one.
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-public-{i}", "tier": "public"},
                opts=child,
            )
            public_routes.append(
                aws.ec2.RouteTableAssociation(
                    f"{name}-public-{i}", subnet_id=pub.id, route_table_id=public_rt.id, opts=child
                )
            )
            public.append(pub)
            if i == 0 or args.nat_per_zone:
                eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags={**tags, "Name": f"{name}-nat-{i}"}, opts=child)
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{i}",
                        subnet_id=pub.id,
                        allocation_id=eip.id,
                        tags={**tags, "Name": f"{name}-nat-{i}"},
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                    )
                )
            priv = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                cidr_block=private_cidrs[i],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-private-{i}", "tier": "private"},
                opts=child,
            )
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i}", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-private-{i}"}, opts=child
            )
            private_routes.append(
                aws.ec2.Route(
                    f"{name}-private-default-{i}",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nats[-1].id,
                    opts=child,
                )
            )
            private_routes.append(
                aws.ec2.RouteTableAssociation(
                    f"{name}-private-{i}", subnet_id=priv.id, route_table_id=rt.id, opts=child
                )
            )
            private.append(priv)

        if args.flow_log_destination is not None:
            self._flow_logs(name, vpc, args.flow_log_destination, tags)

        self.network_id = vpc.id
        # An internet-facing ALB created before the internet gateway route exists fails ("VPC has
        # no internet gateway"); a VM that boots before its NAT route exists cannot install its
        # packages. Whoever places something in these subnets therefore waits for their routes.
        self.public_subnet_ids = _ready([s.id for s in public], public_routes)
        self.private_subnet_ids = _ready([s.id for s in private], private_routes)
        self._register()

    def _flow_logs(self, name: str, vpc: aws.ec2.Vpc, log_group_arn: pulumi.Input[str], tags: dict[str, str]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=account.apply(
                lambda acct: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                                # Confused-deputy guard: only flow logs of this account.
                                "Condition": {"StringEquals": {"aws:SourceAccount": acct}},
                            }
                        ],
                    }
                )
            ),
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=pulumi.Output.from_input(log_group_arn).apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "WriteTheFlowLogGroup",
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                "Resource": [arn, f"{arn}:*"],
                            },
                            {
                                # AWS's documented minimum for flow logs ("IAM role for publishing
                                # flow logs to CloudWatch Logs"). A list call, so it names every
                                # group of the account and region, not one. CreateLogGroup, also in
                                # that minimum, is left out on purpose: the stack owns the group, and
                                # flow logs must not re-create it after a `pulumi destroy`.
                                "Sid": "FindTheFlowLogGroup",
                                "Effect": "Allow",
                                "Action": "logs:DescribeLogGroups",
                                "Resource": arn.split(":log-group:")[0] + ":log-group:*",
                            },
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group_arn,
            iam_role_arn=role.arn,
            # One-minute aggregation: incidents need timely network evidence.
            max_aggregation_interval=60,
            tags=tags,
            opts=child,
        )

    def _register(self) -> None:
        self.register_outputs(
            {
                "network_id": self.network_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )


def _ready(ids: list[pulumi.Output[str]], routes: list[pulumi.CustomResource]) -> pulumi.Output[list[str]]:
    """`ids`, resolving (and carrying a dependency on `routes`) only once `routes` exist."""
    waits = [r.id for r in routes]
    return pulumi.Output.all(*ids, *waits).apply(lambda values: [str(v) for v in values[: len(ids)]])


def _enough_zones(names: list[str], wanted: int) -> list[str]:
    if len(names) < wanted:
        raise ValueError(
            f"the region has {len(names)} available zones ({', '.join(names)}) but network.zoneCount is {wanted}; "
            f"set appstack:network.zoneCount to {len(names)} or less"
        )
    return names[:wanted]
