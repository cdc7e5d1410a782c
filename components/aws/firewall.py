"""AWS firewall: the load balancer's and the VMs' security groups, one rule per resource."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_aws as aws

from ..interfaces import FirewallArgs


def _cidr_arg(cidr: str) -> dict[str, str]:
    # A rule takes either an IPv4 or an IPv6 range, in different properties.
    return {"cidr_ipv6": cidr} if ipaddress.ip_network(cidr).version == 6 else {"cidr_ipv4": cidr}


class Firewall(pulumi.ComponentResource):
    """Two security groups and their rules.

    - load balancer group: 443 from `ingress_cidrs`, 80 from the same (the listener only
      redirects to HTTPS), egress only to the VM group on the app port;
    - VM group: the app port only from the load balancer group, 22 only from `admin_cidrs` and
      only when `ssh` is on, egress HTTPS only.

    Rules are standalone resources (not inline) so each is named, diffable and checkable.
    Outputs: `lb_group_id`, `vm_group_id`.
    """

    lb_group_id: pulumi.Output[str]
    vm_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: FirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:aws:Firewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        # The provider removes AWS's default allow-all egress rule from new groups; egress is
        # only what the rules below add.
        lb = aws.ec2.SecurityGroup(
            f"{name}-lb",
            vpc_id=args.network_id,
            description="appstack load balancer",
            tags={**tags, "Name": f"{name}-lb"},
            opts=child,
        )
        vm = aws.ec2.SecurityGroup(
            f"{name}-vm",
            vpc_id=args.network_id,
            description="appstack VMs",
            tags={**tags, "Name": f"{name}-vm"},
            opts=child,
        )

        def ingress(part: str, group: aws.ec2.SecurityGroup, port: int, description: str, **source) -> None:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{part}",
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
                tags=tags,
                opts=child,
                **source,
            )

        def egress(part: str, group: aws.ec2.SecurityGroup, port: int, description: str, **dest) -> None:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{part}",
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
                tags=tags,
                opts=child,
                **dest,
            )

        for i, cidr in enumerate(args.ingress_cidrs):
            ingress(f"lb-https-{i}", lb, 443, "HTTPS from clients", **_cidr_arg(cidr))
            ingress(f"lb-http-{i}", lb, 80, "HTTP from clients, redirected to HTTPS", **_cidr_arg(cidr))
        egress("lb-to-app", lb, args.app_port, "to the app on the VMs", referenced_security_group_id=vm.id)

        ingress("vm-app", vm, args.app_port, "app port from the load balancer only", referenced_security_group_id=lb.id)
        if args.ssh:
            for i, cidr in enumerate(args.admin_cidrs):
                ingress(f"vm-ssh-{i}", vm, 22, "SSH from an admin network", **_cidr_arg(cidr))
        for i, cidr in enumerate(args.egress_cidrs):
            egress(f"vm-https-{i}", vm, 443, "HTTPS to packages, agents and AWS APIs", **_cidr_arg(cidr))

        self.lb_group_id = lb.id
        self.vm_group_id = vm.id
        self.register_outputs({"lb_group_id": self.lb_group_id, "vm_group_id": self.vm_group_id})
