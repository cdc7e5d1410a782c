"""Tests for policies/rules/transport_security.py: compliant baselines plus one mutation per case."""

from __future__ import annotations

import pytest

from components.config import profiles
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

HTTPS_ONLY = "transport-https-only"
TLS = "transport-tls-policy"

LISTENER = "aws:lb/listener:Listener"
LEGACY_LISTENER = "aws:alb/listener:Listener"
LB = "aws:lb/loadBalancer:LoadBalancer"
CERT = "aws:acm/certificate:Certificate"
APPGW_T = "azure-native:network:ApplicationGateway"
SSL_POLICY_T = "gcp:compute/sSLPolicy:SSLPolicy"
HTTPS_PROXY_T = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
HTTP_PROXY_T = "gcp:compute/targetHttpProxy:TargetHttpProxy"
URL_MAP_T = "gcp:compute/uRLMap:URLMap"

LB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web-alb/50dc6c495c0c9188"
HTTPS_LISTENER = {
    "loadBalancerArn": LB_ARN,
    "port": 443,
    "protocol": "HTTPS",
    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "certificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/1234",
    "defaultActions": [
        {"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/1"}
    ],
}
HTTP_LISTENER = {
    "loadBalancerArn": LB_ARN,
    "port": 80,
    "protocol": "HTTP",
    "defaultActions": [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ],
}
ALB = {
    "loadBalancerType": "application",
    "internal": False,
    "ipAddressType": "ipv4",
    "dropInvalidHeaderFields": True,
    "desyncMitigationMode": "defensive",
    "enableDeletionProtection": True,
}
ACM = {"domainName": "app.example.com", "validationMethod": "DNS"}

GW = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/applicationGateways/appgw"
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
    "sslPolicy": {"policyType": "Predefined", "policyName": "AppGwSslPolicy20220101S"},
    "httpListeners": [
        {
            "name": "https",
            "protocol": "Https",
            "frontendPort": {"id": f"{GW}/frontendPorts/p443"},
            "sslCertificate": {"id": f"{GW}/sslCertificates/cert"},
        },
        {"name": "http", "protocol": "Http", "frontendPort": {"id": f"{GW}/frontendPorts/p80"}},
    ],
    "redirectConfigurations": [
        {
            "name": "http-to-https",
            "redirectType": "Permanent",
            "targetListener": {"id": f"{GW}/httpListeners/https"},
            "includePath": True,
            "includeQueryString": True,
        }
    ],
    "requestRoutingRules": [
        {
            "name": "https",
            "ruleType": "Basic",
            "priority": 100,
            "httpListener": {"id": f"{GW}/httpListeners/https"},
            "backendAddressPool": {"id": f"{GW}/backendAddressPools/app"},
            "backendHttpSettings": {"id": f"{GW}/backendHttpSettingsCollection/app"},
        },
        {
            "name": "http-redirect",
            "ruleType": "Basic",
            "priority": 200,
            "httpListener": {"id": f"{GW}/httpListeners/http"},
            "redirectConfiguration": {"id": f"{GW}/redirectConfigurations/http-to-https"},
        },
    ],
}
GCP_SSL = {"name": "appstack-tls", "profile": "RESTRICTED", "minTlsVersion": "TLS_1_2"}
GCP_HTTPS_PROXY = {
    "name": "web-https",
    "urlMap": "projects/p/global/urlMaps/web",
    "sslCertificates": ["projects/p/global/sslCertificates/web"],
    "sslPolicy": "projects/p/global/sslPolicies/appstack-tls",
}
GCP_HTTP_PROXY = {"name": "web-http", "urlMap": "projects/p/global/urlMaps/web-redirect"}
GCP_REDIRECT_MAP = {
    "name": "web-redirect",
    "selfLink": "https://www.googleapis.com/compute/v1/projects/p/global/urlMaps/web-redirect",
    "defaultUrlRedirect": {
        "httpsRedirect": True,
        "stripQuery": False,
        "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT",
    },
}
GCP_MAIN_MAP = {"name": "web", "defaultService": "projects/p/global/backendServices/web"}


@pytest.mark.parametrize(
    "name, type_, props",
    [
        (HTTPS_ONLY, LISTENER, HTTPS_LISTENER),
        (HTTPS_ONLY, LISTENER, HTTP_LISTENER),
        (HTTPS_ONLY, LEGACY_LISTENER, HTTP_LISTENER),
        (HTTPS_ONLY, APPGW_T, APPGW),
        (TLS, LISTENER, HTTPS_LISTENER),
        (TLS, LISTENER, HTTP_LISTENER),
        (TLS, APPGW_T, APPGW),
        (TLS, SSL_POLICY_T, GCP_SSL),
        (TLS, "gcp:compute/regionSslPolicy:RegionSslPolicy", GCP_SSL),
        ("transport-gcp-https-proxy-ssl-policy", HTTPS_PROXY_T, GCP_HTTPS_PROXY),
        ("transport-acm-managed-dns-validated", CERT, ACM),
        ("transport-acm-no-wildcard", CERT, ACM),
        ("transport-alb-drop-invalid-headers", LB, ALB),
        ("transport-alb-desync-mitigation", LB, ALB),
    ],
)
def test_passes_when_baseline_is_compliant(name, type_, props):
    assert violations(name, type_, props) == []


def test_levels():
    for name in (
        HTTPS_ONLY,
        TLS,
        "transport-gcp-http-proxy-redirects",
        "transport-gcp-https-proxy-ssl-policy",
        "transport-acm-managed-dns-validated",
        "transport-alb-drop-invalid-headers",
        "transport-alb-desync-mitigation",
    ):
        assert rule(name).level == MANDATORY, name
    assert rule("transport-acm-no-wildcard").level == ADVISORY


# --- T1/T2 AWS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, value, expect",
    [
        pytest.param(
            ("defaultActions",),
            [{"type": "forward", "targetGroupArn": "tg"}],
            "defaultActions[0] is 'forward'",
            id="http_listener_forwards",
        ),
        pytest.param(
            ("defaultActions", 0, "redirect", "protocol"),
            "HTTP",
            "redirects with protocol 'HTTP'",
            id="redirect_to_http",
        ),
        pytest.param(
            ("defaultActions", 0, "redirect", "protocol"),
            DEL,
            "redirects with protocol None",
            id="redirect_keeps_protocol",
        ),
        pytest.param(
            ("defaultActions",),
            HTTP_LISTENER["defaultActions"]
            + [{"type": "fixed-response", "fixedResponse": {"contentType": "text/plain"}}],
            "defaultActions[1] is 'fixed-response'",
            id="second_action_serves_http",
        ),
        pytest.param(("defaultActions",), [], "no defaultActions", id="no_default_actions"),
        pytest.param(("defaultActions",), "redirect", "not a list", id="default_actions_malformed"),
        pytest.param(("protocol",), DEL, "defaultActions[0] is 'forward'", id="protocol_missing_defaults_to_http"),
        pytest.param(("protocol",), "TCP", "protocol TCP carries unencrypted traffic", id="tcp_listener"),
    ],
)
def test_fails_when_http_listener_serves_plain_http(path, value, expect):
    base = HTTPS_LISTENER if path == ("protocol",) else HTTP_LISTENER
    msgs = violations(HTTPS_ONLY, LISTENER, mutate(base, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


def test_fails_when_http_listener_forwards():
    msgs = violations(HTTPS_ONLY, LISTENER, mutate(HTTPS_LISTENER, ("protocol",), "HTTP"))
    assert len(msgs) == 1 and "'forward'" in msgs[0]


def test_passes_when_http_listener_redirects_to_https():
    props = mutate(HTTP_LISTENER, ("defaultActions", 0, "redirect", "protocol"), "https")
    assert violations(HTTPS_ONLY, LISTENER, props) == []


def test_passes_when_plaintext_protocol_allowed_by_knob():
    props = mutate(HTTPS_LISTENER, ("protocol",), "TCP")
    assert violations(HTTPS_ONLY, LISTENER, props, config={"allowedPlaintextProtocols": ["TCP"]}) == []


def test_unknown_redirect_protocol_raises_in_preview_and_fails_on_up():
    props = mutate(HTTP_LISTENER, ("defaultActions", 0, "redirect", "protocol"), UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        violations(HTTPS_ONLY, LISTENER, props)
    msgs = violations(HTTPS_ONLY, LISTENER, props, dry_run=False)
    assert len(msgs) == 1 and "unknown" in msgs[0]


# --- T1/T2 Azure ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, value, expect",
    [
        pytest.param(
            ("requestRoutingRules", 1),
            dict(APPGW["requestRoutingRules"][0], name="http-app", httpListener={"id": f"{GW}/httpListeners/http"}),
            "served by routing rule http-app without a redirectConfiguration",
            id="http_listener_forwards",
        ),
        pytest.param(
            ("redirectConfigurations", 0, "targetListener", "id"),
            f"{GW}/httpListeners/http",
            "targets listener 'http', which is not Https",
            id="redirect_targets_http_listener",
        ),
        pytest.param(
            ("redirectConfigurations", 0),
            {"name": "http-to-https", "redirectType": "Permanent", "targetUrl": "http://app.example.com"},
            "does not redirect to an Https listener",
            id="redirect_to_http_url",
        ),
        pytest.param(
            ("redirectConfigurations",), [], "which the gateway does not define", id="redirect_configuration_missing"
        ),
        pytest.param(
            ("requestRoutingRules",),
            [APPGW["requestRoutingRules"][0]],
            "no routing rule redirects it",
            id="http_listener_without_rule",
        ),
        pytest.param(
            ("httpListeners", 0, "protocol"),
            DEL,
            "listener https (protocol None, treated as Http) is served by routing rule https",
            id="listener_protocol_missing",
        ),
        pytest.param(("httpListeners",), "https", "not a list", id="listeners_malformed"),
        pytest.param(("httpListeners", 1), "http", "not an object", id="listener_malformed"),
    ],
)
def test_fails_when_appgw_http_listener_not_redirected(path, value, expect):
    msgs = violations(HTTPS_ONLY, APPGW_T, mutate(APPGW, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


def test_passes_when_appgw_redirects_to_https_url():
    props = mutate(
        APPGW,
        ("redirectConfigurations", 0),
        {"name": "http-to-https", "redirectType": "Permanent", "targetUrl": "https://app.example.com"},
    )
    assert violations(HTTPS_ONLY, APPGW_T, props) == []


def test_unknown_appgw_redirect_reference_raises_in_preview():
    props = mutate(APPGW, ("requestRoutingRules", 1, "redirectConfiguration", "id"), UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        violations(HTTPS_ONLY, APPGW_T, props)
    assert violations(HTTPS_ONLY, APPGW_T, props, dry_run=False)


# --- T1/T2 GCP (stack) ---------------------------------------------------------------------------

GCP_STACK = [
    (HTTP_PROXY_T, "web-http", GCP_HTTP_PROXY),
    (URL_MAP_T, "web-redirect", GCP_REDIRECT_MAP),
    (URL_MAP_T, "web", GCP_MAIN_MAP),
    (HTTPS_PROXY_T, "web-https", GCP_HTTPS_PROXY),
]


def test_passes_when_http_proxy_uses_redirect_only_map():
    assert stack_violations("transport-gcp-http-proxy-redirects", GCP_STACK) == []


def test_passes_when_http_proxy_references_map_by_self_link():
    res = [(HTTP_PROXY_T, "web-http", dict(GCP_HTTP_PROXY, urlMap=GCP_REDIRECT_MAP["selfLink"] + "?x")), *GCP_STACK[1:]]
    res[1] = (
        URL_MAP_T,
        "web-redirect",
        dict(GCP_REDIRECT_MAP, selfLink=GCP_REDIRECT_MAP["selfLink"] + "?x", name="other"),
    )
    assert stack_violations("transport-gcp-http-proxy-redirects", res) == []


@pytest.mark.parametrize(
    "proxy, redirect_map, expect",
    [
        pytest.param(
            dict(GCP_HTTP_PROXY, urlMap="projects/p/global/urlMaps/web"),
            GCP_REDIRECT_MAP,
            "its URL map web is not redirect-only (defaultUrlRedirect.httpsRedirect is not true)",
            id="http_proxy_serves_app_map",
        ),
        pytest.param(
            GCP_HTTP_PROXY,
            mutate(GCP_REDIRECT_MAP, ("defaultUrlRedirect", "httpsRedirect"), False),
            "httpsRedirect is not true",
            id="redirect_not_https",
        ),
        pytest.param(
            GCP_HTTP_PROXY,
            dict(GCP_REDIRECT_MAP, pathMatchers=[{"name": "api", "defaultService": "svc"}]),
            "pathMatchers is set",
            id="redirect_map_also_routes",
        ),
        pytest.param(
            dict(GCP_HTTP_PROXY, urlMap="projects/p/global/urlMaps/elsewhere"),
            GCP_REDIRECT_MAP,
            "not in the stack",
            id="map_outside_stack",
        ),
        pytest.param(mutate(GCP_HTTP_PROXY, ("urlMap",), DEL), GCP_REDIRECT_MAP, "has no urlMap", id="url_map_missing"),
    ],
)
def test_fails_when_http_proxy_serves_plain_http(proxy, redirect_map, expect):
    res = [
        (HTTP_PROXY_T, "web-http", proxy),
        (URL_MAP_T, "web-redirect", redirect_map),
        (URL_MAP_T, "web", GCP_MAIN_MAP),
    ]
    found = stack_violations("transport-gcp-http-proxy-redirects", res)
    assert len(found) == 1 and expect in found[0][0] and reported_name(found[0][1]) == "web-http", found


def test_unknown_url_map_reference_raises_in_preview_and_fails_on_up():
    res = [(HTTP_PROXY_T, "web-http", dict(GCP_HTTP_PROXY, urlMap=UNKNOWN_STRING_VALUE)), *GCP_STACK[1:]]
    with pytest.raises(UnknownValueError):
        stack_violations("transport-gcp-http-proxy-redirects", res)
    found = stack_violations("transport-gcp-http-proxy-redirects", res, dry_run=False)
    assert found and "unknown" in found[0][0]


# --- T3 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base, path, value, expect",
    [
        pytest.param(
            HTTPS_LISTENER,
            ("sslPolicy",),
            "ELBSecurityPolicy-2016-08",
            "'ELBSecurityPolicy-2016-08' is not allowed",
            id="ssl_policy_not_allowed",
        ),
        pytest.param(
            HTTPS_LISTENER,
            ("sslPolicy",),
            "ELBSecurityPolicy-TLS-1-1-2017-01",
            "'ELBSecurityPolicy-TLS-1-1-2017-01' is not allowed",
            id="ssl_policy_tls_1_1",
        ),
        pytest.param(HTTPS_LISTENER, ("sslPolicy",), DEL, "sslPolicy is not set", id="ssl_policy_missing"),
        pytest.param(
            mutate(HTTPS_LISTENER, ("protocol",), "TLS"),
            ("sslPolicy",),
            DEL,
            "sslPolicy is not set",
            id="nlb_tls_listener_without_policy",
        ),
    ],
)
def test_fails_when_ssl_policy_not_allowed(base, path, value, expect):
    msgs = violations(TLS, LISTENER, mutate(base, path, value))
    assert msgs and expect in msgs[0]


@pytest.mark.parametrize(
    "policy",
    [
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    ],
)
def test_passes_when_ssl_policy_is_tls13_without_cbc(policy):
    assert violations(TLS, LISTENER, dict(HTTPS_LISTENER, sslPolicy=policy)) == []
    assert violations(TLS, LISTENER, dict(HTTPS_LISTENER, protocol="TLS", sslPolicy=policy)) == []


@pytest.mark.parametrize(
    "policy",
    [
        # TLS 1.3 policies that still offer CBC-mode TLS 1.2 suites (ECDHE-*-AES*-SHA256/SHA384).
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
    ],
)
def test_fails_when_ssl_policy_offers_cbc_suites(policy):
    msgs = violations(TLS, LISTENER, dict(HTTPS_LISTENER, sslPolicy=policy))
    assert len(msgs) == 1 and "CBC" in msgs[0] and "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" in msgs[0], msgs


def test_ssl_policy_allow_list_is_configurable():
    # An owner who must serve old clients widens the list (knob awsSslPolicies).
    for policy in ("ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-2021-06"):
        props = dict(HTTPS_LISTENER, sslPolicy=policy)
        assert violations(TLS, LISTENER, props)
        assert violations(TLS, LISTENER, props, config={"awsSslPolicies": [policy]}) == []


def test_config_accepts_only_tls_policies_the_pack_accepts():
    # components/config lists the policies a stack may pick: none may be refused at deploy time.
    for policy in profiles.AWS_TLS_POLICIES:
        assert violations(TLS, LISTENER, dict(HTTPS_LISTENER, sslPolicy=policy)) == [], policy
    assert set(profiles.AWS_TLS_POLICIES) == set(rule(TLS).knobs["awsSslPolicies"].default)
    assert profiles.AWS_DEFAULT_TLS_POLICY in profiles.AWS_TLS_POLICIES
    assert set(profiles.AZURE_TLS_POLICIES) <= set(rule(TLS).knobs["azurePredefinedPolicies"].default)
    assert set(profiles.GCP_TLS_POLICIES) <= set(rule(TLS).knobs["gcpProfiles"].default)


def test_unknown_ssl_policy_raises_in_preview():
    with pytest.raises(UnknownValueError):
        violations(TLS, LISTENER, dict(HTTPS_LISTENER, sslPolicy=UNKNOWN_STRING_VALUE))


@pytest.mark.parametrize(
    "path, value, expect",
    [
        pytest.param(
            ("sslPolicy",),
            {"policyType": "CustomV2", "minProtocolVersion": "TLSv1_1"},
            "minProtocolVersion is 'TLSv1_1'",
            id="appgw_min_tls_1_1",
        ),
        pytest.param(
            ("sslPolicy",),
            {"policyType": "Custom", "cipherSuites": ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]},
            "minProtocolVersion is None",
            id="appgw_custom_without_minimum",
        ),
        pytest.param(
            ("sslPolicy", "policyName"),
            "AppGwSslPolicy20170401S",
            "'AppGwSslPolicy20170401S' is not allowed",
            id="appgw_old_predefined_policy",
        ),
        pytest.param(("sslPolicy",), DEL, "sslPolicy is None", id="appgw_ssl_policy_missing"),
        pytest.param(
            ("sslPolicy",),
            {"disabledSslProtocols": ["TLSv1_0"]},
            "policyType is None",
            id="appgw_legacy_disabled_protocols",
        ),
        pytest.param(
            ("sslPolicy",),
            "AppGwSslPolicy20220101S",
            "sslPolicy is 'AppGwSslPolicy20220101S'",
            id="appgw_ssl_policy_malformed",
        ),
        pytest.param(
            ("sslProfiles",),
            [{"name": "legacy", "sslPolicy": {"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"}}],
            "sslProfiles[0].sslPolicy.policyName",
            id="appgw_ssl_profile_weak",
        ),
    ],
)
def test_fails_when_appgw_tls_policy_weak(path, value, expect):
    msgs = violations(TLS, APPGW_T, mutate(APPGW, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


def test_fails_when_appgw_min_tls_1_1():
    props = mutate(APPGW, ("sslPolicy",), {"policyType": "Custom", "minProtocolVersion": "TLSv1_1"})
    msgs = violations(TLS, APPGW_T, props)
    assert len(msgs) == 1 and "'TLSv1_1'" in msgs[0]


def test_passes_when_appgw_custom_v2_tls13():
    props = mutate(APPGW, ("sslPolicy",), {"policyType": "CustomV2", "minProtocolVersion": "TLSv1_3"})
    assert violations(TLS, APPGW_T, props) == []


@pytest.mark.parametrize(
    "path, value, expect",
    [
        pytest.param(("minTlsVersion",), "TLS_1_0", "minTlsVersion is 'TLS_1_0'", id="gcp_min_tls_1_0"),
        pytest.param(("minTlsVersion",), DEL, "GCP default TLS_1_0", id="gcp_min_tls_missing"),
        pytest.param(("profile",), "COMPATIBLE", "profile is 'COMPATIBLE'", id="gcp_compatible_profile"),
        pytest.param(("profile",), DEL, "GCP default COMPATIBLE", id="gcp_profile_missing"),
        pytest.param(("profile",), "CUSTOM", "lists no customFeatures", id="gcp_custom_without_features"),
    ],
)
def test_fails_when_gcp_ssl_policy_weak(path, value, expect):
    msgs = violations(TLS, SSL_POLICY_T, mutate(GCP_SSL, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


def test_fails_when_gcp_custom_profile_enables_cbc():
    props = dict(
        GCP_SSL,
        profile="CUSTOM",
        customFeatures=["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA"],
    )
    msgs = violations(TLS, SSL_POLICY_T, props)
    assert len(msgs) == 1 and "TLS_RSA_WITH_AES_128_CBC_SHA" in msgs[0]


def test_passes_when_gcp_custom_profile_is_restricted():
    props = dict(GCP_SSL, profile="CUSTOM", customFeatures=["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"])
    assert violations(TLS, SSL_POLICY_T, props) == []


# --- T4 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_",
    [
        HTTPS_PROXY_T,
        "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy",
        "gcp:compute/targetSSLProxy:TargetSSLProxy",
    ],
)
@pytest.mark.parametrize("value", [DEL, ""], ids=["missing", "empty"])
def test_fails_when_https_proxy_has_no_ssl_policy(type_, value):
    msgs = violations("transport-gcp-https-proxy-ssl-policy", type_, mutate(GCP_HTTPS_PROXY, ("sslPolicy",), value))
    assert len(msgs) == 1 and "TLS 1.0" in msgs[0]


def test_unknown_proxy_ssl_policy_raises_in_preview():
    with pytest.raises(UnknownValueError):
        violations(
            "transport-gcp-https-proxy-ssl-policy", HTTPS_PROXY_T, dict(GCP_HTTPS_PROXY, sslPolicy=UNKNOWN_STRING_VALUE)
        )


# --- T5 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "props, expect",
    [
        pytest.param(dict(ACM, validationMethod="EMAIL"), "validationMethod is 'EMAIL'", id="email_validation"),
        pytest.param(mutate(ACM, ("validationMethod",), DEL), "validationMethod is None", id="validation_missing"),
        pytest.param(
            {"certificateBody": "-----BEGIN CERTIFICATE-----", "privateKey": "-----BEGIN PRIVATE KEY-----"},
            "imported",
            id="imported_certificate",
        ),
    ],
)
def test_fails_when_certificate_not_managed(props, expect):
    msgs = violations("transport-acm-managed-dns-validated", CERT, props)
    assert msgs and expect in msgs[0]


def test_passes_when_certificate_from_private_ca():
    props = {
        "domainName": "app.internal",
        "certificateAuthorityArn": "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/1",
    }
    assert violations("transport-acm-managed-dns-validated", CERT, props) == []


@pytest.mark.parametrize(
    "props, expect",
    [
        pytest.param(dict(ACM, domainName="*.example.com"), "'*.example.com'", id="wildcard_domain"),
        pytest.param(
            dict(ACM, subjectAlternativeNames=["app.example.com", "*.app.example.com"]),
            "'*.app.example.com'",
            id="wildcard_san",
        ),
    ],
)
def test_fails_when_certificate_is_wildcard(props, expect):
    msgs = violations("transport-acm-no-wildcard", CERT, props)
    assert len(msgs) == 1 and expect in msgs[0]


# --- T6 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, value, expect",
    [
        pytest.param(LB, False, "dropInvalidHeaderFields is False", id="drop_invalid_headers_off"),
        pytest.param(LB, DEL, "dropInvalidHeaderFields is None", id="drop_invalid_headers_missing"),
        pytest.param(
            "aws:alb/loadBalancer:LoadBalancer", "false", "dropInvalidHeaderFields is 'false'", id="legacy_alb_token"
        ),
    ],
)
def test_fails_when_alb_keeps_invalid_headers(type_, value, expect):
    msgs = violations("transport-alb-drop-invalid-headers", type_, mutate(ALB, ("dropInvalidHeaderFields",), value))
    assert len(msgs) == 1 and expect in msgs[0]


def test_fails_when_lb_type_missing_defaults_to_alb():
    props = mutate(mutate(ALB, ("loadBalancerType",), DEL), ("dropInvalidHeaderFields",), DEL)
    assert violations("transport-alb-drop-invalid-headers", LB, props)


def test_passes_when_network_load_balancer():
    props = {"loadBalancerType": "network", "internal": False}
    assert violations("transport-alb-drop-invalid-headers", LB, props) == []
    assert violations("transport-alb-desync-mitigation", LB, dict(props, desyncMitigationMode="monitor")) == []


def test_unknown_drop_invalid_headers_raises_in_preview_and_fails_on_up():
    props = dict(ALB, dropInvalidHeaderFields=UNKNOWN_BOOLEAN_VALUE)
    with pytest.raises(UnknownValueError):
        violations("transport-alb-drop-invalid-headers", LB, props)
    assert violations("transport-alb-drop-invalid-headers", LB, props, dry_run=False)


def test_fails_when_desync_mitigation_monitor():
    msgs = violations("transport-alb-desync-mitigation", LB, dict(ALB, desyncMitigationMode="monitor"))
    assert len(msgs) == 1 and "'monitor'" in msgs[0]


@pytest.mark.parametrize("mode", ["strictest", "Defensive", DEL])
def test_passes_when_desync_mitigation_defensive(mode):
    assert violations("transport-alb-desync-mitigation", LB, mutate(ALB, ("desyncMitigationMode",), mode)) == []


# ---------------------------------------------------------------------------------------------
# Application Gateway custom policies are judged by their cipher suites, as GCP CUSTOM is.

APPGW_CUSTOM = {
    "policyType": "CustomV2",
    "minProtocolVersion": "TLSv1_2",
    "cipherSuites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"],
}
APPGW_WITH_CUSTOM = mutate(APPGW, ("sslPolicy",), APPGW_CUSTOM)

APPGW_CIPHER_CASES = [
    ("cbc", ("sslPolicy", "cipherSuites", 1), "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    ("triple_des", ("sslPolicy", "cipherSuites", 1), "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    ("rsa_key_exchange", ("sslPolicy", "cipherSuites", 1), "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    ("dhe_dss", ("sslPolicy", "cipherSuites", 1), "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256"),
    ("custom_v1", ("sslPolicy", "policyType"), "Custom"),
    ("no_suites_listed", ("sslPolicy", "cipherSuites"), DEL),
    (
        "ssl_profile",
        ("sslProfiles",),
        [{"name": "p", "sslPolicy": {**APPGW_CUSTOM, "cipherSuites": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}}],
    ),
]


def test_passes_when_appgw_custom_policy_lists_ecdhe_gcm_only():
    assert violations(TLS, APPGW_T, APPGW_WITH_CUSTOM) == []


@pytest.mark.parametrize("case,path,value", APPGW_CIPHER_CASES, ids=[c[0] for c in APPGW_CIPHER_CASES])
def test_fails_when_appgw_custom_policy_enables_weak_suites(case, path, value):
    found = violations(TLS, APPGW_T, mutate(APPGW_WITH_CUSTOM, path, value))
    if case == "custom_v1":
        assert found == []  # Custom is judged the same way; the baseline suites are strong
        found = violations(
            TLS,
            APPGW_T,
            mutate(
                mutate(APPGW_WITH_CUSTOM, path, value), ("sslPolicy", "cipherSuites", 0), "TLS_RSA_WITH_AES_128_CBC_SHA"
            ),
        )
    assert len(found) == 1 and "cipherSuites" in found[0], found


def test_appgw_cipher_suites_are_a_knob():
    props = mutate(APPGW_WITH_CUSTOM, ("sslPolicy", "cipherSuites", 1), "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384")
    allowed = [*APPGW_CUSTOM["cipherSuites"], "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"]
    assert violations(TLS, APPGW_T, props, config={"azureCipherSuites": allowed}) == []


# ---------------------------------------------------------------------------------------------
# Classic ELB: listeners and SSL negotiation policies.

CLASSIC_ELB_T = "aws:elb/loadBalancer:LoadBalancer"
ELB_POLICY_T = "aws:elb/loadBalancerPolicy:LoadBalancerPolicy"
CLASSIC_ELB = {
    "subnets": ["subnet-1"],
    "listeners": [
        {
            "lbPort": 443,
            "lbProtocol": "https",
            "instancePort": 8080,
            "instanceProtocol": "http",
            "sslCertificateId": "arn:aws:acm:eu-west-1:111122223333:certificate/x",
        }
    ],
}
ELB_POLICY = {
    "loadBalancerName": "web",
    "policyName": "tls12",
    "policyTypeName": "SSLNegotiationPolicyType",
    "policyAttributes": [{"name": "Reference-Security-Policy", "value": "ELBSecurityPolicy-TLS-1-2-2017-01"}],
}
ELB_CUSTOM_POLICY = mutate(
    ELB_POLICY,
    ("policyAttributes",),
    [{"name": "Protocol-TLSv1.2", "value": "true"}, {"name": "ECDHE-RSA-AES128-GCM-SHA256", "value": "true"}],
)


def test_passes_when_classic_elb_is_https_with_tls12_policy():
    assert violations(HTTPS_ONLY, CLASSIC_ELB_T, CLASSIC_ELB) == []
    assert violations(TLS, ELB_POLICY_T, ELB_POLICY) == []
    assert violations(TLS, ELB_POLICY_T, ELB_CUSTOM_POLICY) == []
    assert violations(TLS, ELB_POLICY_T, mutate(ELB_POLICY, ("policyTypeName",), "ProxyProtocolPolicyType")) == []


@pytest.mark.parametrize(
    "path,value,needle",
    [
        (("listeners", 0, "lbProtocol"), "http", "cannot redirect"),
        (("listeners", 0, "lbProtocol"), "tcp", "TCP"),
        (("listeners", 0, "lbProtocol"), DEL, "None"),
    ],
    ids=["http", "tcp", "missing"],
)
def test_fails_when_classic_elb_listener_is_plaintext(path, value, needle):
    found = violations(HTTPS_ONLY, CLASSIC_ELB_T, mutate(CLASSIC_ELB, path, value))
    assert len(found) == 1 and needle.upper() in found[0].upper(), found


@pytest.mark.parametrize(
    "base,path,value,needle",
    [
        (ELB_POLICY, ("policyAttributes", 0, "value"), "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-2016-08"),
        (ELB_CUSTOM_POLICY, ("policyAttributes", 0, "name"), "Protocol-TLSv1", "Protocol-TLSv1"),
        (ELB_CUSTOM_POLICY, ("policyAttributes", 1, "name"), "ECDHE-RSA-AES128-SHA256", "weak ciphers"),
        (ELB_CUSTOM_POLICY, ("policyAttributes", 1, "name"), "DES-CBC3-SHA", "weak ciphers"),
        (ELB_CUSTOM_POLICY, ("policyAttributes", 1, "name"), "AES128-GCM-SHA256", "weak ciphers"),
    ],
    ids=["old_reference_policy", "tls10_enabled", "cbc_cipher", "3des_cipher", "rsa_key_exchange"],
)
def test_fails_when_classic_elb_policy_is_weak(base, path, value, needle):
    found = violations(TLS, ELB_POLICY_T, mutate(base, path, value))
    assert found and any(needle in m for m in found), found


# ---------------------------------------------------------------------------------------------
# Listener rules on a plain-HTTP listener (stack): the default redirects, the rules must too.

RULES_T = "transport-http-listener-rules-redirect"
LISTENER_RULE_T = "aws:lb/listenerRule:ListenerRule"
HTTP_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/web-alb/50dc/http"
HTTPS_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/web-alb/50dc/https"
REDIRECT_RULE = {
    "listenerArn": HTTP_ARN,
    "priority": 10,
    "actions": [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}],
    "conditions": [{"pathPattern": {"values": ["/api/*"]}}],
}
FORWARD = [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/web/1"}]
RULES_STACK = [
    (LISTENER, "http", {**HTTP_LISTENER, "arn": HTTP_ARN}),
    (LISTENER, "https", {**HTTPS_LISTENER, "arn": HTTPS_ARN}),
    (LISTENER_RULE_T, "api", REDIRECT_RULE),
    (LISTENER_RULE_T, "secure-api", {**REDIRECT_RULE, "listenerArn": HTTPS_ARN, "actions": FORWARD}),
]


def test_passes_when_http_listener_rules_redirect():
    assert stack_violations(RULES_T, RULES_STACK, dry_run=False) == []


@pytest.mark.parametrize(
    "actions,needle",
    [
        (FORWARD, "'forward'"),
        ([{"type": "fixed-response", "fixedResponse": {"contentType": "text/plain"}}], "'fixed-response'"),
        ([{"type": "redirect", "redirect": {"protocol": "HTTP", "port": "8080"}}], "protocol 'HTTP'"),
        ([{"type": "authenticate-oidc"}, *FORWARD], "'authenticate-oidc'"),
        ([], "no actions"),
    ],
    ids=["forward", "fixed_response", "redirect_to_http", "authenticate_then_forward", "no_actions"],
)
def test_fails_when_http_listener_rule_serves_plain_http(actions, needle):
    stack = [*RULES_STACK[:2], (LISTENER_RULE_T, "api", {**REDIRECT_RULE, "actions": actions})]
    found = stack_violations(RULES_T, stack, dry_run=False)
    assert len(found) == 1 and needle in found[0][0] and reported_name(found[0][1]) == "api", found


def test_legacy_alb_listener_rule_token():
    stack = [RULES_STACK[0], ("aws:alb/listenerRule:ListenerRule", "api", {**REDIRECT_RULE, "actions": FORWARD})]
    assert len(stack_violations(RULES_T, stack, dry_run=False)) == 1


def test_unknown_listener_arn_raises_in_preview_and_fails_on_up():
    stack = [
        (LISTENER, "http", {**HTTP_LISTENER, "arn": UNKNOWN_STRING_VALUE}),
        (LISTENER_RULE_T, "api", {**REDIRECT_RULE, "listenerArn": UNKNOWN_STRING_VALUE, "actions": FORWARD}),
    ]
    with pytest.raises(UnknownValueError):
        stack_violations(RULES_T, stack)
    found = stack_violations(RULES_T, stack, dry_run=False)
    assert len(found) == 1 and "failing closed" in found[0][0]


ELB_LISTENERS = "transport-elb-listener-tls-policy"
ELB_LISTENER_POLICY_T = "aws:elb/listenerPolicy:ListenerPolicy"
ELB_STACK = [
    (CLASSIC_ELB_T, "web", {**CLASSIC_ELB, "name": "web"}),
    (ELB_POLICY_T, "tls12", ELB_POLICY),
    (ELB_LISTENER_POLICY_T, "web-443", {"loadBalancerName": "web", "loadBalancerPort": 443, "policyNames": ["tls12"]}),
]


def _elb_stack(i: int, path: tuple, value: object) -> list:
    out = list(ELB_STACK)
    out[i] = (out[i][0], out[i][1], mutate(out[i][2], path, value))
    return out


def test_passes_when_classic_elb_listener_has_negotiation_policy():
    assert stack_violations(ELB_LISTENERS, ELB_STACK, dry_run=False) == []


@pytest.mark.parametrize(
    "stack",
    [
        ELB_STACK[:2],
        _elb_stack(2, ("loadBalancerPort",), 8443),
        _elb_stack(2, ("loadBalancerName",), "other"),
        _elb_stack(2, ("policyNames",), ["stickiness"]),
        _elb_stack(1, ("policyTypeName",), "ProxyProtocolPolicyType"),
    ],
    ids=["no_listener_policy", "other_port", "other_load_balancer", "other_policy", "not_a_negotiation_policy"],
)
def test_fails_when_classic_elb_listener_keeps_default_tls(stack):
    found = stack_violations(ELB_LISTENERS, stack, dry_run=False)
    assert len(found) == 1 and "ELBSecurityPolicy-2016-08" in found[0][0] and reported_name(found[0][1]) == "web"


def test_unknown_elb_name_raises_in_preview_and_fails_on_up():
    stack = _elb_stack(0, ("name",), UNKNOWN_STRING_VALUE)
    stack = [
        stack[0],
        stack[1],
        (ELB_LISTENER_POLICY_T, "web-443", {**ELB_STACK[2][2], "loadBalancerName": UNKNOWN_STRING_VALUE}),
    ]
    with pytest.raises(UnknownValueError):
        stack_violations(ELB_LISTENERS, stack)
    found = stack_violations(ELB_LISTENERS, stack, dry_run=False)
    assert len(found) == 1 and "failing closed" in found[0][0]


def test_fails_when_appgw_predefined_policy_offers_cbc_suites():
    props = mutate(APPGW, ("sslPolicy", "policyName"), "AppGwSslPolicy20220101")
    found = violations(TLS, APPGW_T, props)
    assert len(found) == 1 and "'AppGwSslPolicy20220101'" in found[0] and "AppGwSslPolicy20220101S" in found[0]
