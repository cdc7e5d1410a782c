"""Concern `network-exposure` (policy names `network-...`): N1-N8: SSH/RDP/admin/all-ports ingress from the internet, VM ingress only from the LB, port 80, egress, default networks.

Every firewall shape of the three clouds is first normalised into `Permission` records (one per
allowed protocol/port-set/peer combination, with the peers that count as "the internet"), so each
rule is a few lines over those records:

- AWS: ``aws:ec2/securityGroup`` and ``aws:ec2/defaultSecurityGroup`` (inline ``ingress``/``egress``),
  ``aws:ec2/securityGroupRule`` (``type``), ``aws:vpc/securityGroupIngressRule`` /
  ``aws:vpc/securityGroupEgressRule`` (``cidrIpv4``/``cidrIpv6``/``ipProtocol``). NACLs are not
  covered on purpose: they are stateless, allow everything by default and sit in front of the
  security groups, so flagging them would fail every VPC without adding protection.
- Azure: ``azure-native:network:NetworkSecurityGroup`` (inline ``securityRules``) and
  ``azure-native:network:SecurityRule`` (singular and plural prefix / port fields).
- GCP: ``gcp:compute/firewall:Firewall`` (``allows``; an INGRESS rule without any source is
  0.0.0.0/0) and the hierarchical / network firewall policy rules (``match.srcIpRanges``,
  ``match.layer4Configs``), standalone or inline in ``...WithRules`` resources.

- AWS Lightsail: ``aws:lightsail/instancePublicPorts`` (``portInfos``), the only firewall a
  Lightsail VM has.
- Load balancers that pass ports through (named-port rules only): a public Azure load balancer's
  rules, NAT rules and NAT pools (``backendPort``; a standalone ``InboundNatRule`` is judged public),
  a GCP external passthrough forwarding rule.

"The internet" is any source the knobs name, a public range broader than the prefix knobs, an
IPv4-mapped or zero-padded spelling of one, or several ranges that together make one (merged).
Deny rules, disabled rules and rules of the other direction never count as exposure. Azure NSGs
are judged by their effective rules: an Allow loses the ports that an earlier (lower priority
number) Deny of the same direction covers for all of its sources, as Azure evaluates them (a
standalone ``SecurityRule`` is judged on its own). Two stack rules link resources: a port that boot
data moves sshd to must not be open to the internet either, and SSH must not be allowed from a
managed prefix list (AWS) or address group (GCP firewall policies) whose entries include the
internet.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from ..boot import sshd_ports
from ..framework import (
    ADVISORY,
    MANDATORY,
    Context,
    Knob,
    Props,
    Rule,
    StackResource,
    StackRule,
    as_list,
    dig,
    is_map,
    truthy,
)
from ..shapes import UNKNOWN, peek, peek_all, ref_name
from ..tokens import (
    AWS_ALB,
    AWS_LB,
    AWS_LISTENERS,
    AZ_APPGW,
    AZ_LB,
    GCP_FIREWALL,
    GCP_FORWARDING_RULE,
    GCP_GLOBAL_FORWARDING_RULE,
    GCP_VM_TYPES,
)
from .admin_access import BOOT_TYPES, boot_documents

CONCERN = "network-exposure"

# ---------------------------------------------------------------------------------------------
# Type tokens

AWS_SG = "aws:ec2/securityGroup:SecurityGroup"
AWS_DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
AWS_SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
AWS_VPC_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
AWS_VPC_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
AZ_NSG = "azure-native:network:NetworkSecurityGroup"
AZ_RULE = "azure-native:network:SecurityRule"
GCP_POLICY_RULES = (
    "gcp:compute/firewallPolicyRule:FirewallPolicyRule",
    "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule",
    "gcp:compute/regionNetworkFirewallPolicyRule:RegionNetworkFirewallPolicyRule",
)
GCP_POLICY_WITH_RULES = (
    "gcp:compute/firewallPolicyWithRules:FirewallPolicyWithRules",
    "gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules",
    "gcp:compute/regionNetworkFirewallPolicyWithRules:RegionNetworkFirewallPolicyWithRules",
)
GCP_NETWORK = "gcp:compute/network:Network"
#: Lightsail VMs are a second way to run a VM on AWS; their firewall is this resource's port list
#: (no security groups); a port entry without CIDRs or aliases is judged open to every address
#: (fail closed: the API documents no default restriction).
AWS_LIGHTSAIL_PORTS = "aws:lightsail/instancePublicPorts:InstancePublicPorts"

#: Every type whose ingress/egress permissions `permissions` understands.
FIREWALL_TYPES: tuple[str, ...] = (
    AWS_SG,
    AWS_DEFAULT_SG,
    AWS_SG_RULE,
    AWS_VPC_INGRESS,
    AWS_VPC_EGRESS,
    AZ_NSG,
    AZ_RULE,
    GCP_FIREWALL,
    *GCP_POLICY_RULES,
    *GCP_POLICY_WITH_RULES,
    AWS_LIGHTSAIL_PORTS,
)
INGRESS_TYPES = tuple(t for t in FIREWALL_TYPES if t != AWS_VPC_EGRESS)
EGRESS_TYPES = tuple(t for t in FIREWALL_TYPES if t != AWS_VPC_INGRESS)

ALL_PORTS = (0, 65535)

# ---------------------------------------------------------------------------------------------
# Knobs shared by the exposure rules


def _ports_knob(default: list[int], doc: str) -> Knob:
    return Knob({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535}}, default, doc)


INTERNET_KNOBS: dict[str, Knob] = {
    "internetSources": Knob(
        {"type": "array", "items": {"type": "string"}},
        ["0.0.0.0/0", "::/0", "0.0.0.0", "::", "*", "Internet", "Any", "AzureCloud"],
        "source/destination values (case-insensitive; Azure service tags included) treated as the internet",
    ),
    "broadPrefixV4": Knob(
        {"type": "integer", "minimum": 0, "maximum": 32},
        8,
        "a public IPv4 range with a prefix shorter than this (e.g. 0.0.0.0/1) counts as the internet",
    ),
    "broadPrefixV6": Knob(
        {"type": "integer", "minimum": 0, "maximum": 128},
        16,
        "a public IPv6 range with a prefix shorter than this (e.g. 2000::/3) counts as the internet",
    ),
}


_IPV4_TEXT = re.compile(r"^\d+\.\d+\.\d+\.\d+(/\d+)?$")


def _strip_leading_zeros(text: str) -> str:
    """``000.000.000.000/00`` -> ``0.0.0.0/0``: Python rejects zero-padded IPv4 octets, so without this
    a padded "anywhere" would parse as nothing and pass (some APIs read the octets as decimal)."""
    if not _IPV4_TEXT.match(text):
        return text
    addr, _, prefix = text.partition("/")
    addr = ".".join(str(int(o)) for o in addr.split("."))
    return f"{addr}/{int(prefix)}" if prefix else addr


def _ipv4_mapped(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ipaddress.IPv4Network | None:
    """The IPv4 network an IPv4-mapped IPv6 network (``::ffff:a.b.c.d/96+``) stands for, else None."""
    if net.version != 6 or net.prefixlen < 96:
        return None
    if not net.subnet_of(ipaddress.IPv6Network("::ffff:0:0/96")):  # type: ignore[arg-type]
        return None
    v4 = ipaddress.IPv4Address(int(net.network_address) & 0xFFFFFFFF)
    return ipaddress.IPv4Network(f"{v4}/{net.prefixlen - 96}")


def is_internet(value: Any, config: dict | None = None) -> bool:
    """True when a source/destination value means "anyone on the internet".

    ``config`` may carry the `INTERNET_KNOBS`; other modules may call this with no config.
    """
    cfg = {k: v.default for k, v in INTERNET_KNOBS.items()}
    if config:
        cfg.update({k: config[k] for k in INTERNET_KNOBS if k in config})
    text = str(value).strip()
    names = {str(s).strip().lower() for s in cfg["internetSources"]}
    if text.lower() in names:
        return True
    # Regional Azure service tags (``AzureCloud.WestEurope``) are slices of the same public space
    # as the tag itself: a listed tag covers its regions.
    if "." in text and "/" not in text and text.split(".", 1)[0].lower() in names and not _IPV4_TEXT.match(text):
        return True
    try:
        net = ipaddress.ip_network(_strip_leading_zeros(text), strict=False)
    except ValueError:
        return False
    mapped = _ipv4_mapped(net)
    if mapped is not None:
        # ``::ffff:0:0/96`` is every IPv4 address written as IPv6: judge it as the IPv4 range it maps.
        net = mapped
    if net.prefixlen == 0:
        return True
    limit = cfg["broadPrefixV4"] if net.version == 4 else cfg["broadPrefixV6"]
    return net.prefixlen < limit and not net.is_private


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        net = ipaddress.ip_network(_strip_leading_zeros(str(value).strip()), strict=False)
    except ValueError:
        return None
    return _ipv4_mapped(net) or net


def jointly_internet(peers: Sequence[str], config: dict | None) -> list[str]:
    """Peers that are each too narrow to count but together cover an internet-wide range.

    256 x /8, or 0.0.0.0/8 ... 255.0.0.0/8 in one NSG rule's prefixes, is 0.0.0.0/0 spelled out;
    the ranges are merged (as the cloud's own matching does) and judged as one.
    """
    nets = [(p, n) for p in peers if (n := _network(p)) is not None]
    for version in (4, 6):
        same = [n for _, n in nets if n.version == version]
        if len(same) < 2:
            continue
        for merged in ipaddress.collapse_addresses(same):  # type: ignore[arg-type]
            if is_internet(str(merged), config):
                return [p for p, n in nets if n.version == version and n.subnet_of(merged)]  # type: ignore[arg-type]
    return []


def _covers_every_port(ranges: Iterable[tuple[int, int]]) -> bool:
    """Whether port ranges, merged, reach from 1 (or 0) to 65535."""
    reach = 0
    for lo, hi in sorted(ranges):
        if lo > reach + 1:
            break
        reach = max(reach, hi)
    return reach >= 65535 and bool(ranges)


# ---------------------------------------------------------------------------------------------
# Normalised permissions


@dataclass(frozen=True)
class Permission:
    """One allowed (protocol, ports, peers) combination of a firewall resource."""

    where: str
    """Human label of the rule inside the resource, e.g. ``ingress rule 0``."""
    direction: str
    """``ingress`` or ``egress``."""
    protocol: str
    """``all``, ``tcp``, ``udp``, ``sctp``, ``icmp`` ... or the protocol number as text."""
    ranges: tuple[tuple[int, int], ...]
    """Port ranges (inclusive); ``ALL_PORTS`` when the rule does not restrict ports."""
    peers: tuple[str, ...]
    """Source (ingress) or destination (egress) values as written."""
    implicit_peer: bool = False
    """True when no peer was given and the cloud's default (anywhere) applies."""

    @property
    def port_bearing(self) -> bool:
        return self.protocol in ("all", "tcp", "udp", "sctp")

    def covers(self, port: int) -> bool:
        if self.protocol == "all":
            return True
        return self.port_bearing and any(lo <= port <= hi for lo, hi in self.ranges)

    def all_ports(self) -> bool:
        if self.protocol == "all":
            return True
        # Merged first: ["0-30000", "30001-65535"] is every port in two pieces.
        return self.port_bearing and _covers_every_port(self.ranges)

    def internet_peers(self, config: dict | None = None) -> list[str]:
        direct = [p for p in self.peers if is_internet(p, config)]
        return direct or jointly_internet(self.peers, config)

    def describe(self) -> str:
        if self.protocol == "all":
            what = "all protocols and ports"
        elif not self.port_bearing:
            what = f"protocol {self.protocol}"
        else:
            what = f"{self.protocol} " + ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)
        return what


_PROTOCOL_ALIASES = {
    "-1": "all",
    "all": "all",
    "*": "all",
    "any": "all",
    "6": "tcp",
    "17": "udp",
    "132": "sctp",
    "1": "icmp",
    "58": "icmpv6",
}


def normalize_protocol(value: Any) -> str:
    """Protocol as one lowercase word: ``-1``/``all``/``*``/``ALL`` -> ``all``, ``6`` -> ``tcp``.

    A missing protocol fails closed as ``all``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return "all"
    if isinstance(value, bool):
        raise TypeError(f"protocol {value!r} is not a protocol")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().lower()
    return _PROTOCOL_ALIASES.get(text, text)


def _port(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"port {value!r} is not a number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"port {value!r} is not a whole number")
        value = int(value)
    n = int(str(value).strip())
    if not 0 <= n <= 65535 and n != -1:
        raise ValueError(f"port {value!r} is out of range")
    return n


def parse_port_spec(value: Any) -> tuple[int, int]:
    """``22``, ``"22"``, ``"20-25"``, ``"*"``/``"any"``/``"all"`` -> an inclusive range."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("*", "any", "all", ""):
            return ALL_PORTS
        if "-" in text[1:]:
            lo, hi = text.split("-", 1)
            lo_n, hi_n = _port(lo), _port(hi)
            if lo_n > hi_n:
                raise ValueError(f"port range {value!r} is reversed")
            return lo_n, hi_n
    n = _port(value)
    return ALL_PORTS if n == -1 else (n, n)


def _aws_ranges(protocol: str, from_port: Any, to_port: Any) -> tuple[tuple[int, int], ...]:
    """AWS fromPort/toPort; ``-1`` protocol ignores them, a missing bound fails closed as open."""
    if protocol == "all":
        return (ALL_PORTS,)
    if protocol not in ("tcp", "udp", "sctp"):
        return ()  # ICMP type/code or a port-less protocol: no ports to judge
    if from_port is None or to_port is None:
        return (ALL_PORTS,)
    lo, hi = _port(from_port), _port(to_port)
    if lo == -1 or hi == -1:
        return (ALL_PORTS,)
    if lo > hi:
        raise ValueError(f"fromPort {lo} is greater than toPort {hi}")
    return ((lo, hi),)


def _maps(value: Any, what: str) -> list[Any]:
    """A list property whose items must be objects; a wrong shape raises (fail closed)."""
    items = as_list(value)
    for i, item in enumerate(items):
        if not is_map(item):
            raise TypeError(f"{what}[{i}] is {type(item).__name__}, expected an object")
    return items


def _strings(value: Any, what: str) -> list[str]:
    items = as_list(value)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{what}[{i}] is {type(item).__name__}, expected a string")
    return items


def _aws_sg_entry(entry: Any, direction: str, where: str) -> Permission:
    protocol = normalize_protocol(entry.get("protocol"))
    peers = _strings(entry.get("cidrBlocks"), "cidrBlocks") + _strings(entry.get("ipv6CidrBlocks"), "ipv6CidrBlocks")
    return Permission(
        where, direction, protocol, _aws_ranges(protocol, entry.get("fromPort"), entry.get("toPort")), tuple(peers)
    )


def _azure_rule(rule: Any, where: str) -> Permission | None:
    access = str(rule.get("access") or "Allow").strip().lower()
    if access != "allow":
        return None
    direction = "egress" if str(rule.get("direction") or "Inbound").strip().lower() == "outbound" else "ingress"
    protocol = normalize_protocol(rule.get("protocol"))
    port_specs = as_list(rule.get("destinationPortRange")) + as_list(rule.get("destinationPortRanges"))
    ranges = tuple(parse_port_spec(p) for p in port_specs) or (ALL_PORTS,)
    side = "source" if direction == "ingress" else "destination"
    peers = _strings(rule.get(f"{side}AddressPrefix"), f"{side}AddressPrefix") + _strings(
        rule.get(f"{side}AddressPrefixes"), f"{side}AddressPrefixes"
    )
    # A blank prefix names nothing: without this, ``sourceAddressPrefix: ""`` would stand in for a
    # source and skip the fail-closed default below.
    peers = [p for p in peers if p.strip()]
    implicit = False
    if not peers and not as_list(rule.get(f"{side}ApplicationSecurityGroups")):
        # Azure requires a prefix or an ASG; with neither we cannot tell, so fail closed as "*".
        peers, implicit = ["*"], True
    return Permission(where, direction, protocol, ranges, tuple(peers), implicit)


#: Deny peers that block every internet source of both address families.
_AZ_DENY_ALL_INTERNET = {"*", "any", "internet"}


def _az_deny_covers_sources(deny_peers: Sequence[str], allow_peers: Sequence[str]) -> bool:
    """Whether a Deny's sources include every source of the Allow.

    ``0.0.0.0/0`` is IPv4 only: a Deny from it leaves an Allow from ``::/0`` (or from the
    Internet tag, which has IPv6 ranges too) open over IPv6, so each family is matched on its own.
    """
    d = {str(p).strip().lower() for p in deny_peers}
    if d & _AZ_DENY_ALL_INTERNET:
        return True
    d_nets = [n for p in d if (n := _network(p)) is not None]
    for peer in allow_peers:
        text = str(peer).strip().lower()
        if text in d:
            continue
        net = _network(text)
        if net is None or not any(n.version == net.version and net.subnet_of(n) for n in d_nets):  # type: ignore[arg-type]
            return False
    return True


def _subtract(ranges: tuple[tuple[int, int], ...], cut: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Port ranges minus the ports in `cut`."""
    out = list(ranges)
    for lo_c, hi_c in cut:
        nxt: list[tuple[int, int]] = []
        for lo, hi in out:
            if hi < lo_c or lo > hi_c:
                nxt.append((lo, hi))
                continue
            if lo < lo_c:
                nxt.append((lo, lo_c - 1))
            if hi > hi_c:
                nxt.append((hi_c + 1, hi))
        out = nxt
    return tuple(out)


def _az_prefix_set(rule: Any, side: str) -> tuple[frozenset[str], bool]:
    """Lowercased address prefixes of one side of an Azure rule, and whether it names ASGs."""
    prefixes = _strings(rule.get(f"{side}AddressPrefix"), f"{side}AddressPrefix") + _strings(
        rule.get(f"{side}AddressPrefixes"), f"{side}AddressPrefixes"
    )
    asgs = bool(as_list(rule.get(f"{side}ApplicationSecurityGroups")))
    return frozenset(p.strip().lower() for p in prefixes if p.strip()), asgs


def _az_other_side_covers(deny: Any, allow: Any, direction: str) -> bool:
    """Whether the Deny's destination (ingress; source for egress) covers all of the Allow's."""
    side = "destination" if direction == "ingress" else "source"
    d_prefixes, d_asgs = _az_prefix_set(deny, side)
    if not d_asgs and (not d_prefixes or d_prefixes & {"*", "any", "0.0.0.0/0"}):
        return True  # (Azure rejects a rule without a destination, so "none" only occurs in tests)
    a_prefixes, a_asgs = _az_prefix_set(allow, side)
    return not d_asgs and not a_asgs and bool(a_prefixes) and a_prefixes <= d_prefixes


def _az_any_source_port(deny: Any) -> bool:
    specs = as_list(deny.get("sourcePortRange")) + as_list(deny.get("sourcePortRanges"))
    return not specs or any(lo <= 1 and hi >= 65535 for lo, hi in map(parse_port_spec, specs))


def _azure_effective(rules: list[Any]) -> Iterator[Permission]:
    """Allow rules as Azure applies them: in priority order, where an earlier (lower number) Deny
    of the same direction that covers the protocol and every source takes those ports away.

    A Deny only shadows what it fully covers: its sources are the whole internet of both address
    families or include every source of the Allow, its destination covers the Allow's (``*`` or
    the same prefixes) and it applies to every source port; a rule without a priority shadows
    nothing (fail closed). Priorities are
    only read when the group has a Deny, so an unknown priority never stops the usual case.
    """
    allows = [(i, r) for i, r in enumerate(rules) if str(r.get("access") or "Allow").strip().lower() == "allow"]
    denies = [r for r in rules if str(r.get("access") or "Allow").strip().lower() == "deny"]
    for i, rule in allows:
        # Labels use indexes, not names: reading a name that is unknown in preview would stop the
        # rule for a value that decides nothing.
        perm = _azure_rule(rule, f"security rule {i}")
        if perm is None or not denies:
            if perm is not None:
                yield perm
            continue
        priority = rule.get("priority")
        ranges = perm.ranges
        for deny in denies:
            d_priority = deny.get("priority")
            if priority is None or d_priority is None or int(d_priority) >= int(priority):
                continue
            d_perm = _azure_rule({**deny, "access": "Allow"}, "deny")
            if d_perm is None or d_perm.direction != perm.direction:
                continue
            if d_perm.protocol not in ("all", perm.protocol):
                continue
            if not _az_deny_covers_sources(d_perm.peers, perm.peers):
                continue
            if not (_az_other_side_covers(deny, rule, perm.direction) and _az_any_source_port(deny)):
                # A Deny to one address, or from one source port, leaves the rest of the Allow open.
                continue
            ranges = _subtract(ranges, d_perm.ranges)
        if ranges == perm.ranges:
            yield perm
        elif ranges:
            yield Permission(perm.where, perm.direction, perm.protocol, ranges, perm.peers, perm.implicit_peer)


def _gcp_firewall(props: Props) -> Iterator[Permission]:
    if truthy(props.get("disabled")):
        return
    direction = "egress" if str(props.get("direction") or "INGRESS").strip().upper() == "EGRESS" else "ingress"
    if direction == "ingress":
        peers = _strings(props.get("sourceRanges"), "sourceRanges")
        other = as_list(props.get("sourceTags")) + as_list(props.get("sourceServiceAccounts"))
    else:
        peers = _strings(props.get("destinationRanges"), "destinationRanges")
        other = []
    implicit = False
    if not peers and not other:
        # GCP uses 0.0.0.0/0 when an INGRESS rule names no source (EGRESS: no destination).
        peers, implicit = ["0.0.0.0/0"], True
    for i, allow in enumerate(_maps(props.get("allows"), "allows")):
        protocol = normalize_protocol(allow.get("protocol"))
        ports = as_list(allow.get("ports"))
        ranges = tuple(parse_port_spec(p) for p in ports) or (ALL_PORTS,)
        yield Permission(f"allows[{i}]", direction, protocol, ranges, tuple(peers), implicit)


_GCP_SRC_SELECTORS = ("srcAddressGroups", "srcFqdns", "srcSecureTags", "srcNetworks", "srcThreatIntelligences")


def _gcp_policy_rule(rule: Any, where: str) -> Iterator[Permission]:
    if truthy(rule.get("disabled")):
        return
    action = str(rule.get("action") or "allow").strip().lower()
    if action in ("deny", "goto_next"):
        return
    direction = "egress" if str(rule.get("direction") or "INGRESS").strip().upper() == "EGRESS" else "ingress"
    match = rule.get("match")
    if match is None:
        match = {}
    if not is_map(match):
        raise TypeError(f"{where} match is {type(match).__name__}, expected an object")
    prefix = "src" if direction == "ingress" else "dest"
    peers = _strings(match.get(f"{prefix}IpRanges"), f"{prefix}IpRanges")
    # Region codes select internet traffic from whole countries; an INTERNET scope is the internet.
    if as_list(match.get(f"{prefix}RegionCodes")):
        peers.append("0.0.0.0/0")
    for key in (f"{prefix}NetworkScope", f"{prefix}NetworkContext"):
        if str(match.get(key) or "").strip().upper() == "INTERNET":
            peers.append("0.0.0.0/0")
    implicit = False
    selectors = _GCP_SRC_SELECTORS if direction == "ingress" else ("destAddressGroups", "destFqdns")
    if not peers and not any(as_list(match.get(k)) for k in selectors) and not match.get(f"{prefix}NetworkScope"):
        peers, implicit = ["0.0.0.0/0"], True
    configs = _maps(match.get("layer4Configs"), "layer4Configs") or [{"ipProtocol": "all"}]
    for i, l4 in enumerate(configs):
        protocol = normalize_protocol(l4.get("ipProtocol"))
        ranges = tuple(parse_port_spec(p) for p in as_list(l4.get("ports"))) or (ALL_PORTS,)
        yield Permission(f"{where} layer4Configs[{i}]", direction, protocol, ranges, tuple(peers), implicit)


def permissions(resource_type: str, props: Props) -> Iterator[Permission]:
    """Every allowed permission (both directions) a firewall resource grants."""
    if resource_type in (AWS_SG, AWS_DEFAULT_SG):
        for direction in ("ingress", "egress"):
            for i, entry in enumerate(_maps(props.get(direction), direction)):
                yield _aws_sg_entry(entry, direction, f"{direction} rule {i}")
    elif resource_type == AWS_SG_RULE:
        kind = props.get("type")
        if kind is None:
            # `type` is required; without it we cannot tell the direction, so judge it as ingress.
            kind = "ingress"
        yield _aws_sg_entry(props, str(kind).strip().lower(), f"{kind} rule")
    elif resource_type in (AWS_VPC_INGRESS, AWS_VPC_EGRESS):
        direction = "ingress" if resource_type == AWS_VPC_INGRESS else "egress"
        protocol = normalize_protocol(props.get("ipProtocol"))
        peers = [p for p in (props.get("cidrIpv4"), props.get("cidrIpv6")) if p is not None]
        yield Permission(
            f"{direction} rule",
            direction,
            protocol,
            _aws_ranges(protocol, props.get("fromPort"), props.get("toPort")),
            tuple(_strings(peers, "cidr")),
        )
    elif resource_type == AZ_NSG:
        yield from _azure_effective(_maps(props.get("securityRules"), "securityRules"))
    elif resource_type == AZ_RULE:
        perm = _azure_rule(props, "security rule")
        if perm is not None:
            yield perm
    elif resource_type == GCP_FIREWALL:
        yield from _gcp_firewall(props)
    elif resource_type in GCP_POLICY_RULES:
        yield from _gcp_policy_rule(props, "firewall policy rule")
    elif resource_type in GCP_POLICY_WITH_RULES:
        for i, rule in enumerate(_maps(props.get("rules"), "rules")):
            yield from _gcp_policy_rule(rule, f"rules[{i}]")
    elif resource_type == AWS_LIGHTSAIL_PORTS:
        for i, info in enumerate(_maps(props.get("portInfos"), "portInfos")):
            protocol = normalize_protocol(info.get("protocol"))
            peers = _strings(info.get("cidrs"), "cidrs") + _strings(info.get("ipv6Cidrs"), "ipv6Cidrs")
            implicit = not peers and not as_list(info.get("cidrListAliases"))
            yield Permission(
                f"portInfos[{i}]",
                "ingress",
                protocol,
                _aws_ranges(protocol, info.get("fromPort"), info.get("toPort")),
                ("0.0.0.0/0",) if implicit else tuple(peers),
                implicit,
            )
    elif resource_type == AZ_LB:
        yield from _azure_lb_forwards(props)
    elif resource_type == AZ_INBOUND_NAT:
        yield _az_forward(props, "NAT rule (frontend not known, judged public")
    elif resource_type == GCP_FORWARDING_RULE:
        yield from _gcp_passthrough(props)


#: Load balancer front ends that pass a port through to the VMs unchanged (Azure load balancer
#: rules and NAT rules/pools, GCP passthrough network load balancers). A public one forwarding
#: 22 reaches sshd from the internet no matter which firewall shape the VM has behind it (an
#: Azure NIC without an NSG, a Basic SKU load balancer).
AZ_INBOUND_NAT = "azure-native:network:InboundNatRule"
#: A standalone NAT rule cannot show whether its load balancer is public: it fails closed as
#: public (NAT rules exist to reach single VMs from outside; exempt one on an internal LB).
LB_FORWARD_TYPES = (AZ_LB, AZ_INBOUND_NAT, GCP_FORWARDING_RULE)
_GCP_PROXY_TARGETS = ("targethttpproxies", "targethttpsproxies", "targettcpproxies", "targetsslproxies")


def _az_forward(rule: Any, where: str) -> Permission:
    protocol = normalize_protocol(rule.get("protocol"))
    port = rule.get("backendPort")
    # backendPort 0 with protocol All is "HA ports" (every port); a missing one fails closed.
    ranges = (ALL_PORTS,) if port is None or _port(port) == 0 else ((_port(port), _port(port)),)
    return Permission(f"{where}, backend port {port})", "ingress", protocol, ranges, ("0.0.0.0/0",))


def _azure_lb_forwards(props: Props) -> Iterator[Permission]:
    frontends = _maps(props.get("frontendIPConfigurations"), "frontendIPConfigurations")
    if not any(f.get("publicIPAddress") is not None or f.get("publicIPPrefix") is not None for f in frontends):
        return  # internal load balancer: its frontends have private addresses only
    for key in ("loadBalancingRules", "inboundNatRules", "inboundNatPools"):
        for i, rule in enumerate(_maps(props.get(key), key)):
            yield _az_forward(rule, f"{key}[{i}] (public frontend")


def _gcp_passthrough(props: Props) -> Iterator[Permission]:
    scheme = str(props.get("loadBalancingScheme") or "EXTERNAL").strip().upper()
    if scheme != "EXTERNAL":
        return  # internal, or EXTERNAL_MANAGED (a proxy: the VM port comes from the backend service)
    target = str(props.get("target") or "").lower()
    if any(t in target for t in _GCP_PROXY_TARGETS):
        return
    protocol = normalize_protocol(props.get("ipProtocol") or "TCP")
    if protocol == "l3_default":
        protocol = "all"
    specs = as_list(props.get("ports")) + as_list(props.get("portRange"))
    ranges = (ALL_PORTS,) if truthy(props.get("allPorts")) or not specs else tuple(parse_port_spec(p) for p in specs)
    yield Permission("forwarding rule (external passthrough)", "ingress", protocol, ranges, ("0.0.0.0/0",))


def internet_permissions(
    resource_type: str, props: Props, direction: str, config: dict
) -> Iterator[tuple[Permission, list[str]]]:
    """Permissions of `direction` whose peers include the internet, with those peers."""
    for perm in permissions(resource_type, props):
        if perm.direction != direction:
            continue
        peers = perm.internet_peers(config)
        if peers:
            yield perm, peers


def _peer_text(perm: Permission, peers: Sequence[str]) -> str:
    text = ", ".join(peers)
    if perm.implicit_peer:
        text += " (no source/destination given, so the cloud's default applies)"
    return text


# ---------------------------------------------------------------------------------------------
# N1-N3: named ports from the internet


def _port_rule_check(fix: str):
    def check(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
        watched = [int(p) for p in ctx["ports"]]
        config = dict(ctx.config)
        reported: set[int] = set()
        for perm, peers in internet_permissions(resource_type, props, "ingress", config):
            hit = [p for p in watched if perm.covers(p)]
            if hit:
                reported.update(hit)
                yield (
                    f"{perm.where} allows {perm.describe()} from {_peer_text(perm, peers)}, which includes "
                    f"{', '.join(map(str, hit))}; {fix}"
                )
        # One narrow source per rule, many rules (256 rules of one /8 each): the sources of all the
        # rules that open a port are merged before they are judged.
        ingress = [p for p in permissions(resource_type, props) if p.direction == "ingress"]
        for port in watched:
            if port in reported:
                continue
            opening = [p for p in ingress if p.covers(port)]
            if len(opening) < 2:
                continue
            joint = jointly_internet([peer for p in opening for peer in p.peers], config)
            if joint:
                yield (
                    f"{len(opening)} rules ({', '.join(p.where for p in opening[:3])}, ...) together allow {port} from "
                    f"ranges that add up to the internet ({', '.join(joint[:3])}, ...); {fix}"
                )

    return check


def _port_rule(name: str, description: str, ports: list[int], catalogue: str, peers: tuple[str, ...], fix: str) -> Rule:
    return Rule(
        name=name,
        description=description,
        concern=CONCERN,
        clouds=("aws", "azure", "gcp"),
        resource_types=(*INGRESS_TYPES, *LB_FORWARD_TYPES),
        check=_port_rule_check(fix),
        level=MANDATORY,
        knobs={"ports": _ports_knob(ports, "ports that must not be reachable from the internet"), **INTERNET_KNOBS},
        catalogue=(catalogue,),
        peers=peers,
    )


NO_SSH = _port_rule(
    "network-no-ssh-from-internet",
    "Security groups, NSGs and firewalls must not allow SSH (22) from the internet.",
    [22],
    "N1",
    ("CKV_AWS_24", "CKV_AZURE_10", "CKV_GCP_2", "AVD-AWS-0107", "AVD-AZU-0050", "AVD-GCP-0071", "nag:EC2RestrictedSSH"),
    "restrict the source to admin CIDRs or use SSM / IAP / Bastion",
)

NO_RDP = _port_rule(
    "network-no-rdp-winrm-from-internet",
    "Security groups, NSGs and firewalls must not allow RDP (3389) or WinRM (5985/5986) from the internet.",
    [3389, 5985, 5986],
    "N2",
    ("CKV_AWS_25", "CKV_AZURE_9", "CKV_GCP_3", "AVD-AZU-0048", "AVD-GCP-0070"),
    "restrict the source to admin CIDRs or use a bastion",
)

NO_ADMIN_DB = _port_rule(
    "network-no-admin-db-ports-from-internet",
    "Security groups, NSGs and firewalls must not allow FTP, telnet or database ports from the internet.",
    [20, 21, 23, 3306, 5432, 1433, 6379, 9200, 27017],
    "N3",
    ("CKV_GCP_75", "CKV_GCP_77", "CKV_GCP_88", "AVD-AZU-0074", "nag:EC2RestrictedCommonPorts"),
    "restrict the source to the application tier's private ranges",
)


# ---------------------------------------------------------------------------------------------
# N4: all ports


def _check_all_ports(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    pieces: dict[str, list[Permission]] = {}
    for perm, peers in internet_permissions(resource_type, props, "ingress", dict(ctx.config)):
        if perm.all_ports():
            yield (
                f"{perm.where} allows {perm.describe()} from {_peer_text(perm, peers)}; "
                "allow only the listener ports (443/80) and only on the load balancer tier"
            )
        elif perm.port_bearing:
            pieces.setdefault(perm.protocol, []).append(perm)
    # Every port of a protocol split over several rules of one resource is the same opening.
    for protocol, perms in pieces.items():
        if len(perms) > 1 and _covers_every_port([r for p in perms for r in p.ranges]):
            yield (
                f"{', '.join(p.where for p in perms)} together allow every {protocol} port from the internet; "
                "allow only the listener ports (443/80) and only on the load balancer tier"
            )


NO_ALL_PORTS = Rule(
    name="network-no-all-ports-from-internet",
    description="No security group, NSG or firewall may allow all ports or all protocols from the internet.",
    concern=CONCERN,
    clouds=("aws", "azure", "gcp"),
    resource_types=INGRESS_TYPES,
    check=_check_all_ports,
    level=MANDATORY,
    knobs=dict(INTERNET_KNOBS),
    catalogue=("N4",),
    peers=("CKV_AWS_277", "CKV2_GCP_12", "AVD-AZU-0047", "AVD-GCP-0027", "AVD-GCP-0072", "PSR:NSG.AnyInboundSource"),
)


# ---------------------------------------------------------------------------------------------
# N5: internet ingress only to the load balancer's listener ports


def _check_lb_ports_only(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    cloud = resource_type.split(":", 1)[0]
    allowed = {int(p) for p in (ctx["gcpAllowedPorts"] if cloud == "gcp" else ctx["allowedPorts"])}
    for perm, peers in internet_permissions(resource_type, props, "ingress", dict(ctx.config)):
        if not perm.port_bearing:
            continue
        extra = [r for r in perm.ranges if not (r[0] == r[1] and r[0] in allowed)]
        if perm.protocol == "all" or extra:
            if cloud == "gcp":
                why = (
                    "GCP proxy load balancers reach backends from 35.191.0.0/16 and 130.211.0.0/22, so this "
                    "exposes the VMs directly; allow the app port from those ranges only"
                )
            else:
                why = (
                    f"only the load balancer's listener ports {sorted(allowed)} may be open to the internet; "
                    "let the VMs accept the app port from the load balancer's security group / subnet only"
                )
            yield f"{perm.where} allows {perm.describe()} from {_peer_text(perm, peers)}; {why}"


LB_PORTS_ONLY = Rule(
    name="network-internet-ingress-only-to-lb-ports",
    description="Internet ingress may only reach the load balancer's listener ports; VMs take traffic from the load balancer only.",
    concern=CONCERN,
    clouds=("aws", "azure", "gcp"),
    resource_types=INGRESS_TYPES,
    check=_check_lb_ports_only,
    # ADVISORY: a resource rule cannot tell the LB tier's firewall from the VM tier's, and a
    # deliberately public service on another port would be a false positive.
    level=ADVISORY,
    knobs={
        "allowedPorts": _ports_knob([80, 443], "AWS/Azure ports that may be open to the internet (LB listeners)"),
        "gcpAllowedPorts": _ports_knob([], "GCP ports that may be open to the internet (VM firewalls; LBs need none)"),
        **INTERNET_KNOBS,
    },
    catalogue=("N5",),
    peers=("AS-EC23", "pc:disallow-public-internet-ingress"),
)


# ---------------------------------------------------------------------------------------------
# N6: port 80 from the internet only in front of redirect-only listeners

LB_FRONT_TYPES = (AWS_LB, AWS_ALB, AZ_APPGW, AZ_LB, GCP_GLOBAL_FORWARDING_RULE, GCP_FORWARDING_RULE)


def _aws_listener_redirects(props: Props) -> bool:
    actions = _maps(props.get("defaultActions"), "defaultActions")
    return bool(actions) and all(
        str(a.get("type") or "").lower() == "redirect" and str(dig(a, "redirect", "protocol") or "").upper() == "HTTPS"
        for a in actions
    )


def _appgw_plain_http_listeners(props: Props) -> Iterator[str]:
    """Names of an Application Gateway's Http listeners that are not routed to a redirect."""
    redirected: set[str] = set()
    for rule in _maps(props.get("requestRoutingRules"), "requestRoutingRules"):
        listener_id = dig(rule, "httpListener", "id")
        if listener_id and dig(rule, "redirectConfiguration", "id"):
            redirected.add(ref_name(listener_id))
    for listener in _maps(props.get("httpListeners"), "httpListeners"):
        if str(listener.get("protocol") or "").lower() == "http" and str(listener.get("name")) not in redirected:
            yield str(listener.get("name"))


def _check_port_80(resources: Sequence[StackResource], ctx: Context) -> Iterable[tuple[str, str | None]]:
    config = dict(ctx.config)
    open80: list[tuple[StackResource, Permission, list[str]]] = []
    for r in resources:
        if r.type in INGRESS_TYPES:
            for perm, peers in internet_permissions(r.type, r.props, "ingress", config):
                if perm.covers(80) and not perm.all_ports():
                    open80.append((r, perm, peers))
    if not open80:
        return
    has_front = any(r.type in LB_FRONT_TYPES for r in resources)
    for r, perm, peers in open80:
        if r.type.startswith("gcp:"):
            yield (
                f"{perm.where} opens 80 from {_peer_text(perm, peers)} on a GCP VM firewall; GCP load balancers "
                "do not need it (their traffic comes from 35.191.0.0/16, 130.211.0.0/22): remove it",
                r.urn,
            )
        elif not has_front:
            yield (
                f"{perm.where} opens 80 from {_peer_text(perm, peers)} but the stack has no load balancer to redirect "
                "it to HTTPS; close port 80 or put it on a load balancer that only redirects",
                r.urn,
            )
    for r in resources:
        if (
            r.type in AWS_LISTENERS
            and r.props.get("port") is not None
            and _port(r.props["port"]) == 80
            and not _aws_listener_redirects(r.props)
        ):
            yield (
                "listener on port 80 does not only redirect to HTTPS while port 80 is open to the internet; "
                "make every default action a redirect with protocol HTTPS",
                r.urn,
            )
        elif r.type == AZ_APPGW:
            for name in _appgw_plain_http_listeners(r.props):
                yield (
                    f"Http listener {name!r} is not routed to a redirect configuration while port 80 is open to the "
                    "internet; route it to a redirect to the HTTPS listener",
                    r.urn,
                )


PORT_80_REDIRECT = StackRule(
    name="network-port-80-only-with-redirect",
    description="Port 80 may be open to the internet only on a load balancer whose port-80 listeners only redirect to HTTPS.",
    concern=CONCERN,
    clouds=("aws", "azure", "gcp"),
    check=_check_port_80,
    # ADVISORY: listener-to-gateway links are ids that are often unknown or built outside the
    # stack, so the redirect check is best-effort; the transport rules enforce the listeners.
    level=ADVISORY,
    knobs=dict(INTERNET_KNOBS),
    catalogue=("N6",),
    peers=("CKV_AWS_260", "CKV_AZURE_160", "CKV_GCP_106", "pc:disallow-inbound-http-traffic"),
)


# ---------------------------------------------------------------------------------------------
# N7: egress


def _check_egress(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    for perm, peers in internet_permissions(resource_type, props, "egress", dict(ctx.config)):
        if perm.all_ports():
            yield (
                f"{perm.where} allows {perm.describe()} to {_peer_text(perm, peers)}; restrict egress to the "
                "ports and destinations the VMs need (e.g. tcp 443, DNS, NTP, package mirrors)"
            )


RESTRICTED_EGRESS = Rule(
    name="network-restricted-egress",
    description="Egress to the internet should be limited to the ports the workload needs, not all ports.",
    concern=CONCERN,
    clouds=("aws", "azure", "gcp"),
    resource_types=EGRESS_TYPES,
    check=_check_egress,
    level=ADVISORY,  # catalogue *adv*: open egress is common and often needed for patching.
    knobs=dict(INTERNET_KNOBS),
    catalogue=("N7",),
    peers=("CKV_AWS_382", "AVD-AWS-0104", "AVD-AZU-0051", "AVD-GCP-0035"),
)


# ---------------------------------------------------------------------------------------------
# N8: default security group closed, no auto-mode (default) network


def _check_default_sg(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    for direction in ("ingress", "egress"):
        rules = _maps(props.get(direction), direction)
        if rules:
            yield (
                f"the default security group keeps {len(rules)} {direction} rule(s); adopt it with no ingress and "
                "no egress rules so nothing can use it"
            )


DEFAULT_SG_CLOSED = Rule(
    name="network-default-sg-closed",
    description="The VPC default security group must have no ingress or egress rules.",
    concern=CONCERN,
    clouds=("aws",),
    resource_types=(AWS_DEFAULT_SG,),
    check=_check_default_sg,
    level=MANDATORY,
    catalogue=("N8",),
    peers=("CKV2_AWS_12", "AVD-AWS-0173"),
)


def _check_gcp_network(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    auto = props.get("autoCreateSubnetworks")
    if auto is None or truthy(auto):
        shown = "not set (defaults to true)" if auto is None else repr(auto)
        yield (
            f"autoCreateSubnetworks is {shown}: an auto-mode network gets a subnet in every region like the "
            "default network; set autoCreateSubnetworks=false and create only the subnets you need"
        )


NO_DEFAULT_NETWORK = Rule(
    name="network-no-default-network",
    description="GCP networks must be custom-mode (autoCreateSubnetworks=false), never the default network.",
    concern=CONCERN,
    clouds=("gcp",),
    resource_types=(GCP_NETWORK,),
    check=_check_gcp_network,
    level=MANDATORY,
    catalogue=("N8",),
    peers=("CKV2_GCP_18", "AVD-GCP-0010", "AVD-GCP-0073"),
)


# ---------------------------------------------------------------------------------------------
# N1 across resources: sshd moved to another port, SSH from a managed prefix list

AWS_PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
AWS_PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
GCP_ADDRESS_GROUP = "gcp:networksecurity/addressGroup:AddressGroup"


def moved_sshd_ports(resources: Sequence[StackResource], ctx: Context) -> dict[int, list[StackResource]]:
    """Ports other than the watched SSH ports that boot data tells sshd to listen on -> the VMs.

    Boot data that is unknown (preview) or malformed is skipped here: the boot-data resource rules
    already report it (advisory in preview, failing closed on up).
    """
    watched = {int(p) for p in ctx["ports"]}
    found: dict[int, list[StackResource]] = {}
    for r in resources:
        if r.type not in BOOT_TYPES:
            continue
        try:
            ports = {p for _, text in boot_documents(r.type, r.props) for p in sshd_ports(text)}
        except UnknownValueError:
            if ctx.dry_run:
                continue
            raise
        except (TypeError, ValueError):
            continue
        for port in sorted(ports - watched):
            found.setdefault(port, []).append(r)
    return found


def _refs(props: Any, *path: str) -> list[Any]:
    """Ids at `path` (the last key a list or a single id), `UNKNOWN` for the ones not known yet."""
    cur = props
    for key in path[:-1]:
        cur = peek(cur, key)
        if cur is UNKNOWN:
            return [UNKNOWN]
        if not is_map(cur):
            return []
    return peek_all(cur, path[-1])


def _vm_security_groups(vm: StackResource) -> list[Any]:
    refs = _refs(vm.props, "vpcSecurityGroupIds") + _refs(vm.props, "securityGroups")
    refs += _refs(vm.props, "securityGroupNames")
    for i in range(len(as_list(peek(vm.props, "networkInterfaces")))):
        refs += _refs(vm.props["networkInterfaces"][i], "securityGroups")
    for i in range(len(as_list(peek(vm.props, "launchSpecifications")))):
        refs += _refs(vm.props["launchSpecifications"][i], "vpcSecurityGroupIds")
    return refs


def _link(fw: StackResource, vm: StackResource) -> Any:
    """Whether firewall `fw` applies to `vm`: True, False or `UNKNOWN` (ids not known yet).

    AWS matches the VM's security groups with the group's id/name (a VM without any uses its
    VPC's default group); GCP matches target tags (a firewall without targets applies to every
    VM); Azure NSG associations go through NICs and subnets, so every NSG counts (fail closed).
    """
    cloud = vm.type.split(":", 1)[0]
    if fw.type.split(":", 1)[0] != cloud:
        return False
    if cloud == "aws":
        vm_refs = _vm_security_groups(vm)
        if fw.type in (AWS_SG, AWS_DEFAULT_SG):
            keys = [k for k in (peek(fw.props, "id"), peek(fw.props, "name")) if k is not None]
        else:
            keys = [k for k in (peek(fw.props, "securityGroupId"),) if k is not None]
        if not vm_refs:
            return fw.type == AWS_DEFAULT_SG or (UNKNOWN if UNKNOWN in keys else False)
        if any(isinstance(r, str) and r in keys for r in vm_refs):
            return True
        return UNKNOWN if UNKNOWN in vm_refs or UNKNOWN in keys else False
    if cloud == "gcp" and fw.type == GCP_FIREWALL and vm.type in GCP_VM_TYPES:
        targets = _refs(fw.props, "targetTags")
        if not targets:
            return True  # no target tags: every VM of the network (service-account targets fail closed)
        tags = _refs(vm.props, "tags")
        if any(isinstance(t, str) and t in tags for t in targets):
            return True
        return UNKNOWN if UNKNOWN in targets or UNKNOWN in tags else False
    return True


def _check_moved_ssh(resources: Sequence[StackResource], ctx: Context) -> Iterable[tuple[str, str | None]]:
    moved = moved_sshd_ports(resources, ctx)
    if not moved:
        return
    config = dict(ctx.config)
    undecided: list[str] = []
    for r in resources:
        if r.type not in INGRESS_TYPES:
            continue
        for perm, peers in internet_permissions(r.type, r.props, "ingress", config):
            for port, vms in moved.items():
                if not perm.covers(port):
                    continue
                links = [(vm, _link(r, vm)) for vm in vms]
                hit = [vm.name for vm, linked in links if linked is True]
                if hit:
                    yield (
                        f"{perm.where} allows {perm.describe()} from {_peer_text(perm, peers)}, and boot data of "
                        f"{', '.join(hit)} moves sshd to port {port}, so SSH is open to the internet; restrict the "
                        "source to admin CIDRs or use SSM / IAP / Bastion",
                        r.urn,
                    )
                elif any(linked is UNKNOWN for _, linked in links):
                    undecided.append(r.name)
    if undecided:
        if ctx.dry_run:
            # Which VMs a security group guards is only known on `up` (ids are outputs).
            raise UnknownValueError(UNKNOWN_STRING_VALUE, ["vpcSecurityGroupIds"])
        yield (
            f"firewall(s) {', '.join(sorted(set(undecided)))} open a port that boot data moves sshd to, and whether "
            "they guard those VMs cannot be told; failing closed",
            None,
        )


MOVED_SSH = StackRule(
    name="network-no-moved-ssh-from-internet",
    description="When boot data moves sshd to another port, that port must not be open to the internet either.",
    concern=CONCERN,
    clouds=("aws", "azure", "gcp"),
    check=_check_moved_ssh,
    level=MANDATORY,
    knobs={"ports": _ports_knob([22], "SSH ports already judged by network-no-ssh-from-internet"), **INTERNET_KNOBS},
    catalogue=("N1",),
    peers=(),
)


def _ssh_prefix_rules(resources: Sequence[StackResource]) -> Iterator[tuple[StackResource, Permission, list[Any]]]:
    """Ingress permissions that name managed prefix lists, with those lists' ids."""
    for r in resources:
        if r.type in (AWS_SG, AWS_DEFAULT_SG):
            for i, entry in enumerate(_maps(r.props.get("ingress"), "ingress")):
                refs = peek_all(entry, "prefixListIds")
                if refs:
                    yield r, _aws_sg_entry(entry, "ingress", f"ingress rule {i}"), refs
        elif r.type == AWS_SG_RULE and str(r.props.get("type") or "ingress").lower() == "ingress":
            refs = peek_all(r.props, "prefixListIds")
            if refs:
                yield r, _aws_sg_entry(r.props, "ingress", "ingress rule"), refs
        elif r.type == AWS_VPC_INGRESS:
            refs = peek_all(r.props, "prefixListId")
            if refs:
                protocol = normalize_protocol(r.props.get("ipProtocol"))
                ranges = _aws_ranges(protocol, r.props.get("fromPort"), r.props.get("toPort"))
                yield r, Permission("ingress rule", "ingress", protocol, ranges, ()), refs
        elif r.type in GCP_POLICY_RULES or r.type in GCP_POLICY_WITH_RULES:
            rules = (
                [(r.props, "firewall policy rule")]
                if r.type in GCP_POLICY_RULES
                else [(rule, f"rules[{i}]") for i, rule in enumerate(_maps(r.props.get("rules"), "rules"))]
            )
            for rule, where in rules:
                match = peek(rule, "match")
                refs = [_gcp_group_key(x) for x in peek_all(match, "srcAddressGroups")] if is_map(match) else []
                if refs:
                    for perm in _gcp_policy_rule(rule, where):
                        if perm.direction == "ingress":
                            yield r, perm, refs


def _gcp_group_key(ref: Any) -> Any:
    """An address group reference (``projects/p/locations/global/addressGroups/<name>`` or the
    group's id) as the key `_open_prefix_lists` files the group under."""
    return ref if ref is UNKNOWN else f"{GCP_ADDRESS_GROUP}:{ref_name(ref)}"


def _open_prefix_lists(resources: Sequence[StackResource], config: dict) -> dict[Any, tuple[str, list[str]]]:
    """Managed prefix lists with an internet-wide entry: id (or `UNKNOWN`) -> (name, entries)."""
    lists: dict[Any, tuple[str, list[str]]] = {}
    for r in resources:
        if r.type == AWS_PREFIX_LIST:
            cidrs = [str(dig(e, "cidr")) for e in _maps(r.props.get("entries"), "entries")]
            key = peek(r.props, "id")
        elif r.type == AWS_PREFIX_LIST_ENTRY:
            cidrs = [str(r.props.get("cidr"))]
            key = peek(r.props, "prefixListId")
        elif r.type == GCP_ADDRESS_GROUP:
            # GCP address groups play the part of prefix lists for firewall policy rules.
            cidrs = [str(c) for c in as_list(r.props.get("items"))]
            name = peek(r.props, "name")
            name = peek(r.props, "id") if name is None else name
            key = _gcp_group_key(name) if isinstance(name, str) else UNKNOWN
        else:
            continue
        bad = [c for c in cidrs if is_internet(c, config)]
        if bad:
            name, known = lists.get(key, (r.name, []))
            lists[key] = (name, known + bad)
    return lists


def _check_prefix_list_ssh(resources: Sequence[StackResource], ctx: Context) -> Iterable[tuple[str, str | None]]:
    config = dict(ctx.config)
    open_lists = _open_prefix_lists(resources, config)
    if not open_lists:
        return
    watched = [int(p) for p in ctx["ports"]] + list(moved_sshd_ports(resources, ctx))
    undecided = False
    for r, perm, refs in _ssh_prefix_rules(resources):
        hit = [p for p in watched if perm.covers(p)]
        if not hit:
            continue
        for ref in refs:
            if isinstance(ref, str) and ref in open_lists:
                name, cidrs = open_lists[ref]
                yield (
                    f"{perm.where} allows {perm.describe()} (port {', '.join(map(str, hit))}) from "
                    f"{'address group' if r.type.startswith('gcp:') else 'managed prefix list'} "
                    f"{name}, whose entries include {', '.join(cidrs)}; remove those entries or restrict the rule "
                    "to a list of admin CIDRs",
                    r.urn,
                )
            elif ref is UNKNOWN or UNKNOWN in open_lists:
                undecided = True
    if undecided:
        if ctx.dry_run:
            # Which list the rule names is only known on `up`: report it as "can't run in preview".
            raise UnknownValueError(UNKNOWN_STRING_VALUE, ["prefixListIds"])
        yield (
            "an SSH rule names a managed prefix list that cannot be matched while a prefix list of the stack "
            "includes the internet; failing closed",
            None,
        )


PREFIX_LIST_SSH = StackRule(
    name="network-no-ssh-from-open-prefix-list",
    description="SSH must not be allowed from a managed prefix list (AWS) or address group (GCP firewall policies) whose entries include the internet (0.0.0.0/0, ::/0).",
    concern=CONCERN,
    clouds=("aws", "gcp"),
    check=_check_prefix_list_ssh,
    level=MANDATORY,
    knobs={"ports": _ports_knob([22], "SSH ports"), **INTERNET_KNOBS},
    catalogue=("N1",),
    peers=(),
)


RULES: list[Rule | StackRule] = [
    NO_SSH,
    MOVED_SSH,
    PREFIX_LIST_SSH,
    NO_RDP,
    NO_ADMIN_DB,
    NO_ALL_PORTS,
    LB_PORTS_ONLY,
    PORT_80_REDIRECT,
    RESTRICTED_EGRESS,
    DEFAULT_SG_CLOSED,
    NO_DEFAULT_NETWORK,
]
