"""Names and tags shared by every cloud, derived from the stack config."""

from __future__ import annotations

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


def log_prefix(cfg: StackConfig) -> str:
    """Prefix of the stack's log groups, e.g. ``/appstack/appstack-dev``."""
    return f"/appstack/{cfg.app.name}-{cfg.environment}"
