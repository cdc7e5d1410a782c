"""The layout is part of the contract: required files, no stdlib-shadowing modules, pack isolation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = (
    "Pulumi.yaml",
    "Pulumi.dev.yaml",
    "Pulumi.prod.yaml",
    "__main__.py",
    "components",
    "policies",
    "tests",
    "README.md",
    "Makefile",
    "pyproject.toml",
    "uv.lock",
    ".ci/run",
    "tools/plan.py",
    "tools/bench.py",
    "policies/PulumiPolicy.yaml",
    "policies/requirements.txt",
    "policies/__main__.py",
)


def test_required_top_level_entries_exist():
    missing = [p for p in REQUIRED if not (ROOT / p).exists()]
    assert missing == []


def test_no_module_shadows_the_standard_library():
    stdlib = set(sys.stdlib_module_names)
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("components", "policies", "tools", "tests")
        for p in (ROOT / folder).rglob("*.py")
        if p.stem in stdlib
    ]
    assert offenders == []


def test_policy_pack_imports_neither_the_program_nor_a_provider_sdk():
    code = (
        "import sys\n"
        "from policies.pack import all_policies\n"
        "assert len(all_policies()) >= 80\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('components', 'pulumi_aws', 'pulumi_gcp', 'pulumi_azure_native'))\n"
        "print(bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_pack_main_only_assembles_the_pack():
    text = (ROOT / "policies" / "__main__.py").read_text()
    assert "PolicyPack(" in text and "EnforcementLevel.MANDATORY" in text
    assert "def " not in text  # no rule logic in the entry point
