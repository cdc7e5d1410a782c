"""L1-L3: load balancer access logs, flow logs, retention floors."""

from __future__ import annotations

import pytest

from policies.framework import ADVISORY, MANDATORY
from tests.policies.support import (
    DEL,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    mutate,
    reported_name,
    rule,
    stack_violations,
    violations,
)

ACCESS = "logging-lb-access-logs"
APPGW_DIAG = "logging-appgw-diagnostics"
VPC_FLOW = "logging-aws-vpc-flow-logs"
VNET_FLOW = "logging-azure-vnet-flow-logs"
SUBNET_FLOW = "logging-gcp-subnet-flow-logs"
FW_LOGS = "logging-gcp-firewall-logs"
RETENTION = "logging-retention-floor"
LOCKED = "logging-gcp-bucket-locked"

AWS_LB = "aws:lb/loadBalancer:LoadBalancer"
AWS_ELB = "aws:elb/loadBalancer:LoadBalancer"
GCP_BACKEND = "gcp:compute/backendService:BackendService"
GCP_SUBNET = "gcp:compute/subnetwork:Subnetwork"
GCP_FIREWALL = "gcp:compute/firewall:Firewall"
GCP_BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
AWS_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
AZ_WORKSPACE = "azure-native:operationalinsights:Workspace"
AZ_APPGW = "azure-native:network:ApplicationGateway"
AZ_DIAG = "azure-native:monitor:DiagnosticSetting"
AZ_VNET = "azure-native:network:VirtualNetwork"
AZ_FLOW = "azure-native:network:FlowLog"

ALB = {
    "loadBalancerType": "application",
    "internal": False,
    "enableDeletionProtection": True,
    "accessLogs": {"bucket": "appstack-prod-lb-logs", "prefix": "alb", "enabled": True},
}
BACKEND = {"protocol": "HTTPS", "logConfig": {"enable": True, "sampleRate": 1.0}}
SUBNETWORK = {
    "ipCidrRange": "10.0.0.0/24",
    "network": "n",
    "logConfig": {"aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.5, "metadata": "INCLUDE_ALL_METADATA"},
}
FIREWALL = {
    "network": "n",
    "allows": [{"protocol": "tcp", "ports": ["8080"]}],
    "logConfig": {"metadata": "INCLUDE_ALL_METADATA"},
}


def test_levels_and_catalogue():
    for name in (ACCESS, APPGW_DIAG, VPC_FLOW, VNET_FLOW, SUBNET_FLOW, RETENTION):
        assert rule(name).level == MANDATORY
    for name in (FW_LOGS, LOCKED):
        assert rule(name).level == ADVISORY
    assert (
        rule(ACCESS).catalogue == ("L1",)
        and rule(VPC_FLOW).catalogue == ("L2",)
        and rule(RETENTION).catalogue == ("L3",)
    )


# ---------------------------------------------------------------------------------------------
# L1


@pytest.mark.parametrize(
    "type_,props",
    [
        (AWS_LB, ALB),
        ("aws:alb/loadBalancer:LoadBalancer", ALB),
        (AWS_LB, {**ALB, "loadBalancerType": "network"}),
        (AWS_LB, {"loadBalancerType": "gateway"}),  # gateway LBs cannot log
        (AWS_ELB, {"accessLogs": {"bucket": "b"}}),  # classic: enabled defaults to true
        (GCP_BACKEND, BACKEND),
        ("gcp:compute/regionBackendService:RegionBackendService", {"logConfig": {"enable": True}}),
    ],
)
def test_passes_when_access_logs_enabled(type_, props):
    assert violations(ACCESS, type_, props) == []


@pytest.mark.parametrize(
    "type_,props,path,value,needle",
    [
        (AWS_LB, ALB, ("accessLogs", "enabled"), False, "accessLogs.enabled is False"),
        (AWS_LB, ALB, ("accessLogs", "enabled"), DEL, "accessLogs.enabled is None"),
        (AWS_LB, ALB, ("accessLogs", "bucket"), "", "accessLogs.bucket is not set"),
        (AWS_LB, ALB, ("accessLogs",), DEL, "accessLogs is not set"),
        (AWS_LB, ALB, ("loadBalancerType",), DEL, "accessLogs is not set"),  # missing type = application
        (AWS_LB, ALB, ("accessLogs",), "bucket", "not an object"),
        (AWS_ELB, {"accessLogs": {"bucket": "b"}}, ("accessLogs", "enabled"), False, "accessLogs.enabled is false"),
        (GCP_BACKEND, BACKEND, ("logConfig", "enable"), False, "logConfig.enable is False"),
        (GCP_BACKEND, BACKEND, ("logConfig", "sampleRate"), 0, "sampleRate is 0"),
        (GCP_BACKEND, BACKEND, ("logConfig",), DEL, "logConfig is not set"),
        (GCP_BACKEND, BACKEND, ("logConfig",), ["enable"], "logConfig is a list"),
    ],
)
def test_fails_when_access_logs_off(type_, props, path, value, needle):
    if path == ("loadBalancerType",):
        props = mutate(mutate(props, ("accessLogs",), DEL), path, DEL)
    else:
        props = mutate(props, path, value)
    msgs = violations(ACCESS, type_, props)
    assert msgs and any(needle in m for m in msgs), msgs


def test_unknown_access_log_flag_raises_in_preview_and_fails_on_up():
    props = mutate(ALB, ("accessLogs", "enabled"), UNKNOWN_BOOLEAN_VALUE)
    with pytest.raises(UnknownValueError):
        violations(ACCESS, AWS_LB, props)
    assert any("unknown" in m for m in violations(ACCESS, AWS_LB, props, dry_run=False))


def test_passes_when_bucket_name_unknown_in_preview():
    # The bucket is created in the same stack: its name is an unknown reference, but it is set.
    assert violations(ACCESS, AWS_LB, mutate(ALB, ("accessLogs", "bucket"), UNKNOWN_STRING_VALUE)) == []


APPGW = {"resourceGroupName": "rg", "applicationGatewayName": "appgw-prod"}
DIAG = {
    "resourceUri": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/applicationGateways/appgw-prod",
    "workspaceId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law",
    "logs": [{"categoryGroup": "allLogs", "enabled": True}],
}


def test_passes_when_appgw_has_matching_diagnostic_setting():
    assert stack_violations(APPGW_DIAG, [(AZ_APPGW, "gw", APPGW), (AZ_DIAG, "diag", DIAG)]) == []
    # v2 token of the same resource
    assert (
        stack_violations(APPGW_DIAG, [(AZ_APPGW, "gw", APPGW), ("azure-native:insights:DiagnosticSetting", "d", DIAG)])
        == []
    )


def test_passes_when_diagnostic_setting_uri_unknown_in_preview_by_count():
    diag = {**DIAG, "resourceUri": UNKNOWN_STRING_VALUE}
    assert stack_violations(APPGW_DIAG, [(AZ_APPGW, "gw", APPGW), (AZ_DIAG, "diag", diag)]) == []


@pytest.mark.parametrize(
    "diag,why",
    [
        (None, "no diagnostic setting"),
        ({**DIAG, "resourceUri": DIAG["resourceUri"].replace("appgw-prod", "other")}, "points at another gateway"),
        ({k: v for k, v in DIAG.items() if k != "workspaceId"}, "no destination"),
        ({**DIAG, "logs": [{"categoryGroup": "allLogs", "enabled": False}]}, "logs disabled"),
        ({**DIAG, "logs": []}, "no log categories"),
        (
            {**DIAG, "resourceUri": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"},
            "other kind",
        ),
    ],
)
def test_fails_when_appgw_lacks_diagnostics(diag, why):
    res = [(AZ_APPGW, "gw", APPGW)] + ([(AZ_DIAG, "diag", diag)] if diag else [])
    found = stack_violations(APPGW_DIAG, res)
    assert len(found) == 1, why
    assert "'gw'" in found[0][0] and reported_name(found[0][1]) == "gw"


def test_fails_when_two_gateways_share_one_unattributed_setting():
    res = [
        (AZ_APPGW, "gw1", {"resourceGroupName": "rg"}),
        (AZ_APPGW, "gw2", {"resourceGroupName": "rg"}),
        (AZ_DIAG, "diag", {**DIAG, "resourceUri": UNKNOWN_STRING_VALUE}),
    ]
    assert len(stack_violations(APPGW_DIAG, res)) == 2


# ---------------------------------------------------------------------------------------------
# L2

VPC = {"cidrBlock": "10.0.0.0/16", "enableDnsHostnames": True}
FLOW = {
    "vpcId": UNKNOWN_STRING_VALUE,
    "trafficType": "ALL",
    "logDestinationType": "cloud-watch-logs",
    "logDestination": UNKNOWN_STRING_VALUE,
}


@pytest.mark.parametrize("dry_run", [True, False])
def test_passes_when_every_vpc_has_a_flow_log(dry_run):
    flow = FLOW if dry_run else {**FLOW, "vpcId": "vpc-1", "logDestination": "arn:aws:logs:x"}
    assert (
        stack_violations(
            VPC_FLOW, [("aws:ec2/vpc:Vpc", "vpc", VPC), ("aws:ec2/flowLog:FlowLog", "fl", flow)], dry_run=dry_run
        )
        == []
    )


def test_passes_when_no_vpc():
    assert stack_violations(VPC_FLOW, [("aws:ec2/flowLog:FlowLog", "fl", FLOW)]) == []


@pytest.mark.parametrize(
    "flows",
    [
        [],
        [{**FLOW, "trafficType": "REJECT"}],
        [{k: v for k, v in FLOW.items() if k != "vpcId"} | {"subnetId": "subnet-1"}],
    ],
    ids=["no-flow-log", "reject-only", "subnet-flow-log"],
)
def test_fails_when_vpc_has_no_flow_log(flows):
    res = [("aws:ec2/vpc:Vpc", "vpc", VPC)] + [("aws:ec2/flowLog:FlowLog", f"fl{i}", f) for i, f in enumerate(flows)]
    found = stack_violations(VPC_FLOW, res)
    assert len(found) == 1 and "VPC 'vpc'" in found[0][0] and reported_name(found[0][1]) == "vpc"


def test_passes_when_reject_only_allowed_by_knob():
    res = [("aws:ec2/vpc:Vpc", "vpc", VPC), ("aws:ec2/flowLog:FlowLog", "fl", {**FLOW, "trafficType": "REJECT"})]
    assert stack_violations(VPC_FLOW, res, config={"trafficTypes": ["ALL", "REJECT"]}) == []


def test_fails_when_two_vpcs_one_flow_log():
    res = [("aws:ec2/vpc:Vpc", "a", VPC), ("aws:ec2/vpc:Vpc", "b", VPC), ("aws:ec2/flowLog:FlowLog", "fl", FLOW)]
    assert len(stack_violations(VPC_FLOW, res)) == 2


VNET = {
    "resourceGroupName": "rg",
    "virtualNetworkName": "vnet-app",
    "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
}
VNET_FLOW_LOG = {
    "networkWatcherName": "NetworkWatcher_westeurope",
    "resourceGroupName": "NetworkWatcherRG",
    "targetResourceId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-app",
    "storageId": "/subscriptions/s/.../storageAccounts/logs",
    "enabled": True,
}


@pytest.mark.parametrize("target", [VNET_FLOW_LOG["targetResourceId"], UNKNOWN_STRING_VALUE])
def test_passes_when_vnet_has_flow_log(target):
    res = [(AZ_VNET, "vnet", VNET), (AZ_FLOW, "fl", {**VNET_FLOW_LOG, "targetResourceId": target})]
    assert stack_violations(VNET_FLOW, res) == []


@pytest.mark.parametrize(
    "flow",
    [
        None,
        {**VNET_FLOW_LOG, "enabled": False},
        {k: v for k, v in VNET_FLOW_LOG.items() if k != "storageId"},
        {**VNET_FLOW_LOG, "targetResourceId": VNET_FLOW_LOG["targetResourceId"].replace("vnet-app", "vnet-other")},
        {**VNET_FLOW_LOG, "targetResourceId": "/subscriptions/s/.../networkSecurityGroups/nsg"},
    ],
    ids=["none", "disabled", "no-storage", "other-vnet", "nsg-flow-log"],
)
def test_fails_when_vnet_has_no_flow_log(flow):
    res = [(AZ_VNET, "vnet", VNET)] + ([(AZ_FLOW, "fl", flow)] if flow else [])
    found = stack_violations(VNET_FLOW, res)
    assert len(found) == 1 and "'vnet'" in found[0][0]


def test_passes_when_gcp_subnet_has_flow_logs():
    assert violations(SUBNET_FLOW, GCP_SUBNET, SUBNETWORK) == []
    assert (
        violations(SUBNET_FLOW, GCP_SUBNET, {"ipCidrRange": "10.9.0.0/23", "purpose": "REGIONAL_MANAGED_PROXY"}) == []
    )


@pytest.mark.parametrize(
    "path,value,needle",
    [
        (("logConfig",), DEL, "logConfig is not set"),
        (("logConfig", "flowSampling"), 0, "flowSampling is 0"),
        (("logConfig",), "on", "logConfig is 'on'"),
    ],
)
def test_fails_when_gcp_subnet_flow_logs_off(path, value, needle):
    msgs = violations(SUBNET_FLOW, GCP_SUBNET, mutate(SUBNETWORK, path, value))
    assert len(msgs) == 1 and needle in msgs[0]


def test_gcp_firewall_logs():
    assert violations(FW_LOGS, GCP_FIREWALL, FIREWALL) == []
    assert "logConfig not set" in violations(FW_LOGS, GCP_FIREWALL, mutate(FIREWALL, ("logConfig",), DEL))[0]
    assert (
        "not an object"
        in violations(FW_LOGS, GCP_FIREWALL, mutate(FIREWALL, ("logConfig",), "INCLUDE_ALL_METADATA"))[0]
    )


# ---------------------------------------------------------------------------------------------
# L3


@pytest.mark.parametrize(
    "type_,props,stack",
    [
        (AWS_LOG_GROUP, {"retentionInDays": 30, "kmsKeyId": "k"}, "dev"),
        (AWS_LOG_GROUP, {"retentionInDays": 365, "kmsKeyId": "k"}, "prod"),
        (AWS_LOG_GROUP, {"retentionInDays": 400}, "eu-prod"),
        (AZ_WORKSPACE, {"retentionInDays": 90, "sku": {"name": "PerGB2018"}}, "dev"),
        (AZ_WORKSPACE, {"retentionInDays": 30, "sku": {"name": "PerGB2018"}}, "dev"),
        (AZ_WORKSPACE, {"retentionInDays": 90, "sku": {"name": "PerGB2018"}}, "prod"),
        (AZ_WORKSPACE, {"retentionInDays": 365, "sku": {"name": "PerGB2018"}}, "prod"),
        (GCP_BUCKET, {"bucketId": "appstack", "retentionDays": 30, "locked": True}, "dev"),
        ("gcp:logging/folderBucketConfig:FolderBucketConfig", {"retentionDays": 400}, "prod"),
    ],
)
def test_passes_when_retention_meets_floor(type_, props, stack):
    assert violations(RETENTION, type_, props, stack=stack) == []


@pytest.mark.parametrize(
    "type_,props,stack,needle",
    [
        (AWS_LOG_GROUP, {"retentionInDays": 30}, "prod", "below the floor of 365"),
        (AWS_LOG_GROUP, {"retentionInDays": 14}, "dev", "below the floor of 30"),
        (AWS_LOG_GROUP, {"retentionInDays": 0}, "dev", "never expire"),
        (AWS_LOG_GROUP, {}, "prod", "retentionInDays is not set"),
        (AWS_LOG_GROUP, {"retentionInDays": "a year"}, "dev", "not a number"),
        (AZ_WORKSPACE, {"retentionInDays": 30}, "prod", "below the floor of 90"),
        (AZ_WORKSPACE, {"retentionInDays": 89}, "eu-prod", "below the floor of 90"),
        (AZ_WORKSPACE, {"retentionInDays": 7}, "dev", "below the floor of 30"),
        (AZ_WORKSPACE, {"retentionInDays": "a month"}, "dev", "not a number"),
        (AZ_WORKSPACE, {}, "dev", "the default is 30 days"),
        (AZ_WORKSPACE, {}, "prod", "retentionInDays is not set"),
        (GCP_BUCKET, {"retentionDays": 7}, "dev", "below the floor of 30"),
        (GCP_BUCKET, {}, "dev", "retentionDays is not set"),
    ],
)
def test_fails_when_retention_below_floor(type_, props, stack, needle):
    msgs = violations(RETENTION, type_, props, stack=stack)
    assert len(msgs) == 1 and needle in msgs[0], msgs


def test_retention_knobs_change_the_floor():
    assert (
        violations(RETENTION, AWS_LOG_GROUP, {"retentionInDays": 30}, stack="prod", config={"minRetentionDays": 30})
        == []
    )
    assert violations(
        RETENTION, AWS_LOG_GROUP, {"retentionInDays": 30}, stack="dev", config={"minRetentionDaysNonProd": 60}
    )
    assert violations(RETENTION, AWS_LOG_GROUP, {"retentionInDays": 30}, stack="live", config={"prodStacks": ["live"]})


def test_workspace_retention_knobs_change_the_floor():
    ws = {"retentionInDays": 30}
    assert violations(RETENTION, AZ_WORKSPACE, ws, stack="prod", config={"minWorkspaceRetentionDays": 30}) == []
    msgs = violations(RETENTION, AZ_WORKSPACE, ws, stack="dev", config={"minWorkspaceRetentionDaysNonProd": 60})
    assert len(msgs) == 1 and "below the floor of 60" in msgs[0]
    # The production floor does not reach non-production stacks, nor the other way round.
    assert violations(RETENTION, AZ_WORKSPACE, ws, stack="dev", config={"minWorkspaceRetentionDays": 365}) == []
    assert violations(RETENTION, AZ_WORKSPACE, ws, stack="live", config={"prodStacks": ["live"]})


def test_misspelt_workspace_knob_fails_closed():
    msgs = violations(RETENTION, AZ_WORKSPACE, {"retentionInDays": 90}, config={"minWorkspaceRetentionDaysNonprod": 30})
    assert len(msgs) == 1 and "'minWorkspaceRetentionDaysNonProd'" in msgs[0]


def test_unknown_retention_raises_in_preview_and_fails_on_up():
    with pytest.raises(UnknownValueError):
        violations(RETENTION, AWS_LOG_GROUP, {"retentionInDays": UNKNOWN_NUMBER_VALUE})
    assert (
        "unknown" in violations(RETENTION, AWS_LOG_GROUP, {"retentionInDays": UNKNOWN_NUMBER_VALUE}, dry_run=False)[0]
    )


def test_gcp_bucket_locked_only_in_prod():
    assert violations(LOCKED, GCP_BUCKET, {"retentionDays": 30}, stack="dev") == []
    assert violations(LOCKED, GCP_BUCKET, {"retentionDays": 400, "locked": True}, stack="prod") == []
    msgs = violations(LOCKED, GCP_BUCKET, {"retentionDays": 400, "locked": False}, stack="prod")
    assert len(msgs) == 1 and "locked is False" in msgs[0]


# ---------------------------------------------------------------------------------------------
# On `up` stack rules see outputs: VPC ids appear in ARNs, Azure path parameters disappear.

VPC_OUT = {"cidrBlock": "10.0.0.0/16", "arn": "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0abc"}


def test_passes_when_flow_log_names_the_vpc_on_up():
    res = [
        ("aws:ec2/vpc:Vpc", "vpc", VPC_OUT),
        ("aws:ec2/flowLog:FlowLog", "fl", {**FLOW, "vpcId": "vpc-0abc", "logDestination": "arn"}),
    ]
    assert stack_violations(VPC_FLOW, res, dry_run=False) == []


def test_fails_when_flow_log_names_another_vpc_on_up():
    res = [
        ("aws:ec2/vpc:Vpc", "vpc", VPC_OUT),
        ("aws:ec2/flowLog:FlowLog", "fl", {**FLOW, "vpcId": "vpc-0def", "logDestination": "arn"}),
    ]
    found = stack_violations(VPC_FLOW, res, dry_run=False)
    assert len(found) == 1 and reported_name(found[0][1]) == "vpc"


def test_passes_when_diagnostic_setting_outputs_lack_resource_uri():
    gw_out = {"name": "appgw-prod", "provisioningState": "Succeeded"}
    diag_out = {k: v for k, v in DIAG.items() if k != "resourceUri"}
    assert stack_violations(APPGW_DIAG, [(AZ_APPGW, "gw", gw_out), (AZ_DIAG, "diag", diag_out)], dry_run=False) == []
    assert len(stack_violations(APPGW_DIAG, [(AZ_APPGW, "gw", gw_out)], dry_run=False)) == 1


def test_vnet_output_name_is_matched_on_up():
    vnet_out = {"name": "vnet-app", "addressSpace": VNET["addressSpace"]}
    ok = [(AZ_VNET, "vnet", vnet_out), (AZ_FLOW, "fl", VNET_FLOW_LOG)]
    assert stack_violations(VNET_FLOW, ok, dry_run=False) == []
    other = {**VNET_FLOW_LOG, "targetResourceId": VNET_FLOW_LOG["targetResourceId"].replace("vnet-app", "vnet-x")}
    assert len(stack_violations(VNET_FLOW, [(AZ_VNET, "vnet", vnet_out), (AZ_FLOW, "fl", other)], dry_run=False)) == 1


# ---------------------------------------------------------------------------------------------
# Through the Analyzer gRPC protocol, as the CLI runs the pack


@pytest.fixture(scope="module")
def dev_workspace_gate():
    from tools.policy_gate import run_gate

    def res(name: str, days: int) -> dict:
        return {
            "type": AZ_WORKSPACE,
            "name": name,
            "urn": f"urn:pulumi:dev::appstack::{AZ_WORKSPACE}::{name}",
            "properties": {"retentionInDays": days, "sku": {"name": "PerGB2018"}},
        }

    return run_gate(
        [res("law-30", 30), res("law-7", 7)],
        project="appstack",
        stack="dev",
        stack_config={"appstack:cloud": "azure"},
        dry_run=False,
    )


def test_workspace_non_prod_floor_through_grpc(dev_workspace_gate):
    found = [v for v in dev_workspace_gate.violations if v.policy == RETENTION]
    assert [(v.name, v.level) for v in found] == [("law-7", "mandatory")], found
    assert "below the floor of 30" in found[0].message
