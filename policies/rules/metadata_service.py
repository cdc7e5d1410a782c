"""Concern `metadata-service` (policy names `metadata-...`): M1-M2: IMDSv2 required, hop limit 1.

Only AWS has an instance metadata service that answers plain GETs (IMDSv1); Azure IMDS requires
a ``Metadata: true`` header and GCP's a ``Metadata-Flavor: Google`` header on every request, and
neither exposes a hop-limit setting, so M1-M2 are AWS-only.

Settings an instance inherits from a launch template are not visible in its inputs: an
``aws:ec2/instance:Instance`` without ``metadataOptions`` fails closed even when it is launched
from a hardened template; set ``metadataOptions`` on the instance as well.

VM groups: an auto scaling group has no metadata settings of its own; its VMs get them from its
launch template (``metadataOptions``) or launch configuration (``metadataOptions``), each judged
as a resource of its own. Spot fleets are judged on their inline launch specifications.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..framework import Context, Knob, Props, Rule, StackRule, as_list, is_map
from ..shapes import as_number, get, show, text
from ..tokens import AWS_INSTANCE, AWS_LAUNCH_CONFIGURATION, AWS_LAUNCH_TEMPLATE, AWS_SPOT_FLEET, AWS_SPOT_INSTANCE

# ---------------------------------------------------------------------------------------------
# M1-M2

IMDS_TYPES = (AWS_INSTANCE, AWS_SPOT_INSTANCE, AWS_LAUNCH_TEMPLATE, AWS_LAUNCH_CONFIGURATION, AWS_SPOT_FLEET)


def _spot_fleet_specs(props: Props) -> Iterator[str]:
    """A spot fleet's inline launchSpecifications have no metadataOptions at all: their instances
    get the AMI's IMDS defaults (IMDSv1 on), so only launchTemplateConfigs can be hardened."""
    specs = as_list(get(props, "launchSpecifications"))
    if specs:
        yield (
            f"launchSpecifications ({len(specs)}) cannot set metadataOptions, so the instances keep the AMI's IMDS "
            "defaults (IMDSv1, hop limit 2 on Amazon Linux 2023); launch the fleet from launchTemplateConfigs with a "
            'template that sets httpTokens = "required" and httpPutResponseHopLimit = 1'
        )


def _endpoint_disabled(opts: Any) -> bool:
    return text(get(opts, "httpEndpoint")) == "disabled"


def check_imdsv2(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type == AWS_SPOT_FLEET:
        yield from _spot_fleet_specs(props)
        return
    opts = get(props, "metadataOptions")
    if opts is None:
        yield (
            "metadataOptions is not set, so IMDSv1 may be enabled (instance or AMI default); "
            'set metadataOptions.httpTokens = "required"'
        )
        return
    if not is_map(opts):
        yield f'metadataOptions is not an object ({show(opts)}); set metadataOptions.httpTokens = "required"'
        return
    if _endpoint_disabled(opts):
        return
    tokens = get(opts, "httpTokens")
    if text(tokens) != "required":
        shown = "not set (defaults to optional)" if tokens is None else show(tokens)
        yield f'metadataOptions.httpTokens is {shown}, which allows IMDSv1; set it to "required"'


def check_hop_limit(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    limit = ctx["maxHopLimit"]
    if resource_type == AWS_SPOT_FLEET:
        yield from _spot_fleet_specs(props)
        return
    opts = get(props, "metadataOptions")
    if opts is None:
        yield (
            f"metadataOptions is not set, so the IMDS hop limit is the AMI default (2 on Amazon Linux "
            f"2023); set metadataOptions.httpPutResponseHopLimit <= {limit}"
        )
        return
    if not is_map(opts):
        yield f"metadataOptions is not an object ({show(opts)}); set httpPutResponseHopLimit <= {limit}"
        return
    if _endpoint_disabled(opts):
        return
    raw = get(opts, "httpPutResponseHopLimit")
    if raw is None:
        yield (
            f"metadataOptions.httpPutResponseHopLimit is not set (the AMI default may be 2); set it to {limit} or less"
        )
        return
    hops = as_number(raw)
    if hops is None:
        yield f"metadataOptions.httpPutResponseHopLimit is not a number ({show(raw)}); set it to {limit} or less"
    elif hops > limit:
        yield (
            f"metadataOptions.httpPutResponseHopLimit is {raw}, above {limit}, so containers/forwarded "
            f"traffic can reach the metadata service; set it to {limit}"
        )


RULES: list[Rule | StackRule] = [
    Rule(
        name="metadata-imdsv2-required",
        description="EC2 instances and launch templates must require IMDSv2 (httpTokens = required) or disable the metadata endpoint.",
        concern="metadata-service",
        clouds=("aws",),
        resource_types=IMDS_TYPES,
        check=check_imdsv2,
        catalogue=("M1",),
        peers=("CKV_AWS_79", "AVD-AWS-0028", "AVD-AWS-0130", "nag:EC2IMDSv2Enabled"),
    ),
    Rule(
        name="metadata-hop-limit",
        description="EC2 instances and launch templates must limit the IMDS PUT response hop limit (default 1).",
        concern="metadata-service",
        clouds=("aws",),
        resource_types=IMDS_TYPES,
        check=check_hop_limit,
        knobs={
            "maxHopLimit": Knob(
                {"type": "integer", "minimum": 1, "maximum": 64},
                1,
                "highest allowed httpPutResponseHopLimit (2 for container hosts that need IMDS from containers)",
            )
        },
        catalogue=("M2",),
        peers=("CKV_AWS_341",),
    ),
]
