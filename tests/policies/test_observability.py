"""O1: alarms and alert rules are enabled and notify someone; alert channels are usable."""

from __future__ import annotations

import pytest

from policies.framework import MANDATORY
from tests.policies.support import (
    DEL,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    mutate,
    rule,
    violations,
)

ACTIONS = "observability-alarms-have-actions"
CHANNEL = "observability-alert-channel-usable"

AWS_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
AWS_COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
GCP_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
GCP_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
AZ_METRIC_ALERT = "azure-native:monitor:MetricAlert"
AZ_ACTIVITY_ALERT = "azure-native:monitor:ActivityLogAlert"
AZ_QUERY_RULE = "azure-native:monitor:ScheduledQueryRule"
AZ_ACTION_GROUP = "azure-native:monitor:ActionGroup"

#: As components/aws/monitoring.py builds it: topic ARN unknown during preview.
AWS_ALARM_PROPS = {
    "namespace": "AWS/EC2",
    "metricName": "CPUUtilization",
    "dimensions": {"InstanceId": UNKNOWN_STRING_VALUE},
    "actionsEnabled": True,
    "alarmActions": [UNKNOWN_STRING_VALUE],
    "okActions": [UNKNOWN_STRING_VALUE],
    "comparisonOperator": "GreaterThanThreshold",
    "threshold": 80,
}
GCP_POLICY_PROPS = {
    "displayName": "cpu",
    "combiner": "OR",
    "enabled": True,
    "notificationChannels": [UNKNOWN_STRING_VALUE],
    "conditions": [
        {
            "displayName": "cpu",
            "conditionThreshold": {"filter": 'metric.type="compute.googleapis.com/instance/cpu/utilization"'},
        }
    ],
}
AZ_METRIC_ALERT_PROPS = {
    "resourceGroupName": "rg",
    "enabled": True,
    "severity": 2,
    "scopes": [UNKNOWN_STRING_VALUE],
    "actions": [{"actionGroupId": UNKNOWN_STRING_VALUE}],
    "criteria": {
        "odataType": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
        "allOf": [{"metricName": "Percentage CPU"}],
    },
}
AZ_ACTIVITY_PROPS = {
    "enabled": True,
    "actions": {"actionGroups": [{"actionGroupId": "/subscriptions/s/.../actionGroups/ag"}]},
}
AZ_QUERY_PROPS = {"enabled": True, "actions": {"actionGroups": ["/subscriptions/s/.../actionGroups/ag"]}}


def test_levels_and_catalogue():
    assert rule(ACTIONS).level == MANDATORY and rule(ACTIONS).catalogue == ("O1",)
    assert rule(CHANNEL).level == MANDATORY


@pytest.mark.parametrize(
    "type_,props",
    [
        (AWS_ALARM, AWS_ALARM_PROPS),
        (AWS_ALARM, {k: v for k, v in AWS_ALARM_PROPS.items() if k != "actionsEnabled"}),  # defaults to true
        (AWS_COMPOSITE, {"alarmRule": "ALARM(a)", "alarmActions": ["arn:aws:sns:eu-west-1:1:alerts"]}),
        (GCP_POLICY, GCP_POLICY_PROPS),
        (AZ_METRIC_ALERT, AZ_METRIC_ALERT_PROPS),
        ("azure-native:insights:MetricAlert", AZ_METRIC_ALERT_PROPS),
        (AZ_ACTIVITY_ALERT, AZ_ACTIVITY_PROPS),
        (AZ_QUERY_RULE, AZ_QUERY_PROPS),
    ],
)
def test_passes_when_alarm_notifies(type_, props):
    assert violations(ACTIONS, type_, props) == []


@pytest.mark.parametrize(
    "type_,props,path,value,needle",
    [
        (AWS_ALARM, AWS_ALARM_PROPS, ("actionsEnabled",), False, "actionsEnabled is false"),
        (AWS_ALARM, AWS_ALARM_PROPS, ("actionsEnabled",), "false", "actionsEnabled is false"),
        (AWS_ALARM, AWS_ALARM_PROPS, ("alarmActions",), [], "alarmActions is empty"),
        (AWS_ALARM, AWS_ALARM_PROPS, ("alarmActions",), DEL, "alarmActions is empty"),
        (AWS_ALARM, AWS_ALARM_PROPS, ("actionsEnabled",), 7, "not a boolean"),
        (GCP_POLICY, GCP_POLICY_PROPS, ("enabled",), False, "enabled is false"),
        (GCP_POLICY, GCP_POLICY_PROPS, ("notificationChannels",), [], "notificationChannels is empty"),
        (GCP_POLICY, GCP_POLICY_PROPS, ("notificationChannels",), DEL, "notificationChannels is empty"),
        (AZ_METRIC_ALERT, AZ_METRIC_ALERT_PROPS, ("enabled",), False, "enabled is false"),
        (AZ_METRIC_ALERT, AZ_METRIC_ALERT_PROPS, ("actions",), [], "actions is empty"),
        (
            AZ_METRIC_ALERT,
            AZ_METRIC_ALERT_PROPS,
            ("actions", 0, "actionGroupId"),
            DEL,
            "actions[0].actionGroupId is not set",
        ),
        (AZ_METRIC_ALERT, AZ_METRIC_ALERT_PROPS, ("actions",), ["ag"], "actions[0] is not an object"),
        (AZ_ACTIVITY_ALERT, AZ_ACTIVITY_PROPS, ("actions", "actionGroups"), [], "actions.actionGroups is empty"),
        (AZ_ACTIVITY_ALERT, AZ_ACTIVITY_PROPS, ("enabled",), False, "enabled is false"),
        (AZ_QUERY_RULE, AZ_QUERY_PROPS, ("actions",), DEL, "actions.actionGroups is empty"),
    ],
)
def test_fails_when_alarm_notifies_nobody(type_, props, path, value, needle):
    msgs = violations(ACTIONS, type_, mutate(props, path, value))
    assert len(msgs) == 1 and needle in msgs[0], msgs


@pytest.mark.parametrize(
    "type_,props",
    [
        (AWS_ALARM, {**AWS_ALARM_PROPS, "actionsEnabled": UNKNOWN_BOOLEAN_VALUE}),
        (AWS_ALARM, {**AWS_ALARM_PROPS, "alarmActions": UNKNOWN_ARRAY_VALUE}),
        (GCP_POLICY, {**GCP_POLICY_PROPS, "notificationChannels": UNKNOWN_ARRAY_VALUE}),
    ],
)
def test_unknown_deciding_value_raises_in_preview_and_fails_on_up(type_, props):
    with pytest.raises(UnknownValueError):
        violations(ACTIONS, type_, props)
    msgs = violations(ACTIONS, type_, props, dry_run=False)
    assert len(msgs) == 1 and "unknown" in msgs[0]


def test_passes_when_action_arns_unknown_in_preview():
    # The topic ARN is an unknown reference: its presence decides, not its value.
    assert violations(ACTIONS, AWS_ALARM, AWS_ALARM_PROPS, dry_run=True) == []


def test_fails_when_alarm_actions_is_a_malformed_string():
    assert violations(ACTIONS, AWS_ALARM, {**AWS_ALARM_PROPS, "alarmActions": ""}) != []


ACTION_GROUP = {
    "resourceGroupName": "rg",
    "groupShortName": "appstack",
    "enabled": True,
    "emailReceivers": [{"name": "ops", "emailAddress": "ops@example.com"}],
}


def test_channel_usable():
    assert violations(CHANNEL, AZ_ACTION_GROUP, ACTION_GROUP) == []
    assert violations(CHANNEL, GCP_CHANNEL, {"type": "email", "labels": {"email_address": "ops@example.com"}}) == []
    assert "enabled is false" in violations(CHANNEL, GCP_CHANNEL, {"type": "email", "enabled": False})[0]
    assert "enabled is false" in violations(CHANNEL, AZ_ACTION_GROUP, {**ACTION_GROUP, "enabled": False})[0]
    msgs = violations(CHANNEL, AZ_ACTION_GROUP, {**ACTION_GROUP, "emailReceivers": []})
    assert len(msgs) == 1 and "no receivers" in msgs[0]
