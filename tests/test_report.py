"""The plan report (tools/report.py): exact Markdown for small plans, the size budget, and the
Mermaid block parsed by mermaid's own parser (node, tools/node/)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import node_executable, plan_of
from tools import plan as plan_cli
from tools.mocks import ROOT, Plan, PlannedResource
from tools.policy_gate import GateResult, Violation
from tools.report import (
    COMMENT_LIMIT,
    Comparison,
    cell,
    marker,
    mermaid_label,
    other_stack,
    render,
    settings_of,
    short_type,
)

STACK_URN = "urn:pulumi:t::appstack::"
MERMAID_PARSE = ROOT / "tools" / "node" / "mermaid-parse.mjs"
NODE_MODULES = ROOT / "tools" / "node" / "node_modules"


def _res(type_: str, name: str, parent: str | None = None, custom: bool = True, **props) -> PlannedResource:
    return PlannedResource(
        type=type_, name=name, urn=f"{STACK_URN}{type_}::{name}", parent=parent, custom=custom, properties=props
    )


def small_plan(stack: str = "t", subnets: int = 3) -> Plan:
    root = _res("appstack:aws:AppStack", "app", custom=False)
    net = _res("appstack:aws:Network", "app-net", parent=root.urn, custom=False)
    resources = [root, net, _res("aws:ec2/vpc:Vpc", "app-net-vpc", parent=net.urn, cidrBlock="10.0.0.0/16")]
    resources += [_res("aws:ec2/subnet:Subnet", f"app-net-s{i}", parent=net.urn) for i in range(subnets)]
    return Plan(stack=stack, resources=resources)


def gate_with(*violations: Violation) -> GateResult:
    return GateResult(violations=list(violations), policies=[("p", "mandatory")] * 5, pack="appstack")


def _violation(level: str, policy: str, name: str, message: str, type_: str = "aws:ec2/vpc:Vpc") -> Violation:
    return Violation(
        policy=policy, pack="appstack", level=level, urn=f"{STACK_URN}{type_}::{name}", name=name, message=message
    )


def test_markdown_helpers_escape_what_github_would_read_as_syntax() -> None:
    assert cell("a | b\nc <script>") == "a \\| b<br>c &lt;script&gt;"
    assert cell("x" * 10, limit=5) == "xxxx…"
    assert mermaid_label('say "hi" #1; <b>') == "say #quot;hi#quot; #35;1#59; #lt;b#gt;"
    assert short_type("aws:ec2/subnet:Subnet") == "ec2 Subnet"
    assert short_type("pulumi:providers:aws") == "provider aws"
    assert marker("prod") == "<!-- appstack-plan-report:prod -->"


def test_clean_plan_report_sections() -> None:
    text = render(small_plan(), cloud="aws", gate=gate_with())
    lines = text.splitlines()
    assert lines[0] == "<!-- appstack-plan-report:t -->"
    assert lines[1] == "## Plan of stack `t` on aws: ✅ no policy violations"
    assert "No violations: 5 policies from pack `appstack` passed." in lines
    # Counts by part: the root holds nothing itself, the network 4 (vpc + 3 subnets).
    assert "| `app` | `appstack:aws:AppStack` | 0 | 4 |" in lines
    assert "| &nbsp;&nbsp;`app-net` | `appstack:aws:Network` | 4 | 4 |" in lines
    assert "| `app-net` | `aws:ec2/subnet:Subnet` | 3 |" in lines
    # The sub-component is a box with its resources in one column; three subnets are one node
    # with a count, the lone VPC is named.
    graph = text[text.index("```mermaid") :]
    assert graph == "\n".join(
        [
            "```mermaid",
            "flowchart TB",
            '    c1(["app<br/>AppStack"])',
            '    subgraph s1["app-net · Network"]',
            "        direction TB",
            '        r1["ec2 Vpc<br/>app-net-vpc"]',
            '        r2["ec2 Subnet ×3"]',
            "        r1 ~~~ r2",
            "    end",
            "    c1 --> s1",
            "    class c1 component",
            "    classDef component fill:#eef3fb,stroke:#4a6fa5",
            "    classDef mandatory fill:#fdd,stroke:#c00,stroke-width:2px",
            "    classDef advisory fill:#fff4d6,stroke:#d9a400",
            "```",
            "",
        ]
    )
    assert "Trimmed" not in text


def test_violations_table_and_graph_highlight() -> None:
    gate = gate_with(
        _violation("advisory", "tags-required", "app-net-vpc", "missing tag | owner"),
        _violation("mandatory", "flow-logs", "app-net-vpc", "VPC has no flow log\nadd one"),
    )
    text = render(small_plan(), cloud="aws", gate=gate)
    lines = text.splitlines()
    assert lines[1] == "## Plan of stack `t` on aws: 🛑 1 mandatory policy violation(s): this plan would be blocked"
    assert "1 mandatory, 1 advisory (5 policies from pack `appstack`)." in lines
    # Mandatory first; the pipe and the newline cannot break the table row.
    i = lines.index("| level | rule | resource | message |")
    assert lines[i + 2] == "| 🛑 mandatory | `flow-logs` | `app-net-vpc`<br>ec2 Vpc | VPC has no flow log<br>add one |"
    assert lines[i + 3] == "| ⚠️ advisory | `tags-required` | `app-net-vpc`<br>ec2 Vpc | missing tag \\| owner |"
    assert "    class r1 mandatory" in lines


def test_comparison_counts_settings_inputs_and_one_side_resources() -> None:
    mine, theirs = small_plan("dev", subnets=2), small_plan("prod", subnets=3)
    theirs.resources[2].properties["cidrBlock"] = "10.1.0.0/16"
    cmp = Comparison("prod", theirs, settings={"environment": "prod", "network.zoneCount": 3, "gcp.project": "p"})
    text = render(
        mine,
        cloud="aws",
        gate=gate_with(),
        settings={"cloud": "aws", "environment": "dev", "network.zoneCount": 2, "gcp.project": "d"},
        comparison=cmp,
    )
    lines = text.splitlines()
    assert "### `dev` compared with `prod`" in lines
    assert "3 cloud resources here, 4 in `prod` (-1)." in lines
    assert "| `aws:ec2/subnet:Subnet` | 2 | 3 | -1 |" in lines
    assert "The other 1 type(s) have the same count." in lines
    assert "| `network.zoneCount` | `2` | `3` |" in lines
    # Settings of a cloud neither stack uses are noise.
    assert not any("gcp.project" in line for line in lines)
    assert "| `app-net-vpc` | `cidrBlock` | `10.0.0.0/16` | `10.1.0.0/16` |" in lines
    assert "| `aws:ec2/subnet:Subnet` | prod | `app-net-s2` |" in lines


def test_comparison_failure_is_reported_not_raised() -> None:
    text = render(small_plan("dev"), cloud="aws", comparison=Comparison("prod", error="ConfigError: bad"))
    assert "Could not plan `prod` for the comparison: ConfigError: bad" in text.splitlines()
    assert text.splitlines()[1] == "## Plan of stack `dev` on aws: ⚪ policy gate not run"


def test_huge_plan_is_trimmed_under_the_budget_and_says_what() -> None:
    root = _res("appstack:aws:AppStack", "app", custom=False)
    resources = [root]
    for i in range(400):
        resources.append(_res(f"aws:svc{i}/thing:Thing{i}", f"r{i}", parent=root.urn, blob="x" * 200))
    plan = Plan(stack="big", resources=resources)
    gate = gate_with(*(_violation("mandatory", f"rule-{i}", f"r{i}", "m" * 900) for i in range(400)))
    text = render(plan, cloud="aws", gate=gate, budget=20_000)
    assert len(text) <= 20_000
    assert "> Trimmed to fit a 65,536-character comment: " in text
    assert (
        "> Trimmed to fit a 65,536-character comment: policy messages, part/type rows, graph nodes, violations." in text
    )
    assert "… and 340 more violation(s), listed in the job log and the artifact." in text
    # The default budget keeps room for the workflow's footer under GitHub's limit.
    assert len(render(plan, cloud="aws", gate=gate)) <= COMMENT_LIMIT - 1_000


def test_other_stack_prefers_the_other_environment() -> None:
    assert other_stack("dev") == "prod"
    assert other_stack("prod") == "dev"


def _parse_mermaid(path: Path) -> subprocess.CompletedProcess[str]:
    node = node_executable()
    if node is None or not (NODE_MODULES / "mermaid").is_dir():
        reason = "mermaid's parser is not installed: run `make node-tools`"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return subprocess.run([node, str(MERMAID_PARSE), str(path)], capture_output=True, text=True, timeout=120)


def test_dev_report_against_prod_parses_as_mermaid(tmp_path: Path) -> None:
    instances = ["compute.mode=instances"]
    dev, prod = plan_of("dev"), plan_of("prod", instances)
    settings = settings_of(plan_cli.load_stack_config("dev"), "dev")
    cmp = Comparison("prod", prod, settings_of(plan_cli.load_stack_config("prod", instances), "prod"))
    vm = dev.named("appstack-vm-0")
    flagged = Violation(policy="vm-imds", pack="appstack", level="mandatory", urn=vm.urn, name=vm.name, message="m")
    text = render(dev, cloud="aws", gate=gate_with(flagged), settings=settings, comparison=cmp)
    lines = text.splitlines()
    (vm_node,) = [line.split("[")[0].strip() for line in lines if '["ec2 Instance<br/>appstack-vm-0"]' in line]
    assert f"    class {vm_node} mandatory" in lines
    assert "| `compute.instanceCount` | `1` | `3` |" in lines
    assert "| `aws:ec2/instance:Instance` | 1 | 3 | -2 |" in lines
    assert "| `aws:wafv2/webAcl:WebAcl` | 0 | 1 | -1 |" in lines
    assert len(text) < 30_000
    report = tmp_path / "plan-dev.md"
    report.write_text(text)
    done = _parse_mermaid(report)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{report}: block 1: flowchart-v2 ok"


def test_mermaid_parser_rejects_a_broken_graph(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text('```mermaid\nflowchart LR\n  a["open --> b\n```\n')
    done = _parse_mermaid(bad)
    assert done.returncode == 1
    assert "block 1: Parse error" in done.stderr


def test_plan_cli_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r" / "plan-dev.md"
    assert plan_cli.main(["--stack", "dev", "--no-policy", "--quiet", "--markdown", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("<!-- appstack-plan-report:dev -->\n## Plan of stack `dev` on aws: ⚪ policy gate not run")
    assert "### `dev` compared with `prod`" in text
    assert f"wrote the plan report ({len(text):,} characters) to {out}" in capsys.readouterr().out
