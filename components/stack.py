"""Pick the selected cloud's AppStack; only that cloud's package (and provider SDK) is imported."""

from __future__ import annotations

import importlib

import pulumi

from .config import ConfigError, StackConfig

#: Clouds whose AppStack exists. Azure and GCP follow the AWS template (see the issues).
IMPLEMENTED = ("aws",)


def build_stack(name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None) -> pulumi.ComponentResource:
    """Construct the app stack for `cfg.cloud`."""
    if cfg.cloud not in IMPLEMENTED:
        raise ConfigError(
            [
                f"Pulumi.{pulumi.get_stack()}.yaml: appstack:cloud = {cfg.cloud!r}: the {cfg.cloud} stack is not "
                f"implemented yet; set appstack:cloud to one of {', '.join(IMPLEMENTED)}"
            ]
        )
    module = importlib.import_module(f"{__package__}.{cfg.cloud}")
    return module.AppStack(name, cfg, opts)
