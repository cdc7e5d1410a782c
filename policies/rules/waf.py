"""Concern `waf` (policy names `waf-...`): W1-W2: public load balancers behind a WAF in production.

Every rule here applies only to production stacks (knob `prodStacks`, fnmatch globs on the stack
name): dev stacks usually run without a WAF to save cost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
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
    dig,
    is_map,
    is_prod,
    truthy,
)
from ..shapes import as_number, entries, has_text, is_application_lb, parsed_json
from ..tokens import AWS_LBS, AZ_APPGW, GCP_BACKEND, GCP_REGION_BACKEND
from .network_exposure import is_internet, jointly_internet

CONCERN = "waf"

AWS_WEB_ACL = "aws:wafv2/webAcl:WebAcl"
AWS_WEB_ACL_ASSOC = "aws:wafv2/webAclAssociation:WebAclAssociation"
AWS_WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
AZ_WAF_POLICY = "azure-native:network:WebApplicationFirewallPolicy"
GCP_SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"


def _match_by_arn(
    targets: list[StackResource],
    companions: list[StackResource],
    arn_path_of: Callable[[StackResource], str | None],
    kind_marker: str,
) -> list[StackResource]:
    """Targets that no companion's `resourceArn` references.

    Stack rules see each resource's outputs, so a target's `arn` is known on `up` and matched
    exactly. When a target has no `arn` in its properties, a companion whose ARN contains the
    target's ARN path (e.g. ``loadbalancer/app/<name>/``) matches; failing that, unmatched
    companions whose ARN is of the target's kind (`kind_marker`) are counted against the
    remaining targets. Unknown ARNs raise UnknownValueError
    (advisory in preview, a violation on `up`).
    """
    refs = [str(c.props.get("resourceArn")) for c in companions if has_text(c.props.get("resourceArn"))]
    unused = list(refs)
    missing: list[StackResource] = []
    no_arn: list[StackResource] = []
    for t in targets:
        arn = t.props.get("arn")
        if has_text(arn):
            if arn in refs:
                if arn in unused:
                    unused.remove(arn)
            else:
                missing.append(t)
        else:
            no_arn.append(t)
    leftover: list[StackResource] = []
    for t in no_arn:
        path = arn_path_of(t)
        hit = next((r for r in unused if path and path in r), None)
        if hit is not None:
            unused.remove(hit)
        else:
            leftover.append(t)
    # Fallback: an association of the right kind we could not attribute may be this target's.
    spare = [r for r in unused if kind_marker in r]
    return missing + leftover[len(spare) :]


# --- W1: public load balancers have a WAF --------------------------------------------------------


def _alb_arn_path(lb: StackResource) -> str | None:
    name = lb.props.get("name")
    return f"loadbalancer/app/{name}/" if has_text(name) else None


def check_alb_web_acl(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str | None]]:
    if not is_prod(ctx):
        return
    public = [
        r for r in resources if r.type in AWS_LBS and is_application_lb(r.props) and not truthy(r.props.get("internal"))
    ]
    if not public:
        return
    assocs = [r for r in resources if r.type == AWS_WEB_ACL_ASSOC]
    for lb in _match_by_arn(public, assocs, _alb_arn_path, ":loadbalancer/app/"):
        yield (
            f"internet-facing ALB {lb.name} has no aws.wafv2.WebAclAssociation whose resourceArn is its ARN; "
            "associate a WAFv2 web ACL with it",
            lb.urn,
        )


def _appgw_is_public(props: Props) -> bool:
    configs = as_list(props.get("frontendIPConfigurations"))
    if not configs:
        return True  # cannot tell: fail closed
    return any(not is_map(c) or c.get("publicIPAddress") is not None for c in configs)


def check_public_frontend_waf(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not is_prod(ctx):
        return
    if resource_type == AZ_APPGW:
        if not _appgw_is_public(props):
            return
        tier = dig(props, "sku", "tier")
        if str(tier) != "WAF_v2":
            yield f"the internet-facing application gateway has sku.tier {tier!r}; use WAF_v2 with a firewallPolicy"
        policy = dig(props, "firewallPolicy", "id")
        if not has_text(policy):
            yield "the internet-facing application gateway has no firewallPolicy.id; attach a WAF policy in Prevention mode"
    elif resource_type in (GCP_BACKEND, GCP_REGION_BACKEND):
        default = "EXTERNAL" if resource_type == GCP_BACKEND else "INTERNAL"
        scheme = str(props.get("loadBalancingScheme") or default)
        external = ("EXTERNAL", "EXTERNAL_MANAGED") if resource_type == GCP_BACKEND else ("EXTERNAL_MANAGED",)
        if scheme not in external:
            return
        policy = props.get("securityPolicy")
        if not has_text(policy):
            yield f"the {scheme} backend service has no securityPolicy; attach a Cloud Armor security policy"


# --- W2: prevention mode, managed rules, logging -------------------------------------------------


def _aws_managed_groups(props: Props) -> tuple[list[tuple[str, bool]], str | None]:
    """``(name, count_only)`` of the web ACL's managed rule groups, or an error message."""
    out: list[tuple[str, bool]] = []
    raw = props.get("ruleJson")
    if has_text(raw):
        try:
            rules = parsed_json(raw)
        except ValueError:
            return [], f"ruleJson is not valid JSON ({raw[:60]!r}); cannot evaluate it (failing closed)"
        for r in as_list(rules):
            stmt = dig(r, "Statement", "ManagedRuleGroupStatement")
            if is_map(stmt):
                out.append((str(stmt.get("Name")), dig(r, "OverrideAction", "Count") is not None))
    rules, err = entries(props.get("rules"), "rules")
    if err:
        return out, err
    for r in rules:
        stmt = dig(r, "statement", "managedRuleGroupStatement")
        if is_map(stmt):
            out.append((str(stmt.get("name")), dig(r, "overrideAction", "count") is not None))
    return out, None


def _aws_web_acl(props: Props, ctx: Context) -> Iterator[str]:
    groups, err = _aws_managed_groups(props)
    if err:
        yield err
        return
    names = {n for n, _ in groups}
    for required in ctx["requiredManagedRuleGroups"]:
        if required not in names:
            yield f"the web ACL does not use the managed rule group {required!r}; add it (overrideAction none)"
    for name, count in groups:
        if count:
            yield f"managed rule group {name!r} only counts (overrideAction count); use overrideAction none to block"
    if not groups and not ctx["requiredManagedRuleGroups"]:
        yield "the web ACL uses no AWS managed rule groups; add AWSManagedRulesCommonRuleSet"


def _az_matches_everything(cond: Any) -> bool:
    if not is_map(cond) or truthy(cond.get("negationConditon")):
        return False
    op = str(cond.get("operator") or "").strip().lower()
    if op == "any":
        return True
    values = [str(v) for v in as_list(cond.get("matchValues"))]
    return op == "ipmatch" and (any(is_internet(v) for v in values) or bool(jointly_internet(values, None)))


def _azure_waf_policy(props: Props, ctx: Context) -> Iterator[str]:
    mode = dig(props, "policySettings", "mode")
    if str(mode) != "Prevention":
        yield f"policySettings.mode is {mode!r}; set it to Prevention"
    state = dig(props, "policySettings", "state")
    if str(state) != "Enabled":
        yield f"policySettings.state is {state!r}; set it to Enabled"
    sets = as_list(dig(props, "managedRules", "managedRuleSets"))
    if not sets:
        yield "managedRules.managedRuleSets is empty; add OWASP 3.2 or Microsoft_DefaultRuleSet"
    # Custom rules run before the managed rule sets: an enabled Allow that matches every request
    # (operator Any, or a RemoteAddr IPMatch on the whole internet) skips them all.
    for i, rule in enumerate(as_list(props.get("customRules"))):
        if not is_map(rule) or str(rule.get("state") or "Enabled").strip().lower() != "enabled":
            continue
        if str(rule.get("action") or "").strip().lower() != "allow":
            continue
        conditions = as_list(rule.get("matchConditions"))
        if conditions and all(_az_matches_everything(c) for c in conditions):
            yield f"customRules[{i}] ({rule.get('name')}) allows every request before the managed rules run; remove it or narrow its match"


_PRECONFIGURED = re.compile(r"\bevaluatePreconfigured(?:Waf|Expr)\(")
#: Forms that keep the call but make it match nothing (or only clean requests): a negation
#: (``!evaluatePreconfiguredWaf(...)``), ``&& false``, and sensitivity 0 (which enables no
#: signature unless rules are opted in one by one).
_NEUTERED = re.compile(r"!\s*\(*\s*evaluatePreconfigured|&&\s*false\b|\bfalse\s*&&|['\"]sensitivity['\"]\s*:\s*0\b")
_ALLOW_ALL_RANGES = {"*", "0.0.0.0/0", "::/0"}


def _gcp_enforcing(r: Any) -> bool:
    expr = str(dig(r, "match", "expr", "expression") or "")
    action = str(dig(r, "action") or "").strip().lower()
    return (
        bool(_PRECONFIGURED.search(expr))
        and not _NEUTERED.search(expr)
        and action.startswith("deny")
        and not truthy(dig(r, "preview"))
    )


def _gcp_allows_all(r: Any) -> bool:
    if str(dig(r, "action") or "").strip().lower() != "allow" or truthy(dig(r, "preview")):
        return False
    ranges = [str(x).strip() for x in as_list(dig(r, "match", "config", "srcIpRanges"))]
    expr = str(dig(r, "match", "expr", "expression") or "").strip().lower()
    wide = bool(set(ranges) & _ALLOW_ALL_RANGES) or any(is_internet(x) for x in ranges)
    return wide or bool(jointly_internet(ranges, None)) or expr == "true"


def _gcp_security_policy(props: Props, ctx: Context) -> Iterator[str]:
    rules, err = entries(props.get("rules"), "rules")
    if err:
        yield err
        return
    enforcing = [as_number(dig(r, "priority")) for r in rules if _gcp_enforcing(r)]
    if not enforcing:
        yield "the security policy has no enforcing preconfigured WAF rule; add a deny rule with evaluatePreconfiguredWaf('sqli-v33-stable') etc. (preview off)"
        return
    # Rules run in priority order and the first match wins: an allow-everything rule (the default
    # rule's shape) ahead of the WAF rules lets every request past them.
    first = min((p for p in enforcing if p is not None), default=None)
    for r in rules:
        prio = as_number(dig(r, "priority"))
        if _gcp_allows_all(r) and (first is None or prio is None or prio < first):
            yield (
                f"rule at priority {dig(r, 'priority')!r} allows every request before the first WAF rule "
                f"(priority {first:g}) is evaluated; give the allow-all rule the lowest priority (2147483647)"
                if first is not None
                else "a rule that allows every request has no comparable priority; cannot verify the WAF rules run first"
            )


def check_waf_rules(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not is_prod(ctx):
        return
    if resource_type == AWS_WEB_ACL:
        yield from _aws_web_acl(props, ctx)
    elif resource_type == AZ_WAF_POLICY:
        yield from _azure_waf_policy(props, ctx)
    elif resource_type == GCP_SECURITY_POLICY:
        yield from _gcp_security_policy(props, ctx)


def _acl_arn_path(acl: StackResource) -> str | None:
    name = acl.props.get("name")
    return f"/webacl/{name}/" if has_text(name) else None


def check_web_acl_logging(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str | None]]:
    if not is_prod(ctx):
        return
    acls = [r for r in resources if r.type == AWS_WEB_ACL]
    if not acls:
        return
    configs = [r for r in resources if r.type == AWS_WEB_ACL_LOGGING]
    # Logging configurations only target web ACLs, so any WAFv2 ARN counts in the fallback.
    for acl in _match_by_arn(acls, configs, _acl_arn_path, ":wafv2:"):
        yield (
            f"web ACL {acl.name} has no aws.wafv2.WebAclLoggingConfiguration; send its logs to a log group, bucket or Firehose",
            acl.urn,
        )


RULES: list[Rule | StackRule] = [
    StackRule(
        name="waf-alb-web-acl-associated",
        description="In production, every internet-facing ALB must have a WAFv2 web ACL association.",
        concern=CONCERN,
        clouds=("aws",),
        check=check_alb_web_acl,
        knobs={"prodStacks": PROD_STACKS_KNOB},
        catalogue=("W1",),
        peers=("CKV2_AWS_28", "nag:ALBWAFEnabled"),
    ),
    Rule(
        name="waf-public-frontend-protected",
        description="In production, internet-facing application gateways must be WAF_v2 with a WAF policy and external GCP backend services must have a Cloud Armor policy.",
        concern=CONCERN,
        clouds=("azure", "gcp"),
        resource_types=(AZ_APPGW, GCP_BACKEND, GCP_REGION_BACKEND),
        check=check_public_frontend_waf,
        knobs={"prodStacks": PROD_STACKS_KNOB},
        catalogue=("W1",),
        peers=("CKV_AZURE_120", "PSR:AppGw.UseWAF"),
    ),
    Rule(
        name="waf-rules-prevention-managed",
        description="In production, WAF policies should block (prevention mode) with managed rule sets.",
        concern=CONCERN,
        clouds=("aws", "azure", "gcp"),
        resource_types=(AWS_WEB_ACL, AZ_WAF_POLICY, GCP_SECURITY_POLICY),
        check=check_waf_rules,
        # Advisory (catalogue W2): rule tuning needs a count/detection phase on real traffic first.
        level=ADVISORY,
        knobs={
            "prodStacks": PROD_STACKS_KNOB,
            "requiredManagedRuleGroups": Knob(
                {"type": "array", "items": {"type": "string"}},
                ["AWSManagedRulesCommonRuleSet"],
                "AWS managed rule groups every web ACL must use",
            ),
        },
        catalogue=("W2",),
        peers=(
            "CKV_AZURE_122",
            "CKV_AZURE_135",
            "CKV_AWS_192",
            "CKV_GCP_73",
            "PSR:AppGw.Prevention",
            "PSR:AppGw.OWASP",
        ),
    ),
    StackRule(
        name="waf-web-acl-logging",
        description="In production, every WAFv2 web ACL should have a logging configuration.",
        concern=CONCERN,
        clouds=("aws",),
        check=check_web_acl_logging,
        # Advisory (catalogue W2): logging destinations are often managed centrally.
        level=ADVISORY,
        knobs={"prodStacks": PROD_STACKS_KNOB},
        catalogue=("W2",),
        peers=("CKV2_AWS_31", "nag:WAFv2LoggingEnabled"),
    ),
]
