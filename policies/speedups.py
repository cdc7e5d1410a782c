"""Make pulumi-policy's servicer answer faster, never differently (`tests/policies/test_speedups.py`).

1. A request's properties are converted from protobuf once, not once per policy. The servicer
   converts them (``json_format.MessageToDict``) inside its loop over policies: for Analyze, once
   per policy for every resource; for AnalyzeStack, once per stack policy for every resource.
   `install()` gives the servicer module a ``json_format`` whose ``MessageToDict`` remembers its
   answer per message object (held, so its id cannot be reused), so every policy after the first
   gets the same plain data, and the same deserialized form of it. Each policy still gets its own
   `unknown_checking_proxy` of that data (a copy of every dict and list), so policies cannot see
   each other's changes — built when the policy first reads a property.
2. Analyze runs only the policies that judge the request's resource type (`_PoliciesByType`).
3. The runtime settings, rebuilt from the environment at the start of every request, are
   rebuilt only when that environment changes (`_once_per_environment`).
"""

from __future__ import annotations

import os
import threading
import types
from typing import Any

from google.protobuf import json_format

#: id(message) -> (message, its dict); cleared when full (a plan's requests are far fewer).
_CACHE: dict[int, tuple[Any, Any]] = {}
_MAX_ENTRIES = 8192


def message_to_dict(message: Any, *args: Any, **kwargs: Any) -> Any:
    if args or kwargs:
        return json_format.MessageToDict(message, *args, **kwargs)
    hit = _CACHE.get(id(message))
    if hit is not None and hit[0] is message:
        return hit[1]
    if len(_CACHE) >= _MAX_ENTRIES:
        _CACHE.clear()
    result = json_format.MessageToDict(message)
    _CACHE[id(message)] = (message, result)
    return result


#: id(plain dict) -> (plain dict, its deserialized form), for `deserialize_properties`.
_DESERIALIZED: dict[int, tuple[Any, Any]] = {}


def _remembering_deserialize(deserialize: Any) -> Any:
    """`deserialize_properties`, answering again for the same plain dict (the cached one above).

    Safe to share: the servicer hands policies only `unknown_checking_proxy(deserialized)`, which
    copies every dict and list into its own proxies, so no policy can reach this object.
    """

    def deserialize_properties(props: Any, proxy_secrets: bool = False) -> Any:
        if proxy_secrets:  # Remediate: secrets wrapped per call, as the SDK does
            return deserialize(props, proxy_secrets)
        hit = _DESERIALIZED.get(id(props))
        if hit is not None and hit[0] is props:
            return hit[1]
        if len(_DESERIALIZED) >= _MAX_ENTRIES:
            _DESERIALIZED.clear()
        result = deserialize(props)
        _DESERIALIZED[id(props)] = (props, result)
        return result

    return deserialize_properties


def _lazy_proxy(proxy: Any) -> Any:
    """`unknown_checking_proxy`, building the proxy when a policy first reads the properties.

    The servicer builds each policy's proxy (a copy of every dict and list) before calling it,
    and most policies return on the resource type without reading a property. The object a policy
    gets is still a `_DictProxy` (so the SDK's isinstance checks hold) that hands every access to
    the proxy `unknown_checking_proxy` would have built — its own, from the same data — once read.
    """
    from pulumi_policy.proxy import _DictProxy

    class _LazyDictProxy(_DictProxy):
        def __init__(self, props: dict[str, Any]) -> None:  # the proxy itself is built on first use
            self._lazy_props = props
            self._lazy_real: Any = None

        def _real(self) -> Any:
            if self._lazy_real is None:
                self._lazy_real = proxy(self._lazy_props)
            return self._lazy_real

        def __getitem__(self, key: Any) -> Any:
            return self._real()[key]

        def __setitem__(self, key: Any, value: Any) -> None:
            self._real()[key] = value

        def __len__(self) -> int:
            return len(self._real())

        def __iter__(self) -> Any:
            return iter(self._real())

    def unknown_checking_proxy(props: Any) -> Any:
        return _LazyDictProxy(props) if type(props) is dict else proxy(props)

    return unknown_checking_proxy


#: The resource type the servicer's Analyze is judging on this thread (None elsewhere).
_judging = threading.local()


def _judges(policy: Any, resource_type: str) -> bool:
    types = getattr(policy, "appstack_resource_types", None)
    return types is None or resource_type in types


class _PoliciesByType(list):
    """The pack's policies. Iterated inside Analyze, only those that judge the request's type.

    pulumi-policy's Analyze loops over every policy for every resource, and for each one builds
    its arguments, config and violation reporter before the policy can look at the type; most
    of our rules judge a few types, so most of that work found nothing. A framework rule carries
    its types (`to_policy`); a policy without them is always run. Only Analyze on the same
    thread sees the filtered view: AnalyzeStack, Remediate and GetAnalyzerInfo, on any thread,
    iterate the whole list, so answers are the same as without it.
    """

    def __init__(self, policies: list[Any]) -> None:
        super().__init__(policies)
        self._by_type: dict[str, list[Any]] = {}

    def __iter__(self) -> Any:
        resource_type = getattr(_judging, "type", None)
        if resource_type is None:
            return super().__iter__()
        subset = self._by_type.get(resource_type)
        if subset is None:
            subset = [p for p in super().__iter__() if _judges(p, resource_type)]
            self._by_type[resource_type] = subset
        return iter(subset)


def _dispatching_analyze(analyze: Any) -> Any:
    def Analyze(self: Any, request: Any, context: Any) -> Any:
        policies = self._PolicyAnalyzerServicer__policies
        if not isinstance(policies, _PoliciesByType):
            self._PolicyAnalyzerServicer__policies = _PoliciesByType(policies)
        _judging.type = request.type
        try:
            return analyze(self, request, context)
        finally:
            _judging.type = None

    return Analyze


#: What `_configure_runtime_settings` reads: the deployment's environment (fixed for the pack's life).
_SETTINGS_ENV = ("PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_ORGANIZATION", "PULUMI_CONFIG")


def _once_per_environment(configure: Any) -> Any:
    """pulumi-policy re-reads the config and rebuilds the runtime settings (inspecting the
    Settings signature) at the start of every request; they come from the environment the CLI
    started the pack with, so they are rebuilt only when that environment differs."""
    seen: list[tuple[str | None, ...]] = []

    def _configure_runtime_settings(self: Any) -> None:
        key = tuple(os.environ.get(k) for k in _SETTINGS_ENV)
        if not seen or seen[-1] != key:
            configure(self)
            seen[:] = [key]

    return _configure_runtime_settings


def install() -> None:
    """Route pulumi-policy's servicer to the remembering conversions (idempotent)."""
    import pulumi_policy.policy as servicer

    if getattr(servicer, "_appstack_speedups", False):
        return
    shim = types.ModuleType("json_format")
    shim.__dict__.update(json_format.__dict__)
    shim.MessageToDict = message_to_dict  # type: ignore[attr-defined]
    servicer.json_format = shim  # type: ignore[attr-defined]
    servicer.deserialize_properties = _remembering_deserialize(servicer.deserialize_properties)  # type: ignore[attr-defined]
    servicer.unknown_checking_proxy = _lazy_proxy(servicer.unknown_checking_proxy)  # type: ignore[attr-defined]
    analyzer = servicer._PolicyAnalyzerServicer
    analyzer.Analyze = _dispatching_analyze(analyzer.Analyze)  # type: ignore[method-assign]
    analyzer._configure_runtime_settings = _once_per_environment(analyzer._configure_runtime_settings)  # type: ignore[method-assign]
    servicer._appstack_speedups = True  # type: ignore[attr-defined]
