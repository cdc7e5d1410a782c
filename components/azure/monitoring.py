"""Azure monitoring: an action group with e-mail receivers and the baseline metric alerts."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_azure_native.monitor as monitor

from ..interfaces import MonitoringArgs
from .names import AzureNames, app_of

#: Window sizes a metric alert accepts; a period in between rounds up to the next one.
WINDOWS: tuple[tuple[int, str], ...] = (
    (60, "PT1M"),
    (300, "PT5M"),
    (900, "PT15M"),
    (1800, "PT30M"),
    (3600, "PT1H"),
    (21600, "PT6H"),
    (43200, "PT12H"),
    (86400, "P1D"),
)
VM_NAMESPACE = "Microsoft.Compute/virtualMachines"
VMSS_NAMESPACE = "Microsoft.Compute/virtualMachineScaleSets"
GATEWAY_NAMESPACE = "Microsoft.Network/applicationGateways"


def window(period_seconds: int) -> tuple[str, str]:
    """(window size, evaluation frequency) for `monitoring.periodSeconds`.

    Frequency: every minute for a one-minute window, else every five (it may not exceed the window).
    """
    size = next((iso for seconds, iso in WINDOWS if seconds >= period_seconds), WINDOWS[-1][1])
    return size, "PT1M" if size == "PT1M" else "PT5M"


@dataclass(frozen=True)
class Alert:
    """One static-threshold metric alert on one resource."""

    key: str
    namespace: str
    metric: str
    operator: str
    threshold: float
    aggregation: str
    severity: int
    description: str
    dimension: tuple[str, str] | None = None


def vm_alerts(args: MonitoringArgs) -> list[Alert]:
    """CPU above the threshold, and the VM unavailable (the platform's availability metric)."""
    return [
        Alert(
            "cpu",
            VM_NAMESPACE,
            "Percentage CPU",
            "GreaterThan",
            args.cpu_high_percent,
            "Average",
            2,
            f"CPU above {args.cpu_high_percent}%",
        ),
        # 1 while the VM is available, 0 while it is not (host or guest failure, reboot).
        Alert("availability", VM_NAMESPACE, "VmAvailabilityMetric", "LessThan", 1, "Average", 1, "VM unavailable"),
    ]


def gateway_alerts(args: MonitoringArgs) -> list[Alert]:
    """Unhealthy backends, 5xx responses, failed requests and slow backend responses."""
    return [
        Alert(
            "unhealthy",
            GATEWAY_NAMESPACE,
            "UnhealthyHostCount",
            "GreaterThanOrEqual",
            args.unhealthy_hosts,
            "Maximum",
            1,
            f"{args.unhealthy_hosts}+ unhealthy backend VM(s)",
        ),
        Alert(
            "5xx",
            GATEWAY_NAMESPACE,
            "ResponseStatus",
            "GreaterThanOrEqual",
            args.server_errors_per_period,
            "Total",
            2,
            f"{args.server_errors_per_period}+ 5xx responses per period",
            dimension=("HttpStatusGroup", "5xx"),
        ),
        Alert(
            "failed",
            GATEWAY_NAMESPACE,
            "FailedRequests",
            "GreaterThanOrEqual",
            args.server_errors_per_period,
            "Total",
            2,
            f"{args.server_errors_per_period}+ failed requests per period",
        ),
        Alert(
            "latency",
            GATEWAY_NAMESPACE,
            "BackendLastByteResponseTime",
            "GreaterThan",
            args.response_time_seconds * 1000,  # the metric is in milliseconds
            "Average",
            3,
            f"backend response time above {args.response_time_seconds} s",
        ),
    ]


class Monitoring(pulumi.ComponentResource):
    """An action group e-mailing `alert_emails` and metric alerts on every VM and the gateway.

    Thresholds come from the environment's profile (`appstack:monitoring`). Output:
    `alert_channel` (the action group ID).
    """

    alert_channel: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:azure:Monitoring", name, None, opts)
        names = AzureNames(app_of(name, "monitoring"))
        rg = args.scope
        assert rg is not None, "the Azure monitoring needs the resource group (args.scope)"
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)

        group = monitor.ActionGroup(
            f"{name}-alerts",
            action_group_name=names.of("ag"),
            group_short_name=names.short(),
            resource_group_name=rg,
            # Action groups are global resources.
            location="Global",
            enabled=True,
            email_receivers=[
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"email-{i}", email_address=address, use_common_alert_schema=True
                )
                for i, address in enumerate(args.alert_emails)
            ],
            tags=tags,
            opts=child,
        )
        size, frequency = window(args.period_seconds)
        targets: list[tuple[str, pulumi.Input[str], list[Alert]]] = [
            (f"vm{i}", vm_id, vm_alerts(args)) for i, vm_id in enumerate(args.instance_ids)
        ]
        if args.group_id is not None:
            # A VM group: the same alerts on the scale set, averaged over its VMs (CPU above the
            # threshold; availability below 1: a VM down), instead of one pair per VM.
            targets.append(("vmss", args.group_id, [replace(a, namespace=VMSS_NAMESPACE) for a in vm_alerts(args)]))
        targets.append(("agw", args.lb_id, gateway_alerts(args)))
        for label, scope, alerts in targets:
            for alert in alerts:
                monitor.MetricAlert(
                    f"{name}-{label}-{alert.key}",
                    rule_name=names.of("alert", label, alert.key),
                    resource_group_name=rg,
                    location="global",
                    description=alert.description,
                    severity=alert.severity,
                    enabled=True,
                    auto_mitigate=True,
                    scopes=[scope],
                    window_size=size,
                    evaluation_frequency=frequency,
                    criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                        odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                        all_of=[
                            monitor.MetricCriteriaArgs(
                                criterion_type="StaticThresholdCriterion",
                                name=alert.key,
                                metric_namespace=alert.namespace,
                                metric_name=alert.metric,
                                operator=alert.operator,
                                threshold=alert.threshold,
                                time_aggregation=alert.aggregation,
                                dimensions=[
                                    monitor.MetricDimensionArgs(
                                        name=alert.dimension[0], operator="Include", values=[alert.dimension[1]]
                                    )
                                ]
                                if alert.dimension
                                else None,
                            )
                        ],
                    ),
                    actions=[monitor.MetricAlertActionArgs(action_group_id=group.id)],
                    tags=tags,
                    opts=child,
                )
        self.alert_channel = group.id
        self.register_outputs({"alert_channel": self.alert_channel})
