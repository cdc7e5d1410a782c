"""Shape helpers over engine properties, shared by the rule modules.

Properties arrive as plain dicts/lists in tests and as the SDK's unknown-checking proxies
(``Mapping``/``Sequence``, not dict/list) in the pack. The basic accessors (`is_map`, `as_list`,
`dig`, `truthy`, `exact_false`) live in `framework`; these build on them: presence and values of
single properties, list properties, JSON policy documents, and references between resources in
stack rules (which are outputs, and so unknown during preview).

Pure functions; no provider imports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from pulumi_policy.proxy import UnknownValueError

from .framework import Props, as_list, is_map

# ---------------------------------------------------------------------------------------------
# Presence and values of one property


def has_key(m: Any, key: str) -> bool:
    """Whether a property object holds `key`, without reading (and so without tripping on) its value."""
    return is_map(m) and any(k == key for k in m)


def get(m: Any, key: str) -> Any:
    """Value of `key` (raises UnknownValueError when it is unknown: it decides), None when absent."""
    return m[key] if has_key(m, key) else None


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


def has_text(value: Any) -> TypeGuard[str]:
    """A non-empty string (key IDs, ARNs, self links)."""
    return isinstance(value, str) and value.strip() != ""


def text(value: Any) -> str:
    """A string property as lowercase text ('' when absent or not a string)."""
    return value.strip().lower() if isinstance(value, str) else ""


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


def show(value: Any) -> str:
    """A property value for a message: scalars as repr, containers by kind (proxies print badly)."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "a list"
    return repr(value)


# ---------------------------------------------------------------------------------------------
# List properties


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


def filled_count(value: Any) -> int:
    """Like `item_count`, but blank items (``""``, ``" "``, None) do not count.

    A list of ARNs/ids/channels is only as good as its entries: ``alarmActions: [""]`` has one
    item and notifies nobody. Items that are unknown (outputs during preview) count as filled.
    """
    if value is None:
        return 0
    if isinstance(value, str):
        return 1 if value.strip() else 0
    if isinstance(value, Mapping) or not isinstance(value, Sequence):
        return 1
    n = 0
    for i in range(len(value)):
        try:
            item = value[i]
        except UnknownValueError:
            n += 1
            continue
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        n += 1
    return n


def entries(value: Any, what: str) -> tuple[list[Any], str | None]:
    """A list property as a list, or an error message when it is not a list at all."""
    if value is None:
        return [], None
    if isinstance(value, (str, bytes)) or is_map(value) or not isinstance(value, Sequence):
        return [], f"{what} is {type(value).__name__} {value!r}, not a list; cannot evaluate it (failing closed)"
    return list(value), None


# ---------------------------------------------------------------------------------------------
# JSON documents (IAM-style policies, rule JSON, GCP policy data)


def parsed_json(value: Any) -> Any:
    """A property that may carry JSON text, parsed; any other value as it is.

    Raises ValueError (``json.JSONDecodeError``) when the text is not valid JSON.
    """
    return json.loads(value) if isinstance(value, str) else value


def policy_document(value: Any) -> Mapping[str, Any]:
    """An IAM-style policy given as JSON text or an object; raises ValueError when malformed."""
    doc = parsed_json(value)
    if is_map(doc):
        return doc
    raise ValueError(f"policy is not a JSON object: {value!r}")


def policy_statements(doc: Mapping[str, Any]) -> list[Any]:
    """The ``Statement`` entries of a policy document (a single statement as a list of one)."""
    return as_list(doc.get("Statement"))


# ---------------------------------------------------------------------------------------------
# References between resources (stack rules)

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


def peek_all(m: Any, key: str) -> list[Any]:
    """Like `peek` for a reference that may be one id or a list of ids: each item's value or
    `UNKNOWN`, read one by one so that one unknown id does not hide the known ones."""
    value = peek(m, key)
    if value is None:
        return []
    if value is UNKNOWN or isinstance(value, str) or not isinstance(value, Sequence):
        return [value]
    out: list[Any] = []
    for i in range(len(value)):
        try:
            out.append(value[i])
        except UnknownValueError:
            out.append(UNKNOWN)
    return out


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


def arm_names(ref: str, collection: str, name: str) -> bool:
    """Whether an Azure resource id `ref` ends with ``/<collection>/<name>`` (case-insensitive)."""
    return ref.strip().rstrip("/").lower().endswith(f"/{collection.lower()}/{name.lower()}")


def ref_name(ref: Any) -> str:
    """The last path segment of a resource ID/self link (``.../urlMaps/web`` -> ``web``)."""
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------
# Resource kinds


def is_application_lb(props: Props) -> bool:
    """An ELBv2 load balancer is an ALB when loadBalancerType is ``application`` or absent (the default)."""
    lb_type = props.get("loadBalancerType")
    return lb_type is None or str(lb_type).lower() == "application"
