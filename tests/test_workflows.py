"""The GitHub Actions workflows keep their promises: the policy pack on every preview and up,
third-party actions pinned to commit SHAs, OIDC instead of stored keys, one concurrency group
per stack, prod behind an environment, and credential-less runs skipped with a notice.

The shell steps that decide things (the stack list, the credentials check, the stack file
reading) are run here as they run on a runner; actionlint and shellcheck check the rest."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import node_executable
from tools.mocks import ROOT
from tools.report import marker

GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
SETUP_ACTION = GITHUB / "actions" / "stack-setup" / "action.yml"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in data:
        data["on"] = data.pop(True)
    return data


def jobs(name: str) -> dict[str, Any]:
    return load(GITHUB / "workflows" / name)["jobs"]


def all_steps() -> list[tuple[str, dict[str, Any]]]:
    """Every step of every workflow job and of the composite action, with where it is."""
    found = []
    for wf in WORKFLOWS:
        for job_id, job in load(wf)["jobs"].items():
            found += [(f"{wf.name}:{job_id}", s) for s in job.get("steps", [])]
    found += [(SETUP_ACTION.name, s) for s in load(SETUP_ACTION)["runs"]["steps"]]
    return found


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in job["steps"] if s.get("name") == name]
    return found


def uses_of(prefix: str) -> list[tuple[str, dict[str, Any]]]:
    return [(where, s) for where, s in all_steps() if str(s.get("uses", "")).startswith(prefix)]


def test_the_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["deploy.yml", "drift.yml", "pull-request.yml"]


def test_third_party_actions_are_pinned_to_a_commit_sha_with_the_version() -> None:
    lines = [
        line.strip().removeprefix("- ").removeprefix("uses:").strip()
        for path in [*WORKFLOWS, SETUP_ACTION]
        for line in path.read_text().splitlines()
        if re.match(r"^\s*(- )?uses:", line)
    ]
    remote = [u for u in lines if not u.startswith("./")]
    assert len(remote) >= 20
    assert [u for u in remote if not SHA_PIN.match(u)] == []
    # One version of each action throughout, so an upgrade is one search-and-replace.
    pins: dict[str, set[str]] = {}
    for u in remote:
        pins.setdefault(u.split("@")[0], set()).add(u.split("@")[1])
    assert {a: v for a, v in pins.items() if len(v) > 1} == {}
    assert pins["pulumi/actions"] == {"8582a9e8cc630786854029b4e09281acd6794b58 # v6.6.1"}


def test_every_preview_and_up_runs_the_policy_pack() -> None:
    pulumi_steps = uses_of("pulumi/actions@")
    commands = sorted(s["with"].get("command", "(install only)") for _, s in pulumi_steps)
    assert commands == ["(install only)", "preview", "up", "up"]
    for where, s in pulumi_steps:
        if "command" in s["with"]:
            assert s["with"]["policyPacks"] == "policies", where
    scripts = [(where, s["run"]) for where, s in all_steps() if "run" in s]
    # A CLI call is `pulumi <command>` where a command starts: a line start, or after | ; & (.
    call_re = re.compile(r"(?:^|[|;&(])\s*pulumi\s+(?:preview|up|update)\b[^\n]*", re.M)
    cli = [(w, r) for w, r in scripts if call_re.search(r.replace("\\\n", " "))]
    assert [w for w, _ in cli] == ["drift.yml:drift"]
    for where, run in cli:
        for call in call_re.findall(run.replace("\\\n", " ")):
            assert "--policy-pack policies" in call, (where, call)


def test_pr_preview_comments_and_drift_expects_no_changes() -> None:
    preview = step(jobs("pull-request.yml")["preview"], "pulumi preview --policy-pack policies")
    assert preview["if"] == "steps.setup.outputs.ready == 'true'"
    assert preview["with"]["comment-on-pr"] is True
    assert preview["with"]["stack-name"] == "${{ matrix.stack }}"
    drift = step(jobs("drift.yml")["drift"], "pulumi preview --refresh --expect-no-changes --policy-pack policies")
    assert 'pulumi preview --stack "$STACK" --refresh --expect-no-changes --diff' in drift["run"]
    assert "::error title=${STACK}: drift::" in drift["run"]
    assert load(GITHUB / "workflows" / "drift.yml")["on"]["schedule"] == [{"cron": "17 5 * * *"}]


def test_credentials_are_oidc_only() -> None:
    text = "\n".join(p.read_text() for p in [*WORKFLOWS, SETUP_ACTION])
    for static in ("aws-access-key-id", "aws-secret-access-key", "credentials_json", "creds:", "CLIENT_SECRET"):
        assert static not in text, static
    ((_, aws),) = uses_of("aws-actions/configure-aws-credentials@")
    assert set(aws["with"]) == {"role-to-assume", "aws-region", "role-session-name"}
    ((_, azure),) = uses_of("azure/login@")
    assert set(azure["with"]) == {"client-id", "tenant-id", "subscription-id"}
    ((_, gcp),) = uses_of("google-github-actions/auth@")
    assert set(gcp["with"]) == {"workload_identity_provider", "service_account", "project_id"}
    # Every job that logs in to a cloud may mint an OIDC token, and only those jobs.
    for wf in WORKFLOWS:
        for job_id, job in load(wf)["jobs"].items():
            logs_in = any(s.get("uses") == "./.github/actions/stack-setup" for s in job.get("steps", []))
            assert (job.get("permissions", {}).get("id-token") == "write") == logs_in, f"{wf.name}:{job_id}"
        assert load(wf)["permissions"] == {"contents": "read"}, wf.name


def test_one_concurrency_group_per_stack_and_prod_behind_its_environment() -> None:
    deploy = jobs("deploy.yml")
    assert deploy["up-dev"]["concurrency"] == {"group": "pulumi-up-dev", "cancel-in-progress": False}
    assert deploy["up-prod"]["concurrency"] == {"group": "pulumi-up-prod", "cancel-in-progress": False}
    assert deploy["up-dev"]["environment"] == "dev"
    assert deploy["up-prod"]["environment"] == "prod"
    assert deploy["up-prod"]["needs"] == "up-dev"
    for job_id, stack in (("up-dev", "dev"), ("up-prod", "prod")):
        up = step(deploy[job_id], "pulumi up --policy-pack policies")
        assert up["with"]["stack-name"] == stack
        assert step(deploy[job_id], "Stack set-up and OIDC login")["with"]["stack"] == stack
    assert load(GITHUB / "workflows" / "deploy.yml")["on"]["push"] == {"branches": ["main"]}
    drift = jobs("drift.yml")["drift"]
    assert drift["concurrency"] == {"group": "pulumi-drift-${{ matrix.stack }}", "cancel-in-progress": False}


def _bash(script: str, env: dict[str, str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    out = tmp_path / "github_output"
    out.write_text("")
    base = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(out), "GITHUB_PATH": str(tmp_path / "path")}
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=60
    )
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return done, outputs


def test_the_stack_matrix_is_every_stack_file(tmp_path: Path) -> None:
    for name in ("pull-request.yml", "drift.yml"):
        done, outputs = _bash(
            step(jobs(name)["stacks"], "One matrix entry per Pulumi.<stack>.yaml")["run"], {}, tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert outputs == {"stacks": '["dev","prod"]'}


def _setup_step(name: str) -> str:
    (found,) = [s for s in load(SETUP_ACTION)["runs"]["steps"] if s.get("name") == name]
    return found["run"]


def test_the_stack_file_gives_the_cloud_and_the_cli_version(tmp_path: Path) -> None:
    done, outputs = _bash(_setup_step("Read the stack file"), {"STACK": "prod"}, tmp_path)
    assert done.returncode == 0, done.stderr
    locked = re.search(r'name = "pulumi"\nversion = "([\d.]+)"', (ROOT / "uv.lock").read_text())
    assert locked is not None
    assert outputs == {"cloud": "aws", "pulumi-version": locked.group(1)}
    done, _ = _bash(_setup_step("Read the stack file"), {"STACK": "nope"}, tmp_path)
    assert done.returncode == 1
    assert "::error file=Pulumi.nope.yaml::no stack file Pulumi.nope.yaml" in done.stdout


@pytest.mark.parametrize(
    ("env", "notice"),
    [
        (
            {"CLOUD": "aws", "FORK": "true", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "PULUMI_BACKEND_URL": "s3://b"},
            "pull request from a fork: no cloud credentials",
        ),
        ({"CLOUD": "aws", "FORK": "false", "PULUMI_BACKEND_URL": "s3://b"}, "variable AWS_ROLE_ARN is not set"),
        (
            {"CLOUD": "azure", "FORK": "false", "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"},
            "variables AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_SUBSCRIPTION_ID are not all set",
        ),
        (
            {"CLOUD": "gcp", "FORK": "false", "GCP_WORKLOAD_IDENTITY_PROVIDER": "p", "GCP_SERVICE_ACCOUNT": "s"},
            "no state backend: set the variable PULUMI_BACKEND_URL",
        ),
    ],
)
def test_runs_without_credentials_skip_with_a_notice(env: dict[str, str], notice: str, tmp_path: Path) -> None:
    done, outputs = _bash(_setup_step("Check credentials"), {"STACK": "dev", **env}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert outputs == {"ready": "false"}
    assert done.stdout.startswith("::notice title=dev: Pulumi step skipped::")
    assert notice in done.stdout


def test_configured_runs_are_ready(tmp_path: Path) -> None:
    env = {"STACK": "dev", "CLOUD": "gcp", "FORK": "false", "GCP_WORKLOAD_IDENTITY_PROVIDER": "p"}
    env |= {"GCP_SERVICE_ACCOUNT": "s", "PULUMI_ACCESS_TOKEN": "t"}
    done, outputs = _bash(_setup_step("Check credentials"), env, tmp_path)
    assert (done.returncode, done.stdout, outputs) == (0, "", {"ready": "true"})


def test_the_report_comment_finds_its_marker() -> None:
    script = step(jobs("pull-request.yml")["plan"], "Report comment (one per stack, edited in place)")["with"]["script"]
    assert "const marker = `<!-- appstack-plan-report:${stack} -->`;" in script
    assert marker("dev") == "<!-- appstack-plan-report:dev -->"
    assert "c.body?.startsWith(marker)" in script
    assert "github.rest.issues.updateComment" in script


def _tool_or_skip(ok: bool, what: str) -> None:
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is not installed")
        pytest.skip(f"{what} is not installed")


def test_actionlint_is_clean() -> None:
    node = node_executable()
    _tool_or_skip(
        node is not None and (ROOT / "tools/node/node_modules/@tktco").is_dir(), "actionlint (make node-tools)"
    )
    assert node is not None
    done = subprocess.run(
        [node, "tools/node/actionlint.mjs"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("actionlint: 3 workflow file(s), 0 finding(s)")


def test_run_scripts_pass_shellcheck() -> None:
    # What actionlint does with its shellcheck integration (which the WebAssembly build lacks):
    # each `${{ }}` becomes a plain word, then shellcheck reads the script as bash.
    shellcheck = shutil.which("shellcheck")
    _tool_or_skip(shellcheck is not None, "shellcheck")
    assert shellcheck is not None
    problems = []
    for where, s in all_steps():
        if "run" not in s:
            continue
        script = re.sub(r"\$\{\{.*?\}\}", "GHA_EXPR", s["run"])
        done = subprocess.run(
            [shellcheck, "--shell=bash", "--severity=style", "-"], input=script, capture_output=True, text=True
        )
        if done.returncode:
            problems.append(f"{where} / {s.get('name', s['run'][:30])}:\n{done.stdout}")
    assert problems == []


def test_region_and_project_come_from_the_stack_file(tmp_path: Path) -> None:
    script = _setup_step("Region and project from the stack file").replace(".venv/bin/python", sys.executable)
    done, outputs = _bash(script, {"STACK": "dev"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert outputs == {"aws-region": "eu-west-1", "gcp-project": "appstack-dev-example"}


DRIFTED_PREVIEW = """\
Previewing update (prod):
  pulumi:pulumi:Stack: (same)
    [urn=urn:pulumi:prod::appstack::pulumi:pulumi:Stack::appstack-prod]
    ~ aws:ec2/securityGroup:SecurityGroup: (update)
        [id=sg-0123]
        [urn=urn:pulumi:prod::appstack::appstack:aws:AppStack$appstack:aws:Firewall$aws:ec2/securityGroup:SecurityGroup::appstack-firewall-lb]
      ~ tags: {
          ~ owner: "someone" => "platform-team"
        }
    +-aws:ec2/instance:Instance: (replace)
        [id=i-1]
        [urn=urn:pulumi:prod::appstack::appstack:aws:AppStack$appstack:aws:Vm$aws:ec2/instance:Instance::appstack-vm-0]
Resources:
    ~ 1 to update
    +-1 to replace
error: no changes were expected but changes were proposed
"""


def test_drift_names_each_drifted_resource(tmp_path: Path) -> None:
    run = step(jobs("drift.yml")["drift"], "pulumi preview --refresh --expect-no-changes --policy-pack policies")["run"]
    program = re.search(r"drifted=\$\(awk '(.*?)' \"\$out\"\)", run, re.S)
    assert program is not None
    (tmp_path / "out.txt").write_text(DRIFTED_PREVIEW)
    done = subprocess.run(["awk", program.group(1), str(tmp_path / "out.txt")], capture_output=True, text=True)
    assert done.stdout.splitlines() == [
        "~ appstack-firewall-lb (aws:ec2/securityGroup:SecurityGroup)",
        "+- appstack-vm-0 (aws:ec2/instance:Instance)",
    ]


COMMENT_HARNESS = r"""
const script = require('fs').readFileSync(process.argv[2], 'utf8');
const calls = [];
const existing = JSON.parse(process.argv[3]);
const github = {
  paginate: async (fn, args) => { calls.push(['list', args.issue_number]); return existing; },
  rest: { issues: {
    listComments: 'listComments',
    updateComment: async (a) => { calls.push(['update', a.comment_id, a.body]); },
    createComment: async (a) => { calls.push(['create', a.issue_number, a.body]); return { data: { html_url: 'u' } }; },
  } },
};
const context = {
  repo: { owner: 'o', repo: 'r' }, issue: { number: 7 }, runId: 99, serverUrl: 'https://github.com',
  payload: { pull_request: { head: { sha: 'abcdef0123456' } } },
};
const core = { info: () => {} };
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
new AsyncFunction('require', 'github', 'context', 'core', script)(require, github, context, core)
  .then(() => console.log(JSON.stringify(calls)));
"""


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ([], "create"),
        ([], "create without a report"),
        # Someone quoting the marker is not the bot's comment; the bot's own one is edited.
        (
            [
                {"id": 1, "user": {"type": "User"}, "body": "<!-- appstack-plan-report:dev -->\nquoted"},
                {"id": 2, "user": {"type": "Bot"}, "body": "<!-- appstack-plan-report:prod -->\nprod"},
                {"id": 3, "user": {"type": "Bot"}, "body": "<!-- appstack-plan-report:dev -->\nold"},
            ],
            "update",
        ),
    ],
)
def test_the_report_comment_is_edited_in_place(existing: list[dict[str, Any]], expected: str, tmp_path: Path) -> None:
    node = node_executable()
    _tool_or_skip(node is not None, "node")
    assert node is not None
    script = step(jobs("pull-request.yml")["plan"], "Report comment (one per stack, edited in place)")["with"]["script"]
    (tmp_path / "script.js").write_text(script)
    (tmp_path / "harness.js").write_text(COMMENT_HARNESS)
    (tmp_path / "build").mkdir()
    report = "<!-- appstack-plan-report:dev -->\n## report\n"
    if expected == "create without a report":
        # The plan stopped before writing one (bad config): the comment still says so, marked.
        report = "<!-- appstack-plan-report:dev -->\n## Plan of stack `dev`: ❌ the offline plan failed (exit 2) before writing its report\n\nSee the job log.\n"
    else:
        (tmp_path / "build" / "plan-dev.md").write_text(report)
    done = subprocess.run(
        [node, str(tmp_path / "harness.js"), str(tmp_path / "script.js"), json.dumps(existing)],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "STACK": "dev", "PLAN_RC": "2"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    calls = json.loads(done.stdout)
    footer = "\n---\n<sub>[workflow run](https://github.com/o/r/actions/runs/99) · abcdef0</sub>\n"
    body = report + footer
    assert calls == [["list", 7], ["update", 3, body] if expected == "update" else ["create", 7, body]]


#: Inputs each pinned action declares in its action.yml at that commit (those this repository may
#: use). actionlint checks popular actions' inputs by version tag only, so with SHA pins this table
#: does it instead; re-check it against the action.yml when a pin moves.
ACTION_INPUTS: dict[str, set[str]] = {
    "actions/checkout": {"fetch-depth", "path", "persist-credentials", "ref", "repository", "token", "submodules"},
    "actions/setup-python": {"python-version", "python-version-file", "cache", "architecture", "check-latest"},
    "actions/setup-node": {"node-version", "node-version-file", "cache", "registry-url", "check-latest"},
    "actions/upload-artifact": {"name", "path", "if-no-files-found", "retention-days", "compression-level", "overwrite"},
    "actions/github-script": {"script", "github-token", "debug", "user-agent", "result-encoding", "retries"},
    "aws-actions/configure-aws-credentials": {"role-to-assume", "aws-region", "role-session-name", "audience"},
    "azure/login": {"client-id", "tenant-id", "subscription-id", "environment", "audience", "allow-no-subscriptions"},
    "google-github-actions/auth": {"workload_identity_provider", "service_account", "project_id", "audience"},
    "pulumi/actions": {
        "command", "stack-name", "work-dir", "cloud-url", "secrets-provider", "pulumi-version", "policyPacks",
        "policyPackConfigs", "comment-on-pr", "edit-pr-comment", "comment-on-summary", "diff", "refresh",
        "expect-no-changes", "message", "suppress-progress", "suppress-outputs", "upsert", "github-token",
    },
}  # fmt: skip


def test_every_action_input_is_one_the_action_declares() -> None:
    local = set(load(SETUP_ACTION)["inputs"])
    for where, s in all_steps():
        uses = s.get("uses")
        if not uses:
            continue
        declared = local if uses == "./.github/actions/stack-setup" else ACTION_INPUTS[uses.split("@")[0]]
        assert set(s.get("with", {})) <= declared, (where, uses, set(s.get("with", {})) - declared)
