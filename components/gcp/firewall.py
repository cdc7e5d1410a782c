"""GCP firewall: VPC firewall rules for the VMs, each logging its matches."""

from __future__ import annotations

import pulumi
import pulumi_gcp.compute as compute

from ..interfaces import FirewallArgs
from .names import app_of, base, physical

#: Google's load balancer proxies and health checkers: the only sources of app traffic
#: (https://cloud.google.com/load-balancing/docs/firewall-rules).
LB_SOURCE_RANGES = ("130.211.0.0/22", "35.191.0.0/16")
#: Identity-Aware Proxy's TCP forwarding range (`gcloud compute ssh --tunnel-through-iap`).
IAP_SOURCE_RANGE = "35.235.240.0/20"
#: Lowest priority that still wins over GCP's implied rules (65535): our explicit defaults.
DEFAULT_PRIORITY = 65534
ALLOW_PRIORITY = 1000
EVERYWHERE = "0.0.0.0/0"


def _log() -> compute.FirewallLogConfigArgs:
    # Every rule logs its matches, with metadata (VM names, instance details) for forensics.
    return compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA")


class Firewall(pulumi.ComponentResource):
    """The VMs' rules, all targeting the VMs' network tag.

    Ingress: the app port from Google's load balancer and health-check ranges only; SSH (22)
    from IAP and `admin_cidrs` only when `ssh` is on; everything else denied by an explicit
    low-priority rule (so the deny is logged). Egress: HTTPS to `egress_cidrs` only, everything
    else denied (the metadata server, Google's DNS and NTP at 169.254.169.254 are always
    reachable: GCP firewalls do not apply to them). The global load balancer runs in Google's
    edge, outside the VPC: it has no firewall; `access.ingressCidrs` is enforced by its Cloud
    Armor policy. Outputs: `vm_group_id` (the VMs' network tag) and `lb_group_id` (the
    load-balancer rule's name, so the load balancer waits for it).
    """

    lb_group_id: pulumi.Output[str]
    vm_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: FirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:gcp:Firewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        base_name = base(app_of(name, "firewall"))
        tag = physical(base_name, "vm")

        def rule(suffix: str, description: str, **kwargs) -> compute.Firewall:
            return compute.Firewall(
                f"{name}-{suffix}",
                name=physical(base_name, suffix),
                description=description,
                network=args.network_id,
                target_tags=[tag],
                log_config=_log(),
                opts=child,
                **kwargs,
            )

        from_lb = rule(
            "allow-lb",
            "app port from Google's load balancers and health checks only",
            direction="INGRESS",
            priority=ALLOW_PRIORITY,
            source_ranges=list(LB_SOURCE_RANGES),
            allows=[compute.FirewallAllowArgs(protocol="tcp", ports=[str(args.app_port)])],
        )
        rules = [from_lb]
        if args.ssh:
            rules.append(
                rule(
                    "allow-ssh",
                    "ssh from IAP and the admin networks only",
                    direction="INGRESS",
                    priority=ALLOW_PRIORITY,
                    source_ranges=[IAP_SOURCE_RANGE, *args.admin_cidrs],
                    allows=[compute.FirewallAllowArgs(protocol="tcp", ports=["22"])],
                )
            )
        rules.append(
            rule(
                "deny-ingress",
                "deny (and log) every other inbound connection",
                direction="INGRESS",
                priority=DEFAULT_PRIORITY,
                source_ranges=[EVERYWHERE],
                denies=[compute.FirewallDenyArgs(protocol="all")],
            )
        )
        rules.append(
            rule(
                "allow-egress-https",
                "HTTPS out to the allowed destinations (packages, agents, Google APIs)",
                direction="EGRESS",
                priority=ALLOW_PRIORITY,
                destination_ranges=list(args.egress_cidrs),
                allows=[compute.FirewallAllowArgs(protocol="tcp", ports=["443"])],
            )
        )
        rules.append(
            rule(
                "deny-egress",
                "deny (and log) every other outbound connection",
                direction="EGRESS",
                priority=DEFAULT_PRIORITY,
                destination_ranges=[EVERYWHERE],
                denies=[compute.FirewallDenyArgs(protocol="all")],
            )
        )
        # The tag is a constant; tying it to the rules makes the VMs wait for their firewall.
        self.vm_group_id = pulumi.Output.all(*[r.id for r in rules]).apply(lambda _: tag)
        self.lb_group_id = from_lb.name
        self.register_outputs({"lb_group_id": self.lb_group_id, "vm_group_id": self.vm_group_id})
