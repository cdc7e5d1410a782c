"""The pack's catalogue, generated from rule metadata.

    python -m policies.catalogue           # print the Markdown catalogue
    python -m policies.catalogue --write   # rewrite the generated part of policies/README.md
    python -m policies.catalogue --check   # exit 1 when policies/README.md is out of date

The generated part sits between ``<!-- catalogue:start -->`` and ``<!-- catalogue:end -->``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .framework import CLOUDS, MANDATORY, Rule, StackRule
from .pack import all_rules

README = Path(__file__).resolve().parent / "README.md"
START = "<!-- catalogue:start -->"
END = "<!-- catalogue:end -->"

#: The coverage target: IDs of shared/policy-catalogue.md with their short names (embedded so the
#: pack does not depend on files outside it).
CATALOGUE_IDS: tuple[tuple[str, str], ...] = (
    ("N1", "no SSH from the internet"),
    ("N2", "no RDP/WinRM from the internet"),
    ("N3", "no admin/DB ports from the internet"),
    ("N4", "no all-ports ingress from the internet"),
    ("N5", "VM ingress only from the load balancer"),
    ("N6", "port 80 only on the LB, with redirect"),
    ("N7", "restricted egress (advisory)"),
    ("N8", "default SG closed, no default network"),
    ("A1", "Linux: no password authentication"),
    ("A2", "SSH key or SSM required"),
    ("A3", "no root login / password auth in boot config"),
    ("A4", "GCP OS Login required"),
    ("A5", "GCP: block project SSH keys"),
    ("A6", "serial console off"),
    ("A7", "no secrets in boot data"),
    ("M1", "IMDSv2 required"),
    ("M2", "IMDS hop limit 1"),
    ("P1", "VMs have no public IP"),
    ("P2", "no IP forwarding"),
    ("E1", "boot disk encrypted"),
    ("E2", "data disks encrypted"),
    ("E3", "disks use a customer-managed key"),
    ("E4", "logs encrypted with a CMK"),
    ("E5", "alert topic encrypted, TLS-only publish"),
    ("E6", "log bucket hardened"),
    ("K1", "key rotation"),
    ("K2", "least-privilege key policy"),
    ("K3", "key/vault deletion guard"),
    ("T1", "LB HTTPS only"),
    ("T2", "HTTP-to-HTTPS redirect present"),
    ("T3", "TLS 1.2 minimum"),
    ("T4", "GCP HTTPS proxy has an SSL policy"),
    ("T5", "managed certificate"),
    ("T6", "ALB drops invalid headers, desync defensive"),
    ("L1", "LB access logs"),
    ("L2", "network flow logs"),
    ("L3", "log retention floor"),
    ("L4", "diagnostics / log sink present"),
    ("O1", "alarms have actions"),
    ("O2", "baseline alarms"),
    ("D1", "LB deletion protection"),
    ("D2", "VM deletion protection (prod)"),
    ("W1", "public LB has a WAF"),
    ("W2", "WAF prevention, managed rules, logging"),
    ("S1", "GCP shielded VM"),
    ("S2", "Azure trusted launch"),
    ("I1", "VM has a dedicated identity"),
    ("I2", "no broad privileges"),
)
KNOWN_IDS = frozenset(i for i, _ in CATALOGUE_IDS)


def level_name(rule: Rule | StackRule) -> str:
    return "mandatory" if rule.level == MANDATORY else str(rule.level.value)


def _code(s: str) -> str:
    return f"`{s}`"


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def generate(rules: Sequence[Rule | StackRule] | None = None) -> str:
    """The Markdown catalogue (deterministic: same rules, same text)."""
    rules = list(all_rules() if rules is None else rules)
    out: list[str] = []
    levels = Counter(level_name(r) for r in rules)
    out.append("## Rules")
    out.append("")
    out.append(
        f"{len(rules)} rules: {levels.get('mandatory', 0)} mandatory, {levels.get('advisory', 0)} advisory"
        + "".join(f", {n} {lv}" for lv, n in sorted(levels.items()) if lv not in ("mandatory", "advisory"))
        + ". Every rule also takes `exemptions` in its policy config."
    )
    out.append("")
    out.append("| rule | level | " + " | ".join(CLOUDS) + " | catalogue |")
    out.append("|---|---|" + "---|" * len(CLOUDS) + "---|")
    for r in rules:
        marks = " | ".join("x" if c in r.clouds else "" for c in CLOUDS)
        kind = " (stack)" if isinstance(r, StackRule) else ""
        out.append(f"| [{_code(r.name)}](#{r.name}){kind} | {level_name(r)} | {marks} | {', '.join(r.catalogue)} |")
    out.append("")

    concerns: dict[str, list[Rule | StackRule]] = {}
    for r in rules:
        concerns.setdefault(r.concern, []).append(r)
    for concern, members in concerns.items():
        out.append(f"### {concern}")
        out.append("")
        for r in members:
            out.append(f'<a id="{r.name}"></a>')
            out.append(f"#### {_code(r.name)} ({level_name(r)})")
            out.append("")
            out.append(r.description)
            out.append("")
            out.append(f"- clouds: {', '.join(r.clouds) or '-'}")
            if isinstance(r, StackRule):
                out.append("- scope: the whole stack (stack policy)")
            else:
                out.append(f"- resource types: {', '.join(_code(t) for t in r.resource_types)}")
            if r.knobs:
                out.append("- config:")
                for k, knob in r.knobs.items():
                    out.append(f"  - {_code(k)} (default {_code(_json(knob.default))}): {knob.doc}")
            out.append(f"- catalogue: {', '.join(r.catalogue) or '-'}")
            out.append(f"- peers: {', '.join(r.peers) or '-'}")
            out.append("")

    out.append("## Coverage of the catalogue")
    out.append("")
    covered: dict[str, list[str]] = {i: [] for i, _ in CATALOGUE_IDS}
    extra: dict[str, list[str]] = {}
    for r in rules:
        for cid in r.catalogue:
            (covered if cid in covered else extra).setdefault(cid, []).append(r.name)
    n_cov = sum(1 for v in covered.values() if v)
    out.append(f"{n_cov} of {len(CATALOGUE_IDS)} catalogue IDs are covered.")
    out.append("")
    out.append("| ID | catalogue rule | covered by |")
    out.append("|---|---|---|")
    for cid, title in CATALOGUE_IDS:
        by = ", ".join(_code(n) for n in covered[cid]) or "**not covered**"
        out.append(f"| {cid} | {_cell(title)} | {by} |")
    for cid, names in sorted(extra.items()):
        out.append(f"| {cid} | (unknown ID) | {', '.join(_code(n) for n in names)} |")
    return "\n".join(out).rstrip() + "\n"


def splice(readme_text: str, generated: str) -> str:
    """`readme_text` with the part between the markers replaced by `generated`."""
    if START not in readme_text or END not in readme_text:
        raise ValueError(f"README lacks the markers {START} / {END}")
    head, rest = readme_text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n\n{generated}\n{END}{tail}"


def generated_section(readme_text: str) -> str:
    """The text currently between the markers (what `splice` put there)."""
    if START not in readme_text or END not in readme_text:
        raise ValueError(f"README lacks the markers {START} / {END}")
    section = readme_text.split(START, 1)[1].split(END, 1)[0]
    return section.strip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m policies.catalogue", description="Print the pack's catalogue.")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true", help=f"rewrite the generated part of {README.name}")
    g.add_argument("--check", action="store_true", help=f"exit 1 when {README.name} is out of date")
    args = ap.parse_args(argv)
    text = generate()
    if args.write:
        README.write_text(splice(README.read_text(), text))
        print(f"wrote {README}")
        return 0
    if args.check:
        if generated_section(README.read_text()) != text:
            print(f"{README} is out of date: run python -m policies.catalogue --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
