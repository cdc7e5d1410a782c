"""Pick the selected cloud and compose its stack; only that cloud's package (and SDK) is imported."""

from __future__ import annotations

import importlib

import pulumi

from .config import ConfigError, StackConfig

#: Clouds whose parts exist. A cloud's package (`components/<cloud>/`) exposes `CLOUD`, its
#: `composition.Cloud`, which the shared `composition.AppStack` wires into a stack.
IMPLEMENTED = ("aws", "azure", "gcp")


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
    cloud = getattr(module, "CLOUD", None)
    if cloud is None:  # a cloud still on its own composition (AWS, until it moves over)
        return module.AppStack(name, cfg, opts)
    from .composition import AppStack

    return AppStack(name, cfg, cloud, opts)
