"""The README's config reference, generated from the pydantic models and the profiles.

    python -m tools.config_doc           # print it
    python -m tools.config_doc --write   # replace the section between the markers in README.md

A test fails when README.md and the models disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from components.config.model import StackConfig
from components.config.profiles import PROFILES

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- config:start -->", "<!-- config:end -->"


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return " \\| ".join(_type_name(a) for a in inner)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return "map"
    if origin is typing.Annotated:
        return _type_name(args[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    return getattr(annotation, "__name__", str(annotation))


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _profiled(env: str, section: str) -> dict[str, Any]:
    """The profile's values under a dotted section (``compute.group``), or {}."""
    values: Any = PROFILES[env]
    for part in section.split("."):
        values = values.get(part, {}) if isinstance(values, dict) else {}
    return values if isinstance(values, dict) else {}


def _default(section: str | None, key: str, field) -> str:
    if section is not None and all(key in _profiled(env, section) for env in PROFILES):
        return ", ".join(f"{env}: `{json.dumps(_profiled(env, section)[key])}`" for env in PROFILES)
    if field.default is PydanticUndefined and field.default_factory is None:
        return "**required**"
    value = field.default if field.default is not PydanticUndefined else field.default_factory()
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{json.dumps(value)}`"


def _rows(model: type[BaseModel], prefix: str, section: str | None) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        doc = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{key}` | {_type_name(field.annotation)} | {_default(section, key, field)} | {doc} |")
        nested = _model_of(field.annotation)
        if nested is not None and section is not None:
            rows.extend(_rows(nested, f"{prefix}{key}.", f"{section}.{key}"))
    return rows


def generate() -> str:
    """The Markdown config reference: one table per `appstack:*` key."""
    out = [
        "Every key lives in the `appstack` namespace of `Pulumi.<stack>.yaml`. Defaults that depend on the",
        "environment come from its profile (`components/config/profiles.py`); a stack file states only what",
        "differs. Unknown keys are errors.",
        "",
    ]
    scalars = []
    for name, field in StackConfig.model_fields.items():
        key = field.alias or name
        nested = _model_of(field.annotation)
        if nested is None:
            doc = (field.description or "").replace("|", "\\|")
            scalars.append(
                f"| `appstack:{key}` | {_type_name(field.annotation)} | {_default(None, key, field)} | {doc} |"
            )
            continue
        header = (nested.__doc__ or "").strip().splitlines()[0]
        required = " (required)" if field.is_required() and key not in PROFILES["dev"] else ""
        desc = header.split(" — ", 1)[-1]
        out += [
            f"#### `appstack:{key}`{required}",
            "",
            desc[:1].upper() + desc[1:],
            "",
            "| key | type | default | description |",
            "|---|---|---|---|",
        ]
        out += _rows(nested, "", key)
        out.append("")
    out[4:4] = ["#### Top-level keys", "", "| key | type | default | description |", "|---|---|---|---|", *scalars, ""]
    return "\n".join(out).rstrip() + "\n"


def current_section(text: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} section")
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.config_doc")
    parser.add_argument("--write", action="store_true", help="rewrite the section in README.md")
    args = parser.parse_args(argv)
    doc = generate()
    if not args.write:
        sys.stdout.write(doc)
        return 0
    text = README.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{START}\n{doc}{END}{tail}")
    print("README.md config reference updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
