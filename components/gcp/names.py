"""GCP names and labels: every physical name within GCP's rules, every tag a valid label.

Compute, KMS and monitoring names must match ``[a-z]([-a-z0-9]*[a-z0-9])?`` and be at most 63
characters. Every name this stack gives starts with the stack's *base* ``<app>-<stack>`` (at
most `BASE_LIMIT` characters), so two stacks of one app (``dev``, ``dev-alice``) coexist in one
project and the log sink can select the stack's own logs by name prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..naming import bounded_name, digest, stack_id

#: GCP's limit for resource names, label keys and label values.
NAME_LIMIT = 63
#: Room for ``-<suffix>`` after the base: the longest suffix this stack uses is 22 characters.
BASE_LIMIT = 40
SUFFIX_LIMIT = NAME_LIMIT - BASE_LIMIT - 1
NAME_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE_RE = re.compile(r"[^a-z0-9_-]")


def _clean(value: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", value.lower())).strip("-")


def base(app: str, stack: str | None = None) -> str:
    """``<app>-<stack>`` in GCP name form, at most `BASE_LIMIT` characters, unique per pair."""
    return bounded_name(_clean(app), _clean(stack_id(stack)) or "stack", limit=BASE_LIMIT)


def app_of(component: str, part: str) -> str:
    """The app name from a part's component name (``<app>-<part>``, the composition's contract)."""
    return component.removesuffix(f"-{part}")


def physical(base_name: str, suffix: str) -> str:
    """The GCP name ``<base>-<suffix>``: a suffix longer than `SUFFIX_LIMIT` is a program bug."""
    if len(suffix) > SUFFIX_LIMIT or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", suffix):
        raise ValueError(f"name suffix {suffix!r} must be 1-{SUFFIX_LIMIT} chars of a-z0-9-; shorten it")
    return f"{base_name}-{suffix}"


def label_value(value: str) -> str:
    """A tag value as a GCP label value: lowercase, ``a-z0-9_-``, at most 63 characters."""
    cleaned = _LABEL_VALUE_RE.sub("_", value.lower())
    if len(cleaned) > NAME_LIMIT:
        cleaned = f"{cleaned[: NAME_LIMIT - 7]}_{digest(value)}"
    return cleaned


def label_key(key: str) -> str:
    """A tag key as a GCP label key: like a value, and starting with a lowercase letter."""
    cleaned = label_value(key)
    return cleaned if cleaned[:1].isalpha() else f"k{cleaned}"[:NAME_LIMIT]


def labels(tags: Mapping[str, str], stack: str | None = None) -> dict[str, str]:
    """The stack's tags as GCP labels, plus ``stack`` (alert filters select the stack's VMs by it)."""
    out = {label_key(k): label_value(v) for k, v in tags.items()}
    out.setdefault("stack", label_value(stack_id(stack)))
    return out
