"""tools/slim_imports.py: a lazy provider service package resolves names as the real one does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CODE = """
import sys
from tools import slim_imports
slim_imports.install()
import pulumi_aws as aws
vpc, ingress, get_ami, outputs = aws.ec2.Vpc, aws.ec2.SecurityGroupIngressArgs, aws.ec2.get_ami, aws.ec2.outputs
assert vpc.__module__ == "pulumi_aws.ec2.vpc", vpc.__module__
assert ingress.__module__ == "pulumi_aws.ec2._inputs", ingress.__module__
assert get_ami.__module__ == "pulumi_aws.ec2.get_ami" and outputs.__name__ == "pulumi_aws.ec2.outputs"
assert "pulumi_aws.ec2.ami_copy" not in sys.modules  # only what was read is loaded
try:
    aws.ec2.NoSuchThing
except AttributeError:
    pass
else:
    raise AssertionError("an unknown name must raise AttributeError")
ns = {}
exec("from pulumi_aws.ec2 import *", ns)  # a star import loads the whole package, as before
assert ns["Vpc"] is vpc and "AmiCopy" in ns
import pulumi_aws.config
assert pulumi_aws.config.region is None or isinstance(pulumi_aws.config.region, str)
print("ok")
"""


def test_a_lazy_service_package_resolves_names_like_the_real_one():
    proc = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def _plan_json(cloud: str, slim: bool) -> list[dict]:
    import json

    code = (
        "import json, sys\n"
        "from tools.mocks import run_program\n"
        "from tools.plan import load_stack_config\n"
        f"plan = run_program('prod', load_stack_config('prod', ['cloud={cloud}']), slim_imports={slim})\n"
        "json.dump([r.as_json() for r in plan.resources], sys.stdout)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_the_offline_plan_is_the_same_with_and_without_slim_imports(cloud):
    # The plan is only faster: the same resources, URNs, parents and inputs as with the SDK's
    # real package __init__ (what `pulumi up` runs).
    # (Registration order may differ: the SDK registers resources concurrently.)
    slim, real = (sorted(_plan_json(cloud, slim=s), key=lambda r: r["urn"]) for s in (True, False))
    assert [r["urn"] for r in slim] == [r["urn"] for r in real]
    assert slim == real
