"""AWS monitoring: an encrypted SNS alert topic and the baseline CloudWatch alarms."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from ..interfaces import MonitoringArgs
from .kms import account_of, customer_key


class Monitoring(pulumi.ComponentResource):
    """Alert channel plus alarms that always have actions.

    Per VM: CPU high, system status check failed (auto-recover) and instance status check
    failed (reboot); for a VM group (`group_id`) instead: the group's average CPU high and no
    healthy target left (the group replaces impaired VMs itself). Load balancer: ELB and target 5xx counts, unhealthy hosts, response time.
    The topic is encrypted with a customer-managed key that CloudWatch may use (an alarm cannot
    publish to a topic whose key it cannot use), and refuses non-TLS publishing.
    Outputs: `alert_channel` (topic ARN).
    """

    alert_channel: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:aws:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        account = account_of(self)
        key = customer_key(
            name,
            "appstack alert topic",
            account,
            [
                {
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": "{account}"}},
                }
            ],
            args.protect,
            tags,
            self,
        )
        topic = aws.sns.Topic(f"{name}-alerts", kms_master_key_id=key.arn, tags=tags, opts=child)
        aws.sns.TopicPolicy(
            f"{name}-alerts",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, account.account_id, account.partition).apply(
                lambda v: _topic_policy(*v)
            ),
            opts=child,
        )
        for i, email in enumerate(args.alert_emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{i}", topic=topic.arn, protocol="email", endpoint=email, opts=child
            )

        actions = [topic.arn]
        automate = pulumi.Output.concat("arn:", account.partition, ":automate:", account.region, ":ec2:")
        period = args.period_seconds

        def alarm(part: str, description: str, **kwargs) -> None:
            kwargs.setdefault("alarm_actions", actions)
            aws.cloudwatch.MetricAlarm(
                f"{name}-{part}",
                alarm_description=description,
                actions_enabled=True,
                ok_actions=actions,
                tags=tags,
                opts=child,
                **kwargs,
            )

        for i, instance_id in enumerate(args.instance_ids):
            dims = {"InstanceId": instance_id}
            alarm(
                f"cpu-{i}",
                f"VM {i}: CPU above {args.cpu_high_percent}% for 15 minutes",
                namespace="AWS/EC2",
                metric_name="CPUUtilization",
                dimensions=dims,
                statistic="Average",
                period=period,
                evaluation_periods=max(1, 900 // period),
                threshold=args.cpu_high_percent,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="missing",
            )
            alarm(
                f"system-check-{i}",
                f"VM {i}: host failure; EC2 recovers the instance onto healthy hardware",
                namespace="AWS/EC2",
                metric_name="StatusCheckFailed_System",
                dimensions=dims,
                statistic="Maximum",
                period=60,
                evaluation_periods=2,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="missing",
                alarm_actions=[automate.apply(lambda a: a + "recover"), topic.arn],
            )
            alarm(
                f"instance-check-{i}",
                f"VM {i}: OS unreachable; EC2 reboots the instance",
                namespace="AWS/EC2",
                metric_name="StatusCheckFailed_Instance",
                dimensions=dims,
                statistic="Maximum",
                period=60,
                evaluation_periods=3,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="missing",
                alarm_actions=[automate.apply(lambda a: a + "reboot"), topic.arn],
            )

        if args.group_id is not None:
            # A group: its VMs come and go, so the alarms name the group. EC2 aggregates CPU by
            # AutoScalingGroupName for VMs with detailed monitoring (the launch template's).
            # Impaired VMs need no recover/reboot action: the group replaces them (ELB health).
            alarm(
                "cpu",
                f"VM group: average CPU above {args.cpu_high_percent}% for 15 minutes (the autoscaler "
                "is at max or cannot keep up)",
                namespace="AWS/EC2",
                metric_name="CPUUtilization",
                dimensions={"AutoScalingGroupName": args.group_id},
                statistic="Average",
                period=period,
                evaluation_periods=max(1, 900 // period),
                threshold=args.cpu_high_percent,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="missing",
            )
            alarm(
                "healthy-hosts",
                "VM group: no healthy target behind the load balancer for 3 minutes",
                namespace="AWS/ApplicationELB",
                metric_name="HealthyHostCount",
                dimensions={"LoadBalancer": args.lb_id, "TargetGroup": args.target_group_id},
                statistic="Minimum",
                period=60,
                evaluation_periods=3,
                threshold=1,
                comparison_operator="LessThanThreshold",
                treat_missing_data="breaching",
            )

        lb_dims = {"LoadBalancer": args.lb_id}
        alarm(
            "lb-5xx",
            f"load balancer answered more than {args.server_errors_per_period} 5xx per period",
            namespace="AWS/ApplicationELB",
            metric_name="HTTPCode_ELB_5XX_Count",
            dimensions=lb_dims,
            statistic="Sum",
            period=period,
            evaluation_periods=1,
            threshold=args.server_errors_per_period,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        )
        alarm(
            "target-5xx",
            f"the app answered more than {args.server_errors_per_period} 5xx per period",
            namespace="AWS/ApplicationELB",
            metric_name="HTTPCode_Target_5XX_Count",
            dimensions=lb_dims,
            statistic="Sum",
            period=period,
            evaluation_periods=1,
            threshold=args.server_errors_per_period,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        )
        alarm(
            "unhealthy-hosts",
            f"{args.unhealthy_hosts} or more targets failed health checks",
            namespace="AWS/ApplicationELB",
            metric_name="UnHealthyHostCount",
            dimensions={"LoadBalancer": args.lb_id, "TargetGroup": args.target_group_id},
            statistic="Maximum",
            period=60,
            evaluation_periods=3,
            threshold=args.unhealthy_hosts,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="breaching",
        )
        alarm(
            "response-time",
            f"average response time above {args.response_time_seconds}s",
            namespace="AWS/ApplicationELB",
            metric_name="TargetResponseTime",
            dimensions=lb_dims,
            statistic="Average",
            period=period,
            evaluation_periods=3,
            threshold=args.response_time_seconds,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        )

        self.alert_channel = topic.arn
        self.register_outputs({"alert_channel": self.alert_channel})


def _topic_policy(topic_arn: str, account_id: str, partition: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
                {
                    "Sid": "AccountManagesTopic",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                    "Action": [
                        "sns:GetTopicAttributes",
                        "sns:SetTopicAttributes",
                        "sns:Subscribe",
                        "sns:Publish",
                        "sns:ListSubscriptionsByTopic",
                        "sns:DeleteTopic",
                    ],
                    "Resource": topic_arn,
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )
