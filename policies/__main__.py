"""Entry point the Pulumi CLI runs: `python -u -m pulumi.policy ENGINE_ADDRESS policies`.

It only assembles the pack. The rules live in importable modules (`pack.py`, `rules/`), because
`PolicyPack(...)` starts the gRPC server and never returns.
"""

import importlib
import sys
from pathlib import Path

# The CLI runs this file with the pack folder itself on sys.path; put its parent there so the
# rules import as one package (relative imports), whatever the folder is called.
_here = Path(__file__).resolve().parent
sys.path.insert(0, str(_here.parent))
_pack = importlib.import_module(f"{_here.name}.pack")

from pulumi_policy import EnforcementLevel, PolicyPack

# Each request's properties are converted from protobuf once, not once per policy.
importlib.import_module(f"{_here.name}.speedups").install()

PolicyPack(
    name=_pack.PACK_NAME,
    # Each rule sets its own level; the SDK's pack default is advisory, so a rule that forgot
    # would silently pass. Mandatory is the fail-closed default.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=_pack.all_policies(),
)
