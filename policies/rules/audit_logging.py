"""Concern `audit-logging` (policy names `logging-...`): L1-L3: load balancer access logs, flow logs, log retention floors.

Resource rules read a load balancer's or subnet's own log settings. Where a cloud configures
logging with a separate resource (an Azure diagnostic setting for an application gateway, an
Azure VNet flow log, an AWS VPC flow log), a stack rule pairs the two. The ids that pair them are
outputs and so unknown during preview: pairing then falls back to counting (see
`shapes.unmatched`); on `up`, where stack rules see outputs, Azure names and AWS VPC
ids (from the VPC's ARN) are matched exactly.
Azure NSG flow logs are retired (no new ones since June 2025): VNet flow logs are required.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..framework import (
    ADVISORY,
    PROD_STACKS_KNOB,
    Context,
    Knob,
    Props,
    Rule,
    StackResource,
    StackRule,
    as_list,
    exact_false,
    is_map,
    is_prod,
    truthy,
)
from ..shapes import UNKNOWN, arm_name, arm_names, as_number, get, is_set, peek, show, text, unmatched
from ..tokens import (
    AWS_ALB,
    AWS_ELB,
    AWS_LB,
    AWS_LOG_GROUP,
    AZ_APPGW,
    AZ_WORKSPACE,
    GCP_BACKEND,
    GCP_FIREWALL,
    GCP_FOLDER_BUCKET_CONFIG,
    GCP_ORGANIZATION_BUCKET_CONFIG,
    GCP_PROJECT_BUCKET_CONFIG,
    GCP_REGION_BACKEND,
)

AWS_VPC = "aws:ec2/vpc:Vpc"
AWS_FLOW_LOG = "aws:ec2/flowLog:FlowLog"
GCP_SUBNET = "gcp:compute/subnetwork:Subnetwork"
AZ_TABLE = "azure-native:operationalinsights:Table"
GCP_BUCKET_CONFIGS = (
    GCP_PROJECT_BUCKET_CONFIG,
    GCP_FOLDER_BUCKET_CONFIG,
    GCP_ORGANIZATION_BUCKET_CONFIG,
    "gcp:logging/billingAccountBucketConfig:BillingAccountBucketConfig",
)
AZ_VNET = "azure-native:network:VirtualNetwork"
AZ_FLOW_LOG = "azure-native:network:FlowLog"
#: azure-native v3 registers `monitor:`; programs on v2 still use `insights:`.
AZ_DIAGNOSTIC_SETTINGS = ("azure-native:monitor:DiagnosticSetting", "azure-native:insights:DiagnosticSetting")

#: GCP subnet purposes that cannot carry flow logs (proxy-only and PSC subnets).
_NO_FLOW_LOG_PURPOSES = {
    "regional_managed_proxy",
    "global_managed_proxy",
    "internal_https_load_balancer",
    "private_service_connect",
}


# ---------------------------------------------------------------------------------------------
# L1: load balancer access logs


def check_lb_access_logs(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type in (AWS_LB, AWS_ALB):
        lb_type = text(get(props, "loadBalancerType")) or "application"
        if lb_type not in ctx["awsLoadBalancerTypes"]:
            return
        logs = get(props, "accessLogs")
        if logs is None:
            yield "accessLogs is not set; enable access logs to an S3 bucket (SSE-S3 encrypted)"
        elif not is_map(logs):
            yield f"accessLogs is not an object ({show(logs)}); set accessLogs.enabled = true and accessLogs.bucket"
        else:
            if not truthy(get(logs, "enabled")):
                yield f"accessLogs.enabled is {show(get(logs, 'enabled'))}; set it to true"
            if not is_set(logs, "bucket"):
                yield "accessLogs.bucket is not set; name the log bucket"
    elif resource_type == AWS_ELB:
        logs = get(props, "accessLogs")
        if not is_map(logs):
            yield f"accessLogs is {'not set' if logs is None else show(logs)}; enable access logs to an S3 bucket"
        else:
            # Classic ELB: `enabled` defaults to true once the block is present.
            if exact_false(get(logs, "enabled")):
                yield "accessLogs.enabled is false; set it to true"
            if not is_set(logs, "bucket"):
                yield "accessLogs.bucket is not set; name the log bucket"
    elif resource_type in (GCP_BACKEND, GCP_REGION_BACKEND):
        log = get(props, "logConfig")
        if not is_map(log):
            yield f"logConfig is {'not set' if log is None else show(log)}; set logConfig.enable = true"
            return
        if not truthy(get(log, "enable")):
            yield f"logConfig.enable is {show(get(log, 'enable'))}; set it to true"
        rate = get(log, "sampleRate")
        number = as_number(rate)
        if rate is not None and (number is None or number <= 0):
            yield f"logConfig.sampleRate is {show(rate)}, so no request is logged; set it above 0 (1.0 logs all)"


def _diag_sends_logs(props: Props) -> bool:
    """A diagnostic setting that has a destination and at least one enabled log category."""
    if not any(
        is_set(props, k)
        for k in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId")
    ):
        return False
    return any(is_map(entry) and truthy(get(entry, "enabled")) for entry in as_list(get(props, "logs")))


def _or_unknown(ref: Any) -> Any:
    return UNKNOWN if ref is None else ref


def check_appgw_diagnostics(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    gateways = [(r, arm_name(r.props, "applicationGatewayName")) for r in resources if r.type == AZ_APPGW]
    if not gateways:
        return
    # resourceUri is a required input but not an output: on `up` (outputs) it is absent -> count.
    refs = [
        _or_unknown(peek(r.props, "resourceUri"))
        for r in resources
        if r.type in AZ_DIAGNOSTIC_SETTINGS and _diag_sends_logs(r.props)
    ]
    for gw in unmatched(
        gateways,
        refs,
        lambda ref, name: arm_names(ref, "applicationGateways", name),
        lambda ref: "/applicationgateways/" in ref.lower(),
    ):
        yield (
            f"application gateway '{gw.name}' has no diagnostic setting (resourceUri = its id) that sends "
            "enabled log categories to a Log Analytics workspace or storage account; add one",
            gw.urn,
        )


# ---------------------------------------------------------------------------------------------
# L2: network flow logs


def _vpc_id(props: Props) -> Any:
    arn = peek(props, "arn")
    return arn.rsplit("vpc/", 1)[1] if isinstance(arn, str) and "vpc/" in arn else None


def check_aws_vpc_flow_logs(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    # Inputs of a VPC never carry its id; on `up` stack rules see outputs, whose ARN ends in it.
    vpcs = [(r, _vpc_id(r.props)) for r in resources if r.type == AWS_VPC]
    if not vpcs:
        return
    allowed = [str(t).upper() for t in ctx["trafficTypes"]]
    refs = []
    for r in resources:
        if r.type != AWS_FLOW_LOG or not is_set(r.props, "vpcId"):
            continue
        traffic = peek(r.props, "trafficType")
        if traffic is UNKNOWN or (isinstance(traffic, str) and traffic.upper() in allowed):
            refs.append(peek(r.props, "vpcId"))
    for vpc in unmatched(vpcs, refs, lambda ref, key: ref == key, lambda ref: ref.startswith("vpc-")):
        yield (
            f"VPC '{vpc.name}' has no VPC flow log: the stack has {len(vpcs)} VPC(s) but only {len(refs)} "
            f"flow log(s) with vpcId set and trafficType in {allowed}; add an aws.ec2.FlowLog per VPC",
            vpc.urn,
        )


def check_azure_vnet_flow_logs(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    vnets = [(r, arm_name(r.props, "virtualNetworkName")) for r in resources if r.type == AZ_VNET]
    if not vnets:
        return
    refs = [
        peek(r.props, "targetResourceId")
        for r in resources
        if r.type == AZ_FLOW_LOG and not exact_false(get(r.props, "enabled")) and is_set(r.props, "storageId")
    ]
    for vnet in unmatched(
        vnets,
        refs,
        lambda ref, name: arm_names(ref, "virtualNetworks", name),
        lambda ref: "/virtualnetworks/" in ref.lower(),
    ):
        yield (
            f"virtual network '{vnet.name}' has no enabled VNet flow log (azure-native:network:FlowLog with "
            "targetResourceId = its id and a storageId); add one",
            vnet.urn,
        )


def check_gcp_subnet_flow_logs(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if text(get(props, "purpose")) in _NO_FLOW_LOG_PURPOSES:
        return
    log = get(props, "logConfig")
    if not is_map(log):
        yield f"logConfig is {'not set' if log is None else show(log)}, so VPC flow logs are off; set logConfig"
        return
    rate = get(log, "flowSampling")
    number = as_number(rate)
    if rate is not None and (number is None or number <= 0):
        yield f"logConfig.flowSampling is {show(rate)}, so no flow is logged; set it above 0"
    # A filter that is the literal false keeps logConfig "on" while logging nothing.
    expr = get(log, "filterExpr")
    if isinstance(expr, str) and expr.strip().strip("()").strip().lower() == "false":
        yield f"logConfig.filterExpr is {show(expr)}, so no flow is logged; remove it or use a filter that matches"


def check_gcp_firewall_logs(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    log = get(props, "logConfig")
    if is_map(log) and is_set(log, "metadata"):
        return
    if log is not None and not is_map(log):
        yield f"logConfig is not an object ({show(log)}); set logConfig.metadata"
        return
    yield 'firewall rule logging is off (logConfig not set); set logConfig.metadata = "INCLUDE_ALL_METADATA" or "EXCLUDE_ALL_METADATA"'


# ---------------------------------------------------------------------------------------------
# L3: retention floors


def _floor_message(path: str, raw: Any, floor: int, what: str) -> Iterator[str]:
    if raw is None:
        yield f"{path} is not set ({what}); set it to at least {floor} days"
        return
    days = as_number(raw)
    if days is None:
        yield f"{path} is not a number ({show(raw)}); set it to at least {floor} days"
    elif days < floor:
        yield f"{path} is {raw}, below the floor of {floor} days; raise it to at least {floor}"


def check_retention(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type == AWS_LOG_GROUP:
        floor = ctx["minRetentionDays"] if is_prod(ctx) else ctx["minRetentionDaysNonProd"]
        raw = get(props, "retentionInDays")
        if raw is not None and as_number(raw) == 0:
            raw = None  # 0 means "never expire": the retention is not set
        yield from _floor_message("retentionInDays", raw, floor, "logs never expire and the floor is not enforced")
    elif resource_type == AZ_WORKSPACE:
        # Like log groups: a production floor and a lower one elsewhere. 30 days is the shortest
        # retention a PerGB2018 workspace takes (and what its ingestion price includes).
        floor = ctx["minWorkspaceRetentionDays"] if is_prod(ctx) else ctx["minWorkspaceRetentionDaysNonProd"]
        yield from _floor_message("retentionInDays", get(props, "retentionInDays"), floor, "the default is 30 days")
    elif resource_type == AZ_TABLE:
        # A workspace table can keep its logs shorter than the workspace: a second place to set
        # the same retention. -1 (or unset) means "the workspace's", which is judged there;
        # archived days (totalRetentionInDays) still keep the logs, so the longer one counts.
        floor = ctx["minWorkspaceRetentionDays"] if is_prod(ctx) else ctx["minWorkspaceRetentionDaysNonProd"]
        total, interactive = get(props, "totalRetentionInDays"), get(props, "retentionInDays")
        for key, raw in (("totalRetentionInDays", total), ("retentionInDays", interactive)):
            if raw is not None and as_number(raw) != -1:
                yield from _floor_message(key, raw, floor, "")
                break
    elif resource_type in GCP_BUCKET_CONFIGS:
        yield from _floor_message(
            "retentionDays", get(props, "retentionDays"), ctx["minBucketRetentionDays"], "the default is 30 days"
        )


def check_bucket_locked(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not is_prod(ctx):
        return
    if not truthy(get(props, "locked")):
        yield f"locked is {show(get(props, 'locked'))}; lock the production log bucket so its retention cannot be shortened"


_INT_DAYS = {"type": "integer", "minimum": 1}

RULES: list[Rule | StackRule] = [
    Rule(
        name="logging-lb-access-logs",
        description="Load balancers must write access logs (AWS ALB/NLB/ELB access_logs to a bucket, GCP backend service logConfig.enable).",
        concern="audit-logging",
        clouds=("aws", "gcp"),
        resource_types=(AWS_LB, AWS_ALB, AWS_ELB, GCP_BACKEND, GCP_REGION_BACKEND),
        check=check_lb_access_logs,
        knobs={
            "awsLoadBalancerTypes": Knob(
                {"type": "array", "items": {"type": "string", "enum": ["application", "network", "gateway"]}},
                ["application", "network"],
                "aws:lb load balancer types that must have access logs (gateway LBs cannot)",
            )
        },
        catalogue=("L1",),
        peers=(
            "CKV_AWS_91",
            "AwsSolutions-ELB2",
            "AWSGuard:elb-logging-enabled",
            "pc:aws-lb-loadbalancer-enable-access-logging",
        ),
    ),
    StackRule(
        name="logging-appgw-diagnostics",
        description="Every Azure application gateway must have a diagnostic setting that sends its logs to a workspace or storage account.",
        concern="audit-logging",
        clouds=("azure",),
        check=check_appgw_diagnostics,
        catalogue=("L1", "L4"),
        peers=(),
    ),
    StackRule(
        name="logging-aws-vpc-flow-logs",
        description="Every AWS VPC in the stack must have a VPC flow log.",
        concern="audit-logging",
        clouds=("aws",),
        check=check_aws_vpc_flow_logs,
        knobs={
            "trafficTypes": Knob(
                {"type": "array", "items": {"type": "string", "enum": ["ALL", "ACCEPT", "REJECT"]}},
                ["ALL"],
                "flow log trafficType values that count as a VPC flow log",
            )
        },
        catalogue=("L2",),
        peers=("CKV2_AWS_11", "AVD-AWS-0178", "AwsSolutions-VPC7"),
    ),
    StackRule(
        name="logging-azure-vnet-flow-logs",
        description="Every Azure virtual network in the stack must have an enabled VNet flow log.",
        concern="audit-logging",
        clouds=("azure",),
        check=check_azure_vnet_flow_logs,
        catalogue=("L2",),
        peers=("CKV_AZURE_12", "AVD-AZU-0073"),
    ),
    Rule(
        name="logging-gcp-subnet-flow-logs",
        description="GCP subnetworks must have VPC flow logs enabled (logConfig set).",
        concern="audit-logging",
        clouds=("gcp",),
        resource_types=(GCP_SUBNET,),
        check=check_gcp_subnet_flow_logs,
        catalogue=("L2",),
        peers=("CKV_GCP_26", "AVD-GCP-0029", "gpl:…flow_logs_v1"),
    ),
    Rule(
        # Advisory: firewall rule logs are verbose and billed; peers treat them as hygiene.
        name="logging-gcp-firewall-logs",
        description="GCP firewall rules should log matches (logConfig.metadata set).",
        concern="audit-logging",
        clouds=("gcp",),
        resource_types=(GCP_FIREWALL,),
        check=check_gcp_firewall_logs,
        level=ADVISORY,
        catalogue=("L2",),
        peers=(),
    ),
    Rule(
        name="logging-retention-floor",
        description="Log stores must keep logs at least the configured floor (CloudWatch log groups, Log Analytics workspaces, GCP log buckets).",
        concern="audit-logging",
        clouds=("aws", "azure", "gcp"),
        resource_types=(AWS_LOG_GROUP, AZ_WORKSPACE, AZ_TABLE, *GCP_BUCKET_CONFIGS),
        check=check_retention,
        knobs={
            "minRetentionDays": Knob(_INT_DAYS, 365, "CloudWatch log group retention floor on production stacks"),
            "minRetentionDaysNonProd": Knob(_INT_DAYS, 30, "CloudWatch log group retention floor on other stacks"),
            "minWorkspaceRetentionDays": Knob(
                _INT_DAYS, 90, "Log Analytics workspace retention floor on production stacks"
            ),
            "minWorkspaceRetentionDaysNonProd": Knob(
                _INT_DAYS,
                30,
                "Log Analytics workspace retention floor on other stacks (30 is the PerGB2018 minimum)",
            ),
            "minBucketRetentionDays": Knob(_INT_DAYS, 30, "GCP log bucket retention floor"),
            "prodStacks": PROD_STACKS_KNOB,
        },
        catalogue=("L3",),
        peers=("CKV_AWS_66", "CKV_AWS_338", "CKV2_GCP_4", "nag:CloudWatchLogGroupRetentionPeriod"),
    ),
    Rule(
        # Advisory: a locked bucket's retention can never be reduced and the bucket cannot be
        # deleted before its logs expire; teams should choose this deliberately.
        name="logging-gcp-bucket-locked",
        description="GCP log buckets of production stacks should be locked.",
        concern="audit-logging",
        clouds=("gcp",),
        resource_types=(GCP_PROJECT_BUCKET_CONFIG,),
        check=check_bucket_locked,
        level=ADVISORY,
        knobs={"prodStacks": PROD_STACKS_KNOB},
        catalogue=("L3",),
        peers=("CKV2_GCP_4",),
    ),
]
