"""The AWS stack under Pulumi mocks, seen from the inside: what the program set and what waits for what.

`capture(file, stack)` builds the `AppStack` for `Pulumi.<file>.yaml` as stack `stack` with a
resource transformation on it (public SDK API; a component's transformations run for all its
children), which records each resource's inputs exactly as the program passed them — before any
provider auto-naming — and its options. `Captured.dependencies(name)` is what the engine would
wait for before creating `name`: its `depends_on` plus every resource behind an input Output,
with components expanded to their resources, as the SDK does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi

from tools.mocks import PlanMocks
from tools.plan import load_stack_config


@dataclass
class Seen:
    type: str
    name: str
    props: dict[str, Any]
    """Inputs as the program passed them (Python names), Outputs unresolved."""
    values: dict[str, Any] = field(default_factory=dict)
    """The same inputs with top-level Outputs resolved."""
    direct: set[str] = field(default_factory=set)
    """Logical names of the resources this one waits for (components not yet expanded)."""
    parent: str | None = None


@dataclass
class Captured:
    stack: str
    seen: dict[str, Seen] = field(default_factory=dict)

    def named(self, name: str) -> Seen:
        return self.seen[name]

    def _expand(self, name: str) -> set[str]:
        """`name`, or for a component the custom resources under it."""
        if self.seen[name].type.startswith("appstack:"):
            return {n for n, s in self.seen.items() if self._under(s, name) and not s.type.startswith("appstack:")}
        return {name}

    def _under(self, s: Seen, ancestor: str) -> bool:
        while s.parent is not None:
            if s.parent == ancestor:
                return True
            s = self.seen[s.parent]
        return False

    def dependencies(self, name: str) -> set[str]:
        """What `name` directly waits for."""
        return {d for n in self.seen[name].direct for d in self._expand(n)}

    def waits_for(self, name: str) -> set[str]:
        """Everything `name` waits for, directly or through others (what a destroy deletes after it)."""
        done: set[str] = set()
        todo = list(self.dependencies(name))
        while todo:
            n = todo.pop()
            if n not in done:
                done.add(n)
                todo.extend(self.dependencies(n))
        return done


def _outputs(value: Any) -> Iterator[pulumi.Output[Any]]:
    if isinstance(value, pulumi.Output):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _outputs(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _outputs(v)
    elif hasattr(value, "__dict__") and not isinstance(value, pulumi.Resource):
        # Typed *Args classes keep their values in their __dict__.
        yield from _outputs(vars(value))


async def _name_of(resource: pulumi.Resource) -> str:
    urn = await resource.urn.future()
    return str(urn).split("::")[-1]


def capture(file: str, stack: str, overrides: Iterable[str] = ()) -> Captured:
    """Build the AWS AppStack of `Pulumi.<file>.yaml` as stack `stack`, recording every resource."""
    from components.config import load_config
    from components.stack import build_stack

    config = load_stack_config(file, tuple(overrides))
    pulumi.runtime.set_all_config(dict(config))
    pulumi.runtime.set_mocks(PlanMocks(), project="appstack", stack=stack, preview=False)
    captured = Captured(stack)
    pending: list[tuple[str, pulumi.ResourceTransformationArgs]] = []

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        pending.append((args.name, args))
        return None  # change nothing

    async def resolve() -> None:
        for name, args in pending:
            seen = Seen(type=args.type_, name=name, props=dict(args.props))
            for key, value in seen.props.items():
                seen.values[key] = await value.future() if isinstance(value, pulumi.Output) else value
            if args.opts.parent is not None:
                seen.parent = await _name_of(args.opts.parent)
            depends = args.opts.depends_on
            explicit = depends if isinstance(depends, list) else [depends] if depends is not None else []
            for dep in explicit:
                if isinstance(dep, pulumi.Resource):
                    seen.direct.add(await _name_of(dep))
            for out in _outputs(args.props):
                for resource in await out.resources():
                    seen.direct.add(await _name_of(resource))
            captured.seen[name] = seen

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        cfg = load_config()
        build_stack(cfg.app.name, cfg, pulumi.ResourceOptions(transformations=[record]))
        return pulumi.Output.from_input(resolve())

    program()
    return captured
