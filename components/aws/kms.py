"""Customer-managed KMS keys shared by the AWS parts (log sink, VM disks, alert topic)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..naming import stack_id


@dataclass(frozen=True)
class Account:
    """Account, region and partition of the provider a component runs under."""

    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]


def account_of(parent: pulumi.Resource) -> Account:
    """Look up the caller's account, region and partition through `parent`'s provider."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    return Account(
        account_id=aws.get_caller_identity_output(opts=opts).account_id,
        region=aws.get_region_output(opts=opts).region,
        partition=aws.get_partition_output(opts=opts).partition,
    )


def key_policy(account: Account, service_statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """A key policy: the account administers the key through IAM; listed services may use it.

    `service_statements` may contain the placeholders ``{account}``, ``{region}`` and
    ``{partition}`` in any string; they are filled in once the lookups resolve.
    """

    def render(values: list[str]) -> str:
        account_id, region, partition = values
        fill = {"account": account_id, "region": region, "partition": partition}

        def sub(v: Any) -> Any:
            if isinstance(v, str):
                return v.format(**fill)
            if isinstance(v, list):
                return [sub(x) for x in v]
            if isinstance(v, dict):
                return {k.format(**fill): sub(x) for k, x in v.items()}
            return v

        root = {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [root, *[sub(dict(s)) for s in service_statements]]})

    return pulumi.Output.all(account.account_id, account.region, account.partition).apply(render)


def customer_key(
    name: str,
    description: str,
    account: Account,
    service_statements: Sequence[Mapping[str, Any]],
    protect: bool,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> aws.kms.Key:
    """A rotating customer-managed key with an alias, child of `parent`, named ``{name}-key``.

    The alias is ``alias/{name}/{stack}``: alias names are unique per account and region, so
    without the stack a second stack of the same app (``dev-alice`` next to ``dev``) would fail.
    """
    key = aws.kms.Key(
        f"{name}-key",
        description=description,
        # Yearly automatic rotation: required by CIS/Checkov CKV_AWS_7.
        enable_key_rotation=True,
        # The maximum window: a scheduled deletion can be cancelled for 30 days.
        deletion_window_in_days=30,
        policy=key_policy(account, service_statements),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )
    aws.kms.Alias(
        f"{name}-key-alias",
        name=f"alias/{name}/{stack_id()}",
        target_key_id=key.key_id,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return key
