"""Pick the selected cloud and compose its stack; only that cloud's package (and SDK) is imported."""

from __future__ import annotations

import importlib

import pulumi

from .composition import AppStack, Cloud
from .config import StackConfig


def cloud_of(cfg: StackConfig) -> Cloud:
    """The `composition.Cloud` of `appstack:cloud`: `components/<cloud>/`'s `CLOUD`.

    Imported by name, so an AWS stack never imports the Azure or Google Cloud SDK.
    """
    return importlib.import_module(f"{__package__}.{cfg.cloud}").CLOUD


def build_stack(name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None) -> AppStack:
    """Construct the app stack for `cfg.cloud`: the shared composition over that cloud's parts."""
    return AppStack(name, cfg, cloud_of(cfg), opts)
