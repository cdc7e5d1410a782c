"""Offline plan: run the program under Pulumi mocks with a stack's config, then the policy gate.

    python -m tools.plan --stack dev
    python -m tools.plan --stack prod --set compute.instanceCount=4 --json plan-prod.json
    python -m tools.plan --stack dev --no-policy
    python -m tools.plan --stack dev --markdown build/plan-dev.md

No credentials, CLI, plugins or network. Prints the planned tree (component → resources) and a
summary line; `--json` writes every planned resource as ``{type, name, urn, parent,
properties}`` with the engine's camelCase property names. The policy pack then judges the plan
through the Analyzer gRPC protocol, as `pulumi preview --policy-pack policies` would.

Exit status: 0 clean, 1 mandatory policy violation, 2 usage, config or program error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# The collector setting the program itself uses (it runs in this process): `tune_gc` here too.
from components.stack import tune_gc as tune_gc

from .mocks import PROJECT, ROOT, Plan, PlannedResource, config_map_from_stack_file, run_program

NAMESPACE = "appstack"


class UsageError(Exception):
    """A bad command line (unknown stack, malformed --set): exit status 2, no traceback."""


def apply_override(config: dict[str, str], assignment: str) -> str:
    """Apply one ``--set key=value``: ``compute.instanceCount=2``, ``appstack:cloud=azure``.

    The value is read as YAML (``2`` is a number, ``[a, b]`` a list, ``true`` a boolean).
    Returns the dotted key it set (``compute.instanceCount``), so errors can name the ``--set``.
    """
    import yaml

    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--set {assignment!r}: write key=value, e.g. --set compute.instanceCount=2")
    key = key.strip()
    if ":" in key:
        ns, _, key = key.partition(":")
        if ns != NAMESPACE:
            raise UsageError(f"--set {assignment!r}: only {NAMESPACE}:* keys can be set")
    try:
        value: Any = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise UsageError(
            f"--set {assignment!r}: the value is not valid YAML ({exc.__class__.__name__}); quote it"
        ) from None
    top, *path = key.split(".")
    full = f"{NAMESPACE}:{top}"
    if not path:
        config[full] = value if isinstance(value, str) else json.dumps(value)
        return key
    try:
        obj = json.loads(config.get(full, "{}"))
    except json.JSONDecodeError:
        obj = {}
    if not isinstance(obj, dict):
        obj = {}
    cur = obj
    for part in path[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = cur[part] = {}
        cur = nxt
    cur[path[-1]] = value
    config[full] = json.dumps(obj)
    return key


def load_stack_config(stack: str, overrides: Sequence[str] = ()) -> dict[str, str]:
    """The engine config map for `Pulumi.<stack>.yaml` with `--set` overrides applied."""
    return load_stack_config_with_origins(stack, overrides)[0]


def load_stack_config_with_origins(stack: str, overrides: Sequence[str] = ()) -> tuple[dict[str, str], dict[str, str]]:
    """The config map, and for each key a `--set` changed, that `--set` (for error messages)."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
        raise UsageError(f"no stack file {path.name}; known stacks: {', '.join(known)}")
    config = config_map_from_stack_file(path)
    origins: dict[str, str] = {}
    for assignment in overrides:
        origins[apply_override(config, assignment)] = f"--set {assignment.strip()}"
    return config, origins


def render_tree(plan: Plan) -> str:
    """The planned resources as an indented tree, children under their component."""
    urns = {r.urn for r in plan.resources}
    children: dict[str | None, list[PlannedResource]] = {}
    for r in plan.resources:
        children.setdefault(r.parent if r.parent in urns else None, []).append(r)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in children.get(parent, []):
            marker = "+" if r.custom else "■"
            lines.append(f"{'    ' * depth}{marker} {r.type}  {r.name}")
            walk(r.urn, depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def summary(plan: Plan, cloud: str, seconds: float) -> str:
    components = sum(1 for r in plan.resources if not r.custom)
    custom = len(plan.resources) - components
    return (
        f"plan for stack {plan.stack} on {cloud}: {len(plan.resources)} resources "
        f"({components} components, {custom} cloud resources) in {seconds:.1f} s"
    )


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. compute.instanceCount=2 (repeatable)",
    )
    parser.add_argument("--json", dest="json_path", type=Path, help="write the planned resources as JSON here")
    parser.add_argument(
        "--markdown", type=Path, help="write the plan report (tools/report.py) here, also on a policy failure"
    )
    parser.add_argument("--no-policy", action="store_true", help="skip the policy gate")
    parser.add_argument("--policy-config", type=Path, help="policy pack config (the --policy-pack-config format)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary and violations")
    args = parser.parse_args(list(argv) if argv is not None else None)

    try:
        config, origins = load_stack_config_with_origins(args.stack, args.overrides)
        policy_config = _read_policy_config(args.policy_config)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    session = None
    if not args.no_policy:
        from .policy_gate import PackSession

        # The pack boots in its own process (its start-up is mostly the SDK's imports) while this
        # one validates the config and runs the program: spawned first, so the two overlap fully.
        session = PackSession(project=PROJECT, stack=args.stack, stack_config=config, dry_run=True)
        session.spawn()
    try:
        # Validate before the program runs, naming the --set that set a bad value (the program
        # validates again when it runs, as it does under `pulumi up`).
        from components.config import ConfigError, parse_config, raw_from_config_map

        try:
            parse_config(raw_from_config_map(config), args.stack, origins=origins)
        except ConfigError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        return _plan_and_gate(args, config, policy_config, session)
    finally:
        if session is not None:
            session.close()


def _read_policy_config(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"--policy-config {path}: {exc}") from None


def _plan_and_gate(
    args: argparse.Namespace, config: dict[str, str], policy_config: dict[str, Any] | None, session
) -> int:
    from components.config import ConfigError

    gate = None
    if session is not None:
        from .policy_gate import GateStream

        # The pack judges each resource as the program registers it (Remediate, Analyze), as the
        # engine does, on the other core; AnalyzeStack follows once the program has finished.
        gate = GateStream(session, policy_config)
    started = time.perf_counter()
    try:
        plan = run_program(args.stack, config, on_resource=gate.submit if gate is not None else None)
    except ConfigError as exc:
        if gate is not None:
            gate.abort()
        print(str(exc), file=sys.stderr)
        return 2
    except Exception:  # a program bug: show it, but never as a policy verdict (exit 1)
        if gate is not None:
            gate.abort()
        traceback.print_exc()
        return 2
    elapsed = time.perf_counter() - started
    cloud = config.get(f"{NAMESPACE}:cloud", "?")
    if not args.quiet:
        print(render_tree(plan))
        print()
        for key, value in plan.outputs.items():
            print(f"output {key}: {json.dumps(value)}")
    print(summary(plan, cloud, elapsed))
    if args.json_path:
        args.json_path.write_text(json.dumps([r.as_json() for r in plan.resources], indent=2) + "\n")
        print(f"wrote {len(plan.resources)} resources to {args.json_path}")
    if gate is None:
        _markdown(args, plan, config, None)
        return 0

    from .policy_gate import GateError, format_table

    try:
        result = gate.finish()
    except GateError as exc:
        print(f"policy gate failed: {exc}", file=sys.stderr)
        return 2
    print()
    print(format_table(result))
    _markdown(args, plan, config, result)
    return 1 if result.mandatory else 0


def _markdown(args: argparse.Namespace, plan: Plan, config: dict[str, str], result) -> None:
    if args.markdown:
        from .report import write_markdown

        text = write_markdown(args.markdown, plan, config, result, gate_note="--no-policy" if args.no_policy else "")
        print(f"wrote the plan report ({len(text):,} characters) to {args.markdown}")


if __name__ == "__main__":
    tune_gc()
    status = main()
    # Tearing the interpreter down (freeing the SDK's modules and the run's objects, ~0.5 s) is
    # work nobody waits for: everything is written and the pack is stopped, so flush and leave.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
