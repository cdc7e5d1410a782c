"""Concern `metadata-service` (policy names `metadata-...`): M1-M2: IMDSv2 required, hop limit 1.

Only AWS has an instance metadata service that answers plain GETs (IMDSv1); Azure IMDS requires
a ``Metadata: true`` header and GCP's a ``Metadata-Flavor: Google`` header on every request, and
neither exposes a hop-limit setting, so M1-M2 are AWS-only.

Settings an instance inherits from a launch template are not visible in its inputs: an
``aws:ec2/instance:Instance`` without ``metadataOptions`` fails closed even when it is launched
from a hardened template; set ``metadataOptions`` on the instance as well.

This module also holds the small shape helpers that the sibling modules written with it
(public_exposure, audit_logging, observability, deletion_protection, secure_boot, identities,
stack_baseline) share: reference presence, list sizes, numbers and the production-stack knob.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any, Iterator

from pulumi_policy.proxy import UnknownValueError

from ..framework import Context, Knob, Props, Rule, StackRule, is_map

# ---------------------------------------------------------------------------------------------
# Shared helpers (pure; no provider imports)

#: Stack-name globs treated as production (deletion protection, retention floors, bucket locks).
PROD_STACKS_KNOB = Knob(
    {"type": "array", "items": {"type": "string"}},
    ["prod", "prod-*", "*-prod", "production"],
    "stack-name globs treated as production",
)


def is_prod(ctx: Context) -> bool:
    """True when the stack name matches one of the rule's ``prodStacks`` globs."""
    return any(fnmatch.fnmatchcase(ctx.stack, str(g)) for g in ctx.config.get("prodStacks") or ())


def has_key(m: Any, key: str) -> bool:
    """Whether a property object holds `key`, without reading (and so without tripping on) its value."""
    return is_map(m) and any(k == key for k in m)


def get(m: Any, key: str) -> Any:
    """Value of `key` (raises UnknownValueError when it is unknown: it decides), None when absent."""
    return m[key] if has_key(m, key) else None


#: What `peek` returns for a value the engine does not know yet (preview).
UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "<unknown>"})()


def peek(m: Any, key: str) -> Any:
    """A reference used only to *match* resources in a stack rule: its value, `UNKNOWN`, or None.

    Stack rules pair resources (a flow log with its VPC, a lock with its load balancer) by ids that
    are outputs of other resources and so unknown during preview. Raising there would turn the
    whole stack rule into a "can't run during preview" note, so matching treats an unknown
    reference as "points at something in this stack" and falls back to counting (see
    `unmatched`); nothing passes silently because of it.
    """
    if not has_key(m, key):
        return None
    try:
        return m[key]
    except UnknownValueError:
        return UNKNOWN


def unmatched(targets: Sequence[tuple[Any, Any]], refs: Sequence[Any], names_target, is_kind) -> list[Any]:
    """The targets not covered by `refs`, or [] when every target is covered.

    `targets` are ``(resource, key)`` pairs, `key` a known name (str) or None; `refs` are the
    covering references (str or `UNKNOWN`). A target is covered by a known reference for which
    ``names_target(ref, key)`` holds. The remaining targets are covered by count: an unknown
    reference may cover any of them; a known reference that named no target and is of the right
    kind (``is_kind(ref)``) may only cover a target whose own name is not known (with both known
    and different, it points elsewhere). When the spare references do not suffice, all
    remaining targets are returned (which one lacks coverage cannot be told).
    """
    remaining_named, remaining_anonymous = [], []
    used: set[int] = set()
    for res, key in targets:
        hits = [i for i, r in enumerate(refs) if isinstance(key, str) and isinstance(r, str) and names_target(r, key)]
        if hits:
            used.update(hits)
        elif isinstance(key, str):
            remaining_named.append(res)
        else:
            remaining_anonymous.append(res)
    spare_unknown = sum(1 for i, r in enumerate(refs) if i not in used and r is UNKNOWN)
    spare_known = sum(1 for i, r in enumerate(refs) if i not in used and isinstance(r, str) and is_kind(r))
    remaining = remaining_named + remaining_anonymous
    if len(remaining_named) > spare_unknown or len(remaining) > spare_unknown + spare_known:
        return remaining
    return []


def arm_name(props: Any, key: str) -> Any:
    """An Azure resource's name: the input `key` (e.g. ``applicationGatewayName``) or, in a stack
    rule on `up` where properties are outputs, the output ``name`` (None/`UNKNOWN` when unknown)."""
    value = peek(props, key)
    return peek(props, "name") if value is None else value


def show(value: Any) -> str:
    """A property value for a message: scalars as repr, containers by kind (proxies print badly)."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "a list"
    return repr(value)


def arm_names(ref: str, collection: str, name: str) -> bool:
    """Whether an Azure resource id `ref` ends with ``/<collection>/<name>`` (case-insensitive)."""
    return ref.strip().rstrip("/").lower().endswith(f"/{collection.lower()}/{name.lower()}")


def is_set(m: Any, key: str) -> bool:
    """Whether `key` holds a non-empty value.

    A reference to another resource's output (an id, an ARN, an e-mail) is usually unknown during
    preview; it is nevertheless *set*, which is all this question asks, so an unknown value counts
    as set here. Only use this where presence alone decides; read the value where it decides.
    """
    if not has_key(m, key):
        return False
    try:
        value = m[key]
    except UnknownValueError:
        return True
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, (Mapping, Sequence)):
        return len(value) > 0
    return True


def item_count(value: Any) -> int:
    """Number of items of a list property without reading the items (they may be unknown)."""
    if value is None:
        return 0
    if isinstance(value, str):
        return 1 if value.strip() else 0
    if isinstance(value, Mapping):
        return 1
    if isinstance(value, Sequence):
        return len(value)
    return 1


def as_number(value: Any) -> float | None:
    """An integer/number property (the engine may carry it as a numeric string); None if not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def text(value: Any) -> str:
    """A string property as lowercase text ('' when absent or not a string)."""
    return value.strip().lower() if isinstance(value, str) else ""


# ---------------------------------------------------------------------------------------------
# M1-M2

AWS_INSTANCE = "aws:ec2/instance:Instance"
AWS_SPOT_INSTANCE = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
AWS_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AWS_LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
IMDS_TYPES = (AWS_INSTANCE, AWS_SPOT_INSTANCE, AWS_LAUNCH_TEMPLATE, AWS_LAUNCH_CONFIGURATION)


def _metadata_options(props: Props) -> Any:
    return props["metadataOptions"] if has_key(props, "metadataOptions") else None


def _endpoint_disabled(opts: Any) -> bool:
    return has_key(opts, "httpEndpoint") and text(opts["httpEndpoint"]) == "disabled"


def check_imdsv2(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    opts = _metadata_options(props)
    if opts is None:
        yield (
            "metadataOptions is not set, so IMDSv1 may be enabled (instance or AMI default); "
            "set metadataOptions.httpTokens = \"required\""
        )
        return
    if not is_map(opts):
        yield f"metadataOptions is not an object ({show(opts)}); set metadataOptions.httpTokens = \"required\""
        return
    if _endpoint_disabled(opts):
        return
    tokens = opts["httpTokens"] if has_key(opts, "httpTokens") else None
    if text(tokens) != "required":
        shown = "not set (defaults to optional)" if tokens is None else show(tokens)
        yield f"metadataOptions.httpTokens is {shown}, which allows IMDSv1; set it to \"required\""


def check_hop_limit(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    limit = ctx["maxHopLimit"]
    opts = _metadata_options(props)
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
    raw = opts["httpPutResponseHopLimit"] if has_key(opts, "httpPutResponseHopLimit") else None
    if raw is None:
        yield (
            f"metadataOptions.httpPutResponseHopLimit is not set (the AMI default may be 2); "
            f"set it to {limit} or less"
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
