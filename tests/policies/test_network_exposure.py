"""Rule tests for policies/rules/network_exposure.py (N1-N8).

Per rule and cloud: a compliant baseline as our stacks build it, then one mutation per case.
"""

from __future__ import annotations

import pytest

from policies.framework import ADVISORY, MANDATORY
from policies.rules.network_exposure import is_internet, normalize_protocol, parse_port_spec

from .support import (
    DEL,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    all_of,
    changed,
    delete_at,
    mutate,
    reported_name,
    rule,
    set_at,
    stack_violations,
    violations,
)

SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_IN = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VPC_OUT = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
NSG = "azure-native:network:NetworkSecurityGroup"
AZ_RULE = "azure-native:network:SecurityRule"
FW = "gcp:compute/firewall:Firewall"
NFP_RULE = "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule"
FP_WITH_RULES = "gcp:compute/firewallPolicyWithRules:FirewallPolicyWithRules"
NETWORK = "gcp:compute/network:Network"

SSH = "network-no-ssh-from-internet"
RDP = "network-no-rdp-winrm-from-internet"
ADMIN_DB = "network-no-admin-db-ports-from-internet"
ALL_PORTS = "network-no-all-ports-from-internet"
LB_ONLY = "network-internet-ingress-only-to-lb-ports"
PORT80 = "network-port-80-only-with-redirect"
EGRESS = "network-restricted-egress"
DEFAULT_SG_CLOSED = "network-default-sg-closed"
NO_DEFAULT_NET = "network-no-default-network"

# ---------------------------------------------------------------------------------------------
# Compliant baselines (what the stacks build)

# AWS: the instance SG has no inline rules; the app port comes from the LB SG and SSH (optional)
# from the admin CIDR, both as standalone VPC rules. Egress is tcp 443 only.
AWS_INSTANCE_SG = {
    "vpcId": "vpc-1",
    "description": "app instances",
    "egress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}],
}
AWS_APP_FROM_LB = {
    "securityGroupId": "sg-app",
    "ipProtocol": "tcp",
    "fromPort": 8080,
    "toPort": 8080,
    "referencedSecurityGroupId": "sg-lb",
}
AWS_SSH_FROM_ADMIN = {
    "securityGroupId": "sg-app",
    "ipProtocol": "tcp",
    "fromPort": 22,
    "toPort": 22,
    "cidrIpv4": "203.0.113.0/24",
}
AWS_LB_SG = {
    "vpcId": "vpc-1",
    "ingress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]},
        {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]},
    ],
    "egress": [{"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "securityGroups": ["sg-app"]}],
}
AWS_SG_RULE_SSH = {
    "type": "ingress",
    "securityGroupId": "sg-app",
    "protocol": "tcp",
    "fromPort": 22,
    "toPort": 22,
    "cidrBlocks": ["203.0.113.0/24"],
}

# Azure: the VM subnet NSG allows the app port from the AppGw subnet and SSH from the admin CIDR,
# denies the rest inbound; outbound 443 only.
AZ_NSG = {
    "resourceGroupName": "rg",
    "securityRules": [
        {
            "name": "app-from-appgw",
            "priority": 100,
            "direction": "Inbound",
            "access": "Allow",
            "protocol": "Tcp",
            "sourceAddressPrefix": "10.0.1.0/24",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRange": "8080",
        },
        {
            "name": "ssh-from-admin",
            "priority": 110,
            "direction": "Inbound",
            "access": "Allow",
            "protocol": "Tcp",
            "sourceAddressPrefixes": ["203.0.113.0/24"],
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRanges": ["22"],
        },
        {
            "name": "deny-all-in",
            "priority": 4096,
            "direction": "Inbound",
            "access": "Deny",
            "protocol": "*",
            "sourceAddressPrefix": "*",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRange": "*",
        },
        {
            "name": "https-out",
            "priority": 100,
            "direction": "Outbound",
            "access": "Allow",
            "protocol": "Tcp",
            "sourceAddressPrefix": "*",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "Internet",
            "destinationPortRange": "443",
        },
    ],
}
# The AppGw subnet NSG: Internet may reach 443/80, the gateway manager its port range.
AZ_APPGW_NSG = {
    "resourceGroupName": "rg",
    "securityRules": [
        {
            "name": "https",
            "direction": "Inbound",
            "access": "Allow",
            "protocol": "Tcp",
            "sourceAddressPrefix": "Internet",
            "destinationPortRanges": ["443", "80"],
            "priority": 100,
        },
        {
            "name": "gwm",
            "direction": "Inbound",
            "access": "Allow",
            "protocol": "Tcp",
            "sourceAddressPrefix": "GatewayManager",
            "destinationPortRange": "65200-65535",
            "priority": 110,
        },
    ],
}
AZ_SINGLE_RULE = {
    "resourceGroupName": "rg",
    "networkSecurityGroupName": "nsg",
    "direction": "Inbound",
    "access": "Allow",
    "protocol": "Tcp",
    "sourceAddressPrefix": "203.0.113.0/24",
    "destinationPortRange": "22",
    "priority": 120,
}

# GCP: app port from the LB/health-check ranges, SSH from IAP.
GCP_APP_FW = {
    "network": "net",
    "direction": "INGRESS",
    "allows": [{"protocol": "tcp", "ports": ["8080"]}],
    "sourceRanges": ["35.191.0.0/16", "130.211.0.0/22"],
    "targetTags": ["app"],
}
GCP_SSH_FW = {
    "network": "net",
    "allows": [{"protocol": "tcp", "ports": ["22"]}],
    "sourceRanges": ["35.235.240.0/20"],
    "targetTags": ["app"],
}
GCP_POLICY_RULE = {
    "firewallPolicy": "pol",
    "priority": 1000,
    "direction": "INGRESS",
    "action": "allow",
    "match": {"srcIpRanges": ["35.235.240.0/20"], "layer4Configs": [{"ipProtocol": "tcp", "ports": ["22"]}]},
}
GCP_POLICY_WITH_RULES = {"shortName": "p", "parent": "organizations/1", "rules": [dict(GCP_POLICY_RULE, priority=1)]}

INGRESS_BASELINES = [
    (SG, AWS_INSTANCE_SG),
    (SG, AWS_LB_SG),
    (VPC_IN, AWS_APP_FROM_LB),
    (VPC_IN, AWS_SSH_FROM_ADMIN),
    (SG_RULE, AWS_SG_RULE_SSH),
    (NSG, AZ_NSG),
    (NSG, AZ_APPGW_NSG),
    (AZ_RULE, AZ_SINGLE_RULE),
    (FW, GCP_APP_FW),
    (FW, GCP_SSH_FW),
    (NFP_RULE, GCP_POLICY_RULE),
    (FP_WITH_RULES, GCP_POLICY_WITH_RULES),
]


# ---------------------------------------------------------------------------------------------
# Levels and registration


@pytest.mark.parametrize(
    "name,level",
    [
        (SSH, MANDATORY),
        (RDP, MANDATORY),
        (ADMIN_DB, MANDATORY),
        (ALL_PORTS, MANDATORY),
        (LB_ONLY, ADVISORY),
        (PORT80, ADVISORY),
        (EGRESS, ADVISORY),
        (DEFAULT_SG_CLOSED, MANDATORY),
        (NO_DEFAULT_NET, MANDATORY),
    ],
)
def test_rule_registered_with_level(name, level):
    assert rule(name).level == level
    assert rule(name).catalogue


# ---------------------------------------------------------------------------------------------
# Baselines pass every exposure rule


@pytest.mark.parametrize("type_,props", INGRESS_BASELINES)
@pytest.mark.parametrize("name", [SSH, RDP, ADMIN_DB, ALL_PORTS, LB_ONLY, EGRESS])
def test_passes_for_compliant_baseline(name, type_, props):
    assert violations(name, type_, props) == []


# ---------------------------------------------------------------------------------------------
# N1 SSH from the internet: one mutation per shape

SSH_CASES = [
    # AWS inline security group
    (
        "sg_allows_ssh_from_ipv4_anywhere",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
        "0.0.0.0/0",
    ),
    (
        "sg_allows_ssh_from_ipv6_anywhere",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "ipv6CidrBlocks": ["::/0"]}]),
        ),
        "::/0",
    ),
    (
        "port_range_covers_22",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "tcp", "fromPort": 0, "toPort": 1024, "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
        "0-1024",
    ),
    (
        "protocol_is_all",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
        "all protocols",
    ),
    (
        "protocol_is_ALL_word",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "ALL", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
        "all protocols",
    ),
    (
        "protocol_is_number_6",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "6", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
        "tcp 22",
    ),
    (
        "ports_are_strings",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "tcp", "fromPort": "22", "toPort": "22", "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
        "tcp 22",
    ),
    (
        "source_is_broad_public_range",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(
                ("ingress",),
                [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"]}],
            ),
        ),
        "0.0.0.0/1",
    ),
    (
        "second_cidr_is_anywhere",
        SG,
        changed(
            AWS_LB_SG,
            set_at(
                ("ingress", 1),
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"]},
            ),
        ),
        "ingress rule 1",
    ),
    (
        "ports_missing_on_tcp_rule",
        SG,
        changed(AWS_INSTANCE_SG, set_at(("ingress",), [{"protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}])),
        "0-65535",
    ),
    (
        "default_sg_allows_ssh",
        DEFAULT_SG,
        {"vpcId": "vpc-1", "ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]},
        "0.0.0.0/0",
    ),
    # AWS security group rule
    (
        "sg_rule_allows_ssh_from_anywhere",
        SG_RULE,
        changed(AWS_SG_RULE_SSH, set_at(("cidrBlocks",), ["0.0.0.0/0"])),
        "0.0.0.0/0",
    ),
    (
        "sg_rule_allows_ipv6_anywhere",
        SG_RULE,
        changed(AWS_SG_RULE_SSH, all_of(delete_at(("cidrBlocks",)), set_at(("ipv6CidrBlocks",), ["::/0"]))),
        "::/0",
    ),
    (
        "sg_rule_protocol_all",
        SG_RULE,
        changed(
            AWS_SG_RULE_SSH,
            all_of(
                set_at(("protocol",), "all"),
                set_at(("fromPort",), 0),
                set_at(("toPort",), 0),
                set_at(("cidrBlocks",), ["0.0.0.0/0"]),
            ),
        ),
        "all protocols",
    ),
    (
        "sg_rule_type_missing",
        SG_RULE,
        changed(AWS_SG_RULE_SSH, all_of(delete_at(("type",)), set_at(("cidrBlocks",), ["0.0.0.0/0"]))),
        "0.0.0.0/0",
    ),
    # AWS VPC ingress rule
    (
        "vpc_rule_cidr_ipv4_anywhere",
        VPC_IN,
        changed(AWS_SSH_FROM_ADMIN, set_at(("cidrIpv4",), "0.0.0.0/0")),
        "0.0.0.0/0",
    ),
    (
        "vpc_rule_cidr_ipv6_anywhere",
        VPC_IN,
        changed(AWS_SSH_FROM_ADMIN, all_of(delete_at(("cidrIpv4",)), set_at(("cidrIpv6",), "::/0"))),
        "::/0",
    ),
    (
        "vpc_rule_ip_protocol_minus_one",
        VPC_IN,
        {"securityGroupId": "sg-app", "ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"},
        "all protocols",
    ),
    (
        "vpc_rule_ip_protocol_minus_one_with_unrelated_ports",
        VPC_IN,
        {"securityGroupId": "sg-app", "ipProtocol": "-1", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"},
        "all protocols",
    ),
    # Azure NSG inline rules
    (
        "nsg_rule_source_is_star",
        NSG,
        changed(AZ_NSG, set_at(("securityRules", 1, "sourceAddressPrefixes"), ["*"])),
        "*",
    ),
    (
        "nsg_rule_uses_plural_prefixes_with_internet",
        NSG,
        changed(AZ_NSG, set_at(("securityRules", 1, "sourceAddressPrefixes"), ["203.0.113.0/24", "Internet"])),
        "Internet",
    ),
    (
        "nsg_rule_source_is_any",
        NSG,
        changed(AZ_NSG, set_at(("securityRules", 1, "sourceAddressPrefixes"), ["Any"])),
        "Any",
    ),
    (
        "nsg_rule_source_is_0_0_0_0",
        NSG,
        changed(AZ_NSG, set_at(("securityRules", 1, "sourceAddressPrefixes"), ["0.0.0.0"])),
        "0.0.0.0",
    ),
    (
        "nsg_rule_source_is_lowercase_internet",
        NSG,
        changed(AZ_NSG, set_at(("securityRules", 1, "sourceAddressPrefixes"), ["internet"])),
        "internet",
    ),
    (
        "nsg_rule_singular_prefix_internet",
        NSG,
        changed(
            AZ_NSG,
            all_of(
                delete_at(("securityRules", 1, "sourceAddressPrefixes")),
                set_at(("securityRules", 1, "sourceAddressPrefix"), "Internet"),
            ),
        ),
        "Internet",
    ),
    (
        "nsg_rule_port_range_covers_22",
        NSG,
        changed(
            AZ_NSG,
            all_of(
                set_at(("securityRules", 1, "sourceAddressPrefixes"), ["*"]),
                set_at(("securityRules", 1, "destinationPortRanges"), ["20-25"]),
            ),
        ),
        "20-25",
    ),
    (
        "nsg_rule_port_is_star",
        NSG,
        changed(
            AZ_NSG,
            all_of(
                set_at(("securityRules", 1, "sourceAddressPrefixes"), ["*"]),
                set_at(("securityRules", 1, "destinationPortRanges"), ["*"]),
            ),
        ),
        "0-65535",
    ),
    (
        "nsg_rule_protocol_star",
        NSG,
        changed(
            AZ_NSG,
            all_of(
                set_at(("securityRules", 1, "sourceAddressPrefixes"), ["*"]),
                set_at(("securityRules", 1, "protocol"), "*"),
            ),
        ),
        "all protocols",
    ),
    (
        "nsg_rule_without_source",
        NSG,
        changed(AZ_NSG, delete_at(("securityRules", 1, "sourceAddressPrefixes"))),
        "no source",
    ),
    (
        "nsg_rule_without_access_or_direction",
        NSG,
        changed(
            AZ_NSG,
            all_of(
                delete_at(("securityRules", 1, "access")),
                delete_at(("securityRules", 1, "direction")),
                set_at(("securityRules", 1, "sourceAddressPrefixes"), ["*"]),
            ),
        ),
        "security rule 1",
    ),
    # Azure standalone rule
    (
        "azure_security_rule_from_internet",
        AZ_RULE,
        changed(AZ_SINGLE_RULE, set_at(("sourceAddressPrefix",), "Internet")),
        "Internet",
    ),
    (
        "azure_security_rule_plural_ports",
        AZ_RULE,
        changed(
            AZ_SINGLE_RULE,
            all_of(
                set_at(("sourceAddressPrefix",), "*"),
                delete_at(("destinationPortRange",)),
                set_at(("destinationPortRanges",), ["443", "22"]),
            ),
        ),
        "22",
    ),
    # GCP firewall
    ("gcp_firewall_from_anywhere", FW, changed(GCP_SSH_FW, set_at(("sourceRanges",), ["0.0.0.0/0"])), "0.0.0.0/0"),
    ("gcp_ingress_has_no_source", FW, changed(GCP_SSH_FW, delete_at(("sourceRanges",))), "no source"),
    (
        "gcp_firewall_ports_missing",
        FW,
        changed(
            GCP_SSH_FW, all_of(set_at(("sourceRanges",), ["0.0.0.0/0"]), set_at(("allows",), [{"protocol": "tcp"}]))
        ),
        "0-65535",
    ),
    (
        "gcp_firewall_protocol_all",
        FW,
        changed(GCP_SSH_FW, all_of(set_at(("sourceRanges",), ["::/0"]), set_at(("allows",), [{"protocol": "all"}]))),
        "all protocols",
    ),
    (
        "gcp_firewall_port_range",
        FW,
        changed(
            GCP_SSH_FW,
            all_of(
                set_at(("sourceRanges",), ["0.0.0.0/0"]),
                set_at(("allows",), [{"protocol": "tcp", "ports": ["10-100"]}]),
            ),
        ),
        "10-100",
    ),
    (
        "gcp_firewall_tags_and_anywhere",
        FW,
        changed(GCP_SSH_FW, all_of(set_at(("sourceRanges",), ["0.0.0.0/0"]), set_at(("sourceTags",), ["bastion"]))),
        "0.0.0.0/0",
    ),
    # GCP firewall policies
    (
        "gcp_policy_rule_from_anywhere",
        NFP_RULE,
        changed(GCP_POLICY_RULE, set_at(("match", "srcIpRanges"), ["0.0.0.0/0"])),
        "0.0.0.0/0",
    ),
    (
        "gcp_policy_rule_internet_scope",
        NFP_RULE,
        changed(
            GCP_POLICY_RULE,
            all_of(delete_at(("match", "srcIpRanges")), set_at(("match", "srcNetworkScope"), "INTERNET")),
        ),
        "0.0.0.0/0",
    ),
    (
        "gcp_policy_rule_has_no_source",
        NFP_RULE,
        changed(GCP_POLICY_RULE, delete_at(("match", "srcIpRanges"))),
        "no source",
    ),
    (
        "gcp_policy_rule_all_protocols",
        NFP_RULE,
        changed(
            GCP_POLICY_RULE,
            all_of(
                set_at(("match", "srcIpRanges"), ["0.0.0.0/0"]),
                set_at(("match", "layer4Configs"), [{"ipProtocol": "all"}]),
            ),
        ),
        "all protocols",
    ),
    (
        "gcp_policy_with_rules_from_anywhere",
        FP_WITH_RULES,
        changed(GCP_POLICY_WITH_RULES, set_at(("rules", 0, "match", "srcIpRanges"), ["0.0.0.0/0"])),
        "rules[0]",
    ),
]


@pytest.mark.parametrize("case,type_,props,needle", SSH_CASES, ids=[c[0] for c in SSH_CASES])
def test_fails_when_ssh_open_to_internet(case, type_, props, needle):
    found = violations(SSH, type_, props)
    assert len(found) == 1, found
    assert needle in found[0]
    assert "22" in found[0]


PASS_CASES = [
    (
        "rule_is_deny_azure",
        NSG,
        changed(
            AZ_NSG,
            all_of(
                set_at(("securityRules", 1, "access"), "Deny"),
                set_at(("securityRules", 1, "sourceAddressPrefixes"), ["*"]),
            ),
        ),
    ),
    (
        "egress_azure",
        NSG,
        changed(
            AZ_NSG,
            all_of(
                set_at(("securityRules", 1, "direction"), "Outbound"),
                set_at(("securityRules", 1, "sourceAddressPrefixes"), ["*"]),
            ),
        ),
    ),
    (
        "egress_aws_inline",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("egress",), [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
    ),
    (
        "egress_aws_sg_rule",
        SG_RULE,
        changed(AWS_SG_RULE_SSH, all_of(set_at(("type",), "egress"), set_at(("cidrBlocks",), ["0.0.0.0/0"]))),
    ),
    (
        "egress_vpc_rule",
        VPC_OUT,
        {"securityGroupId": "sg", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"},
    ),
    (
        "rule_is_deny_gcp",
        FW,
        changed(
            GCP_SSH_FW,
            all_of(
                delete_at(("allows",)),
                set_at(("denies",), [{"protocol": "tcp", "ports": ["22"]}]),
                set_at(("sourceRanges",), ["0.0.0.0/0"]),
            ),
        ),
    ),
    (
        "gcp_firewall_disabled",
        FW,
        changed(GCP_SSH_FW, all_of(set_at(("sourceRanges",), ["0.0.0.0/0"]), set_at(("disabled",), True))),
    ),
    (
        "gcp_firewall_egress",
        FW,
        changed(
            GCP_SSH_FW,
            all_of(
                set_at(("direction",), "EGRESS"),
                delete_at(("sourceRanges",)),
                set_at(("destinationRanges",), ["0.0.0.0/0"]),
            ),
        ),
    ),
    (
        "gcp_ingress_has_only_source_tags",
        FW,
        changed(GCP_SSH_FW, all_of(delete_at(("sourceRanges",)), set_at(("sourceTags",), ["bastion"]))),
    ),
    (
        "gcp_ingress_has_only_service_accounts",
        FW,
        changed(
            GCP_SSH_FW,
            all_of(
                delete_at(("sourceRanges",)), set_at(("sourceServiceAccounts",), ["bastion@p.iam.gserviceaccount.com"])
            ),
        ),
    ),
    (
        "gcp_policy_rule_is_deny",
        NFP_RULE,
        changed(GCP_POLICY_RULE, all_of(set_at(("action",), "deny"), set_at(("match", "srcIpRanges"), ["0.0.0.0/0"]))),
    ),
    (
        "gcp_policy_rule_is_goto_next",
        NFP_RULE,
        changed(
            GCP_POLICY_RULE, all_of(set_at(("action",), "goto_next"), set_at(("match", "srcIpRanges"), ["0.0.0.0/0"]))
        ),
    ),
    (
        "protocol_is_icmp",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "icmp", "fromPort": 8, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
    ),
    (
        "range_stops_below_22",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "tcp", "fromPort": 0, "toPort": 21, "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
    ),
    (
        "source_is_private_wide_range",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]}]),
        ),
    ),
    (
        "source_is_lb_security_group",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "-1", "fromPort": 0, "toPort": 0, "securityGroups": ["sg-lb"]}]),
        ),
    ),
    (
        "source_is_virtual_network_tag",
        NSG,
        changed(AZ_NSG, set_at(("securityRules", 1, "sourceAddressPrefixes"), ["VirtualNetwork"])),
    ),
    (
        "source_is_asg",
        NSG,
        changed(
            AZ_NSG,
            all_of(
                delete_at(("securityRules", 1, "sourceAddressPrefixes")),
                set_at(("securityRules", 1, "sourceApplicationSecurityGroups"), [{"id": "asg-admin"}]),
            ),
        ),
    ),
]


@pytest.mark.parametrize("case,type_,props", PASS_CASES, ids=[c[0] for c in PASS_CASES])
def test_passes_when_not_internet_ssh(case, type_, props):
    assert violations(SSH, type_, props) == []


def test_ssh_ports_are_a_knob():
    props = changed(
        AWS_INSTANCE_SG,
        set_at(("ingress",), [{"protocol": "tcp", "fromPort": 2222, "toPort": 2222, "cidrBlocks": ["0.0.0.0/0"]}]),
    )
    assert violations(SSH, SG, props) == []
    found = violations(SSH, SG, props, config={"ports": [22, 2222]})
    assert len(found) == 1 and "2222" in found[0]


def test_internet_sources_are_a_knob():
    props = changed(AZ_NSG, set_at(("securityRules", 1, "sourceAddressPrefixes"), ["AzureCloud"]))
    assert len(violations(SSH, NSG, props)) == 1
    assert violations(SSH, NSG, props, config={"internetSources": ["*", "Internet", "0.0.0.0/0"]}) == []


# ---------------------------------------------------------------------------------------------
# Unknown values, missing and malformed shapes


def test_unknown_cidr_raises_in_preview():
    props = changed(AWS_SSH_FROM_ADMIN, set_at(("cidrIpv4",), UNKNOWN_STRING_VALUE))
    with pytest.raises(UnknownValueError):
        violations(SSH, VPC_IN, props)


def test_unknown_ingress_list_is_violation_on_up():
    props = changed(AWS_INSTANCE_SG, set_at(("ingress",), UNKNOWN_ARRAY_VALUE))
    with pytest.raises(UnknownValueError):
        violations(SSH, SG, props)
    found = violations(SSH, SG, props, dry_run=False)
    assert len(found) == 1 and "unknown" in found[0]


def test_unknown_rule_name_does_not_stop_the_rule():
    props = changed(AZ_NSG, set_at(("securityRules", 0, "name"), UNKNOWN_STRING_VALUE))
    assert violations(SSH, NSG, props) == []


def test_unknown_gcp_source_ranges_raise_in_preview():
    props = changed(GCP_SSH_FW, set_at(("sourceRanges",), UNKNOWN_ARRAY_VALUE))
    with pytest.raises(UnknownValueError):
        violations(SSH, FW, props)


@pytest.mark.parametrize(
    "type_,props",
    [
        (SG, changed(AWS_INSTANCE_SG, set_at(("ingress",), "tcp/22 from anywhere"))),
        (
            SG,
            changed(
                AWS_INSTANCE_SG,
                set_at(("ingress",), [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": "0.0.0.0/0"}]),
            ),
        ),
        (NSG, changed(AZ_NSG, set_at(("securityRules",), ["allow ssh"]))),
        (NSG, changed(AZ_NSG, set_at(("securityRules", 1, "destinationPortRanges"), ["twenty-two"]))),
        (FW, changed(GCP_SSH_FW, set_at(("allows",), "tcp:22"))),
        (
            SG,
            changed(
                AWS_INSTANCE_SG,
                set_at(("ingress",), [{"protocol": "tcp", "fromPort": 30, "toPort": 20, "cidrBlocks": ["10.0.0.0/8"]}]),
            ),
        ),
    ],
    ids=[
        "ingress_is_string",
        "cidr_blocks_is_string_of_anywhere",
        "nsg_rules_are_strings",
        "port_not_a_number",
        "gcp_allows_is_string",
        "reversed_range",
    ],
)
def test_fails_closed_on_malformed_shape(type_, props):
    found = violations(SSH, type_, props)
    assert len(found) == 1
    assert "could not evaluate" in found[0] or "0.0.0.0/0" in found[0]


# ---------------------------------------------------------------------------------------------
# N2 RDP/WinRM, N3 admin/db ports


@pytest.mark.parametrize("port", [3389, 5985, 5986])
def test_fails_when_rdp_or_winrm_open(port):
    props = changed(
        AZ_NSG,
        all_of(
            set_at(("securityRules", 1, "sourceAddressPrefixes"), ["Internet"]),
            set_at(("securityRules", 1, "destinationPortRanges"), [str(port)]),
        ),
    )
    found = violations(RDP, NSG, props)
    assert len(found) == 1 and str(port) in found[0]
    assert violations(SSH, NSG, props) == []


def test_fails_when_rdp_open_on_udp_gcp():
    props = changed(
        GCP_SSH_FW,
        all_of(set_at(("sourceRanges",), ["0.0.0.0/0"]), set_at(("allows",), [{"protocol": "udp", "ports": ["3389"]}])),
    )
    assert len(violations(RDP, FW, props)) == 1


@pytest.mark.parametrize("port", [20, 21, 23, 3306, 5432, 1433, 6379, 9200, 27017])
def test_fails_when_admin_or_db_port_open(port):
    props = changed(
        AWS_SSH_FROM_ADMIN,
        all_of(set_at(("fromPort",), port), set_at(("toPort",), port), set_at(("cidrIpv4",), "0.0.0.0/0")),
    )
    found = violations(ADMIN_DB, VPC_IN, props)
    assert len(found) == 1 and str(port) in found[0]


def test_passes_when_db_port_open_to_private_range():
    props = changed(
        AWS_SSH_FROM_ADMIN,
        all_of(set_at(("fromPort",), 5432), set_at(("toPort",), 5432), set_at(("cidrIpv4",), "10.0.0.0/16")),
    )
    assert violations(ADMIN_DB, VPC_IN, props) == []


# ---------------------------------------------------------------------------------------------
# N4 all ports


ALL_PORT_CASES = [
    ("aws_protocol_minus_one", VPC_IN, {"securityGroupId": "sg", "ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"}),
    (
        "aws_tcp_0_65535",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("ingress",), [{"protocol": "tcp", "fromPort": 0, "toPort": 65535, "ipv6CidrBlocks": ["::/0"]}]),
        ),
    ),
    (
        "azure_star_ports",
        AZ_RULE,
        changed(AZ_SINGLE_RULE, all_of(set_at(("sourceAddressPrefix",), "*"), set_at(("destinationPortRange",), "*"))),
    ),
    (
        "azure_no_port_fields",
        AZ_RULE,
        changed(AZ_SINGLE_RULE, all_of(set_at(("sourceAddressPrefix",), "*"), delete_at(("destinationPortRange",)))),
    ),
    (
        "gcp_all",
        FW,
        changed(
            GCP_APP_FW, all_of(set_at(("sourceRanges",), ["0.0.0.0/0"]), set_at(("allows",), [{"protocol": "all"}]))
        ),
    ),
    (
        "gcp_tcp_without_ports_no_source",
        FW,
        changed(GCP_APP_FW, all_of(delete_at(("sourceRanges",)), set_at(("allows",), [{"protocol": "tcp"}]))),
    ),
]


@pytest.mark.parametrize("case,type_,props", ALL_PORT_CASES, ids=[c[0] for c in ALL_PORT_CASES])
def test_fails_when_all_ports_open(case, type_, props):
    found = violations(ALL_PORTS, type_, props)
    assert len(found) == 1


def test_passes_when_only_one_port_open_to_internet():
    assert violations(ALL_PORTS, SG, AWS_LB_SG) == []


# ---------------------------------------------------------------------------------------------
# N5 internet ingress only to the LB's ports


def test_fails_when_app_port_open_to_internet_on_aws():
    props = changed(
        AWS_APP_FROM_LB, all_of(delete_at(("referencedSecurityGroupId",)), set_at(("cidrIpv4",), "0.0.0.0/0"))
    )
    found = violations(LB_ONLY, VPC_IN, props)
    assert len(found) == 1 and "8080" in found[0]


def test_fails_when_gcp_firewall_opens_443_to_internet():
    props = changed(
        GCP_APP_FW,
        all_of(set_at(("sourceRanges",), ["0.0.0.0/0"]), set_at(("allows",), [{"protocol": "tcp", "ports": ["443"]}])),
    )
    found = violations(LB_ONLY, FW, props)
    assert len(found) == 1 and "35.191.0.0/16" in found[0]


def test_passes_when_lb_ports_open_on_azure():
    assert violations(LB_ONLY, NSG, AZ_APPGW_NSG) == []


# ---------------------------------------------------------------------------------------------
# N6 port 80 only in front of redirect-only listeners

LISTENER_80 = {
    "loadBalancerArn": "arn:lb",
    "port": 80,
    "protocol": "HTTP",
    "defaultActions": [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ],
}
LB = {"loadBalancerType": "application", "internal": False}
APPGW = {
    "httpListeners": [{"name": "http", "protocol": "Http"}, {"name": "https", "protocol": "Https"}],
    "requestRoutingRules": [
        {
            "name": "redir",
            "httpListener": {"id": "/subs/x/applicationGateways/gw/httpListeners/http"},
            "redirectConfiguration": {"id": "/subs/x/applicationGateways/gw/redirectConfigurations/to-https"},
        },
        {
            "name": "app",
            "httpListener": {"id": "/subs/x/applicationGateways/gw/httpListeners/https"},
            "backendAddressPool": {"id": "pool"},
        },
    ],
}


def test_passes_when_port_80_listener_redirects():
    res = [
        (SG, "lb-sg", AWS_LB_SG),
        ("aws:lb/loadBalancer:LoadBalancer", "lb", LB),
        ("aws:lb/listener:Listener", "http", LISTENER_80),
    ]
    assert stack_violations(PORT80, res) == []


def test_fails_when_port_80_listener_forwards():
    listener = changed(LISTENER_80, set_at(("defaultActions",), [{"type": "forward", "targetGroupArn": "arn:tg"}]))
    res = [
        (SG, "lb-sg", AWS_LB_SG),
        ("aws:lb/loadBalancer:LoadBalancer", "lb", LB),
        ("aws:lb/listener:Listener", "http", listener),
    ]
    found = stack_violations(PORT80, res)
    assert len(found) == 1 and reported_name(found[0][1]) == "http"


def test_fails_when_port_80_open_without_any_load_balancer():
    found = stack_violations(PORT80, [(SG, "vm-sg", AWS_LB_SG)])
    assert len(found) == 1 and "no load balancer" in found[0][0]


def test_passes_when_appgw_http_listener_redirects():
    res = [(NSG, "appgw-nsg", AZ_APPGW_NSG), ("azure-native:network:ApplicationGateway", "gw", APPGW)]
    assert stack_violations(PORT80, res) == []


def test_fails_when_appgw_http_listener_routes_to_backend():
    gw = changed(
        APPGW,
        all_of(
            delete_at(("requestRoutingRules", 0, "redirectConfiguration")),
            set_at(("requestRoutingRules", 0, "backendAddressPool"), {"id": "pool"}),
        ),
    )
    found = stack_violations(
        PORT80, [(NSG, "appgw-nsg", AZ_APPGW_NSG), ("azure-native:network:ApplicationGateway", "gw", gw)]
    )
    assert len(found) == 1 and "'http'" in found[0][0]


def test_fails_when_gcp_firewall_opens_80_to_internet():
    fw = changed(
        GCP_APP_FW,
        all_of(set_at(("sourceRanges",), ["0.0.0.0/0"]), set_at(("allows",), [{"protocol": "tcp", "ports": ["80"]}])),
    )
    found = stack_violations(
        PORT80, [(FW, "web", fw), ("gcp:compute/globalForwardingRule:GlobalForwardingRule", "fr", {"portRange": "80"})]
    )
    assert len(found) == 1 and "GCP" in found[0][0]


def test_passes_when_port_80_not_open():
    assert (
        stack_violations(
            PORT80,
            [
                (SG, "app", AWS_INSTANCE_SG),
                ("aws:lb/listener:Listener", "l", changed(LISTENER_80, set_at(("defaultActions",), []))),
            ],
        )
        == []
    )


# ---------------------------------------------------------------------------------------------
# N7 egress (advisory)


EGRESS_CASES = [
    (
        "aws_sg_egress_all",
        SG,
        changed(
            AWS_INSTANCE_SG,
            set_at(("egress",), [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]),
        ),
    ),
    ("aws_vpc_egress_all", VPC_OUT, {"securityGroupId": "sg", "ipProtocol": "-1", "cidrIpv6": "::/0"}),
    (
        "aws_sg_rule_egress_all",
        SG_RULE,
        {
            "type": "egress",
            "securityGroupId": "sg",
            "protocol": "all",
            "fromPort": 0,
            "toPort": 65535,
            "cidrBlocks": ["0.0.0.0/0"],
        },
    ),
    (
        "azure_outbound_any",
        NSG,
        changed(
            AZ_NSG,
            all_of(
                set_at(("securityRules", 3, "destinationPortRange"), "*"), set_at(("securityRules", 3, "protocol"), "*")
            ),
        ),
    ),
    ("gcp_egress_all_no_destination", FW, {"network": "n", "direction": "EGRESS", "allows": [{"protocol": "all"}]}),
]


@pytest.mark.parametrize("case,type_,props", EGRESS_CASES, ids=[c[0] for c in EGRESS_CASES])
def test_fails_when_egress_open_on_all_ports(case, type_, props):
    assert len(violations(EGRESS, type_, props)) == 1


def test_passes_when_egress_is_443_only():
    assert violations(EGRESS, SG, AWS_INSTANCE_SG) == []
    assert violations(EGRESS, NSG, AZ_NSG) == []


# ---------------------------------------------------------------------------------------------
# N8 default SG closed, no default network


def test_passes_when_default_sg_has_no_rules():
    assert violations(DEFAULT_SG_CLOSED, DEFAULT_SG, {"vpcId": "vpc-1"}) == []
    assert violations(DEFAULT_SG_CLOSED, DEFAULT_SG, {"vpcId": "vpc-1", "ingress": [], "egress": []}) == []


@pytest.mark.parametrize("direction", ["ingress", "egress"])
def test_fails_when_default_sg_keeps_rules(direction):
    props = {"vpcId": "vpc-1", direction: [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]}
    found = violations(DEFAULT_SG_CLOSED, DEFAULT_SG, props)
    assert len(found) == 1 and direction in found[0]


def test_passes_when_gcp_network_is_custom_mode():
    assert violations(NO_DEFAULT_NET, NETWORK, {"autoCreateSubnetworks": False}) == []
    assert violations(NO_DEFAULT_NET, NETWORK, {"autoCreateSubnetworks": "false"}) == []


@pytest.mark.parametrize("props,needle", [({"autoCreateSubnetworks": True}, "True"), ({}, "defaults to true")])
def test_fails_when_gcp_network_is_auto_mode(props, needle):
    found = violations(NO_DEFAULT_NET, NETWORK, props)
    assert len(found) == 1 and needle in found[0]


def test_unknown_auto_create_raises_in_preview():
    with pytest.raises(UnknownValueError):
        violations(NO_DEFAULT_NET, NETWORK, {"autoCreateSubnetworks": "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"})


# ---------------------------------------------------------------------------------------------
# Helpers


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0.0.0.0/0", True),
        ("::/0", True),
        ("*", True),
        ("Internet", True),
        ("ANY", True),
        ("0.0.0.0", True),
        ("0.0.0.0/1", True),
        ("2000::/3", True),
        ("203.0.113.0/24", False),
        ("10.0.0.0/8", False),
        ("fd00::/8", False),
        ("VirtualNetwork", False),
        ("35.191.0.0/16", False),
    ],
)
def test_is_internet(value, expected):
    assert is_internet(value) is expected


@pytest.mark.parametrize(
    "value,expected",
    [("-1", "all"), ("ALL", "all"), ("*", "all"), (6, "tcp"), ("6", "tcp"), ("Tcp", "tcp"), (17, "udp"), (None, "all")],
)
def test_normalize_protocol(value, expected):
    assert normalize_protocol(value) == expected


@pytest.mark.parametrize(
    "value,expected", [("22", (22, 22)), (22, (22, 22)), ("20-25", (20, 25)), ("*", (0, 65535)), (-1, (0, 65535))]
)
def test_parse_port_spec(value, expected):
    assert parse_port_spec(value) == expected


# ---------------------------------------------------------------------------------------------
# Azure NSGs judged by effective rules: priority order, an earlier Deny takes ports away.

INTERNET_SSH = {
    "name": "ssh-from-internet",
    "priority": 200,
    "direction": "Inbound",
    "access": "Allow",
    "protocol": "Tcp",
    "sourceAddressPrefix": "Internet",
    "sourcePortRange": "*",
    "destinationAddressPrefix": "*",
    "destinationPortRange": "22",
}
DENY_SSH = {
    "name": "deny-ssh",
    "priority": 150,
    "direction": "Inbound",
    "access": "Deny",
    "protocol": "*",
    "sourceAddressPrefix": "*",
    "sourcePortRange": "*",
    "destinationAddressPrefix": "*",
    "destinationPortRange": "22",
}
NSG_SHADOWED = changed(AZ_NSG, set_at(("securityRules",), [*AZ_NSG["securityRules"], DENY_SSH, INTERNET_SSH]))


def test_passes_when_earlier_deny_shadows_internet_allow():
    assert violations(SSH, NSG, NSG_SHADOWED) == []


NSG_EFFECTIVE_CASES = [
    ("deny_after_allow", ("securityRules", 4, "priority"), 250),
    ("deny_other_direction", ("securityRules", 4, "direction"), "Outbound"),
    ("deny_other_port", ("securityRules", 4, "destinationPortRange"), "2222"),
    ("deny_narrower_source", ("securityRules", 4, "sourceAddressPrefix"), "198.51.100.0/24"),
    ("deny_other_protocol", ("securityRules", 4, "protocol"), "Udp"),
    ("deny_without_priority", ("securityRules", 4, "priority"), DEL),
    ("deny_is_allow", ("securityRules", 4, "access"), "Allow"),
]


@pytest.mark.parametrize("case,path,value", NSG_EFFECTIVE_CASES, ids=[c[0] for c in NSG_EFFECTIVE_CASES])
def test_fails_when_deny_does_not_shadow_internet_allow(case, path, value):
    found = violations(SSH, NSG, mutate(NSG_SHADOWED, path, value))
    assert len(found) >= 1 and any("security rule 5" in m or "security rule 4" in m for m in found), found


def test_partial_deny_leaves_the_other_ports_open():
    allow_range = set_at(("securityRules", 5, "destinationPortRange"), "20-25")
    found = violations(SSH, NSG, changed(NSG_SHADOWED, allow_range), config={"ports": [22, 23]})
    assert len(found) == 1 and "tcp 20-21,23-25" in found[0] and "includes 23" in found[0]


# ---------------------------------------------------------------------------------------------
# Stack rules: sshd moved to another port; SSH from a managed prefix list

MOVED = "network-no-moved-ssh-from-internet"
PREFIX_SSH = "network-no-ssh-from-open-prefix-list"
EC2 = "aws:ec2/instance:Instance"
GCE = "gcp:compute/instance:Instance"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"

VM_2222 = {
    "ami": "ami-1",
    "instanceType": "t3.small",
    "vpcSecurityGroupIds": ["sg-app"],
    "userData": "#!/bin/sh\necho 'Port 2222' >> /etc/ssh/sshd_config\n",
}
APP_2222_OPEN = {
    "id": "sg-app",
    "vpcId": "vpc-1",
    "ingress": [{"protocol": "tcp", "fromPort": 2222, "toPort": 2222, "cidrBlocks": ["10.0.0.0/16"]}],
}
MOVED_STACK = [(EC2, "vm", VM_2222), (SG, "app-sg", APP_2222_OPEN), (SG, "lb-sg", {**AWS_LB_SG, "id": "sg-lb"})]


def test_passes_when_moved_sshd_port_is_not_open_to_internet():
    assert stack_violations(MOVED, MOVED_STACK) == []


MOVED_CASES = [
    ("sg_cidr", MOVED_STACK, (1, 2, "ingress", 0, "cidrBlocks"), ["0.0.0.0/0"]),
    ("sg_ipv6", MOVED_STACK, (1, 2, "ingress", 0, "ipv6CidrBlocks"), ["::/0"]),
    ("sg_all_ports", MOVED_STACK, (1, 2, "ingress", 0), {"protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}),
]


def _stack_mutate(stack: list, path: tuple, value: object) -> list:
    """A copy of a ``(type, name, props)`` stack with ``stack[i][2][path...]`` set."""
    i, _, *rest = path
    out = [(t, n, dict(p)) for t, n, p in stack]
    out[i] = (out[i][0], out[i][1], mutate(out[i][2], tuple(rest), value))
    return out


@pytest.mark.parametrize("case,stack,path,value", MOVED_CASES, ids=[c[0] for c in MOVED_CASES])
def test_fails_when_moved_sshd_port_open_to_internet(case, stack, path, value):
    found = stack_violations(MOVED, _stack_mutate(stack, path, value))
    assert len(found) == 1 and "port 2222" in found[0][0] and "vm" in found[0][0], found
    assert reported_name(found[0][1]) == "app-sg"


@pytest.mark.parametrize(
    "boot",
    [
        "#cloud-config\nwrite_files:\n  - path: /etc/ssh/sshd_config.d/port.conf\n    content: 'Port 2222'\n",
        "#!/bin/sh\nsed -i 's/^#\\?Port 22$/Port 2222/' /etc/ssh/sshd_config\n",
        "#!/bin/sh\n/usr/sbin/sshd -p 2222\n",
    ],
    ids=["write_files", "sed", "sshd_flag"],
)
def test_moved_port_found_in_every_boot_form(boot):
    stack = _stack_mutate(MOVED_STACK, (1, 2, "ingress", 0, "cidrBlocks"), ["0.0.0.0/0"])
    stack[0] = (EC2, "vm", {**VM_2222, "userData": boot})
    assert len(stack_violations(MOVED, stack)) == 1


def test_passes_when_open_group_does_not_guard_the_vm():
    # sshd on 443 on the VM; 443 is open to the internet only on the load balancer's group.
    stack = [(EC2, "vm", {**VM_2222, "userData": "echo 'Port 443' >> /etc/ssh/sshd_config"}), *MOVED_STACK[1:]]
    assert stack_violations(MOVED, stack, dry_run=False) == []
    on_lb = [(EC2, "vm", {**stack[0][2], "vpcSecurityGroupIds": ["sg-app", "sg-lb"]}), *MOVED_STACK[1:]]
    found = stack_violations(MOVED, on_lb, dry_run=False)
    assert len(found) == 1 and reported_name(found[0][1]) == "lb-sg"


def test_vm_without_groups_is_guarded_by_the_default_group():
    default_open = {
        "vpcId": "vpc-1",
        "ingress": [{"protocol": "tcp", "fromPort": 2222, "toPort": 2222, "cidrBlocks": ["0.0.0.0/0"]}],
    }
    vm = {k: v for k, v in VM_2222.items() if k != "vpcSecurityGroupIds"}
    found = stack_violations(MOVED, [(EC2, "vm", vm), (DEFAULT_SG, "default", default_open)], dry_run=False)
    assert len(found) == 1 and reported_name(found[0][1]) == "default"


def test_unknown_group_ids_raise_in_preview_and_fail_closed_on_up():
    stack = _stack_mutate(MOVED_STACK, (1, 2, "ingress", 0, "cidrBlocks"), ["0.0.0.0/0"])
    stack = _stack_mutate(stack, (1, 2, "id"), UNKNOWN_STRING_VALUE)
    stack[0] = (EC2, "vm", {**VM_2222, "vpcSecurityGroupIds": [UNKNOWN_STRING_VALUE]})
    with pytest.raises(UnknownValueError):
        stack_violations(MOVED, stack)
    found = stack_violations(MOVED, stack, dry_run=False)
    assert len(found) == 1 and "failing closed" in found[0][0] and found[0][1] is None


def test_gcp_firewall_links_by_target_tags():
    script = "echo 'Port 2222' >> /etc/ssh/sshd_config"
    vm = {"machineType": "e2-small", "tags": ["app"], "metadata": {"startup-script": script}}
    fw = {
        "network": "n",
        "allows": [{"protocol": "tcp", "ports": ["2222"]}],
        "sourceRanges": ["0.0.0.0/0"],
        "targetTags": ["lb"],
    }
    assert stack_violations(MOVED, [(GCE, "vm", vm), (FW, "fw", fw)]) == []
    assert len(stack_violations(MOVED, [(GCE, "vm", vm), (FW, "fw", {**fw, "targetTags": ["app"]})])) == 1


def test_moved_port_on_gcp_firewall():
    vm = {"machineType": "e2-small", "metadata": {"startup-script": "echo 'Port 2222' >> /etc/ssh/sshd_config"}}
    fw = {"network": "n", "allows": [{"protocol": "tcp", "ports": ["2222"]}], "sourceRanges": ["0.0.0.0/0"]}
    found = stack_violations(MOVED, [(GCE, "vm", vm), (FW, "fw", fw)])
    assert len(found) == 1 and reported_name(found[0][1]) == "fw"


def test_app_port_in_non_ssh_file_is_not_an_sshd_port():
    vm = {**VM_2222, "userData": "#!/bin/sh\necho 'Port 443' >> /etc/app/server.conf\n"}
    assert stack_violations(MOVED, [(EC2, "vm", vm), (SG, "lb-sg", AWS_LB_SG)]) == []


PL_ID = "pl-0123456789abcdef0"
OPEN_LIST = {
    "id": PL_ID,
    "name": "admins",
    "addressFamily": "IPv4",
    "maxEntries": 5,
    "entries": [{"cidr": "203.0.113.0/24"}],
}
SSH_FROM_LIST = {
    "id": "sg-1",
    "vpcId": "vpc-1",
    "ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "prefixListIds": [PL_ID]}],
}
PL_STACK = [(PREFIX_LIST, "admins", OPEN_LIST), (SG, "ssh-sg", SSH_FROM_LIST)]


def test_passes_when_prefix_list_holds_admin_cidrs_only():
    assert stack_violations(PREFIX_SSH, PL_STACK, dry_run=False) == []


PL_CASES = [
    ("inline_entry_ipv4", PL_STACK, (0, 2, "entries", 0, "cidr"), "0.0.0.0/0"),
    ("inline_entry_ipv6", PL_STACK, (0, 2, "entries", 0, "cidr"), "::/0"),
    ("inline_entry_broad", PL_STACK, (0, 2, "entries", 0, "cidr"), "0.0.0.0/1"),
]


@pytest.mark.parametrize("case,stack,path,value", PL_CASES, ids=[c[0] for c in PL_CASES])
def test_fails_when_ssh_prefix_list_includes_internet(case, stack, path, value):
    found = stack_violations(PREFIX_SSH, _stack_mutate(stack, path, value), dry_run=False)
    assert len(found) == 1 and "prefix list admins" in found[0][0] and value in found[0][0], found
    assert reported_name(found[0][1]) == "ssh-sg"


@pytest.mark.parametrize(
    "rule_type,rule_props",
    [
        (
            SG_RULE,
            {
                "type": "ingress",
                "securityGroupId": "sg-1",
                "protocol": "tcp",
                "fromPort": 22,
                "toPort": 22,
                "prefixListIds": [PL_ID],
            },
        ),
        (VPC_IN, {"securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "prefixListId": PL_ID}),
    ],
    ids=["security_group_rule", "vpc_ingress_rule"],
)
def test_fails_for_standalone_rules_and_entry_resources(rule_type, rule_props):
    entry = {"prefixListId": PL_ID, "cidr": "0.0.0.0/0"}
    stack = [(PREFIX_LIST, "admins", OPEN_LIST), (PREFIX_ENTRY, "anyone", entry), (rule_type, "ssh", rule_props)]
    found = stack_violations(PREFIX_SSH, stack, dry_run=False)
    assert len(found) == 1 and "0.0.0.0/0" in found[0][0] and reported_name(found[0][1]) == "ssh"


def test_passes_when_prefix_rule_is_not_ssh():
    stack = _stack_mutate(PL_STACK, (0, 2, "entries", 0, "cidr"), "0.0.0.0/0")
    stack = _stack_mutate(stack, (1, 2, "ingress", 0, "fromPort"), 443)
    stack = _stack_mutate(stack, (1, 2, "ingress", 0, "toPort"), 443)
    assert stack_violations(PREFIX_SSH, stack, dry_run=False) == []


def test_unknown_prefix_list_id_raises_in_preview_and_fails_on_up():
    stack = _stack_mutate(PL_STACK, (0, 2, "entries", 0, "cidr"), "0.0.0.0/0")
    stack = _stack_mutate(stack, (0, 2, "id"), UNKNOWN_STRING_VALUE)
    stack = _stack_mutate(stack, (1, 2, "ingress", 0, "prefixListIds"), [UNKNOWN_STRING_VALUE])
    with pytest.raises(UnknownValueError):
        stack_violations(PREFIX_SSH, stack)
    found = stack_violations(PREFIX_SSH, stack, dry_run=False)
    assert len(found) == 1 and "failing closed" in found[0][0]
