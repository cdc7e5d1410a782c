"""Evasion attempts: resources written to slip past the pack, one case per attempt.

Each attempt is a shape the provider accepts (property names checked against pulumi-aws 7.x,
pulumi-azure-native 3.x and pulumi-gcp 10.x) that means the thing a rule forbids without saying
it the obvious way: CIDRs that cover the internet without ``0.0.0.0/0``, case variants, strings
for booleans and numbers, the same setting in another resource type, an allow shadowed only in
appearance, a condition that scopes nothing. Every attempt must be flagged by its rule; the
compliant look-alikes next to them must not be. A few attempts also go through the real gRPC
Analyzer protocol (secret-wrapped and unknown values as the engine sends them).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.policy_gate import UNKNOWN as GATE_UNKNOWN
from tools.policy_gate import run_gate

from .support import UNKNOWN_STRING_VALUE, UnknownValueError, stack_violations, violations

# --- type tokens ---------------------------------------------------------------------------------
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_IN = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VPC_OUT = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
NSG = "azure-native:network:NetworkSecurityGroup"
AZ_RULE = "azure-native:network:SecurityRule"
FW = "gcp:compute/firewall:Firewall"
NFP_RULE = "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule"
NETWORK = "gcp:compute/network:Network"
INSTANCE = "aws:ec2/instance:Instance"
SPOT = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
VOLUME = "aws:ebs/volume:Volume"
EIP = "aws:ec2/eip:Eip"
EIP_ASSOC = "aws:ec2/eipAssociation:EipAssociation"
SUBNET = "aws:ec2/subnet:Subnet"
AZ_NIC = "azure-native:network:NetworkInterface"
AZ_VM = "azure-native:compute:VirtualMachine"
AZ_VMSS = "azure-native:compute:VirtualMachineScaleSet"
AZ_DISK = "azure-native:compute:Disk"
GCE = "gcp:compute/instance:Instance"
GCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
GCE_FROM_IMAGE = "gcp:compute/instanceFromMachineImage:InstanceFromMachineImage"
KMS_KEY = "aws:kms/key:Key"
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SNS_POLICY = "aws:sns/topicPolicy:TopicPolicy"
IAM_POLICY = "aws:iam/policy:Policy"
ROLE_ATTACH_EXCLUSIVE = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
GCP_PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
GCP_ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
BACKEND = "gcp:compute/backendService:BackendService"
LISTENER = "aws:lb/listener:Listener"
APPGW = "azure-native:network:ApplicationGateway"
ALB = "aws:lb/loadBalancer:LoadBalancer"

SSH = "network-no-ssh-from-internet"
RDP = "network-no-rdp-winrm-from-internet"
ALL_PORTS = "network-no-all-ports-from-internet"
EGRESS = "network-restricted-egress"

# --- compliant bases -----------------------------------------------------------------------------


def sg(*ingress: dict) -> dict:
    return {"vpcId": "vpc-1", "ingress": list(ingress)}


def tcp(lo: int, hi: int, *cidrs: str, v6: tuple[str, ...] = ()) -> dict:
    entry: dict[str, Any] = {"protocol": "tcp", "fromPort": lo, "toPort": hi, "cidrBlocks": list(cidrs)}
    if v6:
        entry["ipv6CidrBlocks"] = list(v6)
    return entry


def az_rule(**kw: Any) -> dict:
    base = {
        "name": "r",
        "priority": 200,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "sourceAddressPrefix": "Internet",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRange": "22",
    }
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def nsg(*rules: dict) -> dict:
    return {"resourceGroupName": "rg", "securityRules": list(rules)}


def gcp_fw(**kw: Any) -> dict:
    base = {
        "network": "net",
        "direction": "INGRESS",
        "sourceRanges": ["0.0.0.0/0"],
        "allows": [{"protocol": "tcp", "ports": ["22"]}],
    }
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GOOD_META = {"httpTokens": "required", "httpPutResponseHopLimit": 1, "httpEndpoint": "enabled"}
GOOD_INSTANCE = {
    "ami": "ami-1",
    "instanceType": "t3.small",
    "iamInstanceProfile": "app-profile",
    "metadataOptions": GOOD_META,
    "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY},
}
GOOD_LT = {
    "imageId": "ami-1",
    "metadataOptions": GOOD_META,
    "iamInstanceProfile": {"name": "app-profile"},
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY}}],
}


GITHUB_OIDC = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"


def trust(principal: Any, condition: dict | None = None) -> dict:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}


def kms_policy(*statements: dict) -> dict:
    root = {
        "Sid": "Root",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": [root, *statements]})}


BUCKET = "appstack-logs"
DENY_TLS = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def s3_policy(*statements: dict) -> dict:
    return {"bucket": BUCKET, "policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


def iam_policy(**statement: Any) -> dict:
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]})}


# ---------------------------------------------------------------------------------------------
# Attempts: (rule, type, props, stack)

ATTEMPTS: list[Any] = [
    # --- network: CIDRs that mean "anywhere" ---
    pytest.param(SSH, SG, sg(tcp(22, 22, "0.0.0.0/1", "128.0.0.0/1")), "dev", id="net-halves-v4"),
    pytest.param(SSH, SG, sg(tcp(22, 22, v6=("::/1", "8000::/1"))), "dev", id="net-halves-v6"),
    pytest.param(SSH, SG, sg(tcp(22, 22, "0.0.0.0/00")), "dev", id="net-zero-padded-prefix"),
    pytest.param(SSH, SG, sg(tcp(22, 22, "1.2.3.4/0")), "dev", id="net-host-bits-slash-0"),
    pytest.param(SSH, SG, sg(tcp(22, 22, v6=("::ffff:0:0/96",))), "dev", id="net-ipv4-mapped-v6"),
    pytest.param(SSH, SG, sg(tcp(22, 22, v6=("0::0/0",))), "dev", id="net-v6-long-form"),
    pytest.param(SSH, SG, sg(tcp(22, 22, "192.0.0.0/2")), "dev", id="net-broad-range-ending-in-private"),
    pytest.param(SSH, SG, sg(tcp(22, 22, " 0.0.0.0/0 ")), "dev", id="net-whitespace"),
    pytest.param(SSH, NSG, nsg(az_rule(sourceAddressPrefix="000.000.000.000/0")), "dev", id="net-az-zero-padded"),
    pytest.param(SSH, NSG, nsg(az_rule(sourceAddressPrefix="AzureCloud.WestEurope")), "dev", id="net-az-regional-tag"),
    pytest.param(SSH, NSG, nsg(az_rule(sourceAddressPrefix="internet")), "dev", id="net-az-tag-lowercase"),
    pytest.param(SSH, NSG, nsg(az_rule(sourceAddressPrefix="0.0.0.0")), "dev", id="net-az-bare-zero"),
    pytest.param(
        SSH,
        NSG,
        nsg(az_rule(sourceAddressPrefix=None, sourceAddressPrefixes=["10.0.0.0/8", "0.0.0.0/0"])),
        "dev",
        id="net-az-prefixes-list",
    ),
    pytest.param(
        SSH, NSG, nsg(az_rule(sourceAddressPrefix="", sourceAddressPrefixes=[])), "dev", id="net-az-blank-source"
    ),
    # --- network: ports and protocols that cover 22/3389 ---
    pytest.param(
        SSH,
        SG,
        sg({"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}),
        "dev",
        id="net-proto-minus-1",
    ),
    pytest.param(
        SSH,
        SG,
        sg({"protocol": "ALL", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}),
        "dev",
        id="net-proto-ALL",
    ),
    pytest.param(
        SSH,
        SG,
        sg({"protocol": "6", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]}),
        "dev",
        id="net-proto-6",
    ),
    pytest.param(
        SSH,
        SG,
        sg({"protocol": 6, "fromPort": "20", "toPort": "25", "cidrBlocks": ["0.0.0.0/0"]}),
        "dev",
        id="net-ports-as-strings",
    ),
    pytest.param(
        SSH,
        SG,
        sg({"protocol": "tcp", "fromPort": -1, "toPort": -1, "cidrBlocks": ["0.0.0.0/0"]}),
        "dev",
        id="net-port-minus-1",
    ),
    pytest.param(
        SSH,
        SG,
        sg({"protocol": "TCP", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": ["0.0.0.0/0"]}),
        "dev",
        id="net-float-ports",
    ),
    pytest.param(
        SSH,
        SG_RULE,
        {
            "type": "Ingress",
            "securityGroupId": "sg-1",
            "protocol": "all",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        "dev",
        id="net-sg-rule-type-case",
    ),
    pytest.param(
        SSH,
        VPC_IN,
        {"securityGroupId": "sg-1", "ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"},
        "dev",
        id="net-vpc-rule-all",
    ),
    pytest.param(
        RDP,
        VPC_IN,
        {"securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 3000, "toPort": 4000, "cidrIpv6": "::/0"},
        "dev",
        id="net-vpc-rule-range-v6",
    ),
    pytest.param(SSH, NSG, nsg(az_rule(destinationPortRange="20-25")), "dev", id="net-az-port-range-string"),
    pytest.param(
        SSH,
        NSG,
        nsg(az_rule(destinationPortRange=None, destinationPortRanges=["80", "0-1024"])),
        "dev",
        id="net-az-port-list",
    ),
    pytest.param(ALL_PORTS, NSG, nsg(az_rule(protocol="*", destinationPortRange="*")), "dev", id="net-az-star"),
    pytest.param(SSH, NSG, nsg(az_rule(direction="inbound", access="allow")), "dev", id="net-az-lowercase-enums"),
    pytest.param(SSH, AZ_RULE, {**az_rule(), "networkSecurityGroupName": "nsg"}, "dev", id="net-az-standalone-rule"),
    # --- network: a Deny that only looks like it shadows the Allow ---
    pytest.param(
        SSH,
        NSG,
        nsg(
            az_rule(),
            az_rule(
                name="d", priority=100, access="Deny", sourceAddressPrefix="*", destinationAddressPrefix="10.9.9.9"
            ),
        ),
        "dev",
        id="net-az-deny-one-destination",
    ),
    pytest.param(
        SSH,
        NSG,
        nsg(az_rule(), az_rule(name="d", priority=100, access="Deny", sourceAddressPrefix="*", sourcePortRange="1024")),
        "dev",
        id="net-az-deny-one-source-port",
    ),
    pytest.param(
        SSH,
        NSG,
        nsg(az_rule(), az_rule(name="d", priority=300, access="Deny", sourceAddressPrefix="*")),
        "dev",
        id="net-az-deny-after-allow",
    ),
    pytest.param(
        SSH,
        NSG,
        nsg(az_rule(), az_rule(name="d", priority=100, access="Deny", direction="Outbound", sourceAddressPrefix="*")),
        "dev",
        id="net-az-deny-other-direction",
    ),
    # --- network: GCP ---
    pytest.param(SSH, FW, gcp_fw(sourceRanges=None), "dev", id="net-gcp-no-source"),
    pytest.param(SSH, FW, gcp_fw(sourceTags=["bastion"]), "dev", id="net-gcp-ranges-plus-tags"),
    pytest.param(SSH, FW, gcp_fw(direction="ingress", disabled="false"), "dev", id="net-gcp-lowercase-string-bool"),
    pytest.param(SSH, FW, gcp_fw(allows=[{"protocol": "6", "ports": ["0-65535"]}]), "dev", id="net-gcp-proto-number"),
    pytest.param(SSH, FW, gcp_fw(allows=[{"protocol": "all"}]), "dev", id="net-gcp-all"),
    pytest.param(SSH, FW, gcp_fw(allows=[{"protocol": "tcp", "ports": [22]}]), "dev", id="net-gcp-int-port"),
    pytest.param(
        SSH,
        NFP_RULE,
        {
            "firewallPolicy": "fp",
            "priority": 1000,
            "direction": "INGRESS",
            "action": "apply_security_profile_group",
            "match": {"srcIpRanges": ["0.0.0.0/0"], "layer4Configs": [{"ipProtocol": "tcp", "ports": ["22"]}]},
        },
        "dev",
        id="net-gcp-policy-rule-profile-action",
    ),
    pytest.param(
        SSH,
        NFP_RULE,
        {
            "firewallPolicy": "fp",
            "priority": 1000,
            "direction": "INGRESS",
            "action": "allow",
            "match": {"srcRegionCodes": ["US"]},
        },
        "dev",
        id="net-gcp-policy-rule-region-codes",
    ),
    pytest.param(
        EGRESS,
        VPC_OUT,
        {"securityGroupId": "sg-1", "ipProtocol": "-1", "cidrIpv4": "0.0.0.0/1"},
        "dev",
        id="net-egress-half",
    ),
    pytest.param(
        "network-no-default-network", NETWORK, {"autoCreateSubnetworks": "True"}, "dev", id="net-auto-mode-string"
    ),
    # --- metadata service ---
    pytest.param(
        "metadata-imdsv2-required", INSTANCE, {**GOOD_INSTANCE, "metadataOptions": {}}, "dev", id="imds-empty-object"
    ),
    pytest.param(
        "metadata-imdsv2-required",
        INSTANCE,
        {**GOOD_INSTANCE, "metadataOptions": {"httpTokens": ""}},
        "dev",
        id="imds-empty-tokens",
    ),
    pytest.param(
        "metadata-imdsv2-required",
        SPOT,
        {k: v for k, v in GOOD_INSTANCE.items() if k != "metadataOptions"},
        "dev",
        id="imds-spot-instance-second-type",
    ),
    pytest.param(
        "metadata-imdsv2-required",
        LT,
        {**GOOD_LT, "metadataOptions": {"httpTokens": "Optional", "httpEndpoint": "enabled"}},
        "dev",
        id="imds-lt-optional-case",
    ),
    pytest.param(
        "metadata-hop-limit",
        INSTANCE,
        {**GOOD_INSTANCE, "metadataOptions": {**GOOD_META, "httpPutResponseHopLimit": "2"}},
        "dev",
        id="imds-hop-limit-string",
    ),
    pytest.param(
        "metadata-imdsv2-required",
        INSTANCE,
        {**GOOD_INSTANCE, "launchTemplate": {"id": "lt-1"}, "metadataOptions": None},
        "dev",
        id="imds-instance-relies-on-template",
    ),
    # --- public exposure ---
    pytest.param(
        "public-vm-no-public-ip",
        INSTANCE,
        {**GOOD_INSTANCE, "associatePublicIpAddress": "true"},
        "dev",
        id="pub-string-bool",
    ),
    pytest.param(
        "public-vm-no-public-ip",
        LT,
        {**GOOD_LT, "networkInterfaces": [{"associatePublicIpAddress": "True", "deviceIndex": 0}]},
        "dev",
        id="pub-lt-capital-true",
    ),
    pytest.param(
        "public-vm-no-public-ip", EIP, {"domain": "vpc", "networkInterface": "eni-1"}, "dev", id="pub-eip-on-eni"
    ),
    pytest.param(
        "public-vm-no-public-ip",
        EIP_ASSOC,
        {"allocationId": "eipalloc-1", "networkInterfaceId": "eni-1"},
        "dev",
        id="pub-eip-assoc-eni",
    ),
    pytest.param(
        "public-vm-no-public-ip",
        AZ_NIC,
        {"resourceGroupName": "rg", "ipConfigurations": [{"name": "ip", "publicIPAddress": {}}]},
        "dev",
        id="pub-az-nic-empty-pip-object",
    ),
    pytest.param(
        "public-vm-no-public-ip",
        AZ_VMSS,
        {
            "virtualMachineProfile": {
                "networkProfile": {
                    "networkInterfaceConfigurations": [
                        {
                            "name": "nic",
                            "ipConfigurations": [{"name": "ip", "publicIPAddressConfiguration": {"name": "p"}}],
                        }
                    ]
                }
            }
        },
        "dev",
        id="pub-az-vmss",
    ),
    pytest.param(
        "public-vm-no-public-ip",
        GCE_TEMPLATE,
        {"machineType": "e2-small", "networkInterfaces": [{"network": "n", "accessConfigs": [{}]}]},
        "dev",
        id="pub-gcp-template-empty-access-config",
    ),
    pytest.param(
        "public-vm-no-public-ip",
        GCE_FROM_IMAGE,
        {
            "sourceMachineImage": "img",
            "networkInterfaces": [{"network": "n", "ipv6AccessConfigs": [{"networkTier": "PREMIUM"}]}],
        },
        "dev",
        id="pub-gcp-from-image-ipv6",
    ),
    pytest.param(
        "public-subnet-no-auto-public-ip",
        SUBNET,
        {"vpcId": "v", "mapPublicIpOnLaunch": "TRUE"},
        "dev",
        id="pub-subnet-string",
    ),
    pytest.param(
        "public-no-ip-forwarding",
        INSTANCE,
        {**GOOD_INSTANCE, "sourceDestCheck": "False"},
        "dev",
        id="pub-srcdst-string",
    ),
    pytest.param(
        "public-no-ip-forwarding",
        AZ_NIC,
        {"resourceGroupName": "rg", "enableIPForwarding": "true", "ipConfigurations": []},
        "dev",
        id="pub-az-nic-forwarding-string",
    ),
    # --- encryption at rest ---
    pytest.param(
        "encryption-aws-ebs-encrypted", VOLUME, {"size": 8, "encrypted": "false"}, "dev", id="enc-volume-string-false"
    ),
    pytest.param("encryption-aws-ebs-encrypted", VOLUME, {"size": 8, "encrypted": ""}, "dev", id="enc-volume-empty"),
    pytest.param(
        "encryption-aws-ebs-encrypted",
        INSTANCE,
        {**GOOD_INSTANCE, "rootBlockDevice": {}},
        "dev",
        id="enc-root-empty-object",
    ),
    pytest.param(
        "encryption-aws-ebs-encrypted",
        SPOT,
        {**GOOD_INSTANCE, "rootBlockDevice": {"encrypted": "False"}},
        "dev",
        id="enc-spot-second-type",
    ),
    pytest.param(
        "encryption-aws-ebs-encrypted",
        LT,
        {**GOOD_LT, "blockDeviceMappings": [{"deviceName": "/dev/sdf", "ebs": {"encrypted": "true", "kmsKeyId": KEY}}]},
        "dev",
        id="enc-lt-only-data-volume",
    ),
    pytest.param(
        "encryption-aws-ebs-customer-managed-key",
        LT,
        {**GOOD_LT, "blockDeviceMappings": [{"deviceName": "/dev/sdf", "ebs": {"encrypted": "true", "kmsKeyId": KEY}}]},
        "dev",
        id="enc-cmk-lt-only-data-volume",
    ),
    pytest.param(
        "encryption-aws-ebs-customer-managed-key",
        VOLUME,
        {"size": 8, "encrypted": True, "kmsKeyId": "arn:aws:kms:eu-west-1:111122223333:alias/aws/ebs"},
        "dev",
        id="enc-cmk-aws-managed-alias-arn",
    ),
    pytest.param(
        "encryption-azure-disk-customer-managed-key",
        AZ_DISK,
        {"encryption": {"diskEncryptionSetId": "des", "type": "encryptionatrestwithplatformkey"}},
        "dev",
        id="enc-az-disk-type-lowercase",
    ),
    pytest.param(
        "encryption-azure-encryption-at-host",
        AZ_VMSS,
        {"virtualMachineProfile": {"securityProfile": {"encryptionAtHost": "false"}}},
        "dev",
        id="enc-az-host-vmss-string",
    ),
    pytest.param(
        "encryption-gcp-disk-customer-managed-key",
        GCE,
        {"bootDisk": {"kmsKeySelfLink": " "}},
        "dev",
        id="enc-gcp-blank-key",
    ),
    pytest.param(
        "encryption-s3-tls-only-policy",
        S3_POLICY,
        s3_policy({**DENY_TLS, "Resource": f"arn:aws:s3:::{BUCKET}/nothing-here"}),
        "dev",
        id="enc-s3-deny-one-object",
    ),
    pytest.param(
        "encryption-s3-tls-only-policy",
        S3_POLICY,
        s3_policy(
            {
                **DENY_TLS,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}, "IpAddress": {"aws:SourceIp": "192.0.2.1/32"}},
            }
        ),
        "dev",
        id="enc-s3-deny-narrowed-by-condition",
    ),
    pytest.param(
        "encryption-s3-tls-only-policy",
        S3_POLICY,
        s3_policy({**DENY_TLS, "Resource": None, "NotResource": f"arn:aws:s3:::{BUCKET}/*"}),
        "dev",
        id="enc-s3-deny-not-resource",
    ),
    pytest.param(
        "encryption-sns-tls-only-publish",
        SNS_POLICY,
        {
            "arn": "arn:aws:sns:eu-west-1:111122223333:alerts",
            "policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "sns:Publish",
                            "Resource": "*",
                            "Condition": {
                                "Bool": {"aws:SecureTransport": "false"},
                                "StringEquals": {"aws:SourceAccount": "999999999999"},
                            },
                        }
                    ]
                }
            ),
        },
        "dev",
        id="enc-sns-deny-narrowed-by-condition",
    ),
    # --- keys ---
    pytest.param(
        "keys-kms-policy-no-public-principal",
        KMS_KEY,
        kms_policy({"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "kms:Decrypt", "Resource": "*"}),
        "dev",
        id="keys-principal-list",
    ),
    pytest.param(
        "keys-kms-policy-no-public-principal",
        KMS_KEY,
        kms_policy(
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/x"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ),
        "dev",
        id="keys-not-principal",
    ),
    pytest.param(
        "keys-kms-policy-no-public-principal",
        KMS_KEY,
        kms_policy(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ),
        "dev",
        id="keys-condition-scopes-nothing",
    ),
    pytest.param(
        "keys-kms-policy-no-public-principal",
        KMS_KEY,
        kms_policy(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringLike": {"kms:CallerAccount": "*"}},
            }
        ),
        "dev",
        id="keys-condition-wildcard-account",
    ),
    pytest.param(
        "keys-kms-policy-no-public-principal",
        KMS_KEY,
        kms_policy(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"kms:CallerAccount": "999999999999"}},
            }
        ),
        "dev",
        id="keys-condition-negated",
    ),
    pytest.param(
        "keys-kms-no-lockout-bypass",
        KMS_KEY,
        {"bypassPolicyLockoutSafetyCheck": "true"},
        "dev",
        id="keys-bypass-string",
    ),
    # --- identities ---
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="*", Resource="arn:*"),
        "dev",
        id="iam-resource-arn-star",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="*", Resource="arn:aws:*:*:*:*"),
        "dev",
        id="iam-resource-all-wildcard-arn",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="*", Resource="arn:aws:*:*:111122223333:*"),
        "dev",
        id="iam-resource-whole-account",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="*", NotResource="arn:aws:s3:::nothing"),
        "dev",
        id="iam-not-resource",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="iam:?*", Resource="*"),
        "dev",
        id="iam-action-glob",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="*:*", Resource=["*"]),
        "dev",
        id="iam-star-colon-star",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="i*:*", Resource="*"),
        "dev",
        id="iam-service-glob",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        ROLE_ATTACH_EXCLUSIVE,
        {"roleName": "app", "policyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
        "dev",
        id="iam-exclusive-attachments",
    ),
    pytest.param(
        "identity-vm-dedicated",
        GCE,
        {"serviceAccount": {"email": "123-COMPUTE@developer.gserviceaccount.com", "scopes": []}},
        "dev",
        id="iam-default-sa-uppercase",
    ),
    pytest.param(
        "identity-vm-dedicated",
        GCE_TEMPLATE,
        {"serviceAccount": {"email": "default", "scopes": ["userinfo-email"]}},
        "dev",
        id="iam-default-sa-literal",
    ),
    pytest.param(
        "identity-azure-no-broad-roles",
        "azure-native:authorization:RoleDefinition",
        {
            "roleName": "not-owner",
            "permissions": [{"actions": ["*"], "notActions": []}],
            "assignableScopes": ["/subscriptions/s"],
        },
        "dev",
        id="iam-az-custom-role-star",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        "gcp:projects/iAMCustomRole:IAMCustomRole",
        {"roleId": "deployer", "title": "d", "permissions": ["compute.instances.get", "iam.serviceAccounts.actAs"]},
        "dev",
        id="iam-gcp-custom-role-act-as",
    ),
    pytest.param(
        "identity-vm-dedicated",
        "aws:iam/role:Role",
        trust({"AWS": "*"}, {"Bool": {"aws:SecureTransport": "true"}}),
        "dev",
        id="iam-trust-any-principal",
    ),
    pytest.param(
        "identity-vm-dedicated",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                }
            )
        },
        "dev",
        id="iam-trust-not-principal",
    ),
    pytest.param(
        "identity-vm-dedicated",
        "aws:iam/role:Role",
        trust(
            {"Federated": GITHUB_OIDC},
            {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
        ),
        "dev",
        id="iam-trust-github-any-repo",
    ),
    pytest.param(
        "identity-vm-dedicated",
        "aws:iam/role:Role",
        trust({"Federated": GITHUB_OIDC}, {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}),
        "dev",
        id="iam-trust-github-repo-star",
    ),
    pytest.param(
        "identity-azure-no-broad-roles",
        "azure-native:authorization:RoleAssignment",
        {
            "principalId": "p",
            "scope": "/subscriptions/s",
            "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/8E3AF657-A8FF-443C-A75C-2FE8C4BCB635/",
        },
        "dev",
        id="iam-az-owner-uppercase-guid",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        GCE,
        {"serviceAccount": {"email": "default", "scopes": ["cloud-platform"]}},
        "dev",
        id="iam-default-sa-literal-cloud-platform",
    ),
    # --- deletion protection ---
    pytest.param(
        "deletion-vm-protection",
        INSTANCE,
        {**GOOD_INSTANCE, "disableApiTermination": "false"},
        "prod",
        id="del-string-false",
    ),
    pytest.param(
        "deletion-vm-protection", GCE_FROM_IMAGE, {"sourceMachineImage": "img"}, "prod", id="del-gcp-from-machine-image"
    ),
    pytest.param("deletion-lb-protection", ALB, {"enableDeletionProtection": "False"}, "prod", id="del-lb-string"),
    # --- observability / logging ---
    pytest.param("observability-alarms-have-actions", ALARM, {"alarmActions": [""]}, "dev", id="obs-blank-action"),
    pytest.param(
        "observability-alarms-have-actions",
        ALARM,
        {"alarmActions": ["arn:x"], "actionsEnabled": "False"},
        "dev",
        id="obs-disabled-string",
    ),
    pytest.param(
        "observability-alarms-have-actions",
        GCP_ALERT,
        {"notificationChannels": [" "]},
        "dev",
        id="obs-gcp-blank-channel",
    ),
    pytest.param("logging-retention-floor", LOG_GROUP, {"retentionInDays": "0"}, "dev", id="log-retention-zero-string"),
    pytest.param(
        "logging-lb-access-logs",
        BACKEND,
        {"logConfig": {"enable": "true", "sampleRate": "0"}},
        "dev",
        id="log-sample-zero-string",
    ),
    pytest.param(
        "logging-lb-access-logs",
        ALB,
        {"accessLogs": {"enabled": "false", "bucket": "b"}},
        "dev",
        id="log-alb-string-false",
    ),
    # --- transport ---
    pytest.param(
        "transport-https-only",
        LISTENER,
        {"port": 80, "protocol": "http", "defaultActions": [{"type": "forward", "targetGroupArn": "tg"}]},
        "dev",
        id="tls-lowercase-http",
    ),
    pytest.param(
        "transport-tls-policy",
        LISTENER,
        {"port": 443, "protocol": "https", "certificateArn": "c", "sslPolicy": ""},
        "dev",
        id="tls-empty-policy",
    ),
    # --- secure boot ---
    pytest.param(
        "boot-gcp-shielded-vm",
        GCE_TEMPLATE,
        {
            "shieldedInstanceConfig": {
                "enableSecureBoot": "false",
                "enableVtpm": True,
                "enableIntegrityMonitoring": True,
            }
        },
        "dev",
        id="boot-string-false",
    ),
    pytest.param(
        "boot-azure-trusted-launch",
        AZ_VMSS,
        {
            "virtualMachineProfile": {
                "securityProfile": {
                    "securityType": "",
                    "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
                }
            }
        },
        "dev",
        id="boot-az-empty-type",
    ),
]


GCP_SEC = "gcp:compute/securityPolicy:SecurityPolicy"
AZ_WAF = "azure-native:network:WebApplicationFirewallPolicy"
GCP_SUBNET = "gcp:compute/subnetwork:Subnetwork"
GCP_KEY = "gcp:kms/cryptoKey:CryptoKey"
GCP_KEY_POLICY = "gcp:kms/cryptoKeyIAMPolicy:CryptoKeyIAMPolicy"
GCP_KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
AZ_ALERT = "azure-native:monitor:MetricAlert"
ACM = "aws:acm/certificate:Certificate"
GCP_SSL = "gcp:compute/sSLPolicy:SSLPolicy"

WAF_RULE = {
    "priority": 1000,
    "action": "deny(403)",
    "match": {"expr": {"expression": "evaluatePreconfiguredWaf('sqli-v33-stable')"}},
}
DEFAULT_ALLOW = {
    "priority": 2147483647,
    "action": "allow",
    "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}},
}
AZ_WAF_BASE = {
    "resourceGroupName": "rg",
    "policySettings": {"mode": "Prevention", "state": "Enabled"},
    "managedRules": {"managedRuleSets": [{"ruleSetType": "OWASP", "ruleSetVersion": "3.2"}]},
}


def az_custom(operator: str, values: list[str], **kw: Any) -> dict:
    rule = {
        "name": "allowall",
        "priority": 1,
        "ruleType": "MatchRule",
        "action": "Allow",
        "matchConditions": [
            {"matchVariables": [{"variableName": "RemoteAddr"}], "operator": operator, "matchValues": values}
        ],
    }
    rule.update(kw)
    return {**AZ_WAF_BASE, "customRules": [rule]}


def gcp_waf(expression: str) -> dict:
    return {"rules": [{**WAF_RULE, "match": {"expr": {"expression": expression}}}, DEFAULT_ALLOW]}


AZ_LB = "azure-native:network:LoadBalancer"
GCP_FR = "gcp:compute/forwardingRule:ForwardingRule"
PUBLIC_FRONTEND = [{"name": "fe", "publicIPAddress": {"id": "pip"}}]


def az_lb(key: str, frontends: list | None = None, **rule: Any) -> dict:
    return {
        "resourceGroupName": "rg",
        "frontendIPConfigurations": PUBLIC_FRONTEND if frontends is None else frontends,
        key: [{"name": "r", "frontendIPConfiguration": {"id": "fe"}, **rule}],
    }


MORE_ATTEMPTS: list[Any] = [
    pytest.param(
        SSH,
        NSG,
        nsg(*[az_rule(name=f"r{i}", priority=100 + i, sourceAddressPrefix=f"{i}.0.0.0/8") for i in range(256)]),
        "dev",
        id="net-az-256-rules-one-slash-8-each",
    ),
    # --- every port, in pieces ---
    pytest.param(
        ALL_PORTS,
        NSG,
        nsg(az_rule(destinationPortRange=None, destinationPortRanges=["0-30000", "30001-65535"])),
        "dev",
        id="net-az-all-ports-in-two-ranges",
    ),
    pytest.param(
        ALL_PORTS,
        SG,
        sg(tcp(0, 40000, "0.0.0.0/0"), tcp(40000, 65535, "0.0.0.0/0")),
        "dev",
        id="net-all-ports-two-rules",
    ),
    pytest.param(
        ALL_PORTS,
        FW,
        gcp_fw(allows=[{"protocol": "udp", "ports": ["1-1024", "1025-65535"]}]),
        "dev",
        id="net-gcp-udp-pieces",
    ),
    # --- a second way to run an AWS VM: Lightsail ---
    pytest.param(
        SSH,
        "aws:lightsail/instancePublicPorts:InstancePublicPorts",
        {"instanceName": "vm", "portInfos": [{"protocol": "tcp", "fromPort": 22, "toPort": 22}]},
        "dev",
        id="net-lightsail-port-no-cidrs",
    ),
    pytest.param(
        ALL_PORTS,
        "aws:lightsail/instancePublicPorts:InstancePublicPorts",
        {
            "instanceName": "vm",
            "portInfos": [{"protocol": "all", "fromPort": 0, "toPort": 65535, "ipv6Cidrs": ["::/0"]}],
        },
        "dev",
        id="net-lightsail-all",
    ),
    pytest.param(
        "public-vm-no-public-ip",
        "aws:lightsail/instance:Instance",
        {"availabilityZone": "eu-west-1a", "blueprintId": "ubuntu_22_04", "bundleId": "nano_3_0"},
        "dev",
        id="pub-lightsail-instance",
    ),
    # --- network: SSH forwarded by a public load balancer (no firewall resource involved) ---
    pytest.param(
        SSH,
        AZ_LB,
        az_lb("inboundNatRules", protocol="Tcp", frontendPort=50022, backendPort=22),
        "dev",
        id="net-az-lb-nat-22",
    ),
    pytest.param(
        SSH,
        AZ_LB,
        az_lb("loadBalancingRules", protocol="All", frontendPort=0, backendPort=0),
        "dev",
        id="net-az-lb-ha-ports",
    ),
    pytest.param(
        RDP,
        AZ_LB,
        az_lb(
            "inboundNatPools",
            protocol="Tcp",
            frontendPortRangeStart=50000,
            frontendPortRangeEnd=50100,
            backendPort="3389",
        ),
        "dev",
        id="net-az-lb-nat-pool-rdp",
    ),
    pytest.param(
        SSH,
        "azure-native:network:InboundNatRule",
        {
            "resourceGroupName": "rg",
            "loadBalancerName": "lb",
            "protocol": "Tcp",
            "frontendPort": 2222,
            "backendPort": 22,
        },
        "dev",
        id="net-az-standalone-nat-rule",
    ),
    pytest.param(
        SSH, GCP_FR, {"backendService": "bs", "ipProtocol": "TCP", "ports": ["22"]}, "dev", id="net-gcp-passthrough-22"
    ),
    pytest.param(
        SSH,
        GCP_FR,
        {"backendService": "bs", "ipProtocol": "L3_DEFAULT", "allPorts": True},
        "dev",
        id="net-gcp-passthrough-all",
    ),
    pytest.param(
        SSH,
        GCP_FR,
        {"target": "projects/p/zones/z/targetInstances/vm", "portRange": "20-25"},
        "dev",
        id="net-gcp-target-instance",
    ),
    # --- network: ranges that only together make the internet; a Deny of one address family ---
    pytest.param(
        SSH,
        NSG,
        nsg(az_rule(sourceAddressPrefix=None, sourceAddressPrefixes=[f"{i}.0.0.0/8" for i in range(256)])),
        "dev",
        id="net-az-256-slash-8",
    ),
    pytest.param(
        SSH,
        SG,
        sg(tcp(22, 22, *[f"{i}.0.0.0/9" for i in range(0, 256, 1)], *[f"{i}.128.0.0/9" for i in range(256)])),
        "dev",
        id="net-512-slash-9",
    ),
    pytest.param(
        SSH,
        NSG,
        nsg(
            az_rule(sourceAddressPrefix="::/0"),
            az_rule(name="d", priority=100, access="Deny", sourceAddressPrefix="0.0.0.0/0"),
        ),
        "dev",
        id="net-az-v4-deny-v6-allow",
    ),
    pytest.param(
        SSH,
        NSG,
        nsg(az_rule(), az_rule(name="d", priority=100, access="Deny", sourceAddressPrefix="0.0.0.0/0")),
        "dev",
        id="net-az-v4-deny-internet-tag",
    ),
    # --- public exposure: IPv6 global unicast is a public address too ---
    pytest.param(
        "public-vm-no-public-ip", INSTANCE, {**GOOD_INSTANCE, "ipv6AddressCount": 1}, "dev", id="pub-ipv6-count"
    ),
    pytest.param(
        "public-vm-no-public-ip", SPOT, {**GOOD_INSTANCE, "ipv6AddressCount": "2"}, "dev", id="pub-spot-ipv6-string"
    ),
    pytest.param(
        "public-vm-no-public-ip",
        LT,
        {**GOOD_LT, "networkInterfaces": [{"deviceIndex": 0, "ipv6Addresses": ["2001:db8::10"]}]},
        "dev",
        id="pub-lt-ipv6-address",
    ),
    # --- WAF: the rule is there but never decides ---
    pytest.param(
        "waf-rules-prevention-managed",
        GCP_SEC,
        gcp_waf("!evaluatePreconfiguredWaf('sqli-v33-stable')"),
        "prod",
        id="waf-gcp-negated",
    ),
    pytest.param(
        "waf-rules-prevention-managed",
        GCP_SEC,
        gcp_waf("evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': 0})"),
        "prod",
        id="waf-gcp-sensitivity-0",
    ),
    pytest.param(
        "waf-rules-prevention-managed",
        GCP_SEC,
        gcp_waf("evaluatePreconfiguredWaf('sqli-v33-stable') && false"),
        "prod",
        id="waf-gcp-and-false",
    ),
    pytest.param(
        "waf-rules-prevention-managed",
        GCP_SEC,
        {"rules": [WAF_RULE, {**DEFAULT_ALLOW, "priority": 10}]},
        "prod",
        id="waf-gcp-allow-all-first",
    ),
    pytest.param(
        "waf-rules-prevention-managed",
        GCP_SEC,
        {
            "rules": [
                WAF_RULE,
                {
                    **DEFAULT_ALLOW,
                    "priority": 5,
                    "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["0.0.0.0/1", "128.0.0.0/1"]}},
                },
                DEFAULT_ALLOW,
            ]
        },
        "prod",
        id="waf-gcp-allow-halves-first",
    ),
    pytest.param(
        "waf-rules-prevention-managed",
        GCP_SEC,
        {"rules": [{**WAF_RULE, "preview": "true"}, DEFAULT_ALLOW]},
        "prod",
        id="waf-gcp-preview-string",
    ),
    pytest.param("waf-rules-prevention-managed", AZ_WAF, az_custom("Any", []), "prod", id="waf-az-allow-any"),
    pytest.param(
        "waf-rules-prevention-managed",
        AZ_WAF,
        az_custom("IPMatch", ["0.0.0.0/1", "128.0.0.0/1"]),
        "prod",
        id="waf-az-allow-internet",
    ),
    pytest.param(
        "waf-rules-prevention-managed",
        AZ_WAF,
        {**AZ_WAF_BASE, "policySettings": {"mode": "Detection", "state": "Enabled"}},
        "prod",
        id="waf-az-detection",
    ),
    # --- logging ---
    pytest.param(
        "logging-retention-floor",
        "azure-native:operationalinsights:Table",
        {"resourceGroupName": "rg", "workspaceName": "ws", "tableName": "AzureDiagnostics", "retentionInDays": 4},
        "dev",
        id="log-az-table-shorter-than-workspace",
    ),
    pytest.param(
        "logging-gcp-subnet-flow-logs",
        GCP_SUBNET,
        {"ipCidrRange": "10.0.0.0/24", "logConfig": {"flowSampling": 1, "filterExpr": "false"}},
        "dev",
        id="log-subnet-filter-false",
    ),
    pytest.param(
        "logging-gcp-subnet-flow-logs",
        GCP_SUBNET,
        {"ipCidrRange": "10.0.0.0/24", "logConfig": {"flowSampling": "0.0"}},
        "dev",
        id="log-subnet-sampling-string",
    ),
    # --- keys ---
    pytest.param(
        "keys-gcp-kms-not-public",
        GCP_KEY_POLICY,
        {
            "cryptoKeyId": "k",
            "policyData": json.dumps(
                {"bindings": [{"role": "roles/cloudkms.cryptoKeyDecrypter", "members": ["allUsers"]}]}
            ),
        },
        "dev",
        id="keys-gcp-iam-policy-second-type",
    ),
    pytest.param(
        "keys-gcp-kms-not-public",
        GCP_KEY_MEMBER,
        {"cryptoKeyId": "k", "role": "roles/cloudkms.cryptoKeyDecrypter", "member": "principalSet://goog/public:all"},
        "dev",
        id="keys-gcp-public-principal-set",
    ),
    pytest.param(
        "keys-azure-vault-network-restricted",
        "azure-native:keyvault:Vault",
        {
            "resourceGroupName": "rg",
            "properties": {
                "tenantId": "t",
                "sku": {"family": "A", "name": "standard"},
                "networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "0.0.0.0/1"}, {"value": "128.0.0.0/1"}]},
            },
        },
        "dev",
        id="keys-vault-deny-but-ip-rules-open",
    ),
    pytest.param("keys-rotation-enabled", KMS_KEY, {"enableKeyRotation": "false"}, "dev", id="keys-rotation-string"),
    pytest.param(
        "keys-rotation-enabled",
        KMS_KEY,
        {"customerMasterKeySpec": "symmetric_default", "enableKeyRotation": False},
        "dev",
        id="keys-spec-lowercase",
    ),
    pytest.param(
        "keys-rotation-enabled",
        GCP_KEY,
        {"keyRing": "kr", "purpose": "encrypt_decrypt"},
        "dev",
        id="keys-gcp-purpose-lowercase",
    ),
    pytest.param("keys-deletion-window", KMS_KEY, {"deletionWindowInDays": "7"}, "dev", id="keys-window-string"),
    # --- observability ---
    pytest.param(
        "observability-alarms-have-actions",
        AZ_ALERT,
        {"enabled": True, "actions": [{"actionGroupId": ""}]},
        "dev",
        id="obs-az-blank-group",
    ),
    # --- transport ---
    pytest.param(
        "transport-https-only",
        LISTENER,
        {
            "port": 80,
            "protocol": "HTTP",
            "defaultActions": [{"type": "redirect", "redirect": {"protocol": "#{protocol}"}}],
        },
        "dev",
        id="tls-redirect-keeps-protocol",
    ),
    pytest.param(
        "transport-https-only",
        APPGW,
        {"httpListeners": [{"name": "l", "protocol": "http"}], "requestRoutingRules": []},
        "dev",
        id="tls-appgw-lowercase-http",
    ),
    pytest.param(
        "transport-tls-policy",
        GCP_SSL,
        {"profile": "compatible", "minTlsVersion": "TLS_1_2"},
        "dev",
        id="tls-gcp-profile-case",
    ),
    pytest.param(
        "transport-acm-no-wildcard",
        ACM,
        {"domainName": "app.example.com", "subjectAlternativeNames": [" *.example.com"], "validationMethod": "DNS"},
        "dev",
        id="tls-acm-wildcard-san",
    ),
    pytest.param(
        "transport-alb-drop-invalid-headers",
        ALB,
        {"loadBalancerType": "Application", "dropInvalidHeaderFields": "false"},
        "dev",
        id="tls-alb-string",
    ),
    # --- the same setting on the other resource types ---
    pytest.param(
        "encryption-s3-default-encryption",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": ""}}]},
        "dev",
        id="enc-s3-sse-v2-empty-algorithm",
    ),
    pytest.param(
        "public-vm-no-public-ip",
        "gcp:compute/instanceFromTemplate:InstanceFromTemplate",
        {"sourceInstanceTemplate": "t", "networkInterfaces": [{"network": "n", "accessConfigs": [{"natIp": ""}]}]},
        "dev",
        id="pub-gcp-from-template",
    ),
    pytest.param(
        "public-no-ip-forwarding",
        "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
        {"machineType": "e2-small", "canIpForward": "true"},
        "dev",
        id="pub-gcp-region-template-forwarding",
    ),
    pytest.param(
        "boot-gcp-shielded-vm",
        "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
        {
            "shieldedInstanceConfig": {
                "enableSecureBoot": "False",
                "enableVtpm": True,
                "enableIntegrityMonitoring": True,
            }
        },
        "dev",
        id="boot-gcp-region-template",
    ),
    pytest.param(
        "metadata-imdsv2-required",
        "aws:ec2/launchConfiguration:LaunchConfiguration",
        {"imageId": "ami-1", "instanceType": "t3.small", "metadataOptions": {"httpTokens": "optional"}},
        "dev",
        id="imds-launch-configuration",
    ),
    pytest.param(
        "metadata-imdsv2-required",
        "aws:ec2/spotFleetRequest:SpotFleetRequest",
        {"iamFleetRole": "r", "targetCapacity": 1, "launchSpecifications": [{"ami": "a", "instanceType": "t3.small"}]},
        "dev",
        id="imds-spot-fleet-inline",
    ),
    # --- secure boot / baseline ---
    pytest.param("boot-gcp-shielded-vm", GCE, {"shieldedInstanceConfig": {}}, "dev", id="boot-empty-object"),
    pytest.param(
        "boot-azure-trusted-launch",
        AZ_VM,
        {"securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {}}},
        "dev",
        id="boot-az-empty-uefi",
    ),
    pytest.param(
        "stack-ec2-detailed-monitoring",
        LT,
        {**GOOD_LT, "monitoring": {"enabled": "false"}},
        "dev",
        id="base-lt-monitoring-string",
    ),
]


@pytest.mark.parametrize("rule_name,type_,props,stack", ATTEMPTS + MORE_ATTEMPTS)
def test_evasion_is_flagged(rule_name: str, type_: str, props: dict, stack: str) -> None:
    assert violations(rule_name, type_, props, stack=stack), f"{rule_name} let this through"


# ---------------------------------------------------------------------------------------------
# Compliant look-alikes: the fixes must not flag these

LOOKALIKES: list[Any] = [
    pytest.param(SSH, SG, sg(tcp(22, 22, "10.0.0.0/8", "203.0.113.0/24")), "dev", id="net-private-and-admin"),
    pytest.param(
        SSH, SG, sg(tcp(22, 22, v6=("fd00::/8", "::ffff:10.0.0.0/104"))), "dev", id="net-ula-and-mapped-private"
    ),
    pytest.param(SSH, SG, sg(tcp(443, 443, "0.0.0.0/0")), "dev", id="net-https-world"),
    pytest.param(SSH, NSG, nsg(az_rule(sourceAddressPrefix="VirtualNetwork")), "dev", id="net-az-vnet-tag"),
    pytest.param(SSH, NSG, nsg(az_rule(sourceAddressPrefix="AzureLoadBalancer")), "dev", id="net-az-lb-tag"),
    pytest.param(
        SSH,
        NSG,
        nsg(az_rule(), az_rule(name="d", priority=100, access="Deny", sourceAddressPrefix="*")),
        "dev",
        id="net-az-deny-before-allow",
    ),
    pytest.param(
        SSH,
        NSG,
        nsg(
            az_rule(destinationAddressPrefix="10.0.2.0/24"),
            az_rule(
                name="d",
                priority=100,
                access="Deny",
                sourceAddressPrefix="Internet",
                destinationAddressPrefix="10.0.2.0/24",
            ),
        ),
        "dev",
        id="net-az-deny-same-destination",
    ),
    pytest.param(
        SSH,
        NSG,
        nsg(
            az_rule(sourceAddressPrefix="0.0.0.0/0"),
            az_rule(name="d", priority=100, access="Deny", sourceAddressPrefix="0.0.0.0/0"),
        ),
        "dev",
        id="net-az-v4-deny-v4-allow",
    ),
    pytest.param(
        SSH,
        NSG,
        nsg(az_rule(sourceAddressPrefix=None, sourceAddressPrefixes=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])),
        "dev",
        id="net-az-rfc1918-together",
    ),
    pytest.param(
        SSH,
        "azure-native:network:LoadBalancer",
        {
            "resourceGroupName": "rg",
            "frontendIPConfigurations": [{"name": "fe", "subnet": {"id": "s"}}],
            "inboundNatRules": [{"name": "r", "protocol": "Tcp", "frontendPort": 22, "backendPort": 22}],
        },
        "dev",
        id="net-az-internal-lb-nat",
    ),
    pytest.param(
        SSH,
        "azure-native:network:LoadBalancer",
        {
            "resourceGroupName": "rg",
            "frontendIPConfigurations": [{"name": "fe", "publicIPAddress": {"id": "pip"}}],
            "loadBalancingRules": [{"name": "r", "protocol": "Tcp", "frontendPort": 443, "backendPort": 8443}],
        },
        "dev",
        id="net-az-public-lb-https",
    ),
    pytest.param(
        SSH,
        "gcp:compute/forwardingRule:ForwardingRule",
        {"loadBalancingScheme": "EXTERNAL_MANAGED", "target": "t", "portRange": "22"},
        "dev",
        id="net-gcp-managed-proxy",
    ),
    pytest.param(
        SSH,
        "gcp:compute/forwardingRule:ForwardingRule",
        {"loadBalancingScheme": "INTERNAL", "backendService": "bs", "allPorts": True},
        "dev",
        id="net-gcp-internal-passthrough",
    ),
    pytest.param(
        SSH,
        "aws:lightsail/instancePublicPorts:InstancePublicPorts",
        {
            "instanceName": "vm",
            "portInfos": [
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrListAliases": ["lightsail-connect"]},
                {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrs": ["0.0.0.0/0"]},
            ],
        },
        "dev",
        id="net-lightsail-connect-alias",
    ),
    pytest.param(
        ALL_PORTS, SG, sg(tcp(0, 40000, "0.0.0.0/0"), tcp(40002, 65535, "0.0.0.0/0")), "dev", id="net-all-ports-gap"
    ),
    pytest.param(SSH, FW, gcp_fw(disabled="true"), "dev", id="net-gcp-disabled"),
    pytest.param(SSH, FW, gcp_fw(sourceRanges=["35.235.240.0/20"]), "dev", id="net-gcp-iap"),
    pytest.param("public-vm-no-public-ip", EIP, {"domain": "vpc"}, "dev", id="pub-eip-unattached"),
    pytest.param(
        "public-vm-no-public-ip",
        AZ_NIC,
        {"resourceGroupName": "rg", "ipConfigurations": [{"name": "ip", "subnet": {"id": "s"}}]},
        "dev",
        id="pub-az-nic-private",
    ),
    pytest.param("encryption-aws-ebs-encrypted", LT, GOOD_LT, "dev", id="enc-lt-root-mapped"),
    pytest.param(
        "encryption-aws-ebs-encrypted",
        LT,
        {**GOOD_LT, "blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"encrypted": True, "kmsKeyId": KEY}}]},
        "dev",
        id="enc-lt-ubuntu-root",
    ),
    pytest.param("encryption-s3-tls-only-policy", S3_POLICY, s3_policy(DENY_TLS), "dev", id="enc-s3-deny-bucket"),
    pytest.param(
        "encryption-s3-tls-only-policy",
        S3_POLICY,
        s3_policy({**DENY_TLS, "Resource": "*", "Condition": {"BoolIfExists": {"aws:SecureTransport": False}}}),
        "dev",
        id="enc-s3-deny-star",
    ),
    pytest.param(
        "keys-kms-policy-no-public-principal",
        KMS_KEY,
        kms_policy(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": "111122223333",
                        "kms:ViaService": "ec2.eu-west-1.amazonaws.com",
                    }
                },
            }
        ),
        "dev",
        id="keys-caller-account",
    ),
    pytest.param(
        "keys-kms-policy-no-public-principal",
        KMS_KEY,
        kms_policy(
            {
                "Effect": "Allow",
                "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                "Action": "kms:Encrypt*",
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:111122223333:*"}
                },
            }
        ),
        "dev",
        id="keys-service-principal",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="cloudwatch:PutMetricData", Resource="*"),
        "dev",
        id="iam-narrow-action",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="iam:Get*", Resource="*"),
        "dev",
        id="iam-read-only-glob",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        IAM_POLICY,
        iam_policy(Action="s3:*", Resource="arn:aws:s3:::appstack-logs/*"),
        "dev",
        id="iam-scoped-resource",
    ),
    pytest.param(
        "identity-no-broad-privileges",
        ROLE_ATTACH_EXCLUSIVE,
        {"roleName": "app", "policyArns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]},
        "dev",
        id="iam-exclusive-ssm",
    ),
    pytest.param(
        "observability-alarms-have-actions", ALARM, {"alarmActions": ["arn:aws:sns:eu-west-1:1:a"]}, "dev", id="obs-ok"
    ),
    pytest.param(
        "identity-azure-no-broad-roles",
        "azure-native:authorization:RoleDefinition",
        {"roleName": "reader", "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/read"]}]},
        "dev",
        id="iam-az-custom-role-narrow",
    ),
    pytest.param(
        "identity-vm-dedicated", "aws:iam/role:Role", trust({"Service": "ec2.amazonaws.com"}), "dev", id="iam-trust-ec2"
    ),
    pytest.param(
        "identity-vm-dedicated",
        "aws:iam/role:Role",
        trust(
            {"Federated": GITHUB_OIDC},
            {
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:example/appstack:ref:refs/heads/main"},
            },
        ),
        "dev",
        id="iam-trust-github-pinned",
    ),
    pytest.param(
        "identity-vm-dedicated",
        "aws:iam/role:Role",
        trust({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
        "dev",
        id="iam-trust-org-scoped",
    ),
    pytest.param(
        "waf-rules-prevention-managed", GCP_SEC, {"rules": [WAF_RULE, DEFAULT_ALLOW]}, "prod", id="waf-gcp-default-last"
    ),
    pytest.param(
        "waf-rules-prevention-managed",
        GCP_SEC,
        gcp_waf("evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': 1})"),
        "prod",
        id="waf-gcp-sensitivity-1",
    ),
    pytest.param(
        "waf-rules-prevention-managed",
        AZ_WAF,
        az_custom("IPMatch", ["203.0.113.0/24"]),
        "prod",
        id="waf-az-allow-admin-ip",
    ),
    pytest.param(
        "waf-rules-prevention-managed", AZ_WAF, az_custom("Any", [], action="Block"), "prod", id="waf-az-block-any"
    ),
    pytest.param(
        "waf-rules-prevention-managed",
        AZ_WAF,
        az_custom("Any", [], state="Disabled"),
        "prod",
        id="waf-az-disabled-allow",
    ),
    pytest.param(
        "logging-gcp-subnet-flow-logs",
        GCP_SUBNET,
        {"ipCidrRange": "10.0.0.0/24", "logConfig": {"flowSampling": 0.5, "filterExpr": "true"}},
        "dev",
        id="log-subnet-filter-true",
    ),
    pytest.param(
        "public-vm-no-public-ip", INSTANCE, {**GOOD_INSTANCE, "ipv6AddressCount": 0}, "dev", id="pub-ipv6-zero"
    ),
    pytest.param(
        "keys-gcp-kms-not-public",
        GCP_KEY_POLICY,
        {
            "cryptoKeyId": "k",
            "policyData": json.dumps(
                {
                    "bindings": [
                        {
                            "role": "roles/cloudkms.cryptoKeyDecrypter",
                            "members": ["serviceAccount:a@p.iam.gserviceaccount.com"],
                        }
                    ]
                }
            ),
        },
        "dev",
        id="keys-gcp-iam-policy-sa",
    ),
]


@pytest.mark.parametrize("rule_name,type_,props,stack", LOOKALIKES)
def test_lookalike_is_not_flagged(rule_name: str, type_: str, props: dict, stack: str) -> None:
    assert not violations(rule_name, type_, props, stack=stack)


# ---------------------------------------------------------------------------------------------
# Unknown deciding values: advisory in preview, a violation on up

UNKNOWN_ATTEMPTS: list[Any] = [
    pytest.param(SSH, SG, sg(tcp(22, 22, UNKNOWN_STRING_VALUE)), id="net-unknown-cidr"),
    pytest.param(SSH, NSG, nsg(az_rule(sourceAddressPrefix=UNKNOWN_STRING_VALUE)), id="net-az-unknown-source"),
    pytest.param(
        SSH,
        NSG,
        nsg(
            az_rule(),
            az_rule(
                name="d",
                priority=100,
                access="Deny",
                sourceAddressPrefix="*",
                destinationAddressPrefix=UNKNOWN_STRING_VALUE,
            ),
        ),
        id="net-az-unknown-deny-destination",
    ),
    pytest.param(
        "metadata-imdsv2-required",
        INSTANCE,
        {**GOOD_INSTANCE, "metadataOptions": {"httpTokens": UNKNOWN_STRING_VALUE}},
        id="imds-unknown",
    ),
    pytest.param(
        "public-vm-no-public-ip",
        INSTANCE,
        {**GOOD_INSTANCE, "associatePublicIpAddress": UNKNOWN_STRING_VALUE},
        id="pub-unknown",
    ),
    pytest.param(
        "keys-kms-policy-no-public-principal", KMS_KEY, {"policy": UNKNOWN_STRING_VALUE}, id="keys-unknown-policy"
    ),
    pytest.param(
        "encryption-s3-tls-only-policy",
        S3_POLICY,
        {"bucket": BUCKET, "policy": UNKNOWN_STRING_VALUE},
        id="enc-unknown-policy",
    ),
]


@pytest.mark.parametrize("rule_name,type_,props", UNKNOWN_ATTEMPTS)
def test_unknown_is_advisory_in_preview_and_flagged_on_up(rule_name: str, type_: str, props: dict) -> None:
    with pytest.raises(UnknownValueError):
        violations(rule_name, type_, props, dry_run=True)
    assert violations(rule_name, type_, props, dry_run=False)


# ---------------------------------------------------------------------------------------------
# Stack rules


def test_moved_ssh_port_behind_a_half_internet_cidr() -> None:
    user_data = "#!/bin/sh\necho 'Port 2222' >> /etc/ssh/sshd_config\n"
    found = stack_violations(
        "network-no-moved-ssh-from-internet",
        [
            (INSTANCE, "vm", {**GOOD_INSTANCE, "userData": user_data, "vpcSecurityGroupIds": ["sg-1"]}),
            (SG, "sg", {**sg(tcp(2000, 3000, "128.0.0.0/1")), "id": "sg-1"}),
        ],
        dry_run=False,
    )
    assert found and "2222" in found[0][0]


# ---------------------------------------------------------------------------------------------
# Through the real gRPC Analyzer protocol: secrets and unknowns as the engine sends them

SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def _secret(value: Any) -> dict:
    return {**SECRET_SIG, "value": value}


def _res(type_: str, name: str, props: dict) -> dict:
    return {
        "type": type_,
        "name": name,
        "urn": f"urn:pulumi:dev::appstack::{type_}::{name}",
        "parent": None,
        "properties": props,
    }


GRPC_RESOURCES = [
    _res(SG, "secret-cidr-sg", sg({**tcp(22, 22), "cidrBlocks": [_secret("0.0.0.0/1"), "128.0.0.0/1"]})),
    _res(SG, "mapped-v6-sg", sg(tcp(22, 22, v6=("::ffff:0:0/96",)))),
    _res(
        NSG,
        "deny-one-ip-nsg",
        nsg(
            az_rule(),
            az_rule(
                name="d", priority=100, access="Deny", sourceAddressPrefix="*", destinationAddressPrefix="10.9.9.9"
            ),
        ),
    ),
    _res(EIP, "eni-eip", {"domain": "vpc", "networkInterface": "eni-1"}),
    _res(IAM_POLICY, "arn-star-policy", iam_policy(Action="*", Resource="arn:*")),
    _res(
        KMS_KEY,
        "not-principal-key",
        kms_policy(
            {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"}
        ),
    ),
    _res(SG, "unknown-cidr-sg", sg(tcp(22, 22, GATE_UNKNOWN))),
    _res(SG, "admin-sg", sg(tcp(22, 22, "203.0.113.0/24"))),
    _res(AZ_LB, "nat-22-lb", az_lb("inboundNatRules", protocol="Tcp", frontendPort=50022, backendPort=_secret(22))),
    _res(
        "aws:lightsail/instancePublicPorts:InstancePublicPorts",
        "lightsail-ports",
        {"instanceName": "vm", "portInfos": [{"protocol": "tcp", "fromPort": 22, "toPort": 22}]},
    ),
    _res(GCP_SEC, "allow-first-armor", {"rules": [WAF_RULE, {**DEFAULT_ALLOW, "priority": 10}]}),
]


@pytest.fixture(scope="module")
def gate_up():
    return run_gate(
        GRPC_RESOURCES, project="appstack", stack="dev", stack_config={"appstack:cloud": "aws"}, dry_run=False
    )


@pytest.fixture(scope="module")
def gate_preview():
    return run_gate(
        GRPC_RESOURCES, project="appstack", stack="dev", stack_config={"appstack:cloud": "aws"}, dry_run=True
    )


def _on(result, name: str) -> set[str]:
    return {v.policy for v in result.violations if v.name == name}


@pytest.mark.parametrize(
    "name,policy",
    [
        ("secret-cidr-sg", SSH),
        ("mapped-v6-sg", SSH),
        ("deny-one-ip-nsg", SSH),
        ("eni-eip", "public-vm-no-public-ip"),
        ("arn-star-policy", "identity-no-broad-privileges"),
        ("not-principal-key", "keys-kms-policy-no-public-principal"),
        ("unknown-cidr-sg", SSH),
        ("nat-22-lb", SSH),
        ("lightsail-ports", SSH),
    ],
)
def test_evasions_through_grpc_on_up(gate_up, name: str, policy: str) -> None:
    assert policy in _on(gate_up, name), [v for v in gate_up.violations if v.name == name]


def test_prod_only_rule_through_grpc() -> None:
    result = run_gate(
        [r for r in GRPC_RESOURCES if r["name"] == "allow-first-armor"],
        project="appstack",
        stack="prod",
        stack_config={"appstack:cloud": "gcp"},
        dry_run=False,
    )
    assert "waf-rules-prevention-managed" in _on(result, "allow-first-armor")


def test_grpc_preview_reports_unknown_and_passes_admin(gate_preview) -> None:
    assert SSH in _on(gate_preview, "unknown-cidr-sg")
    assert SSH in _on(gate_preview, "secret-cidr-sg")
    assert SSH not in _on(gate_preview, "admin-sg")


def test_gcp_address_group_that_is_the_internet() -> None:
    group = {
        "name": "admins",
        "location": "global",
        "parent": "projects/p",
        "type": "IPV4",
        "items": ["0.0.0.0/1", "128.0.0.0/1"],
    }
    rule = {
        "firewallPolicy": "fp",
        "priority": 1000,
        "direction": "INGRESS",
        "action": "allow",
        "match": {
            "srcAddressGroups": ["projects/p/locations/global/addressGroups/admins"],
            "layer4Configs": [{"ipProtocol": "tcp", "ports": ["22"]}],
        },
    }
    found = stack_violations(
        "network-no-ssh-from-open-prefix-list",
        [("gcp:networksecurity/addressGroup:AddressGroup", "admins", group), (NFP_RULE, "ssh", rule)],
        dry_run=False,
    )
    assert found and found[0][1] and found[0][1].endswith("::ssh")
    closed = {**group, "items": ["203.0.113.0/24"]}
    assert not stack_violations(
        "network-no-ssh-from-open-prefix-list",
        [("gcp:networksecurity/addressGroup:AddressGroup", "admins", closed), (NFP_RULE, "ssh", rule)],
        dry_run=False,
    )
