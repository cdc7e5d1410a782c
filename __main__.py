"""appstack: a hardened app stack on AWS, Azure or GCP, one `pulumi up` per environment.

Thin on purpose: validate the stack config (nothing is created if it is wrong), build the
selected cloud's stack, export the outputs every cloud shares.
"""

import gc

import pulumi

from components.config import load_config
from components.interfaces import STACK_OUTPUTS
from components.stack import build_stack

# Registering a resource allocates thousands of short-lived objects (Outputs, asyncio tasks);
# at the default thresholds the cycle collector took 20-30% of a plan re-scanning the SDK's
# modules (tools/plan.py `tune_gc`). It still runs at these, so cyclic garbage is still freed.
gc.set_threshold(50_000, 50, 1000)

config = load_config()
stack = build_stack(config.app.name, config)
for output, attribute in STACK_OUTPUTS.items():
    pulumi.export(output, getattr(stack, attribute))
