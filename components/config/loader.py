"""Load the `appstack` config namespace into a `StackConfig`, with errors people can act on.

Every error names the stack file and key, shows the bad value and says how to fix it, e.g.::

    Pulumi.dev.yaml: appstack:access.adminCidrs[0] = '0.0.0.0/0': '0.0.0.0/0' would open admin
    access (ssh) to the internet; use the CIDR of your admin network or VPN, e.g. 203.0.113.0/24

`ConfigError` is a `pulumi.RunError`, so the CLI prints the message without a traceback; it is
raised before any resource is registered.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from .model import ConfigProblem, StackConfig
from .profiles import PROFILES

NAMESPACE = "appstack"


class ConfigError(pulumi.RunError):
    """Invalid stack config; `problems` holds one line per bad key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack config:\n  " + "\n  ".join(problems))


def _structured(field_name: str) -> bool:
    """Whether a top-level field takes an object or list (JSON in the engine's config map)."""
    annotation = StackConfig.model_fields[field_name].annotation
    for candidate in (annotation, *typing.get_args(annotation)):
        origin = typing.get_origin(candidate) or candidate
        if origin in (list, dict) or (isinstance(origin, type) and issubclass(origin, BaseModel)):
            return True
    return False


def _top_level_aliases() -> dict[str, str]:
    return {(f.alias or n): n for n, f in StackConfig.model_fields.items()}


def raw_from_config_map(config: Mapping[str, str]) -> dict[str, Any]:
    """The `appstack:*` entries of an engine config map (`{"appstack:app": "<json>"}`) as a dict.

    Structured values arrive as JSON strings; scalars stay strings and pydantic coerces them
    ("3" → 3, "true" → True), as for values set with `pulumi config set`.
    """
    aliases = _top_level_aliases()
    raw: dict[str, Any] = {}
    for full_key, value in config.items():
        ns, sep, key = full_key.partition(":")
        if ns != NAMESPACE or not sep:
            continue
        field = aliases.get(key)
        structured = _structured(field) if field is not None else value.lstrip()[:1] in ("{", "[")
        if structured and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as a string: pydantic reports "expected an object" with the value
        raw[key] = value
    return raw


def read_pulumi_config() -> dict[str, Any]:
    """The raw `appstack` namespace of the running program's config.

    Known keys are read through `pulumi.Config` (`get_object` for structured ones); the full
    config map is scanned as well, so that an unknown key (a typo) is reported, not ignored.
    """
    cfg = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for key, field in _top_level_aliases().items():
        value = cfg.get_object(key) if _structured(field) else cfg.get(key)
        if value is not None:
            raw[key] = value
    from pulumi.runtime import config as runtime_config

    every = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    for key, value in raw_from_config_map(every).items():
        raw.setdefault(key, value)
    return raw


def _key(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the field at `loc` (for 'did you mean' suggestions)."""
    model: Any = StackConfig
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return model


_FIXES = {
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "int_from_float": "write a whole number",
    "float_parsing": "write a number",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write a string",
    "list_type": "write a list, e.g. [a, b]",
    "dict_type": "write a mapping of keys to values",
    "model_type": "write a mapping of keys to values",
    "model_attributes_type": "write a mapping of keys to values",
}


_BOUNDS = {
    "greater_than_equal": "set it to {ge} or more",
    "greater_than": "set it above {gt}",
    "less_than_equal": "set it to {le} or less",
    "less_than": "set it below {lt}",
    "multiple_of": "use a multiple of {multiple_of}",
    "too_short": "list at least {min_length} entry",
    "too_long": "list at most {max_length} entries",
    "string_too_short": "write at least {min_length} characters",
    "string_too_long": "write at most {max_length} characters",
    "string_pattern_mismatch": "match the pattern {pattern} (see the config reference in README.md)",
}


def _origin(key: str, stack_file: str, origins: Mapping[str, str]) -> str:
    """Where a key's value came from: the `--set` that set it (or a parent of it), else the file."""
    for prefix in sorted(origins, key=len, reverse=True):
        if key == prefix or key.startswith((f"{prefix}.", f"{prefix}[")):
            return origins[prefix]
    return stack_file


def _describe(err: Mapping[str, Any], stack_file: str, origins: Mapping[str, str]) -> str:
    loc = tuple(err["loc"])
    value = err.get("input")
    ctx = err.get("ctx") or {}
    problem: str
    fix: str
    original = ctx.get("error")
    if isinstance(original, ConfigProblem):
        if original.key:
            loc = tuple(original.key.split("."))
            value = original.value
        problem, fix = original.problem, original.fix
    elif err["type"] == "extra_forbidden":
        model = _model_at(loc)
        known = [f.alias or n for n, f in model.model_fields.items()] if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        problem = "unknown key"
        fix = f"did you mean {close[0]!r}?" if close else f"remove it; known keys here: {', '.join(known)}"
    elif err["type"] == "literal_error":
        problem, fix = "not an allowed value", f"use {ctx.get('expected')}"
    elif err["type"] == "missing":
        problem, fix = "is required", f"add it to {stack_file} (see the config reference in README.md)"
        value = None
    elif err["type"] in _BOUNDS:
        problem = err["msg"][0].lower() + err["msg"][1:]
        fix = _BOUNDS[err["type"]].format(**ctx)
    else:
        problem = err["msg"][0].lower() + err["msg"][1:]
        fix = _FIXES.get(err["type"], "see the config reference in README.md")
    key = _key(loc)
    shown = f"{NAMESPACE}:{key}" if key else NAMESPACE
    if value is not None and not isinstance(value, (dict, BaseModel)):
        shown += f" = {value!r}"
    return f"{_origin(key, stack_file, origins)}: {shown}: {problem}; {fix}"


def parse_config(raw: Mapping[str, Any], stack: str, origins: Mapping[str, str] | None = None) -> StackConfig:
    """Validate a raw `appstack` namespace; raise `ConfigError` naming key, value and fix.

    `origins` maps a dotted key (``compute.instanceCount``) to where its value came from when
    that is not the stack file (the offline plan's ``--set compute.instanceCount=0``).
    """
    stack_file = f"Pulumi.{stack}.yaml"
    if not raw:
        raise ConfigError([f"{stack_file}: no appstack:* keys found; copy Pulumi.dev.yaml as a starting point"])
    try:
        return StackConfig.model_validate(dict(raw))
    except ValidationError as exc:
        errors = exc.errors()
        if any(tuple(e["loc"]) == ("environment",) for e in errors):
            # Without a valid environment no profile applied: its keys are not really missing.
            profiled = set(PROFILES["dev"])
            errors = [e for e in errors if not (e["type"] == "missing" and e["loc"] and e["loc"][0] in profiled)]
        problems = []
        for err in errors:
            line = _describe(err, stack_file, origins or {})
            if line not in problems:
                problems.append(line)
        raise ConfigError(problems) from None


def load_config() -> StackConfig:
    """The running program's validated stack config (call before registering any resource)."""
    return parse_config(read_pulumi_config(), pulumi.get_stack())
