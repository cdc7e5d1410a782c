"""Pick the selected cloud and compose its stack; only that cloud's package (and SDK) is imported."""

from __future__ import annotations

import gc
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


def tune_gc() -> None:
    """Run Python's cycle collector rarely while the program registers resources.

    Registering a resource allocates thousands of objects (Outputs, asyncio tasks and futures,
    protobuf messages), so with the default thresholds (700, 10, 10) the collector ran hundreds
    of times per plan and re-scanned every long-lived object (the SDK's modules and classes):
    0.2-0.45 s of an offline plan, more the larger the stack. At (50000, 50, 1000) it still runs,
    so cyclic garbage is still freed; peak RSS grows by ~2 MB at 20 VMs. The program calls it,
    and so do the offline plan and the test process, which run the program in-process.
    """
    gc.set_threshold(50_000, 50, 1000)
