"""Names and tags shared by every cloud, derived from the stack config and the stack name."""

from __future__ import annotations

import hashlib
import re

import pulumi

from .config.model import StackConfig

#: Log streams every cloud's log sink creates: OS, authentication, application, network flows.
LOG_STREAMS: tuple[str, ...] = ("system", "auth", "app", "flow")


def stack_tags(cfg: StackConfig) -> dict[str, str]:
    """Tags on every resource: app, environment, owner, managed-by, then the stack file's extras."""
    return {
        "app": cfg.app.name,
        "environment": cfg.environment,
        "owner": cfg.app.owner,
        "managed-by": "pulumi",
        **cfg.tags,
    }


def stack_id(stack: str | None = None) -> str:
    """The stack name as it may appear in any physical name: letters, digits and hyphens.

    Every explicit physical name carries it, so two stacks of one environment (``dev`` and
    ``dev-alice``) coexist in one account and region. Pulumi allows ``.`` and ``_`` in stack
    names, which KMS aliases and load balancer names do not, so those become ``-``.
    """
    name = re.sub(r"[^A-Za-z0-9-]", "-", stack if stack is not None else pulumi.get_stack())
    # Load balancer names may neither start nor end with a hyphen.
    return name.strip("-") or "stack"


def log_prefix(cfg: StackConfig, stack: str | None = None) -> str:
    """Prefix of the stack's log groups, e.g. ``/appstack/appstack/dev``.

    ``/`` separates app and stack (neither contains one), so no two (app, stack) pairs share a
    prefix, which ``-`` could not promise (app ``a-b`` with stack ``c`` against ``a`` with ``b-c``).
    """
    return f"/appstack/{cfg.app.name}/{stack_id(stack)}"


def digest(*parts: object, length: int = 6) -> str:
    """A short, stable hex digest of `parts`, for names that must stay within a length limit."""
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:length]


def bounded_name(*parts: str, limit: int) -> str:
    """``-``-joined `parts`, at most `limit` characters, still unique per distinct `parts`.

    Short enough as is: returned unchanged. Too long: cut and ended with a digest of the whole,
    so two long names that share their first characters still differ.
    """
    name = "-".join(p for p in parts if p)
    if len(name) <= limit:
        return name
    tail = digest(name)
    return f"{name[: limit - len(tail) - 1].rstrip('-')}-{tail}"
