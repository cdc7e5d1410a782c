"""AWS log sink: KMS-encrypted CloudWatch log groups with per-environment retention."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ..interfaces import LogSinkArgs
from .kms import account_of, customer_key


class LogSink(pulumi.ComponentResource):
    """CloudWatch log groups under one prefix, encrypted with a rotating customer-managed key.

    Outputs: `log_sink` (the log group prefix), `key_id` (key ARN), `log_groups` (stream → ARN).
    """

    log_sink: pulumi.Output[str]
    key_id: pulumi.Output[str]
    log_groups: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: LogSinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:aws:LogSink", name, None, opts)
        account = account_of(self)
        key = customer_key(
            name,
            f"appstack logs under {args.prefix}",
            account,
            [
                {
                    # CloudWatch Logs encrypts with the key only for this account's log groups.
                    "Sid": "CloudWatchLogsUseKey",
                    "Effect": "Allow",
                    "Principal": {"Service": "logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": "arn:{partition}:logs:{region}:{account}:log-group:*"
                        }
                    },
                }
            ],
            args.protect,
            args.tags,
            self,
        )
        self.log_groups = {}
        for stream in args.streams:
            group = aws.cloudwatch.LogGroup(
                f"{name}-{stream}",
                name=f"{args.prefix}/{stream}",
                retention_in_days=args.retention_days,
                kms_key_id=key.arn,
                tags=dict(args.tags),
                # Logs are evidence: in prod they survive a `pulumi destroy`.
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
            )
            self.log_groups[stream] = group.arn
        self.log_sink = pulumi.Output.from_input(args.prefix)
        self.key_id = key.arn
        self.register_outputs({"log_sink": self.log_sink, "key_id": self.key_id, "log_groups": self.log_groups})
