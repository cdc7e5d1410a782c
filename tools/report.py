"""The plan report: one Markdown page a reviewer reads in the pull request.

    python -m tools.plan --stack dev --markdown build/plan-dev.md

`render` turns an offline plan (and the policy gate's verdict) into GitHub-flavoured Markdown:
a headline, the policy table, resource counts by part (component) and type, what differs from
the other environment's plan (counts per type, settings, resource inputs, resources only on one
side), and a Mermaid flowchart of components and their resources. The page starts with a hidden
marker (``<!-- appstack-plan-report:<stack> -->``) by which the workflow finds and updates its
own comment instead of adding one per push.

A PR comment holds at most 65,536 characters. `render` keeps to `budget` (less, leaving room for
the footer the workflow adds) by trimming the least important detail first, and says at the top
of the page what it trimmed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .mocks import ROOT, Plan, PlannedResource, config_map_from_stack_file, run_program

if TYPE_CHECKING:
    from .policy_gate import GateResult, Violation

#: GitHub's limit for an issue or pull request comment body, in characters.
COMMENT_LIMIT = 65_536
#: What `render` aims for by default: the limit less room for the workflow's footer line.
DEFAULT_BUDGET = 64_000
MARKER_PREFIX = "appstack-plan-report"

_LEVEL_ORDER = ("mandatory", "remediate", "advisory", "disabled")
_LEVEL_ICON = {"mandatory": "🛑", "remediate": "🔧", "advisory": "⚠️", "disabled": "·"}


def marker(stack: str) -> str:
    """The hidden first line that identifies a stack's report comment."""
    return f"<!-- {MARKER_PREFIX}:{stack} -->"


# ---------------------------------------------------------------------------------------------
# Markdown helpers (GitHub's rules: a `|` ends a table cell even inside a code span unless
# escaped; a raw newline ends the row; `<` may open an HTML tag).


def cell(text: Any, limit: int = 300) -> str:
    """Text made safe for one GitHub table cell, shortened to `limit` characters."""
    s = str(text)
    if len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("|", "\\|").replace("\r", "")
    return "<br>".join(part.strip() for part in s.split("\n")) or " "


def code(text: Any, limit: int = 120) -> str:
    """`text` as an inline code span for a table cell (backticks inside would end it early)."""
    s = str(text)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    s = s.replace("`", "'").replace("|", "\\|").replace("\n", " ")
    return f"`{s}`"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out.extend("| " + " | ".join(row) + " |" for row in rows)
    return out


def short_type(type_: str) -> str:
    """``aws:ec2/subnet:Subnet`` → ``ec2 Subnet``; ``pulumi:providers:aws`` → ``provider aws``."""
    parts = type_.split(":")
    if len(parts) == 3 and parts[0] == "pulumi" and parts[1] == "providers":
        return f"provider {parts[2]}"
    if len(parts) == 3:
        module = parts[1].split("/")[0]
        return f"{module} {parts[2]}" if module and module != "index" else parts[2]
    return type_


# ---------------------------------------------------------------------------------------------
# What the report is made of


@dataclass
class Part:
    """A component and the resources it directly holds (child components are parts of their own)."""

    component: PlannedResource
    depth: int
    resources: list[PlannedResource] = field(default_factory=list)
    children: list[Part] = field(default_factory=list)


def parts_of(plan: Plan) -> tuple[list[Part], list[PlannedResource]]:
    """The component tree in registration order, and the custom resources no component holds."""
    by_urn = {r.urn: r for r in plan.resources}
    parts: dict[str, Part] = {}
    roots: list[Part] = []
    loose: list[PlannedResource] = []

    def depth_of(r: PlannedResource) -> int:
        d, seen = 0, set()
        while r.parent in by_urn and r.parent not in seen:
            seen.add(r.parent)
            r = by_urn[r.parent]
            d += 1
        return d

    for r in plan.resources:
        if not r.custom:
            parts[r.urn] = Part(r, depth_of(r))
    for r in plan.resources:
        owner = parts.get(r.parent or "")
        if not r.custom:
            (owner.children if owner else roots).append(parts[r.urn])
        elif owner:
            owner.resources.append(r)
        else:
            loose.append(r)
    return roots, loose


def _walk(parts: Iterable[Part]) -> Iterable[Part]:
    for p in parts:
        yield p
        yield from _walk(p.children)


@dataclass
class Comparison:
    """The other environment's plan, or why there is none."""

    stack: str
    plan: Plan | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    """Its validated config, flattened to dotted keys."""
    error: str = ""


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists as ``{"a.b[0].c": leaf}``; empty containers are leaves."""
    out: dict[str, Any] = {}
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def settings_of(config: Mapping[str, str], stack: str) -> dict[str, Any]:
    """A stack's validated settings (profile defaults applied), flattened; secrets never appear."""
    from components.config import parse_config, raw_from_config_map

    model = parse_config(raw_from_config_map(config), stack)
    return flatten(model.model_dump(mode="json", by_alias=True))


def other_stack(stack: str, root: Path = ROOT) -> str | None:
    """The stack to compare with: another stack file, preferring a different environment."""
    import yaml

    def env_of(name: str) -> str:
        data = yaml.safe_load((root / f"Pulumi.{name}.yaml").read_text()) or {}
        return str((data.get("config") or {}).get("appstack:environment", ""))

    names = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
    others = [n for n in names if n != stack]
    if not others:
        return None
    mine = env_of(stack) if stack in names else ""
    different = [n for n in others if env_of(n) != mine]
    return (different or others)[0]


def compare_with(stack: str) -> Comparison:
    """Plan `Pulumi.<stack>.yaml` offline for the comparison; failures are reported, not raised."""
    try:
        config = config_map_from_stack_file(ROOT / f"Pulumi.{stack}.yaml")
        settings = settings_of(config, stack)
        return Comparison(stack, run_program(stack, config), settings)
    except Exception as exc:  # the other stack's problem must not fail this stack's report
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Comparison(stack, error=f"{type(exc).__name__}: {first}")


# ---------------------------------------------------------------------------------------------
# Rendering


@dataclass
class Limits:
    """How much detail each section shows; `render` lowers these until the page fits."""

    violations: int = 200
    message_chars: int = 400
    type_rows: int = 400
    setting_rows: int = 80
    input_rows: int = 120
    only_rows: int = 60
    graph_groups_per_part: int = 40
    graph: bool = True


def _counts(plan: Plan) -> Counter[str]:
    return Counter(r.type for r in plan.resources if r.custom)


def _headline(plan: Plan, cloud: str, gate: GateResult | None, gate_note: str) -> list[str]:
    components = sum(1 for r in plan.resources if not r.custom)
    custom = len(plan.resources) - components
    if gate is None:
        verdict = f"⚪ policy gate not run{f' ({gate_note})' if gate_note else ''}"
    elif gate.mandatory:
        verdict = f"🛑 {len(gate.mandatory)} mandatory policy violation(s): this plan would be blocked"
    elif gate.violations:
        verdict = f"⚠️ no mandatory violations, {len(gate.violations)} advisory"
    else:
        verdict = "✅ no policy violations"
    return [
        f"## Plan of stack `{plan.stack}` on {cloud}: {verdict}",
        "",
        f"**{custom} cloud resources** in **{components} components** "
        f"(offline plan under Pulumi mocks: values known only after apply are placeholders).",
    ]


def _policy_section(gate: GateResult | None, gate_note: str, plan: Plan, lim: Limits) -> tuple[list[str], int]:
    out = ["", "### Policy", ""]
    if gate is None:
        out.append(f"The policy gate was not run{f': {gate_note}' if gate_note else ''}.")
        return out, 0
    if not gate.violations:
        out.append(f"No violations: {len(gate.policies)} policies from pack `{gate.pack}` passed.")
        return out, 0
    types = {r.urn: r.type for r in plan.resources}

    def key(v: Violation) -> tuple[int, str, str]:
        lv = _LEVEL_ORDER.index(v.level) if v.level in _LEVEL_ORDER else 99
        return lv, v.policy, v.name or v.urn

    vs = sorted(gate.violations, key=key)
    counts = Counter(v.level for v in vs)
    out.append(
        ", ".join(f"{counts[lv]} {lv}" for lv in _LEVEL_ORDER if counts[lv])
        + f" ({len(gate.policies)} policies from pack `{gate.pack}`)."
    )
    out.append("")
    rows = []
    for v in vs[: lim.violations]:
        res = v.name or (v.urn.rsplit("::", 1)[-1] if v.urn else "(stack)")
        typ = types.get(v.urn, "")
        where = code(res) + (f"<br>{cell(short_type(typ))}" if typ else "")
        rows.append(
            [
                f"{_LEVEL_ICON.get(v.level, '')} {v.level}",
                code(v.policy),
                where,
                cell(v.message or v.description, lim.message_chars),
            ]
        )
    out.extend(_table(["level", "rule", "resource", "message"], rows))
    dropped = max(0, len(vs) - lim.violations)
    if dropped:
        out += ["", f"… and {dropped} more violation(s), listed in the job log and the artifact."]
    return out, dropped


def _parts_section(plan: Plan, roots: list[Part], loose: list[PlannedResource], lim: Limits) -> tuple[list[str], int]:
    out = ["", "### Resources by part", ""]
    summary_rows = []
    for p in _walk(roots):
        nested = sum(len(q.resources) for q in _walk([p]))
        summary_rows.append(
            [
                ("&nbsp;&nbsp;" * p.depth) + code(p.component.name),
                code(p.component.type),
                str(len(p.resources)),
                str(nested),
            ]
        )
    if loose:
        summary_rows.append(["(no component)", " ", str(len(loose)), str(len(loose))])
    out.extend(_table(["part", "component", "own resources", "with sub-parts"], summary_rows))
    rows: list[list[str]] = []
    for p in _walk(roots):
        for i, (t, n) in enumerate(sorted(Counter(r.type for r in p.resources).items())):
            rows.append([code(p.component.name) if i == 0 else " ", code(t), str(n)])
    for i, (t, n) in enumerate(sorted(Counter(r.type for r in loose).items())):
        rows.append(["(no component)" if i == 0 else " ", code(t), str(n)])
    dropped = max(0, len(rows) - lim.type_rows)
    out += ["", "<details><summary>Counts by part and type</summary>", ""]
    out.extend(_table(["part", "type", "count"], rows[: lim.type_rows]))
    if dropped:
        out += ["", f"… {dropped} more row(s) trimmed."]
    out += ["", "</details>"]
    return out, dropped


def _diff_section(
    plan: Plan, settings: Mapping[str, Any], cmp: Comparison | None, lim: Limits
) -> tuple[list[str], dict[str, int]]:
    trimmed: dict[str, int] = {}
    if cmp is None:
        return [], trimmed
    me, them = plan.stack, cmp.stack
    out = ["", f"### `{me}` compared with `{them}`", ""]
    if cmp.plan is None:
        out.append(f"Could not plan `{them}` for the comparison: {cell(cmp.error)}")
        return out, trimmed
    mine, theirs = _counts(plan), _counts(cmp.plan)
    total_me, total_them = sum(mine.values()), sum(theirs.values())
    out.append(f"{total_me} cloud resources here, {total_them} in `{them}` ({total_me - total_them:+d}).")
    rows = []
    for t in sorted(set(mine) | set(theirs)):
        if mine[t] != theirs[t]:
            rows.append([code(t), str(mine[t]), str(theirs[t]), f"{mine[t] - theirs[t]:+d}"])
    same = len(set(mine) | set(theirs)) - len(rows)
    out.append("")
    if rows:
        out.extend(_table(["type", me, them, "Δ"], rows))
        out += ["", f"The other {same} type(s) have the same count."]
    else:
        out.append(f"Every type has the same count ({same} types).")

    # Settings: the validated config, profile defaults applied, so "3 VMs" shows even when the
    # stack file does not say it.
    clouds = {settings.get("cloud"), cmp.settings.get("cloud")}
    unused = tuple(f"{c}." for c in ("aws", "azure", "gcp") if c not in clouds)
    diff = [
        k
        for k in sorted(set(settings) | set(cmp.settings))
        if settings.get(k) != cmp.settings.get(k) and not k.startswith(unused)
    ]
    if diff:
        out += ["", "**Settings that differ** (validated config, environment profile applied)", ""]
        srows = [
            [code(k), code(_show(settings.get(k, "—"))), code(_show(cmp.settings.get(k, "—")))]
            for k in diff[: lim.setting_rows]
        ]
        out.extend(_table(["setting", me, them], srows))
        if len(diff) > lim.setting_rows:
            trimmed["settings"] = len(diff) - lim.setting_rows
            out += ["", f"… {trimmed['settings']} more setting(s) trimmed."]

    # Inputs of the resources both plans have (same type and name): the effect of the settings.
    # One row per (input, value here, value there), so a tag that differs everywhere is one row.
    theirs_by_key = {(r.type, r.name): r for r in cmp.plan.resources if r.custom}
    changes: dict[tuple[str, str, str], list[str]] = {}
    for r in plan.resources:
        other = theirs_by_key.get((r.type, r.name))
        if not r.custom or other is None:
            continue
        a, b = flatten(r.properties), flatten(other.properties)
        a["(protect option)"], b["(protect option)"] = r.protect, other.protect
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                changes.setdefault((k, _show(a.get(k, "—")), _show(b.get(k, "—"))), []).append(r.name)
    irows = [
        [_names(names), code(k, 60), code(x), code(y)]
        for (k, x, y), names in sorted(changes.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    if irows:
        n = sum(len(v) for v in changes.values())
        out += ["", f"<details><summary>Inputs that differ on resources in both plans ({n})</summary>", ""]
        out.extend(_table(["resources", "input", me, them], irows[: lim.input_rows]))
        if len(irows) > lim.input_rows:
            trimmed["differing inputs"] = len(irows) - lim.input_rows
            out += ["", f"… {trimmed['differing inputs']} more row(s) trimmed."]
        out += ["", "</details>"]

    keys_me = {(r.type, r.name) for r in plan.resources if r.custom}
    only: dict[tuple[str, str], list[str]] = {}
    for t, name in sorted(keys_me - set(theirs_by_key)):
        only.setdefault((t, me), []).append(name)
    for t, name in sorted(set(theirs_by_key) - keys_me):
        only.setdefault((t, them), []).append(name)
    if only:
        orows = [[code(t), side, _names(names, 8)] for (t, side), names in only.items()]
        n = sum(len(v) for v in only.values())
        out += ["", f"<details><summary>Resources in one plan only ({n})</summary>", ""]
        out.extend(_table(["type", "only in", "resources"], orows[: lim.only_rows]))
        if len(orows) > lim.only_rows:
            trimmed["one-side resources"] = len(orows) - lim.only_rows
            out += ["", f"… {trimmed['one-side resources']} more row(s) trimmed."]
        out += ["", "</details>"]
    return out, trimmed


def _names(names: Sequence[str], shown: int = 3) -> str:
    head = ", ".join(code(n) for n in names[:shown])
    return head + (f" +{len(names) - shown} more" if len(names) > shown else "")


def _show(value: Any, limit: int = 80) -> str:
    s = value if isinstance(value, str) else json.dumps(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


_LABEL_UNSAFE = re.compile(r'["<>#;`]')


def mermaid_label(text: str) -> str:
    """Text for a quoted Mermaid label: characters the parser or GitHub's sanitiser would take
    as syntax become Mermaid entity codes (``#quot;``, ``#lt;`` …)."""
    names = {'"': "quot", "<": "lt", ">": "gt", "#": "35", ";": "59", "`": "96"}
    return _LABEL_UNSAFE.sub(lambda m: f"#{names[m.group()]};", text)


def _label(*lines: str) -> str:
    return "<br/>".join(mermaid_label(line) for line in lines)


def mermaid_graph(
    plan: Plan, gate: GateResult | None, roots: list[Part], loose: list[PlannedResource], lim: Limits
) -> tuple[list[str], int]:
    """A top-down flowchart: each top-level component a node, each sub-component a box (subgraph)
    holding its resources as one column; several resources of one type under a component are one
    node with a count. Resources a mandatory (advisory) violation names are red (amber).

    Returns the lines and how many type groups were folded into "more types" nodes."""
    levels: dict[str, str] = {}
    for v in gate.violations if gate else []:
        if v.urn and levels.get(v.urn) != "mandatory":
            levels[v.urn] = v.level
    lines = ["flowchart TB"]
    edges: list[str] = []
    classes: list[str] = []
    ids = Counter[str]()
    dropped = 0

    def new_id(prefix: str) -> str:
        ids[prefix] += 1
        return f"{prefix}{ids[prefix]}"

    def group_nodes(resources: list[PlannedResource], ind: str) -> list[str]:
        nonlocal dropped
        by_type: dict[str, list[PlannedResource]] = {}
        for r in resources:
            by_type.setdefault(r.type, []).append(r)
        items = list(by_type.items())
        nodes = []
        for t, rs in items[: lim.graph_groups_per_part]:
            nid = new_id("r")
            label = _label(f"{short_type(t)} ×{len(rs)}") if len(rs) > 1 else _label(short_type(t), rs[0].name)
            lines.append(f'{ind}{nid}["{label}"]')
            nodes.append(nid)
            worst = {levels.get(r.urn) for r in rs}
            if "mandatory" in worst:
                classes.append(f"class {nid} mandatory")
            elif worst & {"advisory", "remediate"}:
                classes.append(f"class {nid} advisory")
        rest = items[lim.graph_groups_per_part :]
        if rest:
            dropped += len(rest)
            nid = new_id("r")
            lines.append(f'{ind}{nid}["… {len(rest)} more types, {sum(len(rs) for _, rs in rest)} resources"]')
            nodes.append(nid)
        return nodes

    def part(p: Part, parent: str | None, ind: str) -> None:
        kind = p.component.type.rsplit(":", 1)[-1]
        if parent is None:
            # A top-level component: a node, its own resources (the provider) hanging off it.
            cid = new_id("c")
            lines.append(f'{ind}{cid}(["{_label(p.component.name, kind)}"])')
            classes.append(f"class {cid} component")
            edges.extend(f"{cid} --> {n}" for n in group_nodes(p.resources, ind))
            for child in p.children:
                part(child, cid, ind)
            return
        sid = new_id("s")
        lines.append(f'{ind}subgraph {sid}["{_label(f"{p.component.name} · {kind}")}"]')
        lines.append(f"{ind}    direction TB")
        nodes = group_nodes(p.resources, ind + "    ")
        if len(nodes) > 1:
            # Invisible links stack the resources in one column instead of one wide row.
            lines.append(ind + "    " + " ~~~ ".join(nodes))
        for child in p.children:
            part(child, sid, ind + "    ")
        lines.append(f"{ind}end")
        if parent.startswith("c"):  # nested boxes show their parent by containment
            edges.append(f"{parent} --> {sid}")

    for p in roots:
        part(p, None, "    ")
    if loose:
        lines.append('    subgraph loose["no component"]')
        lines.append("        direction TB")
        nodes = group_nodes(loose, "        ")
        if len(nodes) > 1:
            lines.append("        " + " ~~~ ".join(nodes))
        lines.append("    end")
    lines += [f"    {e}" for e in edges] + [f"    {c}" for c in classes]
    lines += [
        "    classDef component fill:#eef3fb,stroke:#4a6fa5",
        "    classDef mandatory fill:#fdd,stroke:#c00,stroke-width:2px",
        "    classDef advisory fill:#fff4d6,stroke:#d9a400",
    ]
    return lines, dropped


def render(
    plan: Plan,
    *,
    cloud: str,
    gate: GateResult | None = None,
    gate_note: str = "",
    settings: Mapping[str, Any] | None = None,
    comparison: Comparison | None = None,
    budget: int = DEFAULT_BUDGET,
) -> str:
    """The report as Markdown, at most `budget` characters (trimmed detail is named at the top)."""
    roots, loose = parts_of(plan)
    steps: list[tuple[str, dict[str, Any]]] = [
        ("differing inputs", {"input_rows": 20}),
        ("one-side resources", {"only_rows": 20}),
        ("settings", {"setting_rows": 30}),
        ("differing inputs", {"input_rows": 0}),
        ("policy messages", {"message_chars": 160}),
        ("part/type rows", {"type_rows": 60}),
        ("graph nodes", {"graph_groups_per_part": 8}),
        ("violations", {"violations": 60}),
        ("graph", {"graph": False}),
        ("violations", {"violations": 15, "message_chars": 100}),
        ("part/type rows", {"type_rows": 0}),
        ("one-side resources", {"only_rows": 0}),
    ]
    lim = Limits()
    applied: list[str] = []
    text = _compose(plan, cloud, gate, gate_note, settings or {}, comparison, roots, loose, lim, applied)
    for name, change in steps:
        if len(text) <= budget:
            break
        for k, v in change.items():
            setattr(lim, k, v)
        # Name a trimming step only if it removed something (a section may not be there at all).
        trial = _compose(plan, cloud, gate, gate_note, settings or {}, comparison, roots, loose, lim, applied)
        if len(trial) < len(text) and name not in applied:
            applied.append(name)
            trial = _compose(plan, cloud, gate, gate_note, settings or {}, comparison, roots, loose, lim, applied)
        text = trial
    if len(text) > budget:  # only with absurd inputs: cut, and say so
        note = "\n\n**Report cut at the comment size limit; see the artifact for the rest.**\n"
        text = text[: budget - len(note)].rsplit("\n", 1)[0] + note
    return text


def _compose(
    plan: Plan,
    cloud: str,
    gate: GateResult | None,
    gate_note: str,
    settings: Mapping[str, Any],
    comparison: Comparison | None,
    roots: list[Part],
    loose: list[PlannedResource],
    lim: Limits,
    applied: list[str],
) -> str:
    out = [marker(plan.stack), *_headline(plan, cloud, gate, gate_note)]
    if applied:
        out += [
            "",
            f"> [!NOTE]\n> Trimmed to fit a {COMMENT_LIMIT:,}-character comment: {', '.join(applied)}. "
            "The artifact `plan-report-" + plan.stack + "` has the job's full output.",
        ]
    policy, _ = _policy_section(gate, gate_note, plan, lim)
    out += policy
    parts, _ = _parts_section(plan, roots, loose, lim)
    out += parts
    diff, _ = _diff_section(plan, settings, comparison, lim)
    out += diff
    out += ["", "### Graph", ""]
    if lim.graph:
        graph, dropped = mermaid_graph(plan, gate, roots, loose, lim)
        out += ["```mermaid", *graph, "```"]
        if dropped:
            out += ["", f"{dropped} resource type group(s) folded into “more types” nodes."]
    else:
        out.append("Left out to fit the comment; `--json` in the artifact lists every resource.")
    return "\n".join(out) + "\n"


def write_markdown(
    path: Path,
    plan: Plan,
    config: Mapping[str, str],
    gate: GateResult | None,
    *,
    gate_note: str = "",
    compare: str | None = "auto",
    budget: int = DEFAULT_BUDGET,
) -> str:
    """Write the report for `plan` to `path` and return it; `compare`: a stack name, "auto"
    (`other_stack`) or None for no comparison."""
    cloud = config.get("appstack:cloud", "?")
    settings = settings_of(config, plan.stack)
    other = other_stack(plan.stack) if compare == "auto" else compare
    comparison = compare_with(other) if other else None
    text = render(
        plan, cloud=cloud, gate=gate, gate_note=gate_note, settings=settings, comparison=comparison, budget=budget
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text
