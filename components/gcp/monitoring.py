"""GCP monitoring: e-mail notification channels and the baseline Cloud Monitoring alert policies."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp.monitoring as monitoring

from ..interfaces import MonitoringArgs
from ..naming import stack_id
from .kms import client_config
from .names import app_of, base, label_value, labels

CPU_METRIC = "compute.googleapis.com/instance/cpu/utilization"
REQUEST_METRIC = "loadbalancing.googleapis.com/https/request_count"
LATENCY_METRIC = "loadbalancing.googleapis.com/https/backend_latencies"
UPTIME_METRIC = "monitoring.googleapis.com/uptime_check/check_passed"
#: Uptime checks run from every checker region; an alert needs more than one region failing
#: (one region's network trouble is not an outage of the app).
UPTIME_FAILING_REGIONS = 2
#: A 5xx alert fires only when 5xx responses are also this share of all requests: a handful of
#: errors on a nearly idle dev stack is not an incident, the same count under load may not be.
SERVER_ERROR_RATIO = 0.05
#: `response_code_class` is an INT64 label (500 for every 5xx): compared as a number, unquoted.
SERVER_ERRORS = " AND metric.label.response_code_class = 500"

Condition = monitoring.AlertPolicyConditionArgs
Threshold = monitoring.AlertPolicyConditionConditionThresholdArgs
Aggregation = monitoring.AlertPolicyConditionConditionThresholdAggregationArgs


def _duration(seconds: int) -> str:
    return f"{seconds}s"


def vm_filter(metric: str, app: str, stack: str) -> str:
    """The stack's VMs by their ``app`` and ``stack`` labels (instance IDs are unknown at preview)."""
    return (
        f'resource.type = "gce_instance" AND metric.type = "{metric}" '
        f'AND metadata.user_labels."app" = "{label_value(app)}" AND metadata.user_labels."stack" = "{stack}"'
    )


def lb_filter(metric: str, url_map: str, extra: str = "") -> str:
    """The load balancer's requests by its URL map's name."""
    return f'resource.type = "https_lb_rule" AND metric.type = "{metric}" AND resource.label."url_map_name" = "{url_map}"{extra}'


class Monitoring(pulumi.ComponentResource):
    """One e-mail notification channel per address and four alert policies notifying them all.

    CPU of any of the stack's VMs above `cpu_high_percent`; the HTTPS uptime check of the URL
    failing from more than one region; load balancer 5xx responses above
    `server_errors_per_period` per period *and* above 5 % of requests; mean backend latency
    above `response_time_seconds`. Each alert auto-closes and carries a runbook line.
    `unhealthy_hosts` has no Cloud Monitoring metric on GCP (backend health is not exported):
    the uptime check stands in for it, as the policy pack's baseline-alarm rule expects.
    Outputs: `alert_channel` (the first channel's resource name).
    """

    alert_channel: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:gcp:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        gcp_labels = labels(args.tags)
        app = app_of(name, "monitoring")
        base_name = base(app)
        stack = label_value(stack_id())
        project = client_config(self).project
        period = _duration(args.period_seconds)
        url_map = pulumi.Output.from_input(args.lb_id)
        # The uptime check probes the public URL, which only the foundation knows.
        domain = str(args.extras.get("domain", ""))
        health_path = str(args.extras.get("health_check_path", "/"))

        channels = [
            monitoring.NotificationChannel(
                f"{name}-email-{i}",
                display_name=f"{base_name} alerts to {email}",
                type="email",
                labels={"email_address": email},
                user_labels=gcp_labels,
                enabled=True,
                opts=child,
            )
            for i, email in enumerate(args.alert_emails)
        ]
        channel_ids = [c.id for c in channels]

        def policy(
            suffix: str, title: str, conditions: Sequence[Condition], runbook: str, combiner: str = "OR"
        ) -> None:
            monitoring.AlertPolicy(
                f"{name}-{suffix}",
                display_name=f"{base_name}: {title}",
                combiner=combiner,
                conditions=list(conditions),
                notification_channels=channel_ids,
                enabled=True,
                severity="ERROR",
                alert_strategy=monitoring.AlertPolicyAlertStrategyArgs(auto_close="86400s"),
                documentation=monitoring.AlertPolicyDocumentationArgs(
                    content=f"{runbook} (owner: {args.tags.get('owner', 'unknown')})", mime_type="text/markdown"
                ),
                user_labels=gcp_labels,
                opts=child,
            )

        policy(
            "cpu",
            "VM CPU high",
            [
                Condition(
                    display_name=f"CPU above {args.cpu_high_percent} %",
                    condition_threshold=Threshold(
                        filter=vm_filter(CPU_METRIC, app, stack),
                        comparison="COMPARISON_GT",
                        threshold_value=args.cpu_high_percent / 100,
                        duration=period,
                        aggregations=[Aggregation(alignment_period=period, per_series_aligner="ALIGN_MEAN")],
                    ),
                )
            ],
            "A VM has been busy for a whole period: check the app's load and logs, or raise compute.size.",
        )

        uptime = monitoring.UptimeCheckConfig(
            f"{name}-uptime-check",
            display_name=f"{base_name} HTTPS",
            timeout="10s",
            period="60s",
            http_check=monitoring.UptimeCheckConfigHttpCheckArgs(
                path=health_path,
                port=443,
                use_ssl=True,
                validate_ssl=True,
            ),
            monitored_resource=monitoring.UptimeCheckConfigMonitoredResourceArgs(
                type="uptime_url", labels={"host": domain, "project_id": project}
            ),
            user_labels=gcp_labels,
            opts=child,
        )
        policy(
            "uptime",
            "HTTPS URL down",
            [
                Condition(
                    display_name="uptime check failing",
                    condition_threshold=Threshold(
                        filter=uptime.uptime_check_id.apply(
                            lambda cid: (
                                f'resource.type = "uptime_url" AND metric.type = "{UPTIME_METRIC}" '
                                f'AND metric.label."check_id" = "{cid}"'
                            )
                        ),
                        comparison="COMPARISON_GT",
                        threshold_value=UPTIME_FAILING_REGIONS - 1,
                        duration="60s",
                        aggregations=[
                            Aggregation(
                                alignment_period="1200s",
                                per_series_aligner="ALIGN_NEXT_OLDER",
                                cross_series_reducer="REDUCE_COUNT_FALSE",
                                group_by_fields=["resource.label.*"],
                            )
                        ],
                    ),
                )
            ],
            "The HTTPS URL fails from several regions: check the load balancer's backends and certificate.",
        )

        errors_agg = [
            Aggregation(
                alignment_period=period,
                per_series_aligner="ALIGN_DELTA",
                cross_series_reducer="REDUCE_SUM",
                group_by_fields=['resource.label."url_map_name"'],
            )
        ]
        policy(
            "5xx",
            "load balancer 5xx",
            [
                Condition(
                    display_name=f"more than {args.server_errors_per_period} 5xx responses per period",
                    condition_threshold=Threshold(
                        filter=url_map.apply(lambda m: lb_filter(REQUEST_METRIC, m, SERVER_ERRORS)),
                        comparison="COMPARISON_GT",
                        threshold_value=args.server_errors_per_period,
                        duration="0s",
                        aggregations=errors_agg,
                    ),
                ),
                Condition(
                    display_name=f"5xx responses above {SERVER_ERROR_RATIO:.0%} of requests",
                    condition_threshold=Threshold(
                        filter=url_map.apply(lambda m: lb_filter(REQUEST_METRIC, m, SERVER_ERRORS)),
                        denominator_filter=url_map.apply(lambda m: lb_filter(REQUEST_METRIC, m)),
                        comparison="COMPARISON_GT",
                        threshold_value=SERVER_ERROR_RATIO,
                        duration="0s",
                        aggregations=errors_agg,
                        denominator_aggregations=[
                            monitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArgs(
                                alignment_period=period,
                                per_series_aligner="ALIGN_DELTA",
                                cross_series_reducer="REDUCE_SUM",
                                group_by_fields=['resource.label."url_map_name"'],
                            )
                        ],
                    ),
                ),
            ],
            "The app answers with server errors: check the app log in the log bucket.",
            combiner="AND",
        )
        policy(
            "latency",
            "backend latency high",
            [
                Condition(
                    display_name=f"mean backend latency above {args.response_time_seconds} s",
                    condition_threshold=Threshold(
                        filter=url_map.apply(lambda m: lb_filter(LATENCY_METRIC, m)),
                        comparison="COMPARISON_GT",
                        # The metric is in milliseconds.
                        threshold_value=args.response_time_seconds * 1000,
                        duration=period,
                        aggregations=[
                            Aggregation(
                                alignment_period=period,
                                per_series_aligner="ALIGN_MEAN",
                                cross_series_reducer="REDUCE_MEAN",
                                group_by_fields=['resource.label."url_map_name"'],
                            )
                        ],
                    ),
                )
            ],
            "The VMs answer slowly: check CPU, the app log and recent deploys.",
        )

        self.alert_channel = channel_ids[0]
        self.register_outputs({"alert_channel": self.alert_channel})
