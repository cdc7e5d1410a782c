"""GCP TLS load balancer: a global external Application Load Balancer in front of the VMs."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp.compute as compute
import pulumi_gcp.dns as dns
import pulumi_gcp.monitoring as monitoring

from ..interfaces import LoadBalancerArgs
from ..naming import digest
from .names import app_of, base, labels, physical
from .vm import zone_count, zone_of

#: The global external Application Load Balancer (Envoy-based), not the classic one.
SCHEME = "EXTERNAL_MANAGED"
COMPUTE_API = "https://www.googleapis.com/compute/v1/"
#: Cloud Armor's preconfigured WAF rules (ModSecurity CRS 3.3), each denying with 403 when it
#: matches: the OWASP top-10 classes a web app behind this stack is exposed to.
WAF_RULES = (
    "sqli-v33-stable",
    "xss-v33-stable",
    "lfi-v33-stable",
    "rfi-v33-stable",
    "rce-v33-stable",
    "methodenforcement-v33-stable",
    "scannerdetection-v33-stable",
    "protocolattack-v33-stable",
    "sessionfixation-v33-stable",
)
#: Cloud Armor allows at most 10 source ranges per basic match rule.
RANGES_PER_RULE = 10
DEFAULT_RULE_PRIORITY = 2147483647
INTERNET = ("0.0.0.0/0", "::/0")


#: An advanced match expression has at most 5 subexpressions: the path and 4 addresses.
CHECKERS_PER_RULE = 4


def _as_range(address: str) -> str:
    """A checker's address as a one-address range."""
    if "/" in address:
        return address
    return f"{address}/128" if ":" in address else f"{address}/32"


def _checker_rules(first_priority: int, path: str, checkers: Sequence[str]) -> list[compute.SecurityPolicyRuleArgs]:
    """Allow Cloud Monitoring's uptime checkers, on the uptime check's path only.

    Anyone can point an uptime check at any URL, so the checkers' addresses stand for every
    Google Cloud customer: admitted everywhere, they would undo the allow-list. On the health
    path alone they can read what the uptime check reads, nothing else.
    """
    quoted = path.replace("\\", "\\\\").replace("'", "\\'")
    rules = []
    for j in range(0, len(checkers), CHECKERS_PER_RULE):
        sources = " || ".join(f"inIpRange(origin.ip, '{c}')" for c in checkers[j : j + CHECKERS_PER_RULE])
        rules.append(
            compute.SecurityPolicyRuleArgs(
                priority=first_priority + j,
                action="allow",
                description="Cloud Monitoring uptime checkers, on the uptime check's path only",
                match=compute.SecurityPolicyRuleMatchArgs(
                    expr=compute.SecurityPolicyRuleMatchExprArgs(
                        expression=f"request.path == '{quoted}' && ({sources})"
                    )
                ),
            )
        )
    return rules


def _armor_rules(
    waf: bool, ingress_cidrs: Sequence[str], uptime_path: str = "/", uptime_checkers: Sequence[str] = ()
) -> list[compute.SecurityPolicyRuleArgs]:
    rules: list[compute.SecurityPolicyRuleArgs] = []
    if waf:
        for i, rule in enumerate(WAF_RULES):
            rules.append(
                compute.SecurityPolicyRuleArgs(
                    priority=1000 + i,
                    action="deny(403)",
                    description=f"preconfigured WAF: {rule}",
                    match=compute.SecurityPolicyRuleMatchArgs(
                        expr=compute.SecurityPolicyRuleMatchExprArgs(
                            expression=f"evaluatePreconfiguredWaf('{rule}', {{'sensitivity': 1}})"
                        )
                    ),
                    preview=False,
                )
            )
    restricted = not any(c in INTERNET for c in ingress_cidrs)
    if restricted:
        for j in range(0, len(ingress_cidrs), RANGES_PER_RULE):
            rules.append(
                compute.SecurityPolicyRuleArgs(
                    priority=2000 + j,
                    action="allow",
                    description="access.ingressCidrs",
                    match=compute.SecurityPolicyRuleMatchArgs(
                        versioned_expr="SRC_IPS_V1",
                        config=compute.SecurityPolicyRuleMatchConfigArgs(
                            src_ip_ranges=list(ingress_cidrs[j : j + RANGES_PER_RULE])
                        ),
                    ),
                )
            )
        # The uptime check probes the URL from Google's checker addresses; refused at the edge,
        # the "URL down" alert would fire for good. Their addresses come from the Monitoring API
        # (what `gcloud monitoring uptime list-ips` prints), so the list follows Google's changes.
        checkers = sorted({_as_range(a) for a in uptime_checkers})
        rules.extend(_checker_rules(3000, uptime_path, checkers))
    rules.append(
        compute.SecurityPolicyRuleArgs(
            priority=DEFAULT_RULE_PRIORITY,
            # Restricted ingress: everyone else is refused at Google's edge.
            action="deny(403)" if restricted else "allow",
            description="default rule",
            match=compute.SecurityPolicyRuleMatchArgs(
                versioned_expr="SRC_IPS_V1",
                config=compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]),
            ),
        )
    )
    return rules


def managed_zone_named(zones: Sequence[dns.outputs.GetManagedZonesManagedZoneResult], zone: str) -> str:
    """The public Cloud DNS managed zone (its resource name) whose DNS name is `zone`."""
    wanted = zone.rstrip(".") + "."
    for z in zones:
        if z.dns_name == wanted and z.visibility == "public" and z.name:
            return z.name
    raise ValueError(
        f"no public Cloud DNS managed zone for {wanted!r} in the project; create it "
        f"(gcloud dns managed-zones create ... --dns-name={wanted}) or set appstack:dns.zone to one that exists"
    )


class LoadBalancer(pulumi.ComponentResource):
    """Global external Application Load Balancer with TLS, logging and Cloud Armor.

    A global IPv4 address; HTTPS (443) through a target HTTPS proxy with a Google-managed
    certificate for the domain (or `certificate_id`) and an SSL policy (`tls_policy` profile,
    TLS 1.2 minimum); HTTP (80) through its own URL map that only redirects to HTTPS. The backend
    service (HTTP to the app port, every request logged) has one unmanaged instance group per
    zone as backends and an HTTP health check on the health path. A Cloud Armor policy is
    attached when `waf` is on (preconfigured WAF rules, deny 403) or ingress is restricted to
    `extras["ingress_cidrs"]`. An A record in the zone's Cloud DNS managed zone points the
    domain at the address (the managed certificate provisions only once it resolves). With
    `deletion_protection` both forwarding rules refuse deletion (`deletionPolicy: PREVENT`).
    Outputs: `url`, `address` (IP), `lb_id` (URL map name), `target_group_id` (backend name).
    """

    url: pulumi.Output[str]
    address: pulumi.Output[str]
    lb_id: pulumi.Output[str]
    target_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:gcp:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        gcp_labels = labels(args.tags)
        base_name = base(app_of(name, "lb"))
        # PREVENT: `pulumi destroy` (or a replacement) fails on the front door until turned off.
        deletion_policy = "PREVENT" if args.deletion_protection else "DELETE"
        ingress_cidrs = list(args.extras.get("ingress_cidrs", INTERNET[:1]))

        address = compute.GlobalAddress(
            f"{name}-ip",
            name=physical(base_name, "ip"),
            description="appstack load balancer address",
            ip_version="IPV4",
            address_type="EXTERNAL",
            labels=gcp_labels,
            # The address is in users' DNS caches: it goes only with the forwarding rules.
            deletion_policy=deletion_policy,
            opts=child,
        )

        # One unmanaged instance group per zone the VMs use, holding that zone's VMs.
        zones = compute.get_zones_output(status="UP", opts=invoke).names
        count = zone_count(args.subnet_ids)
        groups = []
        for j in range(min(count, len(args.instance_ids))):
            members = [
                pulumi.Output.concat(COMPUTE_API, iid) for i, iid in enumerate(args.instance_ids) if i % count == j
            ]
            groups.append(
                compute.InstanceGroup(
                    f"{name}-ig-{j}",
                    name=physical(base_name, f"ig-{j}"),
                    description="appstack VMs in one zone",
                    zone=zone_of(zones, j, count),
                    network=args.network_id,
                    instances=members,
                    named_ports=[compute.InstanceGroupNamedPortArgs(name="http", port=args.app_port)],
                    opts=child,
                )
            )

        health = compute.HealthCheck(
            f"{name}-hc",
            name=physical(base_name, "hc"),
            description="appstack app health",
            http_health_check=compute.HealthCheckHttpHealthCheckArgs(
                port=args.app_port, request_path=args.health_check_path
            ),
            check_interval_sec=10,
            timeout_sec=5,
            healthy_threshold=2,
            unhealthy_threshold=3,
            opts=child,
        )
        armor = None
        restricted = not any(c in INTERNET for c in ingress_cidrs)
        if args.waf or restricted:
            armor = compute.SecurityPolicy(
                f"{name}-armor",
                name=physical(base_name, "armor"),
                description="appstack Cloud Armor: preconfigured WAF rules and the ingress allow-list",
                type="CLOUD_ARMOR",
                rules=_armor_rules(args.waf, ingress_cidrs)
                if not restricted
                else monitoring.get_uptime_check_i_ps_output(opts=pulumi.InvokeOutputOptions(parent=self)).apply(
                    lambda found: _armor_rules(
                        args.waf, ingress_cidrs, args.health_check_path, [c.ip_address for c in found.uptime_check_ips]
                    )
                ),
                # Verbose: the request log names the WAF rule and field that matched.
                advanced_options_config=compute.SecurityPolicyAdvancedOptionsConfigArgs(log_level="VERBOSE"),
                labels=gcp_labels,
                opts=child,
            )
        backend = compute.BackendService(
            f"{name}-backend",
            name=physical(base_name, "backend"),
            # Names the VMs' firewall rule for the load balancer: created after it, deleted before.
            description=pulumi.Output.concat("appstack VMs, reached through firewall rule ", args.security_group_id),
            load_balancing_scheme=SCHEME,
            protocol="HTTP",
            port_name="http",
            timeout_sec=30,
            connection_draining_timeout_sec=30,
            health_checks=health.id,
            backends=[
                compute.BackendServiceBackendArgs(group=g, balancing_mode="UTILIZATION", capacity_scaler=1.0)
                # A VM group (`compute.mode: group`) is one managed instance group over the zones.
                for g in ([args.instance_group] if args.instance_group is not None else [g.self_link for g in groups])
            ],
            # Every request logged: the load balancer's access log (status, latency, Armor verdict).
            log_config=compute.BackendServiceLogConfigArgs(enable=True, sample_rate=1.0),
            security_policy=armor.self_link if armor else None,
            opts=child,
        )

        if args.certificate_id:
            certificates: list[pulumi.Input[str]] = [args.certificate_id]
        else:
            cert = compute.ManagedSslCertificate(
                f"{name}-cert",
                # Certificates are immutable: a new domain is a new certificate, created (under a
                # new name) before the proxy lets go of the old one.
                name=physical(base_name, f"cert-{digest(args.domain)}"),
                description=f"Google-managed certificate for {args.domain}",
                managed=compute.ManagedSslCertificateManagedArgs(domains=[args.domain]),
                opts=child,
            )
            certificates = [cert.id]
        ssl_policy = compute.SSLPolicy(
            f"{name}-tls",
            name=physical(base_name, "tls"),
            description="TLS 1.2+ with the profile's ciphers",
            profile=args.tls_policy,
            min_tls_version="TLS_1_2",
            opts=child,
        )
        url_map = compute.URLMap(
            f"{name}-urlmap",
            name=physical(base_name, "urlmap"),
            description="appstack HTTPS routes",
            default_service=backend.id,
            opts=child,
        )
        redirect = compute.URLMap(
            f"{name}-redirect",
            name=physical(base_name, "redirect"),
            description="HTTP only redirects to HTTPS",
            default_url_redirect=compute.URLMapDefaultUrlRedirectArgs(
                https_redirect=True, strip_query=False, redirect_response_code="MOVED_PERMANENTLY_DEFAULT"
            ),
            opts=child,
        )
        https_proxy = compute.TargetHttpsProxy(
            f"{name}-https-proxy",
            name=physical(base_name, "https-proxy"),
            description="appstack TLS termination",
            url_map=url_map.id,
            ssl_certificates=certificates,
            ssl_policy=ssl_policy.id,
            opts=child,
        )
        http_proxy = compute.TargetHttpProxy(
            f"{name}-http-proxy",
            name=physical(base_name, "http-proxy"),
            description="appstack HTTP to HTTPS redirect",
            url_map=redirect.id,
            opts=child,
        )
        for port, target, suffix in (("443", https_proxy.id, "https"), ("80", http_proxy.id, "http")):
            compute.GlobalForwardingRule(
                f"{name}-{suffix}",
                name=physical(base_name, suffix),
                description=f"appstack {suffix.upper()} front door",
                load_balancing_scheme=SCHEME,
                ip_protocol="TCP",
                ip_address=address.id,
                port_range=port,
                target=target,
                labels=gcp_labels,
                deletion_policy=deletion_policy,
                opts=child,
            )

        dns_zones = dns.get_managed_zones_output(opts=invoke).managed_zones
        dns.RecordSet(
            f"{name}-dns",
            managed_zone=dns_zones.apply(lambda zs: managed_zone_named(zs, args.zone)),
            name=f"{args.domain}.",
            type="A",
            ttl=300,
            rrdatas=[address.address],
            opts=child,
        )

        self.url = pulumi.Output.from_input(f"https://{args.domain}")
        self.address = address.address
        self.lb_id = url_map.name
        self.target_group_id = backend.name
        self.register_outputs(
            {"url": self.url, "address": self.address, "lb_id": self.lb_id, "target_group_id": self.target_group_id}
        )
