"""appstack: a hardened app stack on AWS, Azure or GCP, one `pulumi up` per environment.

Thin on purpose: validate the stack config (nothing is created if it is wrong), build the
selected cloud's stack, export the outputs every cloud shares.
"""

import pulumi

from components.config import load_config
from components.interfaces import STACK_OUTPUTS
from components.stack import build_stack, tune_gc

tune_gc()  # the cycle collector took 20-30% of a plan at Python's default thresholds

config = load_config()
stack = build_stack(config.app.name, config)
for output, attribute in STACK_OUTPUTS.items():
    pulumi.export(output, getattr(stack, attribute))
