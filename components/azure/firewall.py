"""Azure firewall: the NSG rules of the gateway subnet and the VM subnets."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

import pulumi
import pulumi_azure_native.network as network

from ..interfaces import FirewallArgs
from .names import AzureNames, app_of
from .network import carve, nsg_names
from .settings import settings_of

#: Application Gateway v2 infrastructure ports: Azure refuses to create the gateway unless they
#: are open from the GatewayManager service tag.
GATEWAY_MANAGER_PORTS = "65200-65535"
#: Allow rules from 100 in steps of 10; deny-all rules from 4000, after any allow added later.
ALLOW_BASE, ALLOW_STEP, DENY_BASE = 100, 10, 4000


@dataclass(frozen=True)
class Rule:
    """One NSG rule as the firewall states it; priorities follow the list order."""

    name: str
    direction: str
    access: str
    protocol: str
    sources: tuple[str, ...]
    ports: tuple[str, ...]
    destinations: tuple[str, ...] = ("*",)


def gateway_rules(args: FirewallArgs) -> list[Rule]:
    """Inbound to the Application Gateway subnet: 443/80 from the ingress ranges, what v2 needs."""
    ingress = tuple(args.ingress_cidrs)
    return [
        Rule("allow-https-in", "Inbound", "Allow", "Tcp", ingress, ("443",)),
        # 80 only redirects to 443 (the gateway's HTTP listener has no backend).
        Rule("allow-http-redirect-in", "Inbound", "Allow", "Tcp", ingress, ("80",)),
        Rule("allow-gateway-manager-in", "Inbound", "Allow", "Tcp", ("GatewayManager",), (GATEWAY_MANAGER_PORTS,)),
        # Probes of the Azure load balancer in front of the gateway's instances.
        Rule("allow-azure-lb-in", "Inbound", "Allow", "*", ("AzureLoadBalancer",), ("*",)),
        Rule("deny-all-in", "Inbound", "Deny", "*", ("*",), ("*",)),
    ]


def vm_rules(args: FirewallArgs, gateway_cidr: str) -> list[Rule]:
    """VM subnets: the app port from the gateway subnet only, SSH from admins when on, deny the rest.

    Outbound: HTTPS to `egress_cidrs` (packages, the monitor agent, Azure APIs) and HTTP to the
    same for Ubuntu's apt mirror (azure.archive.ubuntu.com serves plain HTTP; apt checks the
    archive's GPG signatures), then deny to the internet. Replies to the gateway are stateful.
    """
    rules = [Rule("allow-app-from-gateway", "Inbound", "Allow", "Tcp", (gateway_cidr,), (str(args.app_port),))]
    if args.ssh:
        rules.append(Rule("allow-ssh-from-admins", "Inbound", "Allow", "Tcp", tuple(args.admin_cidrs), ("22",)))
    egress = tuple(args.egress_cidrs)
    rules += [
        Rule("allow-azure-lb-in", "Inbound", "Allow", "*", ("AzureLoadBalancer",), ("*",)),
        Rule("deny-all-in", "Inbound", "Deny", "*", ("*",), ("*",)),
        # The monitor agent's endpoints, even when `egress_cidrs` leaves the internet out.
        Rule("allow-azure-monitor-out", "Outbound", "Allow", "Tcp", ("*",), ("443",), ("AzureMonitor",)),
        Rule("allow-https-out", "Outbound", "Allow", "Tcp", ("*",), ("443",), egress),
        Rule("allow-apt-http-out", "Outbound", "Allow", "Tcp", ("*",), ("80",), egress),
        Rule("deny-internet-out", "Outbound", "Deny", "*", ("*",), ("*",), ("Internet",)),
    ]
    return rules


def priorities(rules: list[Rule]) -> list[int]:
    """Each rule's priority: allows from `ALLOW_BASE`, denies from `DENY_BASE`, per direction."""
    out, seen = [], {}
    for rule in rules:
        key = (rule.direction, rule.access)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(DENY_BASE + n if rule.access == "Deny" else ALLOW_BASE + ALLOW_STEP * n)
    return out


def _family(prefix: str) -> int | None:
    """4 or 6 for an address prefix; None for `*` and service tags (they cover both families)."""
    try:
        return ipaddress.ip_network(prefix, strict=False).version
    except ValueError:
        return None


def by_family(rules: list[Rule]) -> list[tuple[Rule, int]]:
    """Each rule with its priority, a rule mixing IPv4 and IPv6 prefixes split in two.

    Azure refuses a security rule whose prefixes span both address families (400
    ``ResourceCannotContainAddressPrefixesFromDifferentAddressFamilies``, Azure/AKS#3136;
    MicrosoftDocs/azure-docs#34567), and `ingressCidrs`, `adminCidrs` and `egressCidrs` accept
    IPv6. The IPv4 part keeps the rule's name and priority; the IPv6 part is ``<name>-ipv6`` one
    priority later (allow priorities step by `ALLOW_STEP`), so no other rule moves. A side left
    without prefixes of a family drops that family's rule: it could match nothing.
    """
    out: list[tuple[Rule, int]] = []
    for rule, priority in zip(rules, priorities(rules), strict=True):
        families = {f for p in (*rule.sources, *rule.destinations) if (f := _family(p)) is not None}
        if len(families) < 2:
            out.append((rule, priority))
            continue
        assert rule.access == "Allow", "deny rules use `*`; only allow priorities leave room for a twin"
        for family, suffix, offset in ((4, "", 0), (6, "-ipv6", 1)):
            sources = tuple(p for p in rule.sources if _family(p) in (None, family))
            destinations = tuple(p for p in rule.destinations if _family(p) in (None, family))
            if sources and destinations:
                out.append(
                    (
                        replace(rule, name=rule.name + suffix, sources=sources, destinations=destinations),
                        priority + offset,
                    )
                )
    return out


def nsg_id(vnet_id: str, nsg: str) -> str:
    """ARM ID of NSG `nsg` in the VNet's resource group."""
    group = vnet_id.split("/providers/")[0]
    return f"{group}/providers/Microsoft.Network/networkSecurityGroups/{nsg}"


class Firewall(pulumi.ComponentResource):
    """NSG rules of the gateway subnet (`lb_group_id`) and of the VM subnets (`vm_group_id`).

    Each rule is its own `SecurityRule` in the NSGs the network part attached to the subnets; a
    deny-all closes each inbound list explicitly. Outputs (NSG IDs) resolve once every rule exists.
    """

    lb_group_id: pulumi.Output[str]
    vm_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: FirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:azure:Firewall", name, None, opts)
        az = settings_of(args.extras)
        names = AzureNames(app_of(name, "firewall"))
        rg = args.scope
        assert rg is not None, "the Azure firewall needs the resource group (args.scope)"
        agw_nsg, vm_nsg = nsg_names(names)
        gateway_cidr, _ = carve(az.network_cidr, 1)

        ids: dict[str, pulumi.Output[str]] = {}
        for label, nsg, rules in (
            ("agw", agw_nsg, gateway_rules(args)),
            ("vm", vm_nsg, vm_rules(args, gateway_cidr)),
        ):
            # One rule write per NSG at a time: Azure answers a concurrent PUT on the same NSG with
            # 429 RetryableErrorDueToAnotherOperation ("PutSecurityRuleOperation ... is updating
            # resource"), which azure-native does not retry (pulumi-azure-native#3720). Chained like
            # the network part's subnets; the two NSGs still proceed in parallel.
            created: list[network.SecurityRule] = []
            for rule, priority in by_family(rules):
                created.append(
                    self._rule(f"{name}-{label}-{rule.name}", rule, priority, nsg, rg, args.network_id, created[-1:])
                )
            ids[label] = pulumi.Output.all(args.network_id, *[r.id for r in created]).apply(
                lambda v, nsg=nsg: nsg_id(v[0], nsg)
            )
        self.lb_group_id = ids["agw"]
        self.vm_group_id = ids["vm"]
        self.register_outputs({"lb_group_id": self.lb_group_id, "vm_group_id": self.vm_group_id})

    def _rule(
        self,
        name: str,
        rule: Rule,
        priority: int,
        nsg: str,
        rg: pulumi.Input[str],
        network_id: pulumi.Input[str],
        after: list[network.SecurityRule],
    ) -> network.SecurityRule:
        # One prefix or service tag goes in the singular field (Azure takes tags only there).
        one_src, one_dst = len(rule.sources) == 1, len(rule.destinations) == 1
        return network.SecurityRule(
            name,
            security_rule_name=rule.name,
            # The NSG exists once the network's ID resolves (it waits for the subnets).
            network_security_group_name=pulumi.Output.from_input(network_id).apply(lambda _: nsg),
            resource_group_name=rg,
            description=f"appstack: {rule.name}",
            direction=rule.direction,
            access=rule.access,
            protocol=rule.protocol,
            priority=priority,
            source_port_range="*",
            source_address_prefix=rule.sources[0] if one_src else None,
            source_address_prefixes=None if one_src else list(rule.sources),
            destination_address_prefix=rule.destinations[0] if one_dst else None,
            destination_address_prefixes=None if one_dst else list(rule.destinations),
            destination_port_range=rule.ports[0] if len(rule.ports) == 1 else None,
            destination_port_ranges=None if len(rule.ports) == 1 else list(rule.ports),
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )
