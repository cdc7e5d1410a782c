"""Run the policy pack over planned resources through the real Analyzer gRPC protocol.

This is what the Pulumi CLI does with `pulumi preview --policy-pack policies`, without the CLI:

1. serve a minimal Engine gRPC service (the pack's `Log` calls land here);
2. start the pack exactly as the CLI's Python language host does:
   ``python -u -m pulumi.policy <engine address> <pack dir>`` with ``PULUMI_PROJECT``,
   ``PULUMI_STACK``, ``PULUMI_DRY_RUN`` and ``PULUMI_CONFIG`` set, and read the analyzer's port
   from the first line of its stdout;
3. ``Handshake`` (tolerated if unimplemented), ``GetAnalyzerInfo``, ``Configure`` with the
   reconciled policy config (defaults, ``all``, per-policy levels and properties, validated
   against each policy's config schema like the CLI does), ``ConfigureStack``;
4. per resource ``Remediate`` then ``Analyze`` with its inputs, and ``AnalyzeStack`` once at the
   end with every resource. The offline plan hands each resource over as the program registers
   it (`GateStream`), as the engine does, so the pack judges while the program runs;
5. terminate the pack process, whatever happened.

Resources are plain dicts: ``{"type", "name", "urn", "parent", "properties"}`` with the engine's
camelCase input properties; optional keys ``protect``, ``dependencies``, ``provider``
(``{"type", "urn", "name", "properties"}``) and ``propertyDependencies`` (``{prop: [urn...]}``).
An unknown value is the engine's sentinel string ``UNKNOWN`` and is passed through as-is.

CLI::

    python -m tools.policy_gate --plan plan.json --stack dev [--policy-config cfg.json] [--no-preview]

Exit status: 1 on any mandatory violation, 0 otherwise, 2 when the gate itself fails.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import selectors
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import (
    analyzer_pb2,
    analyzer_pb2_grpc,
    engine_pb2,
    engine_pb2_grpc,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PACK_DIR = REPO / "policies"

#: The engine's sentinel for a value that is not known until apply (``UnknownStringValue``).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

#: Policy config levels as the CLI spells them, and their protocol values.
LEVELS: dict[str, int] = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
_LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
_LEVEL_ORDER = ("mandatory", "remediate", "advisory", "disabled")

_MAX_MSG = 1024 * 1024 * 400
_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", _MAX_MSG), ("grpc.max_send_message_length", _MAX_MSG)]


class GateError(RuntimeError):
    """The gate could not run the pack (start-up failure, bad policy config, RPC error)."""


@dataclass(frozen=True)
class Violation:
    """One diagnostic the pack reported."""

    policy: str
    pack: str
    level: str
    """``mandatory``, ``advisory``, ``remediate`` or ``disabled`` (as the CLI names them)."""
    urn: str
    """The offending resource's URN; empty for a stack-level violation without a resource."""
    name: str
    """The resource's name (from the plan), or empty."""
    message: str
    """What the policy reported (the SDK's policy-description prefix removed)."""
    description: str = ""
    """The policy's description."""


@dataclass(frozen=True)
class NotApplicable:
    policy: str
    urn: str
    reason: str


@dataclass
class GateResult:
    violations: list[Violation] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)
    policies: list[tuple[str, str]] = field(default_factory=list)
    """``(policy name, default level)`` as GetAnalyzerInfo announced them."""
    configured: dict[str, str] = field(default_factory=dict)
    """``policy name -> effective level`` sent with Configure."""
    pack: str = ""
    pack_pid: int | None = None
    """Process id the pack ran as (it has been terminated when `run_gate` returns)."""
    timings: dict[str, float] = field(default_factory=dict)
    """``startup_s`` (gate start to the pack configured), ``analyze_s`` (Remediate/Analyze/AnalyzeStack
    round trips), ``after_program_s`` (what the caller waited for after submitting the last resource)."""
    logs: list[str] = field(default_factory=list)
    """Engine ``Log`` messages and the pack's stderr."""
    remediations: list[tuple[str, str]] = field(default_factory=list)
    """``(policy, urn)`` for every remediation the pack applied."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "advisory"]

    def by_policy(self, policy: str) -> list[Violation]:
        return [v for v in self.violations if v.policy == policy]


# ---------------------------------------------------------------------------------------------
# Engine side


class _Engine(engine_pb2_grpc.EngineServicer):
    """The few Engine RPCs a policy pack may call; Log messages are collected."""

    def __init__(self) -> None:
        self.logs: list[tuple[str, str, str]] = []
        self.root_urn = ""
        self._lock = threading.Lock()

    def Log(self, request, context):
        sev = engine_pb2.LogSeverity.Name(request.severity).lower()
        with self._lock:
            self.logs.append((sev, request.message, request.urn))
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):
        return engine_pb2.GetRootResourceResponse(urn=self.root_urn)

    def SetRootResource(self, request, context):
        self.root_urn = request.urn
        return engine_pb2.SetRootResourceResponse()

    def StartDebugging(self, request, context):
        return empty_pb2.Empty()

    def RequirePulumiVersion(self, request, context):
        return engine_pb2.RequirePulumiVersionResponse()


def _struct(value: Mapping[str, Any] | None) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    if value:
        try:
            s.update(dict(value))
        except (TypeError, ValueError) as exc:
            raise GateError(f"properties are not JSON-like: {exc}") from exc
    return s


def _level_name(value: int) -> str:
    return _LEVEL_NAMES.get(value, str(value))


def _parse_level(value: Any, where: str) -> int:
    if not isinstance(value, str) or value.lower() not in LEVELS:
        raise GateError(f"{where}: enforcement level must be one of {sorted(LEVELS)}, got {value!r}")
    return LEVELS[value.lower()]


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    options = sorted(options)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"known: {', '.join(options)}"


def reconcile_policy_config(
    info: analyzer_pb2.AnalyzerInfo, given: Mapping[str, Any] | None
) -> dict[str, tuple[int, dict[str, Any]]]:
    """The per-policy ``(level, properties)`` the CLI would send with Configure.

    Mirrors the CLI's ReconcilePolicyPackConfig: schema defaults and each policy's own level,
    then the pack's initial config, then `given` (``--policy-pack-config`` JSON: ``all`` sets the
    level of every policy; a policy's entry is a level string or ``{"enforcementLevel", ...}``);
    the result is validated against each policy's config schema.
    """
    result: dict[str, tuple[int, dict[str, Any]]] = {}
    schemas: dict[str, dict[str, Any]] = {}
    for p in info.policies:
        props_schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
        schemas[p.name] = {
            "type": "object",
            "properties": props_schema,
            "required": list(p.configSchema.required),
        }
        defaults = {k: v["default"] for k, v in props_schema.items() if isinstance(v, dict) and "default" in v}
        result[p.name] = (p.enforcementLevel, defaults)

    def apply(cfg: Mapping[str, Any], where: str) -> None:
        if not isinstance(cfg, Mapping):
            raise GateError(f"{where}: policy config must be a JSON object")
        all_cfg = cfg.get("all")
        if all_cfg is not None:
            lvl = all_cfg if isinstance(all_cfg, str) else (all_cfg or {}).get("enforcementLevel")
            if lvl is not None:
                level = _parse_level(lvl, f"{where}['all']")
                result.update({k: (level, props) for k, (_, props) in result.items()})
        for name, entry in cfg.items():
            if name == "all":
                continue
            if name not in result:
                raise GateError(f"{where}: unknown policy {name!r}; {_did_you_mean(name, result)}")
            level, props = result[name]
            props = dict(props)
            if isinstance(entry, str):
                level = _parse_level(entry, f"{where}[{name!r}]")
            elif isinstance(entry, Mapping):
                known = schemas[name]["properties"]
                for k, v in entry.items():
                    if k == "enforcementLevel":
                        level = _parse_level(v, f"{where}[{name!r}]")
                    elif k not in known:
                        # The CLI passes unknown keys through and the rule would ignore them:
                        # a misspelt threshold must not silently leave the default in force.
                        options = ["enforcementLevel", *known]
                        raise GateError(f"{where}[{name!r}]: unknown key {k!r}; {_did_you_mean(k, options)}")
                    else:
                        props[k] = v
            else:
                raise GateError(f"{where}[{name!r}]: expected a level string or an object, got {entry!r}")
            result[name] = (level, props)

    if info.initialConfig:
        initial: dict[str, Any] = {}
        for name, pc in info.initialConfig.items():
            entry = json_format.MessageToDict(pc.properties)
            entry["enforcementLevel"] = _level_name(pc.enforcementLevel)
            initial[name] = entry
        apply(initial, "initial config")
    if given:
        apply(given, "policy config")

    import jsonschema

    errors: list[str] = []
    for name, (_, props) in result.items():
        validator = jsonschema.Draft7Validator(schemas[name])
        for err in validator.iter_errors(props):
            path = ".".join(str(x) for x in err.absolute_path) or "(config)"
            errors.append(f"{name}: {path}: {err.message}")
    if errors:
        raise GateError("invalid policy config:\n  " + "\n  ".join(errors))
    return result


def _options(res: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        parent=res.get("parent") or "",
        protect=bool(res.get("protect", False)),
        ignoreChanges=list(res.get("ignoreChanges") or ()),
        additionalSecretOutputs=list(res.get("additionalSecretOutputs") or ()),
        aliases=list(res.get("aliases") or ()),
    )


def _provider(res: Mapping[str, Any]) -> analyzer_pb2.AnalyzerProviderResource | None:
    prov = res.get("provider")
    if not isinstance(prov, Mapping):
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=str(prov.get("type", "")),
        urn=str(prov.get("urn", "")),
        name=str(prov.get("name", "")),
        properties=_struct(prov.get("properties")),
    )


def _check_resource(res: Any, i: int) -> None:
    if not isinstance(res, Mapping):
        raise GateError(f"resource {i}: expected an object, got {type(res).__name__}")
    for key in ("type", "name", "urn"):
        if not isinstance(res.get(key), str) or not res.get(key):
            raise GateError(f"resource {i}: missing or empty {key!r}")
    if res.get("properties") is not None and not isinstance(res.get("properties"), Mapping):
        raise GateError(f"resource {i} ({res['name']}): 'properties' must be an object")


# ---------------------------------------------------------------------------------------------
# The pack process


class PackSession:
    """A running policy pack and the engine it talks to. Use as a context manager.

    ``with PackSession(pack_dir, project=..., stack=...) as s: s.info; s.configure(cfg); s.analyze(r)``
    """

    def __init__(
        self,
        pack_dir: str | Path = DEFAULT_PACK_DIR,
        *,
        project: str,
        stack: str,
        stack_config: Mapping[str, Any] | None = None,
        dry_run: bool = True,
        organization: str = "organization",
        python: str = sys.executable,
        startup_timeout: float = 30.0,
        rpc_timeout: float = 60.0,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.stack_config = dict(stack_config or {})
        self.dry_run = dry_run
        self.organization = organization
        self.python = python
        self.startup_timeout = startup_timeout
        self.rpc_timeout = rpc_timeout
        self.engine = _Engine()
        self.proc: subprocess.Popen | None = None
        self.info: analyzer_pb2.AnalyzerInfo | None = None
        self._server: grpc.Server | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr: list[str] = []
        self._threads: list[threading.Thread] = []
        self.startup_s = 0.0
        self.proc_exit: int | None = None
        self._t0 = 0.0
        self._engine_address = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> PackSession:
        try:
            if self.proc is None:
                self.spawn()
            if self.info is None:
                self.connect()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def logs(self) -> list[str]:
        out = [f"{sev}: {msg}" + (f" ({urn})" if urn else "") for sev, msg, urn in self.engine.logs]
        err = self.stderr.strip()
        if err:
            out.append("pack stderr: " + err)
        return out

    def start(self) -> None:
        """Spawn the pack and connect to it (both steps of the CLI's start-up)."""
        self.spawn()
        self.connect()

    def spawn(self) -> None:
        """Start the engine service and the pack process; returns without waiting for the pack.

        Callers with other work to do (the offline plan runs the program meanwhile) spawn first
        and `connect` later, so the pack's start-up overlaps that work.
        """
        self._t0 = time.perf_counter()
        if not (self.pack_dir / "__main__.py").is_file():
            raise GateError(f"{self.pack_dir} is not a Python policy pack (no __main__.py)")
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=_CHANNEL_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._server)
        engine_port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        engine_address = f"127.0.0.1:{engine_port}"

        env = dict(os.environ)
        env.update(
            {
                "PULUMI_PROJECT": self.project,
                "PULUMI_STACK": self.stack,
                "PULUMI_ORGANIZATION": self.organization,
                "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
                "PULUMI_CONFIG": json.dumps({k: _config_str(v) for k, v in self.stack_config.items()}),
                "PULUMI_CONFIG_SECRET_KEYS": "[]",
            }
        )
        self.proc = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", engine_address, str(self.pack_dir)],
            cwd=str(self.pack_dir),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._drain(self.proc.stderr, self._stderr)
        self._engine_address = engine_address

    def connect(self) -> None:
        """Read the pack's port, handshake and fetch its analyzer info."""
        assert self.proc is not None, "spawn() first"
        engine_address = self._engine_address
        port = self._read_port()
        self._drain(self.proc.stdout, self._stderr)  # anything printed later is diagnostic output

        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        try:
            self._stub.Handshake(
                analyzer_pb2.AnalyzerHandshakeRequest(
                    engine_address=engine_address,
                    root_directory=str(self.pack_dir),
                    program_directory=str(self.pack_dir),
                ),
                timeout=self.rpc_timeout,
            )
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:  # older SDKs do not implement it
                raise self._rpc_error("Handshake", exc) from exc
        self.info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        self.startup_s = time.perf_counter() - self._t0

    def _drain(self, stream, sink: list[str]) -> None:
        def run() -> None:
            for line in iter(stream.readline, b""):
                sink.append(line.decode("utf-8", "replace"))
            stream.close()

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self._threads.append(t)

    def _read_port(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GateError(
                        f"policy pack did not print its port within {self.startup_timeout:.0f} s" + self._stderr_tail()
                    )
                if not sel.select(timeout=min(left, 0.5)):
                    if self.proc.poll() is not None:
                        break
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        finally:
            sel.close()
        line, _, rest = buf.partition(b"\n")
        if rest:
            self._stderr.append(rest.decode("utf-8", "replace"))
        try:
            return int(line.strip())
        except ValueError:
            code = self.proc.poll()
            if code is None and not buf:  # stdout closed: the process is exiting
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = self.proc.wait(timeout=5)
            raise GateError(
                f"policy pack failed to start (exit status {code}); first stdout line {line[:200]!r}"
                + self._stderr_tail()
            ) from None

    def _stderr_tail(self) -> str:
        if self.proc is not None and self.proc.poll() is not None:
            for t in self._threads[:1]:
                t.join(timeout=1.0)  # let the stderr reader catch up with a dead process
        text = "".join(self._stderr).strip()
        logs = [f"{sev}: {msg}" for sev, msg, _ in self.engine.logs]
        parts = ([f"\n--- pack stderr ---\n{text[-4000:]}"] if text else []) + (
            ["\n--- engine log ---\n" + "\n".join(logs)[-4000:]] if logs else []
        )
        return "".join(parts)

    def close(self) -> None:
        """Terminate the pack process and stop the engine; safe to call more than once."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=3)
            self.proc_exit = proc.returncode
        for t in self._threads:
            t.join(timeout=1.0)
        if self._server is not None:
            self._server.stop(None)
            self._server = None

    def peak_rss_kb(self) -> int | None:
        """The pack process's peak resident set (VmHWM), while it runs (Linux only)."""
        if not self.proc:
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    # -- RPCs --------------------------------------------------------------------------------

    def _rpc_error(self, method: str, exc: grpc.RpcError) -> GateError:
        return GateError(f"{method} failed: {exc.code().name}: {exc.details()}" + self._stderr_tail())

    def _call(self, method: str, request):
        if self._stub is None:
            raise GateError("the pack is not running")
        try:
            return getattr(self._stub, method)(request, timeout=self.rpc_timeout)
        except grpc.RpcError as exc:
            raise self._rpc_error(method, exc) from exc

    def configure(self, policy_config: Mapping[str, Any] | None = None) -> dict[str, str]:
        """Reconcile and send the policy config (Configure), then ConfigureStack; returns the levels."""
        assert self.info is not None
        reconciled = reconcile_policy_config(self.info, policy_config)
        req = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in reconciled.items():
            req.policyConfig[name].CopyFrom(
                analyzer_pb2.PolicyConfig(
                    enforcementLevel=analyzer_pb2.EnforcementLevel.ValueType(level), properties=_struct(props)
                )
            )
        self._call("Configure", req)
        self._call(
            "ConfigureStack",
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack,
                project=self.project,
                organization=self.organization,
                dry_run=self.dry_run,
                config={k: _config_str(v) for k, v in self.stack_config.items()},
            ),
        )
        return {name: _level_name(level) for name, (level, _) in reconciled.items()}

    def remediate(self, res: Mapping[str, Any]) -> analyzer_pb2.RemediateResponse:
        return self._call("Remediate", self._analyze_request(res))

    def analyze(self, res: Mapping[str, Any]) -> analyzer_pb2.AnalyzeResponse:
        return self._call("Analyze", self._analyze_request(res))

    def analyze_stack(
        self, resources: Sequence[Mapping[str, Any]], structs: Sequence[struct_pb2.Struct | None] = ()
    ) -> analyzer_pb2.AnalyzeResponse:
        """AnalyzeStack over `resources`; `structs[i]`, when given, is resource i's properties already
        converted (`run_gate` converts each resource's properties once for all three calls)."""
        req = analyzer_pb2.AnalyzeStackRequest()
        for i, res in enumerate(resources):
            props = structs[i] if i < len(structs) else None
            r = req.resources.add(
                type=res["type"],
                urn=res["urn"],
                name=res["name"],
                parent=res.get("parent") or "",
                properties=props if props is not None else _struct(res.get("properties")),
                options=_options(res),
                dependencies=list(res.get("dependencies") or ()),
            )
            prov = _provider(res)
            if prov is not None:
                r.provider.CopyFrom(prov)
            for prop, urns in (res.get("propertyDependencies") or {}).items():
                r.propertyDependencies[prop].urns.extend(urns)
        return self._call("AnalyzeStack", req)

    def _analyze_request(self, res: Mapping[str, Any]) -> analyzer_pb2.AnalyzeRequest:
        req = analyzer_pb2.AnalyzeRequest(
            type=res["type"],
            urn=res["urn"],
            name=res["name"],
            properties=_struct(res.get("properties")),
            options=_options(res),
        )
        prov = _provider(res)
        if prov is not None:
            req.provider.CopyFrom(prov)
        return req


def _config_str(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _strip_description(message: str, description: str) -> str:
    if description and message.startswith(description):
        rest = message[len(description) :]
        return rest[1:] if rest.startswith("\n") else (rest or message)
    return message


def _collect(result: GateResult, response: analyzer_pb2.AnalyzeResponse, urn: str, names: Mapping[str, str]) -> None:
    for d in response.diagnostics:
        # The SDK leaves the URN empty on "can't run policy during preview"; the CLI attaches a
        # resource diagnostic to the resource being analyzed.
        d_urn = d.urn or urn
        result.violations.append(
            Violation(
                policy=d.policyName,
                pack=d.policyPackName,
                level=_level_name(d.enforcementLevel),
                urn=d_urn,
                name=names.get(d_urn, ""),
                message=_strip_description(d.message, d.description),
                description=d.description,
            )
        )
    for na in response.not_applicable:
        result.not_applicable.append(NotApplicable(na.policy_name, urn, na.reason))


class GateStream:
    """Judge resources while the program is still registering them, as the engine does.

    The CLI calls the analyzer for each resource when its registration reaches the engine —
    Remediate, then Analyze on its inputs — while the program goes on, and AnalyzeStack once the
    program has finished. `submit` hands over a resource as it is recorded: once the pack is up
    (a thread connects and configures it meanwhile), its Analyze goes out at once as a
    non-blocking call, so the pack judges on the other core while the program runs; resources
    submitted earlier go out as soon as the pack is configured. `finish` collects the answers,
    runs AnalyzeStack and stops the pack. Violations come back in submission order, whatever the
    timing, so the verdict and its table are deterministic.

    The answers are collected at the end rather than waited for one by one: a thread waiting on
    each round trip would need the interpreter lock back from the busy program every time (a
    switch interval, 5 ms, per resource).

    With a policy configured at `remediate`, each resource's Analyze must see its remediated
    inputs, so resources are then judged one after the other in `finish`, as before.

    `session` is a pack the caller spawned (`PackSession.spawn`) with the same project, stack and
    config; it is connected here if needed and always closed by `finish` or `abort`.
    """

    def __init__(self, session: PackSession, policy_config: Mapping[str, Any] | None = None) -> None:
        self.session = session
        self.policy_config = policy_config
        self.result = GateResult()
        self._lock = threading.Lock()
        self._submitted: list[dict] = []
        # Per submitted resource, once sent: its Analyze request and the call's future.
        self._sent: list[tuple[analyzer_pb2.AnalyzeRequest, Any]] = []
        self._ready = False  # pack configured and no remediation: submit sends at once
        self._remediating = False
        self._error: BaseException | None = None
        self._t0 = time.perf_counter()
        self._t_configured: float | None = None
        self._thread = threading.Thread(target=self._start_pack, name="policy-gate", daemon=True)
        self._thread.start()

    def submit(self, res: Mapping[str, Any]) -> None:
        """Hand over one resource (the gate's dict shape) for Remediate and Analyze."""
        res = dict(res)
        _check_resource(res, len(self._submitted))
        with self._lock:
            self._submitted.append(res)
            if self._ready:
                self._send(res)

    def _send(self, res: dict) -> None:
        req = self.session._analyze_request(res)
        stub = self.session._stub
        assert stub is not None
        self._sent.append((req, stub.Analyze.future(req, timeout=self.session.rpc_timeout)))

    def _start_pack(self) -> None:
        try:
            s = self.session
            if s.proc is None:
                s.spawn()
            if s.info is None:
                s.connect()
            assert s.info is not None
            self.result.pack = s.info.name
            self.result.pack_pid = s.pid
            self.result.policies = [(p.name, _level_name(p.enforcementLevel)) for p in s.info.policies]
            self.result.configured = s.configure(self.policy_config)
            self._t_configured = time.perf_counter()
            # The pack's Remediate runs only the policies configured at `remediate`: with none, its
            # answer is empty by construction, so the round trip per resource is skipped.
            self._remediating = "remediate" in self.result.configured.values()
            if not self._remediating:
                with self._lock:
                    for res in self._submitted:
                        self._send(res)
                    self._ready = True
        except BaseException as exc:  # handed to the caller by finish()
            self._error = exc

    def finish(self) -> GateResult:
        """Collect every submitted resource's verdict, run AnalyzeStack, stop the pack.

        Timings: ``startup_s`` (from this gate's creation to the pack configured), ``analyze_s``
        (from then, or from the program's end if later, to the verdict: the Analyze answers still
        outstanding and AnalyzeStack), ``after_program_s`` (how long this call took: what the
        caller still waited for once it had submitted everything).
        """
        t_finish = time.perf_counter()
        try:
            self._thread.join()
            if self._error is not None:
                raise self._error
            s = self.session
            result = self.result
            names = {r["urn"]: r["name"] for r in self._submitted}
            analyzed: list[dict] = []
            structs: list[struct_pb2.Struct] = []
            if self._remediating:
                for res in self._submitted:
                    req = self._remediate(s, res)
                    _collect(result, s._call("Analyze", req), res["urn"], names)
                    analyzed.append(res)
                    structs.append(req.properties)
            else:
                for res, (req, future) in zip(self._submitted, self._sent, strict=True):
                    try:
                        response = future.result()
                    except grpc.RpcError as exc:
                        raise s._rpc_error("Analyze", exc) from exc
                    _collect(result, response, res["urn"], names)
                    analyzed.append(res)
                    structs.append(req.properties)
            # Each resource's properties were converted to protobuf once, for Analyze and AnalyzeStack.
            _collect(result, s.analyze_stack(analyzed, structs), "", names)
            result.logs.extend(s.logs())
        finally:
            self.session.close()
        assert self._t_configured is not None
        result.timings["startup_s"] = self._t_configured - self._t0
        result.timings["analyze_s"] = time.perf_counter() - max(self._t_configured, t_finish)
        result.timings["after_program_s"] = time.perf_counter() - t_finish
        return result

    def _remediate(self, s: PackSession, res: dict) -> analyzer_pb2.AnalyzeRequest:
        """Remediate one resource; its Analyze request, with the remediated inputs if any."""
        req = s._analyze_request(res)
        rem = s._call("Remediate", req)
        for r in rem.remediations:
            if r.HasField("properties"):
                res["properties"] = json_format.MessageToDict(r.properties)
                self.result.remediations.append((r.policyName, res["urn"]))
            if r.diagnostic:
                self.result.logs.append(f"remediation {r.policyName} on {res['urn']}: {r.diagnostic}")
        for na in rem.not_applicable:
            self.result.not_applicable.append(NotApplicable(na.policy_name, res["urn"], na.reason))
        if any(r.HasField("properties") for r in rem.remediations):
            req = s._analyze_request(res)
        return req

    def abort(self) -> None:
        """Stop the pack without a verdict (the program failed)."""
        self.session.close()  # a thread still waiting for the pack's port sees it exit
        self._thread.join(timeout=10)


def run_gate(
    resources: list[dict],
    *,
    project: str,
    stack: str,
    stack_config: dict | None = None,
    policy_config: dict | None = None,
    dry_run: bool = True,
    pack_dir: str | Path = DEFAULT_PACK_DIR,
    session: PackSession | None = None,
) -> GateResult:
    """Start the pack, analyze every resource and the stack, stop the pack; see the module doc.

    `session` is a pack already spawned by the caller (`PackSession.spawn`) with the same
    project, stack and config; it is connected if needed and always closed here.
    """
    for i, res in enumerate(resources):
        _check_resource(res, i)
    if session is None:
        session = PackSession(pack_dir, project=project, stack=stack, stack_config=stack_config, dry_run=dry_run)
    try:
        gate = GateStream(session, policy_config)
    except BaseException:
        session.close()
        raise
    for res in resources:
        gate.submit(res)
    return gate.finish()


# ---------------------------------------------------------------------------------------------
# Output


def format_table(result: GateResult, width: int = 110) -> str:
    """A readable table of the violations, grouped by level (mandatory first)."""
    lines: list[str] = []
    if not result.violations:
        lines.append(f"No policy violations ({len(result.policies)} policies from pack {result.pack!r}).")
    rule_w = min(max([len("rule")] + [len(v.policy) for v in result.violations]), 48)
    res_w = min(max([len("resource")] + [len(_res_label(v)) for v in result.violations]), 36)
    msg_w = max(30, width - rule_w - res_w - 6)
    groups: dict[str, list[Violation]] = {}
    for v in result.violations:
        groups.setdefault(v.level, []).append(v)
    for level in sorted(groups, key=lambda lv: _LEVEL_ORDER.index(lv) if lv in _LEVEL_ORDER else 99):
        vs = sorted(groups[level], key=lambda v: (v.policy, _res_label(v)))
        lines.append("")
        lines.append(f"{level.upper()} ({len(vs)})")
        lines.append(f"{'rule':<{rule_w}}  {'resource':<{res_w}}  message")
        lines.append(f"{'-' * rule_w}  {'-' * res_w}  {'-' * min(msg_w, 40)}")
        for v in vs:
            msg_lines: list[str] = []
            for para in (v.message or v.description).splitlines() or [""]:
                msg_lines.extend(textwrap.wrap(para, msg_w) or [""])
            rule_lines = textwrap.wrap(v.policy, rule_w) or [""]
            res_lines = textwrap.wrap(_res_label(v), res_w, break_on_hyphens=False) or [""]
            for i in range(max(len(msg_lines), len(rule_lines), len(res_lines))):
                a = rule_lines[i] if i < len(rule_lines) else ""
                b = res_lines[i] if i < len(res_lines) else ""
                c = msg_lines[i] if i < len(msg_lines) else ""
                lines.append(f"{a:<{rule_w}}  {b:<{res_w}}  {c}".rstrip())
    n_m, n_a = len(result.mandatory), len(result.advisory)
    lines.append("")
    lines.extend(
        textwrap.wrap(
            f"{n_m} mandatory, {n_a} advisory violation(s); "
            f"pack {result.pack!r} with {len(result.policies)} policies; "
            f"pack ready after {result.timings.get('startup_s', 0):.2f} s, "
            f"verdict {result.timings.get('after_program_s', 0):.2f} s after the last resource",
            width,
        )
    )
    return "\n".join(lines).lstrip("\n")


def _res_label(v: Violation) -> str:
    if v.name:
        return v.name
    if v.urn:
        return v.urn.rsplit("::", 1)[-1]
    return "(stack)"


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.policy_gate", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--plan", required=True, help="JSON list of resources {type,name,urn,parent,properties}")
    ap.add_argument("--stack", required=True)
    ap.add_argument("--project", default="appstack")
    ap.add_argument("--policy-config", help="policy config JSON file (the --policy-pack-config format)")
    ap.add_argument("--stack-config", help='JSON object of stack config, e.g. {"appstack:cloud": "aws"}')
    ap.add_argument("--preview", action=argparse.BooleanOptionalAction, default=True, help="dry run (default)")
    ap.add_argument("--pack", default=str(DEFAULT_PACK_DIR), help="policy pack directory")
    ap.add_argument("--json", action="store_true", help="print the violations as JSON instead of a table")
    args = ap.parse_args(list(argv) if argv is not None else None)
    try:
        resources = json.loads(Path(args.plan).read_text())
        if isinstance(resources, Mapping) and "resources" in resources:
            resources = resources["resources"]
        if not isinstance(resources, list):
            raise GateError(f"{args.plan}: expected a JSON list of resources")
        policy_config = json.loads(Path(args.policy_config).read_text()) if args.policy_config else None
        stack_config = json.loads(Path(args.stack_config).read_text()) if args.stack_config else None
        result = run_gate(
            resources,
            project=args.project,
            stack=args.stack,
            stack_config=stack_config,
            policy_config=policy_config,
            dry_run=args.preview,
            pack_dir=args.pack,
        )
    except (GateError, OSError, json.JSONDecodeError) as exc:
        print(f"policy gate error: {exc}", file=sys.stderr)
        return 2
    for line in result.logs:
        print(line, file=sys.stderr)
    if args.json:
        print(json.dumps([v.__dict__ for v in result.violations], indent=2))
    else:
        print(format_table(result))
    return 1 if result.mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
