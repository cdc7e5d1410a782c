"""Tests for policies/rules/waf.py: compliant baselines plus one mutation per case (prod stacks only)."""

from __future__ import annotations

import json

import pytest

from policies.framework import ADVISORY, MANDATORY
from tests.policies.support import (
    DEL,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    mutate,
    reported_name,
    rule,
    stack_violations,
    violations,
)

PROD = "prod"


ALB_ASSOC = "waf-alb-web-acl-associated"
FRONTEND = "waf-public-frontend-protected"
RULES = "waf-rules-prevention-managed"
LOGGING = "waf-web-acl-logging"

LB_T = "aws:lb/loadBalancer:LoadBalancer"
ASSOC_T = "aws:wafv2/webAclAssociation:WebAclAssociation"
ACL_T = "aws:wafv2/webAcl:WebAcl"
LOG_CFG_T = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
APPGW_T = "azure-native:network:ApplicationGateway"
BACKEND_T = "gcp:compute/backendService:BackendService"
REGION_BACKEND_T = "gcp:compute/regionBackendService:RegionBackendService"
WAF_POLICY_T = "azure-native:network:WebApplicationFirewallPolicy"
SEC_POLICY_T = "gcp:compute/securityPolicy:SecurityPolicy"

LB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web-alb-1a2b3c4/50dc6c495c0c9188"
ACL_ARN = "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/web-waf-9f8e7d6/a1b2c3d4"
ALB = {
    "name": "web-alb-1a2b3c4",
    "arn": LB_ARN,
    "loadBalancerType": "application",
    "internal": False,
    "dropInvalidHeaderFields": True,
}
ASSOC = {"resourceArn": LB_ARN, "webAclArn": ACL_ARN}


def _visibility(metric):
    return {"cloudwatchMetricsEnabled": True, "metricName": metric, "sampledRequestsEnabled": True}


WEB_ACL = {
    "name": "web-waf-9f8e7d6",
    "arn": ACL_ARN,
    "scope": "REGIONAL",
    "defaultAction": {"allow": {}},
    "rules": [
        {
            "name": g,
            "priority": i,
            "overrideAction": {"none": {}},
            "statement": {"managedRuleGroupStatement": {"name": g, "vendorName": "AWS"}},
            "visibilityConfig": _visibility(g),
        }
        for i, g in enumerate(
            [
                "AWSManagedRulesCommonRuleSet",
                "AWSManagedRulesKnownBadInputsRuleSet",
                "AWSManagedRulesAmazonIpReputationList",
            ]
        )
    ],
    "visibilityConfig": _visibility("web-waf"),
}
LOG_CFG = {
    "resourceArn": ACL_ARN,
    "logDestinationConfigs": ["arn:aws:logs:eu-west-1:111122223333:log-group:aws-waf-logs-web"],
}

AWS_STACK = [
    (LB_T, "web-alb", ALB),
    (ASSOC_T, "web-waf", ASSOC),
    (ACL_T, "web-waf", WEB_ACL),
    (LOG_CFG_T, "web-waf", LOG_CFG),
]

APPGW = {
    "resourceGroupName": "rg",
    "sku": {"name": "WAF_v2", "tier": "WAF_v2", "capacity": 2},
    "firewallPolicy": {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/waf"
    },
    "frontendIPConfigurations": [
        {
            "name": "public",
            "publicIPAddress": {
                "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/pip"
            },
        }
    ],
}
BACKEND = {
    "name": "web",
    "protocol": "HTTP",
    "loadBalancingScheme": "EXTERNAL_MANAGED",
    "securityPolicy": "projects/p/global/securityPolicies/web",
    "logConfig": {"enable": True, "sampleRate": 1},
}
AZ_WAF_POLICY = {
    "resourceGroupName": "rg",
    "policySettings": {"mode": "Prevention", "state": "Enabled", "requestBodyCheck": True},
    "managedRules": {"managedRuleSets": [{"ruleSetType": "OWASP", "ruleSetVersion": "3.2"}]},
}
GCP_SEC_POLICY = {
    "name": "web",
    "rules": [
        {
            "priority": 1000,
            "action": "deny(403)",
            "match": {"expr": {"expression": "evaluatePreconfiguredWaf('sqli-v33-stable')"}},
        },
        {
            "priority": 2147483647,
            "action": "allow",
            "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}},
        },
    ],
}


def test_levels():
    assert rule(ALB_ASSOC).level == MANDATORY
    assert rule(FRONTEND).level == MANDATORY
    assert rule(RULES).level == ADVISORY
    assert rule(LOGGING).level == ADVISORY


@pytest.mark.parametrize(
    "name, type_, props",
    [
        (FRONTEND, APPGW_T, APPGW),
        (FRONTEND, BACKEND_T, BACKEND),
        (FRONTEND, REGION_BACKEND_T, BACKEND),
        (RULES, ACL_T, WEB_ACL),
        (RULES, WAF_POLICY_T, AZ_WAF_POLICY),
        (RULES, SEC_POLICY_T, GCP_SEC_POLICY),
    ],
)
def test_passes_when_baseline_is_compliant(name, type_, props):
    assert violations(name, type_, props, stack=PROD) == []


def test_passes_when_aws_stack_is_compliant():
    assert stack_violations(ALB_ASSOC, AWS_STACK, stack=PROD) == []
    assert stack_violations(LOGGING, AWS_STACK, stack=PROD) == []


# --- W1 AWS (stack) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resources, expect_lb",
    [
        pytest.param([(LB_T, "web-alb", ALB)], "web-alb", id="no_association"),
        pytest.param(
            [
                (LB_T, "web-alb", ALB),
                (ASSOC_T, "other", dict(ASSOC, resourceArn=LB_ARN.replace("web-alb-1a2b3c4", "other"))),
            ],
            "web-alb",
            id="association_for_other_lb",
        ),
        pytest.param(
            [
                (LB_T, "web-alb", ALB),
                (LB_T, "api-alb", dict(ALB, name="api", arn=LB_ARN + "0")),
                (ASSOC_T, "web-waf", ASSOC),
            ],
            "api-alb",
            id="second_public_alb_unprotected",
        ),
        pytest.param(
            [(LB_T, "web-alb", mutate(ALB, ("internal",), DEL))], "web-alb", id="internal_missing_means_public"
        ),
        pytest.param(
            [(LB_T, "web-alb", mutate(ALB, ("loadBalancerType",), DEL))], "web-alb", id="type_missing_means_alb"
        ),
        pytest.param(
            [
                (LB_T, "web-alb", mutate(ALB, ("arn",), DEL)),
                (ASSOC_T, "x", dict(ASSOC, resourceArn="arn:aws:apigateway:eu-west-1::/restapis/a/stages/prod")),
            ],
            "web-alb",
            id="no_arn_and_association_for_other_resource",
        ),
        pytest.param([("aws:alb/loadBalancer:LoadBalancer", "web-alb", ALB)], "web-alb", id="legacy_alb_token"),
    ],
)
def test_fails_when_public_alb_has_no_web_acl(resources, expect_lb):
    found = stack_violations(ALB_ASSOC, resources, stack=PROD)
    assert len(found) == 1 and f"ALB {expect_lb} " in found[0][0] and reported_name(found[0][1]) == f"{expect_lb}", (
        found
    )


@pytest.mark.parametrize(
    "resources",
    [
        pytest.param([(LB_T, "web-alb", dict(ALB, internal=True))], id="internal_alb"),
        pytest.param([(LB_T, "web-nlb", dict(ALB, loadBalancerType="network"))], id="network_lb"),
        pytest.param(
            [(LB_T, "web-alb", mutate(ALB, ("arn",), DEL)), (ASSOC_T, "web-waf", ASSOC)],
            id="no_arn_matched_by_name_in_association_arn",
        ),
        pytest.param(
            [(LB_T, "web-alb", mutate(mutate(ALB, ("arn",), DEL), ("name",), DEL)), (ASSOC_T, "web-waf", ASSOC)],
            id="no_arn_no_name_counted",
        ),
    ],
)
def test_passes_when_alb_protected_or_not_public(resources):
    assert stack_violations(ALB_ASSOC, resources, stack=PROD) == []


@pytest.mark.parametrize("stack", ["dev", "staging", "prod-eu", "eu-prod", "production"])
def test_waf_only_required_in_production(stack):
    found = stack_violations(ALB_ASSOC, [(LB_T, "web-alb", ALB)], stack=stack)
    assert bool(found) == (stack in ("prod-eu", "eu-prod", "production"))


def test_prod_stacks_are_configurable():
    assert stack_violations(ALB_ASSOC, [(LB_T, "web-alb", ALB)], stack="live", config={"prodStacks": ["live"]})


def test_unknown_association_arn_raises_in_preview_and_fails_on_up():
    res = [(LB_T, "web-alb", ALB), (ASSOC_T, "web-waf", dict(ASSOC, resourceArn=UNKNOWN_STRING_VALUE))]
    with pytest.raises(UnknownValueError):
        stack_violations(ALB_ASSOC, res, stack=PROD)
    found = stack_violations(ALB_ASSOC, res, stack=PROD, dry_run=False)
    assert found and "unknown" in found[0][0]


def test_unknown_internal_flag_raises_in_preview():
    with pytest.raises(UnknownValueError):
        stack_violations(ALB_ASSOC, [(LB_T, "web-alb", dict(ALB, internal=UNKNOWN_BOOLEAN_VALUE))], stack=PROD)


# --- W1 Azure / GCP ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(
            APPGW_T, APPGW, ("sku", "tier"), "Standard_v2", "sku.tier 'Standard_v2'", id="appgw_standard_tier"
        ),
        pytest.param(APPGW_T, APPGW, ("firewallPolicy",), DEL, "no firewallPolicy.id", id="appgw_without_policy"),
        pytest.param(APPGW_T, APPGW, ("sku",), "WAF_v2", "sku.tier None", id="appgw_sku_malformed"),
        pytest.param(
            APPGW_T,
            APPGW,
            ("frontendIPConfigurations",),
            DEL,
            "no firewallPolicy.id",
            id="appgw_frontend_unknown_shape_fails_closed",
        ),
        pytest.param(
            BACKEND_T,
            BACKEND,
            ("securityPolicy",),
            DEL,
            "EXTERNAL_MANAGED backend service has no securityPolicy",
            id="backend_without_cloud_armor",
        ),
        pytest.param(
            BACKEND_T,
            mutate(BACKEND, ("securityPolicy",), DEL),
            ("loadBalancingScheme",),
            DEL,
            "EXTERNAL backend service has no securityPolicy",
            id="backend_default_scheme_external",
        ),
        pytest.param(
            REGION_BACKEND_T,
            BACKEND,
            ("securityPolicy",),
            "",
            "has no securityPolicy",
            id="regional_external_managed_without_policy",
        ),
    ],
)
def test_fails_when_public_frontend_has_no_waf(type_, base, path, value, expect):
    props = mutate(base, path, value)
    if path == ("frontendIPConfigurations",):
        props = mutate(props, ("firewallPolicy",), DEL)
    msgs = violations(FRONTEND, type_, props, stack=PROD)
    assert msgs and any(expect in m for m in msgs), msgs


@pytest.mark.parametrize(
    "type_, props",
    [
        pytest.param(
            APPGW_T,
            dict(
                mutate(APPGW, ("firewallPolicy",), DEL),
                frontendIPConfigurations=[{"name": "private", "privateIPAddress": "10.0.1.10", "subnet": {"id": "s"}}],
            ),
            id="private_appgw",
        ),
        pytest.param(
            BACKEND_T,
            dict(mutate(BACKEND, ("securityPolicy",), DEL), loadBalancingScheme="INTERNAL_MANAGED"),
            id="internal_backend",
        ),
        pytest.param(
            REGION_BACKEND_T,
            mutate(mutate(BACKEND, ("securityPolicy",), DEL), ("loadBalancingScheme",), DEL),
            id="regional_backend_default_internal",
        ),
    ],
)
def test_passes_when_frontend_not_public(type_, props):
    assert violations(FRONTEND, type_, props, stack=PROD) == []


def test_passes_in_dev_without_waf():
    assert violations(FRONTEND, BACKEND_T, mutate(BACKEND, ("securityPolicy",), DEL), stack="dev") == []


def test_unknown_security_policy_raises_in_preview_and_fails_on_up():
    props = dict(BACKEND, securityPolicy=UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        violations(FRONTEND, BACKEND_T, props, stack=PROD)
    assert violations(FRONTEND, BACKEND_T, props, stack=PROD, dry_run=False)


# --- W2 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(
            ACL_T,
            WEB_ACL,
            ("rules",),
            [],
            "does not use the managed rule group 'AWSManagedRulesCommonRuleSet'",
            id="acl_without_rules",
        ),
        pytest.param(
            ACL_T,
            WEB_ACL,
            ("rules", 0, "overrideAction"),
            {"count": {}},
            "'AWSManagedRulesCommonRuleSet' only counts",
            id="acl_managed_group_count_only",
        ),
        pytest.param(
            ACL_T, WEB_ACL, ("rules",), "AWSManagedRulesCommonRuleSet", "not a list", id="acl_rules_malformed"
        ),
        pytest.param(
            WAF_POLICY_T,
            AZ_WAF_POLICY,
            ("policySettings", "mode"),
            "Detection",
            "mode is 'Detection'",
            id="azure_detection_mode",
        ),
        pytest.param(
            WAF_POLICY_T, AZ_WAF_POLICY, ("policySettings",), DEL, "mode is None", id="azure_policy_settings_missing"
        ),
        pytest.param(
            WAF_POLICY_T,
            AZ_WAF_POLICY,
            ("policySettings", "state"),
            "Disabled",
            "state is 'Disabled'",
            id="azure_policy_disabled",
        ),
        pytest.param(
            WAF_POLICY_T,
            AZ_WAF_POLICY,
            ("managedRules", "managedRuleSets"),
            [],
            "managedRuleSets is empty",
            id="azure_no_managed_rules",
        ),
        pytest.param(
            SEC_POLICY_T,
            GCP_SEC_POLICY,
            ("rules", 0, "preview"),
            True,
            "no enforcing preconfigured WAF rule",
            id="gcp_waf_rule_in_preview",
        ),
        pytest.param(
            SEC_POLICY_T,
            GCP_SEC_POLICY,
            ("rules", 0, "action"),
            "allow",
            "no enforcing preconfigured WAF rule",
            id="gcp_waf_rule_allows",
        ),
        pytest.param(
            SEC_POLICY_T, GCP_SEC_POLICY, ("rules",), DEL, "no enforcing preconfigured WAF rule", id="gcp_no_rules"
        ),
    ],
)
def test_fails_when_waf_not_blocking_with_managed_rules(type_, base, path, value, expect):
    msgs = violations(RULES, type_, mutate(base, path, value), stack=PROD)
    assert msgs and any(expect in m for m in msgs), msgs


def test_passes_when_web_acl_uses_rule_json():
    rule_json = json.dumps(
        [
            {
                "Name": "common",
                "Priority": 0,
                "OverrideAction": {"None": {}},
                "Statement": {
                    "ManagedRuleGroupStatement": {"Name": "AWSManagedRulesCommonRuleSet", "VendorName": "AWS"}
                },
            }
        ]
    )
    props = dict(mutate(WEB_ACL, ("rules",), DEL), ruleJson=rule_json)
    assert violations(RULES, ACL_T, props, stack=PROD) == []


def test_fails_when_rule_json_malformed():
    props = dict(mutate(WEB_ACL, ("rules",), DEL), ruleJson="[{")
    msgs = violations(RULES, ACL_T, props, stack=PROD)
    assert msgs and "not valid JSON" in msgs[0]


def test_required_managed_groups_are_configurable():
    cfg = {"requiredManagedRuleGroups": ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet"]}
    msgs = violations(RULES, ACL_T, WEB_ACL, config=cfg, stack=PROD)
    assert len(msgs) == 1 and "AWSManagedRulesSQLiRuleSet" in msgs[0]


def test_unknown_waf_mode_raises_in_preview():
    with pytest.raises(UnknownValueError):
        violations(
            RULES, WAF_POLICY_T, mutate(AZ_WAF_POLICY, ("policySettings", "mode"), UNKNOWN_STRING_VALUE), stack=PROD
        )


@pytest.mark.parametrize(
    "resources",
    [
        pytest.param([(ACL_T, "web-waf", WEB_ACL)], id="no_logging_configuration"),
        pytest.param(
            [
                (ACL_T, "web-waf", WEB_ACL),
                (LOG_CFG_T, "x", dict(LOG_CFG, resourceArn=ACL_ARN.replace("web-waf", "other"))),
            ],
            id="logging_for_other_acl",
        ),
    ],
)
def test_fails_when_web_acl_not_logged(resources):
    found = stack_violations(LOGGING, resources, stack=PROD)
    assert len(found) == 1 and "web ACL web-waf" in found[0][0] and reported_name(found[0][1]) == "web-waf"


def test_passes_when_web_acl_without_arn_matched_by_name():
    res = [(ACL_T, "web-waf", mutate(WEB_ACL, ("arn",), DEL)), (LOG_CFG_T, "web-waf", LOG_CFG)]
    assert stack_violations(LOGGING, res, stack=PROD) == []


def test_passes_when_unattributable_logging_configuration_is_counted():
    acl = mutate(mutate(WEB_ACL, ("arn",), DEL), ("name",), DEL)
    res = [
        (ACL_T, "web-waf", acl),
        (LOG_CFG_T, "web-waf", dict(LOG_CFG, resourceArn="arn:aws:wafv2:eu-west-1:111122223333:web-waf")),
    ]
    assert stack_violations(LOGGING, res, stack=PROD) == []
    assert stack_violations(LOGGING, res[:1], stack=PROD)
