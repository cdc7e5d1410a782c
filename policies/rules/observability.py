"""Concern `observability` (policy names `observability-...`): O1: alarms have actions.

An alarm that notifies nobody is not monitoring. Alarm actions are ARNs/ids of topics or action
groups created in the same stack, unknown during preview: these rules count them and check the
reference is set, never read their values. The stack rules in `stack_baseline` check that the
alarms exist at all (O2).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..framework import Context, Props, Rule, StackRule, as_list, exact_false, is_map
from ..shapes import filled_count, get, is_set, item_count, show
from ..tokens import AWS_METRIC_ALARM, AZ_ACTION_GROUPS, AZ_METRIC_ALERTS, GCP_ALERT_POLICY, GCP_NOTIFICATION_CHANNEL

AWS_COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
#: azure-native v3 registers `monitor:`; v2 programs use `insights:` (kept as aliases).
AZ_ACTIVITY_LOG_ALERTS = ("azure-native:monitor:ActivityLogAlert", "azure-native:insights:ActivityLogAlert")
AZ_SCHEDULED_QUERY_RULES = ("azure-native:monitor:ScheduledQueryRule", "azure-native:insights:ScheduledQueryRule")

#: Action group receiver lists; an action group needs at least one receiver.
AZ_RECEIVER_KEYS = (
    "emailReceivers",
    "smsReceivers",
    "webhookReceivers",
    "armRoleReceivers",
    "azureAppPushReceivers",
    "automationRunbookReceivers",
    "azureFunctionReceivers",
    "eventHubReceivers",
    "itsmReceivers",
    "logicAppReceivers",
    "voiceReceivers",
    "incidentReceivers",
)


def _action_group_ids(items, path: str) -> Iterator[str]:
    """Messages for action entries that do not name an action group."""
    for i, item in enumerate(as_list(items)):
        if not is_map(item):
            yield f"{path}[{i}] is not an object ({show(item)}); give it an actionGroupId"
        elif not is_set(item, "actionGroupId"):
            yield f"{path}[{i}].actionGroupId is not set; point it at an action group"


def check_alarm_actions(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type in (AWS_METRIC_ALARM, AWS_COMPOSITE_ALARM):
        enabled = get(props, "actionsEnabled")
        if exact_false(enabled):
            yield "actionsEnabled is false, so the alarm notifies nobody; set it to true"
        elif enabled is not None and not isinstance(enabled, (bool, str)):
            yield f"actionsEnabled is not a boolean ({show(enabled)}); set it to true"
        # Blank entries notify nobody: count only filled ones (an unknown ARN counts).
        if filled_count(get(props, "alarmActions")) == 0:
            yield "alarmActions is empty; add the alert SNS topic ARN"
    elif resource_type == GCP_ALERT_POLICY:
        if exact_false(get(props, "enabled")):
            yield "enabled is false; enable the alert policy"
        if filled_count(get(props, "notificationChannels")) == 0:
            yield "notificationChannels is empty; add a notification channel"
    elif resource_type in AZ_METRIC_ALERTS:
        if exact_false(get(props, "enabled")):
            yield "enabled is false; enable the metric alert"
        actions = get(props, "actions")
        if item_count(actions) == 0:
            yield "actions is empty; add an action with actionGroupId"
        else:
            yield from _action_group_ids(actions, "actions")
    elif resource_type in AZ_ACTIVITY_LOG_ALERTS:
        if exact_false(get(props, "enabled")):
            yield "enabled is false; enable the activity log alert"
        actions = get(props, "actions")
        groups = get(actions, "actionGroups") if is_map(actions) else None
        if item_count(groups) == 0:
            yield "actions.actionGroups is empty; add an action group"
        else:
            yield from _action_group_ids(groups, "actions.actionGroups")
    elif resource_type in AZ_SCHEDULED_QUERY_RULES:
        if exact_false(get(props, "enabled")):
            yield "enabled is false; enable the scheduled query rule"
        actions = get(props, "actions")
        groups = get(actions, "actionGroups") if is_map(actions) else None
        if item_count(groups) == 0:
            yield "actions.actionGroups is empty; add an action group id"


def check_channel_usable(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if exact_false(get(props, "enabled")):
        yield "enabled is false, so alerts sent here go nowhere; enable it"
    if resource_type in AZ_ACTION_GROUPS and not any(item_count(get(props, k)) for k in AZ_RECEIVER_KEYS):
        yield "the action group has no receivers (emailReceivers, webhookReceivers, ...); add at least one"


RULES: list[Rule | StackRule] = [
    Rule(
        name="observability-alarms-have-actions",
        description="Alarms and alert rules must be enabled and notify someone (AWS alarmActions, GCP notificationChannels, Azure action groups).",
        concern="observability",
        clouds=("aws", "azure", "gcp"),
        resource_types=(
            AWS_METRIC_ALARM,
            AWS_COMPOSITE_ALARM,
            GCP_ALERT_POLICY,
            *AZ_METRIC_ALERTS,
            *AZ_ACTIVITY_LOG_ALERTS,
            *AZ_SCHEDULED_QUERY_RULES,
        ),
        check=check_alarm_actions,
        catalogue=("O1",),
        peers=("CKV_AWS_319", "nag:CloudWatchAlarmAction"),
    ),
    Rule(
        name="observability-alert-channel-usable",
        description="Alert channels must be enabled and Azure action groups must have at least one receiver.",
        concern="observability",
        clouds=("azure", "gcp"),
        resource_types=(GCP_NOTIFICATION_CHANNEL, *AZ_ACTION_GROUPS),
        check=check_channel_usable,
        catalogue=("O1",),
    ),
]
