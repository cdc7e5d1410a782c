"""Concern `transport-security` (policy names `transport-...`): T1-T6: HTTPS only, HTTP redirects, TLS policies, managed certificates, header hygiene."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from ..framework import ADVISORY, Context, Knob, Props, Rule, StackResource, StackRule, as_list, dig, is_map, truthy
from ..shapes import UNKNOWN, as_number, entries, has_text, is_application_lb, peek, peek_all, ref_name
from ..tokens import AWS_ELB, AWS_LBS, AWS_LISTENERS, AZ_APPGW

CONCERN = "transport-security"

AWS_ACM_CERT = "aws:acm/certificate:Certificate"
#: A classic ELB's TLS settings live in an SSLNegotiationPolicyType policy resource.
AWS_ELB_POLICY = "aws:elb/loadBalancerPolicy:LoadBalancerPolicy"
AWS_ELB_LISTENER_POLICY = "aws:elb/listenerPolicy:ListenerPolicy"
AWS_LISTENER_RULES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
GCP_SSL_POLICIES = ("gcp:compute/sSLPolicy:SSLPolicy", "gcp:compute/regionSslPolicy:RegionSslPolicy")
GCP_HTTPS_PROXIES = (
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy",
    "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy",
    "gcp:compute/targetSSLProxy:TargetSSLProxy",
)
GCP_HTTP_PROXIES = (
    "gcp:compute/targetHttpProxy:TargetHttpProxy",
    "gcp:compute/regionTargetHttpProxy:RegionTargetHttpProxy",
)
GCP_URL_MAPS = ("gcp:compute/uRLMap:URLMap", "gcp:compute/regionUrlMap:RegionUrlMap")

#: ELB TLS 1.3 policies (classic and post-quantum 2025-09) that offer no CBC-mode suite, names
#: from the ALB security policy docs: the "Res" ones (TLS 1.2 with ECDHE AES-GCM only) and the
#: TLS 1.3-only ones. ELBSecurityPolicy-TLS13-1-2-2021-06 and -TLS13-1-2-PQ-2025-09 also offer
#: TLS 1.2 ECDHE AES-CBC (SHA256/SHA384) suites, so they are left out: an owner who needs them
#: for old clients lists them in `awsSslPolicies` (the same bar as the Azure and GCP defaults).
DEFAULT_AWS_SSL_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
]
#: The features of GCP's RESTRICTED profile: ECDHE + AEAD only.
DEFAULT_GCP_CUSTOM_FEATURES = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
]

#: Application Gateway Custom/CustomV2 suites with ECDHE key exchange and AEAD (GCM) only: the
#: same bar as the GCP CUSTOM profile (no CBC, no 3DES, no RSA key exchange).
DEFAULT_AZURE_CIPHER_SUITES = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
]
#: Classic ELB predefined policies that offer TLS 1.2 only.
DEFAULT_AWS_CLASSIC_SSL_POLICIES = ["ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06"]

_STRINGS = {"type": "array", "items": {"type": "string"}}


def _protocol(props: Props) -> str:
    # A listener without protocol is HTTP on an ALB (the default); fail closed on that.
    proto = props.get("protocol")
    return "HTTP" if proto is None else str(proto).upper()


# --- T1/T2: HTTP only as a redirect to HTTPS -----------------------------------------------------


def _aws_listener_https_only(props: Props, ctx: Context) -> Iterator[str]:
    proto = _protocol(props)
    if proto in ("HTTPS", "TLS"):
        return
    if proto != "HTTP":
        if proto not in [str(p).upper() for p in ctx["allowedPlaintextProtocols"]]:
            yield f"listener protocol {proto} carries unencrypted traffic; use HTTPS or TLS (or list it in allowedPlaintextProtocols)"
        return
    actions, err = entries(props.get("defaultActions"), "defaultActions")
    if err:
        yield err
        return
    if not actions:
        yield "HTTP listener has no defaultActions; it may only redirect to HTTPS"
    for i, a in enumerate(actions):
        atype = dig(a, "type")
        target = dig(a, "redirect", "protocol")
        if str(atype).lower() != "redirect":
            yield f"HTTP listener defaultActions[{i}] is {atype!r}, serving plain HTTP; make it a redirect to HTTPS (protocol HTTPS, port 443, HTTP_301)"
        elif str(target).upper() != "HTTPS":
            yield f"HTTP listener defaultActions[{i}] redirects with protocol {target!r}; set redirect.protocol to HTTPS"


def _appgw_index(props: Props, key: str) -> dict[str, Any]:
    items, err = entries(props.get(key), key)
    if err:
        raise TypeError(err)
    return {str(dig(i, "name")): i for i in items}


def _appgw_https_only(props: Props, ctx: Context) -> Iterator[str]:
    listeners, err = entries(props.get("httpListeners"), "httpListeners")
    if err:
        yield err
        return
    by_name = {str(dig(listener, "name")): listener for listener in listeners}
    redirects = _appgw_index(props, "redirectConfigurations")
    rules, rerr = entries(props.get("requestRoutingRules"), "requestRoutingRules")
    if rerr:
        yield rerr
        return
    for i, listener in enumerate(listeners):
        if not is_map(listener):
            yield f"httpListeners[{i}] is {listener!r}, not an object; cannot evaluate it (failing closed)"
            continue
        proto = listener.get("protocol")
        if proto is not None and str(proto).lower() == "https":
            continue
        name = listener.get("name")
        own = [r for r in rules if ref_name(dig(r, "httpListener", "id")) == str(name)]
        if not own:
            yield f"httpListeners[{i}] ({name}) uses protocol {proto!r} and no routing rule redirects it; route it to a redirectConfiguration targeting an Https listener"
            continue
        for r in own:
            rname = dig(r, "name")
            red_ref = dig(r, "redirectConfiguration", "id")
            if not has_text(red_ref):
                yield f"listener {name} (protocol {proto!r}, treated as Http) is served by routing rule {rname} without a redirectConfiguration; redirect it to an Https listener"
                continue
            red = redirects.get(ref_name(red_ref))
            if red is None:
                yield f"routing rule {rname} points at redirectConfiguration {ref_name(red_ref)!r}, which the gateway does not define; cannot verify the redirect (failing closed)"
                continue
            target_listener = dig(red, "targetListener", "id")
            target_url = dig(red, "targetUrl")
            if has_text(target_listener):
                target = by_name.get(ref_name(target_listener))
                if str(dig(target, "protocol")).lower() != "https":
                    yield f"redirectConfiguration {ref_name(red_ref)} for Http listener {name} targets listener {ref_name(target_listener)!r}, which is not Https"
            elif not (has_text(target_url) and str(target_url).lower().startswith("https://")):
                yield f"redirectConfiguration {ref_name(red_ref)} for Http listener {name} does not redirect to an Https listener or https:// URL"


def _elb_https_only(props: Props, ctx: Context) -> Iterator[str]:
    listeners, err = entries(props.get("listeners"), "listeners")
    if err:
        yield err
        return
    allowed = [str(p).upper() for p in ctx["allowedPlaintextProtocols"]]
    for i, listener in enumerate(listeners):
        proto = str(dig(listener, "lbProtocol")).upper()
        if proto in ("HTTPS", "SSL"):
            continue
        if proto == "HTTP":
            # A classic ELB cannot redirect: an HTTP listener always serves plain HTTP.
            yield f"listeners[{i}] lbProtocol is HTTP and a classic ELB cannot redirect; remove it and serve HTTPS (or move to an ALB with a redirect)"
        elif proto not in allowed:
            yield f"listeners[{i}] lbProtocol is {proto} and carries unencrypted traffic; use HTTPS or SSL (or list it in allowedPlaintextProtocols)"


def check_https_only(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type in AWS_LISTENERS:
        yield from _aws_listener_https_only(props, ctx)
    elif resource_type == AWS_ELB:
        yield from _elb_https_only(props, ctx)
    elif resource_type == AZ_APPGW:
        yield from _appgw_https_only(props, ctx)


def _url_map_redirect_problem(props: Props) -> str | None:
    if not truthy(dig(props, "defaultUrlRedirect", "httpsRedirect")):
        return "defaultUrlRedirect.httpsRedirect is not true"
    for key in ("defaultService", "hostRules", "pathMatchers", "defaultRouteAction"):
        if props.get(key):
            return f"it also routes traffic ({key} is set)"
    return None


def check_gcp_http_proxy_redirects(
    resources: Sequence[StackResource], ctx: Context
) -> Iterator[tuple[str, str | None]]:
    """Every GCP target HTTP proxy uses a redirect-only URL map (HTTP -> HTTPS).

    The proxy names its URL map by ID/self link (``.../urlMaps/<name>``); it is matched to a URL map
    in the stack by self link or name. In a preview a new map's ID is unknown: the proxy raises
    UnknownValueError, reported as advisory by the framework.
    """
    maps = [r for r in resources if r.type in GCP_URL_MAPS]
    for proxy in resources:
        if proxy.type not in GCP_HTTP_PROXIES:
            continue
        ref = proxy.props.get("urlMap")
        if not has_text(ref):
            yield (
                f"HTTP proxy {proxy.name} has no urlMap; cannot verify it only redirects to HTTPS (failing closed)",
                proxy.urn,
            )
            continue
        found = [m for m in maps if ref_name(ref) == str(m.props.get("name") or m.name)]
        if not found:
            found = [m for m in maps if ref in (m.props.get("selfLink"), m.props.get("id"))]
        if not found:
            yield (
                f"HTTP proxy {proxy.name} uses URL map {ref_name(ref)!r}, which is not in the stack; cannot verify it only redirects to HTTPS (failing closed)",
                proxy.urn,
            )
            continue
        problem = _url_map_redirect_problem(found[0].props)
        if problem:
            yield (
                f"HTTP proxy {proxy.name} serves plain HTTP: its URL map {found[0].name} is not redirect-only ({problem}); use a URL map with only defaultUrlRedirect.httpsRedirect=true",
                proxy.urn,
            )


def _rule_serves_plain(props: Props) -> list[str]:
    """Why a listener rule's actions serve content rather than redirect to HTTPS ([] when they only redirect)."""
    actions, err = entries(props.get("actions"), "actions")
    if err:
        return [err]
    if not actions:
        return ["the rule has no actions (cannot tell what it serves; failing closed)"]
    out = []
    for i, a in enumerate(actions):
        atype = str(dig(a, "type")).lower()
        if atype != "redirect":
            out.append(f"actions[{i}] is {atype!r}")
        elif str(dig(a, "redirect", "protocol")).upper() != "HTTPS":
            out.append(f"actions[{i}] redirects with protocol {dig(a, 'redirect', 'protocol')!r}")
    return out


def _listener_keys(props: Props) -> list[Any]:
    return [k for k in (peek(props, "arn"), peek(props, "id")) if k is not None]


def check_http_listener_rules(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str | None]]:
    """Listener rules are matched to their listener by ARN (an output: known on `up`)."""
    http = [r for r in resources if r.type in AWS_LISTENERS and _protocol(r.props) == "HTTP"]
    if not http:
        return
    listener_keys = {k: r for r in resources if r.type in AWS_LISTENERS for k in _listener_keys(r.props)}
    http_keys = {k for r in http for k in _listener_keys(r.props)}
    undecided = False
    for rule in resources:
        if rule.type not in AWS_LISTENER_RULES:
            continue
        problems = _rule_serves_plain(rule.props)
        if not problems:
            continue
        ref = peek(rule.props, "listenerArn")
        if isinstance(ref, str) and ref in http_keys:
            yield (
                f"listener rule {rule.name} on plain-HTTP listener {listener_keys[ref].name}: {'; '.join(problems)}, "
                "so those paths are served over HTTP although the listener redirects by default; make every rule "
                "on an HTTP listener a redirect to HTTPS (or move it to the HTTPS listener)",
                rule.urn,
            )
        elif (ref is UNKNOWN or UNKNOWN in http_keys) and not (isinstance(ref, str) and ref in listener_keys):
            undecided = True
    if undecided:
        if ctx.dry_run:
            # Which listener a rule belongs to is only known on `up`.
            raise UnknownValueError(UNKNOWN_STRING_VALUE, ["listenerArn"])
        yield (
            "a listener rule that serves content cannot be matched to its listener while the stack has a "
            "plain-HTTP listener; failing closed",
            None,
        )


# --- T3: TLS 1.2+ policies -----------------------------------------------------------------------


def _aws_tls_policy(props: Props, ctx: Context) -> Iterator[str]:
    if _protocol(props) not in ("HTTPS", "TLS"):
        return
    allowed = list(ctx["awsSslPolicies"])
    policy = props.get("sslPolicy")
    if policy is None:
        yield f"sslPolicy is not set, so AWS uses ELBSecurityPolicy-2016-08 (TLS 1.0); set one of {allowed}"
    elif policy not in allowed:
        why = ""
        if isinstance(policy, str) and policy.startswith("ELBSecurityPolicy-TLS13-1-2-") and "-Res-" not in policy:
            why = " (it still offers CBC-mode TLS 1.2 suites)"
        yield f"sslPolicy {policy!r} is not allowed{why}; use one of {allowed}"


def _appgw_policy_problem(where: str, policy: Any, ctx: Context) -> str | None:
    predefined = list(ctx["azurePredefinedPolicies"])
    versions = list(ctx["azureMinProtocolVersions"])
    if not is_map(policy):
        return f"{where} is {policy!r}, so older gateways accept TLS 1.0; set a Predefined policy from {predefined} or a CustomV2 policy with minProtocolVersion TLSv1_2"
    ptype = policy.get("policyType")
    name = policy.get("policyName")
    if str(ptype) == "Predefined" or (ptype is None and name is not None):
        if name not in predefined:
            return f"{where}.policyName {name!r} is not allowed; use one of {predefined}"
        return None
    if str(ptype) in ("Custom", "CustomV2"):
        minimum = policy.get("minProtocolVersion")
        if minimum not in versions:
            return f"{where}.minProtocolVersion is {minimum!r}; set it to one of {versions}"
        return _appgw_cipher_problem(where, policy, str(minimum), ctx)
    return f"{where}.policyType is {ptype!r}; use Predefined ({predefined}) or CustomV2 with minProtocolVersion TLSv1_2"


def _appgw_cipher_problem(where: str, policy: Any, minimum: str, ctx: Context) -> str | None:
    """Custom policies are judged by their suites, as the GCP CUSTOM profile is."""
    allowed = list(ctx["azureCipherSuites"])
    suites, err = entries(policy.get("cipherSuites"), f"{where}.cipherSuites")
    if err:
        return err
    if not suites:
        if minimum == "TLSv1_3":
            return None  # TLS 1.3 only: its suites are fixed AEAD suites
        return f"{where}.cipherSuites is empty, so the gateway's defaults (with CBC and RSA key exchange) apply; list only {allowed}"
    weak = [str(c) for c in suites if c not in allowed]
    if weak:
        return f"{where}.cipherSuites enables weak suites {weak} (CBC, 3DES or RSA key exchange); keep only {allowed}"
    return None


def _appgw_tls_policy(props: Props, ctx: Context) -> Iterator[str]:
    problem = _appgw_policy_problem("sslPolicy", props.get("sslPolicy"), ctx)
    if problem:
        yield problem
    profiles, err = entries(props.get("sslProfiles"), "sslProfiles")
    if err:
        yield err
    for i, p in enumerate(profiles):
        policy = dig(p, "sslPolicy")
        if policy is None:
            continue  # the profile inherits the gateway's sslPolicy, checked above
        problem = _appgw_policy_problem(f"sslProfiles[{i}].sslPolicy", policy, ctx)
        if problem:
            yield problem


def _gcp_ssl_policy(props: Props, ctx: Context) -> Iterator[str]:
    versions = list(ctx["gcpMinTlsVersions"])
    profiles = list(ctx["gcpProfiles"])
    minimum = props.get("minTlsVersion")
    if minimum not in versions:
        shown = "not set (GCP default TLS_1_0)" if minimum is None else repr(minimum)
        yield f"minTlsVersion is {shown}; set it to one of {versions}"
    profile = props.get("profile")
    if profile not in profiles:
        shown = "not set (GCP default COMPATIBLE)" if profile is None else repr(profile)
        yield f"profile is {shown}; use one of {profiles}"
    elif profile == "CUSTOM":
        features = as_list(props.get("customFeatures"))
        allowed = set(ctx["gcpCustomFeatures"])
        bad = [f for f in features if f not in allowed]
        if not features:
            yield "profile CUSTOM lists no customFeatures; list only ECDHE AEAD suites or use RESTRICTED"
        elif bad:
            yield f"profile CUSTOM enables weak features {bad}; keep only {sorted(allowed)}"


_ELB_SETTINGS = {"reference-security-policy", "server-defined-cipher-order"}


def _elb_ssl_negotiation(props: Props, ctx: Context) -> Iterator[str]:
    if str(props.get("policyTypeName")) != "SSLNegotiationPolicyType":
        return
    allowed = list(ctx["awsClassicSslPolicies"])
    attrs, err = entries(props.get("policyAttributes"), "policyAttributes")
    if err:
        yield err
        return
    by_name = {str(dig(a, "name")): dig(a, "value") for a in attrs}
    reference = by_name.get("Reference-Security-Policy")
    if reference is not None:
        if reference not in allowed:
            yield f"Reference-Security-Policy is {reference!r}, which allows TLS below 1.2; use one of {allowed}"
        return
    enabled = [n for n, v in by_name.items() if truthy(v)]
    old = [n for n in enabled if n in ("Protocol-SSLv2", "Protocol-SSLv3", "Protocol-TLSv1", "Protocol-TLSv1.1")]
    if old:
        yield f"the policy enables {old}; enable only Protocol-TLSv1.2 (or reference one of {allowed})"
    if "Protocol-TLSv1.2" not in enabled:
        yield f"the policy does not enable Protocol-TLSv1.2; enable it (or reference one of {allowed})"
    ciphers = [n for n in enabled if not n.startswith("Protocol-") and n.lower() not in _ELB_SETTINGS]
    weak = [c for c in ciphers if not (c.startswith("ECDHE-") and ("GCM" in c or "CHACHA20" in c))]
    if weak:
        yield f"the policy enables weak ciphers {weak} (CBC, 3DES or RSA key exchange); enable only ECDHE GCM ciphers"


def _same(a: Any, b: Any) -> Any:
    """True, False, or `UNKNOWN` when either side is not known yet."""
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    return a == b or (as_number(a) is not None and as_number(a) == as_number(b))


def _all(verdicts: Sequence[Any]) -> Any:
    return False if False in verdicts else UNKNOWN if UNKNOWN in verdicts else True


def _any(verdicts: Sequence[Any]) -> Any:
    return True if True in verdicts else UNKNOWN if UNKNOWN in verdicts else False


def check_elb_listener_policies(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str | None]]:
    """A classic ELB's HTTPS/SSL listener negotiates with ELBSecurityPolicy-2016-08 (TLS 1.0) unless a
    ListenerPolicy attaches an SSLNegotiationPolicyType policy to its port (the policy itself is
    judged by transport-tls-policy). Matched by load balancer name, port and policy name."""
    negotiation = [
        (peek(r.props, "loadBalancerName"), peek(r.props, "policyName"))
        for r in resources
        if r.type == AWS_ELB_POLICY and str(r.props.get("policyTypeName")) == "SSLNegotiationPolicyType"
    ]
    attached = [
        (peek(r.props, "loadBalancerName"), peek(r.props, "loadBalancerPort"), peek_all(r.props, "policyNames"))
        for r in resources
        if r.type == AWS_ELB_LISTENER_POLICY
    ]
    undecided = False
    for elb in resources:
        if elb.type != AWS_ELB:
            continue
        elb_name = peek(elb.props, "name")
        listeners, err = entries(elb.props.get("listeners"), "listeners")
        if err:
            yield err, elb.urn
            continue
        for i, listener in enumerate(listeners):
            proto = str(dig(listener, "lbProtocol")).upper()
            if proto not in ("HTTPS", "SSL"):
                continue
            port = dig(listener, "lbPort")
            verdict = _any(
                [
                    _all(
                        [
                            _same(lb_name, elb_name),
                            _same(lb_port, port),
                            _any(
                                [_all([_same(name, n), _same(b, elb_name)]) for name in names for b, n in negotiation]
                            ),
                        ]
                    )
                    for lb_name, lb_port, names in attached
                ]
            )
            if verdict is UNKNOWN:
                undecided = True
            elif verdict is False:
                yield (
                    f"listeners[{i}] ({proto} {port}) has no listener policy with an SSLNegotiationPolicyType policy, "
                    "so it negotiates with ELBSecurityPolicy-2016-08 (TLS 1.0); attach an aws.elb.ListenerPolicy "
                    "naming a LoadBalancerPolicy that references ELBSecurityPolicy-TLS-1-2-2017-01",
                    elb.urn,
                )
    if undecided:
        if ctx.dry_run:
            # Load balancer names may be outputs (auto-naming): known on `up`.
            raise UnknownValueError(UNKNOWN_STRING_VALUE, ["loadBalancerName"])
        yield "a classic ELB listener policy cannot be matched to its load balancer; failing closed", None


def check_tls_policy(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type in AWS_LISTENERS:
        yield from _aws_tls_policy(props, ctx)
    elif resource_type == AWS_ELB_POLICY:
        yield from _elb_ssl_negotiation(props, ctx)
    elif resource_type == AZ_APPGW:
        yield from _appgw_tls_policy(props, ctx)
    elif resource_type in GCP_SSL_POLICIES:
        yield from _gcp_ssl_policy(props, ctx)


# --- T4: GCP HTTPS proxies name an SSL policy ----------------------------------------------------


def check_gcp_proxy_ssl_policy(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    policy = props.get("sslPolicy")
    if not has_text(policy):
        yield f"sslPolicy is {policy!r}, so the proxy uses GCP's default policy (COMPATIBLE, TLS 1.0); attach an SSL policy with minTlsVersion TLS_1_2"


# --- T5: managed certificates --------------------------------------------------------------------


def check_acm_managed_dns(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if (
        props.get("certificateBody") is not None
        or props.get("privateKey") is not None
        or props.get("privateKeyWo") is not None
    ):
        yield "the certificate is imported (certificateBody/privateKey), so ACM never renews it; request an ACM certificate with validationMethod DNS"
        return
    if has_text(props.get("certificateAuthorityArn")):
        return  # issued by a private CA: renewed by ACM without validation
    method = props.get("validationMethod")
    if str(method).upper() != "DNS":
        yield f"validationMethod is {method!r}; use DNS so ACM renews the certificate automatically"


def check_acm_no_wildcard(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    names = [props.get("domainName"), *as_list(props.get("subjectAlternativeNames"))]
    for n in names:
        if isinstance(n, str) and n.strip().startswith("*"):
            yield f"certificate name {n!r} is a wildcard; request certificates for the exact host names"


# --- T6: ALB header hygiene ----------------------------------------------------------------------


def check_alb_drop_invalid_headers(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not is_application_lb(props):
        return
    value = props.get("dropInvalidHeaderFields")
    if not truthy(value):
        yield f"dropInvalidHeaderFields is {value!r}; set it to true so malformed headers are dropped before the targets"


def check_alb_desync_mitigation(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not is_application_lb(props):
        return
    mode = props.get("desyncMitigationMode")
    if mode is None:
        return  # AWS default is "defensive"
    allowed = [str(m).lower() for m in ctx["allowedModes"]]
    if str(mode).lower() not in allowed:
        yield f"desyncMitigationMode is {mode!r}; use one of {allowed}"


RULES: list[Rule | StackRule] = [
    Rule(
        name="transport-https-only",
        description="Load balancer listeners (ALB/NLB, classic ELB, AppGw) must use HTTPS/TLS; plain HTTP listeners may only redirect to HTTPS.",
        concern=CONCERN,
        clouds=("aws", "azure"),
        resource_types=(*AWS_LISTENERS, AWS_ELB, AZ_APPGW),
        check=check_https_only,
        knobs={
            "allowedPlaintextProtocols": Knob(
                _STRINGS, [], "non-HTTP plaintext listener protocols to allow (e.g. TCP for an NLB)"
            )
        },
        catalogue=("T1", "T2"),
        peers=(
            "CKV_AWS_2",
            "CKV2_AWS_20",
            "CKV_AZURE_217",
            "AVD-AWS-0054",
            "nag:ALBHttpToHttpsRedirection",
            "PSR:AppGw.UseHTTPS",
            "pc:aws-lb-listener-disallow-unencrypted-traffic",
        ),
    ),
    StackRule(
        name="transport-http-listener-rules-redirect",
        description="Listener rules on a plain-HTTP listener must only redirect to HTTPS, like its default action.",
        concern=CONCERN,
        clouds=("aws",),
        check=check_http_listener_rules,
        catalogue=("T1", "T2"),
        peers=(),
    ),
    StackRule(
        name="transport-elb-listener-tls-policy",
        description="Classic ELB HTTPS/SSL listeners must have a listener policy with an SSL negotiation policy (the default allows TLS 1.0).",
        concern=CONCERN,
        clouds=("aws",),
        check=check_elb_listener_policies,
        catalogue=("T3",),
        peers=("CKV_AWS_213",),
    ),
    StackRule(
        name="transport-gcp-http-proxy-redirects",
        description="GCP target HTTP proxies must use a URL map that only redirects to HTTPS.",
        concern=CONCERN,
        clouds=("gcp",),
        check=check_gcp_http_proxy_redirects,
        catalogue=("T1", "T2"),
        peers=("CKV2_GCP_38",),
    ),
    Rule(
        name="transport-tls-policy",
        description="TLS listeners must use an allow-listed TLS 1.2+ policy with ECDHE AEAD suites only (ALB sslPolicy, classic ELB SSL negotiation policy, AppGw sslPolicy and custom suites, GCP SSL policy).",
        concern=CONCERN,
        clouds=("aws", "azure", "gcp"),
        resource_types=(*AWS_LISTENERS, AWS_ELB_POLICY, AZ_APPGW, *GCP_SSL_POLICIES),
        check=check_tls_policy,
        knobs={
            "awsSslPolicies": Knob(
                _STRINGS,
                DEFAULT_AWS_SSL_POLICIES,
                "allowed ELB sslPolicy names (default: TLS 1.3 policies without CBC suites; add e.g. "
                "ELBSecurityPolicy-TLS13-1-2-2021-06 to accept CBC suites for old clients)",
            ),
            "awsClassicSslPolicies": Knob(
                _STRINGS,
                DEFAULT_AWS_CLASSIC_SSL_POLICIES,
                "allowed Reference-Security-Policy of a classic ELB SSL negotiation policy",
            ),
            "azureCipherSuites": Knob(
                _STRINGS, DEFAULT_AZURE_CIPHER_SUITES, "cipher suites a Custom/CustomV2 AppGw policy may enable"
            ),
            "azurePredefinedPolicies": Knob(
                _STRINGS,
                # AppGwSslPolicy20220101 also offers CBC suites: judged by its suites, it falls short.
                ["AppGwSslPolicy20220101S"],
                "allowed Application Gateway predefined policies (their suites are fixed)",
            ),
            "azureMinProtocolVersions": Knob(
                _STRINGS, ["TLSv1_2", "TLSv1_3"], "allowed minProtocolVersion for Custom/CustomV2 AppGw policies"
            ),
            "gcpMinTlsVersions": Knob(_STRINGS, ["TLS_1_2", "TLS_1_3"], "allowed GCP SSL policy minTlsVersion"),
            "gcpProfiles": Knob(_STRINGS, ["MODERN", "RESTRICTED", "CUSTOM"], "allowed GCP SSL policy profiles"),
            "gcpCustomFeatures": Knob(
                _STRINGS, DEFAULT_GCP_CUSTOM_FEATURES, "cipher suites a CUSTOM GCP SSL policy may enable"
            ),
        },
        catalogue=("T3",),
        peers=(
            "CKV_AWS_103",
            "CKV2_AWS_74",
            "CKV_AZURE_218",
            "CKV_GCP_4",
            "AVD-AWS-0047",
            "AVD-GCP-0039",
            "PSR:AppGw.SSLPolicy",
        ),
    ),
    Rule(
        name="transport-gcp-https-proxy-ssl-policy",
        description="GCP HTTPS and SSL proxies must attach an SSL policy (the default allows TLS 1.0).",
        concern=CONCERN,
        clouds=("gcp",),
        resource_types=GCP_HTTPS_PROXIES,
        check=check_gcp_proxy_ssl_policy,
        catalogue=("T4",),
    ),
    Rule(
        name="transport-acm-managed-dns-validated",
        description="ACM certificates must be issued by ACM (not imported) and DNS-validated so they renew automatically.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(AWS_ACM_CERT,),
        check=check_acm_managed_dns,
        catalogue=("T5",),
        peers=("CKV_AWS_234", "CKV2_AWS_71", "AWSGuard:acm-certificate-expiration"),
    ),
    Rule(
        name="transport-acm-no-wildcard",
        description="ACM certificates should not cover wildcard domains.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(AWS_ACM_CERT,),
        check=check_acm_no_wildcard,
        # Advisory (catalogue): wildcards are a blast-radius concern, not a transport weakness.
        level=ADVISORY,
        catalogue=("T5",),
        peers=("CKV_AWS_233",),
    ),
    Rule(
        name="transport-alb-drop-invalid-headers",
        description="Application load balancers must drop invalid HTTP header fields.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=AWS_LBS,
        check=check_alb_drop_invalid_headers,
        catalogue=("T6",),
        peers=("CKV_AWS_131", "AVD-AWS-0052", "nag:ALBHttpDropInvalidHeaderEnabled"),
    ),
    Rule(
        name="transport-alb-desync-mitigation",
        description="Application load balancers must use defensive or strictest HTTP desync mitigation.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=AWS_LBS,
        check=check_alb_desync_mitigation,
        knobs={"allowedModes": Knob(_STRINGS, ["defensive", "strictest"], "allowed desyncMitigationMode values")},
        catalogue=("T6",),
        peers=("CKV_AWS_328",),
    ),
]
