"""Run the Pulumi program offline under Pulumi's own mocks and record every planned resource.

`run_program(stack, config)` executes ``__main__.py`` exactly as the CLI would (same config
map, same project and stack names) but against `pulumi.runtime.set_mocks`: no CLI, no plugins,
no credentials, no network. Each registered resource is recorded with its engine-side
(camelCase) inputs, its parent and its URN, in registration order.

The mocks answer provider look-ups with documentation values (account 123456789012, example
AMI IDs) and give resources deterministic IDs and the computed outputs the program reads
(ARNs, ARN suffixes, DNS names, certificate validation options).
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import os
import runpy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "appstack"
#: AWS's documentation account ID: never a real account.
ACCOUNT_ID = "123456789012"


@dataclass
class PlannedResource:
    """One resource the program registered, as the engine would see it."""

    type: str
    name: str
    urn: str
    parent: str | None
    custom: bool
    properties: dict[str, Any]
    id: str | None = None
    protect: bool = False
    """The `protect` resource option (not an input, so policies cannot see it)."""
    retain_on_delete: bool = False
    ignore_changes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "parent": self.parent,
            "properties": self.properties,
            "protect": self.protect,
        }


@dataclass
class Plan:
    """Everything a program run registered, plus the resolved stack outputs."""

    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str, type_: str | None = None) -> PlannedResource:
        """The one resource called `name` (of `type_`, when names repeat across types)."""
        found = [r for r in self.resources if r.name == name and (type_ is None or r.type == type_)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}")
        return found[0]


def _short(seed: str, n: int = 17) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:n]


#: Mocks of the other clouds' resources and functions, by package (the token's first part):
#: a module with ``new_resource(args) -> (id, outputs)`` and ``call(args) -> (outputs, failures)``,
#: imported only when a plan registers that cloud's resources.
CLOUD_MOCKS: dict[str, str] = {"azure-native": "tools.mocks_azure", "gcp": "tools.mocks_gcp"}


#: The config map of the program run under way. Mocks read it from here, not through
#: `pulumi.Config`: their calls run on the SDK's worker threads, where older SDKs (3.231) do not
#: see the config the run set.
_RUN_CONFIG: dict[str, str] = {}


def run_config(key: str) -> str | None:
    """`key` (``appstack:dns``) of the config map the current `run_program` runs with."""
    return _RUN_CONFIG.get(key)


def _cloud_mocks(token: str) -> Any:
    module = CLOUD_MOCKS.get(token.split(":", 1)[0])
    return importlib.import_module(module) if module else None


class PlanMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and provider functions with plausible, stable values."""

    def __init__(self, region: str = "eu-west-1") -> None:
        self.region = region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        t, name, inputs = args.typ, args.name, dict(args.inputs)
        if not args.custom:
            return None, {}
        other = _cloud_mocks(t)
        if other is not None:
            return other.new_resource(args)
        if t.startswith("pulumi:providers:"):
            return f"{name}-provider-id", inputs
        service = t.split(":")[1].split("/")[0] if ":" in t else "x"
        rid = f"{name}-{_short(t + name, 8)}"
        arn = f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{name}"
        out: dict[str, Any] = {"arn": arn}
        prefixes = {
            "aws:ec2/vpc:Vpc": "vpc-",
            "aws:ec2/subnet:Subnet": "subnet-",
            "aws:ec2/securityGroup:SecurityGroup": "sg-",
            "aws:ec2/instance:Instance": "i-",
            "aws:ec2/internetGateway:InternetGateway": "igw-",
            "aws:ec2/natGateway:NatGateway": "nat-",
            "aws:ec2/eip:Eip": "eipalloc-",
            "aws:ec2/routeTable:RouteTable": "rtb-",
        }
        if t in prefixes:
            rid = prefixes[t] + _short(name)
        if t == "aws:ec2/instance:Instance":
            out["privateIp"] = "10.0.128." + str(int(_short(name, 2), 16) % 250 + 2)
        elif t == "aws:kms/key:Key":
            rid = _short(name, 8) + "-1234-5678-9abc-" + _short(name + "k", 12)
            out.update(keyId=rid, arn=f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:key/{rid}")
        elif t == "aws:cloudwatch/logGroup:LogGroup":
            rid = inputs.get("name", name)
            out["arn"] = f"arn:aws:logs:{self.region}:{ACCOUNT_ID}:log-group:{rid}"
        elif t == "aws:s3/bucket:Bucket":
            rid = inputs.get("bucket") or f"{name}-{_short(name, 7)}"
            out.update(bucket=rid, arn=f"arn:aws:s3:::{rid}")
        elif t == "aws:s3/bucketPolicy:BucketPolicy":
            out["bucket"] = inputs.get("bucket")
        elif t == "aws:sns/topic:Topic":
            out["arn"] = f"arn:aws:sns:{self.region}:{ACCOUNT_ID}:{name}"
        elif t in ("aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"):
            out.update(name=f"{name}-{_short(name, 7)}", arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}")
        elif t == "aws:lb/loadBalancer:LoadBalancer":
            suffix = f"app/{name}/{_short(name, 16)}"
            out.update(
                arn=f"arn:aws:elasticloadbalancing:{self.region}:{ACCOUNT_ID}:loadbalancer/{suffix}",
                arnSuffix=suffix,
                dnsName=f"{name}-{_short(name, 10)}.{self.region}.elb.amazonaws.com",
                zoneId="Z32O12XQLNTSW2",
            )
        elif t == "aws:lb/targetGroup:TargetGroup":
            suffix = f"targetgroup/{name}/{_short(name, 16)}"
            out.update(arn=f"arn:aws:elasticloadbalancing:{self.region}:{ACCOUNT_ID}:{suffix}", arnSuffix=suffix)
        elif t == "aws:acm/certificate:Certificate":
            domain = inputs.get("domainName", "example.com")
            out.update(
                arn=f"arn:aws:acm:{self.region}:{ACCOUNT_ID}:certificate/{_short(name, 8)}-0000-4000-8000-{_short(name, 12)}",
                domainValidationOptions=[
                    {
                        "domainName": domain,
                        "resourceRecordName": f"_{_short(domain, 32)}.{domain}.",
                        "resourceRecordType": "CNAME",
                        "resourceRecordValue": f"_{_short(domain + 'v', 32)}.acm-validations.aws.",
                    }
                ],
            )
        elif t == "aws:acm/certificateValidation:CertificateValidation":
            out["certificateArn"] = inputs.get("certificateArn")
        elif t == "aws:ec2/launchTemplate:LaunchTemplate":
            rid = "lt-" + _short(name)
            out["latestVersion"] = 1
        elif t == "aws:autoscaling/group:Group":
            rid = inputs.get("name") or f"{name}-{_short(name, 7)}"
            out.update(
                name=rid,
                arn=f"arn:aws:autoscaling:{self.region}:{ACCOUNT_ID}:autoScalingGroup:{_short(name, 8)}:"
                f"autoScalingGroupName/{rid}",
            )
        elif t == "aws:route53/record:Record":
            out["fqdn"] = str(inputs.get("name", name)).rstrip(".")
        return rid, {**inputs, **out, "id": rid}

    def call(self, args: pulumi.runtime.MockCallArgs):
        other = _cloud_mocks(args.token)
        if other is not None:
            return other.call(args)
        token, a = args.token, dict(args.args)
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{z}" for z in "abc"]
            return {"names": names, "zoneIds": [f"euw1-az{i + 1}" for i in range(3)], "id": self.region}, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/plan",
                "userId": "PLAN",
                "id": ACCOUNT_ID,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:index/getRegion:getRegion":
            return {
                "name": self.region,
                "region": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
                "id": self.region,
            }, []
        if token == "aws:ssm/getParameter:getParameter":
            arch = "arm64" if "arm64" in a.get("name", "") else "x86_64"
            return {
                "name": a.get("name"),
                "value": f"ami-0{_short(arch, 16)}",
                "type": "String",
                "id": a.get("name"),
            }, []
        if token == "aws:route53/getZone:getZone":
            zone = a.get("name", "example.com")
            return {"zoneId": "Z0" + _short(zone, 12).upper(), "name": zone, "id": "Z0" + _short(zone, 12).upper()}, []
        raise NotImplementedError(
            f"the offline plan has no mock for provider function {token}; add one in tools/mocks.py"
        )


#: Properties the AWS provider fills in with an auto-name (``<name>-<7 hex>``) in its Check step,
#: before the engine hands inputs to the policy pack. The plan does the same, so rules that match
#: resources by name (a bucket and its policy) see what they would see in a real preview.
AUTONAMED: dict[str, str] = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:lb/loadBalancer:LoadBalancer": "name",
    "aws:lb/targetGroup:TargetGroup": "name",
    "aws:iam/role:Role": "name",
    "aws:iam/instanceProfile:InstanceProfile": "name",
    "aws:ec2/securityGroup:SecurityGroup": "name",
    "aws:sns/topic:Topic": "name",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "name",
    "aws:ec2/launchTemplate:LaunchTemplate": "name",
    "aws:autoscaling/group:Group": "name",
}


def autoname(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """`inputs` with the provider's auto-name filled in where the program left it out."""
    prop = AUTONAMED.get(type_)
    if prop and not inputs.get(prop):
        suffix = _short(name, 7)
        # Load balancers and target groups allow 32 characters at most.
        base = name[: 32 - 8] if type_.startswith("aws:lb/") else name
        return {**inputs, prop: f"{base}-{suffix}"}
    return inputs


class Recorder(PlanMocks):
    """The plan's mocks, recording every registration as the engine would see it.

    Public SDK API only: `pulumi.runtime.set_mocks` answers registrations through this class
    (`new_resource` sees type, name and inputs), and a stack transformation — which the SDK runs
    in-process for every resource before it registers — sees the parent and the options. The
    URN is built the way the engine builds it: the whole chain of parent types, without the root
    stack's, so URN-based policy exemptions match what they will match on `pulumi up`.
    """

    def __init__(self, region: str = "eu-west-1", on_record: Callable[[dict[str, Any]], None] | None = None) -> None:
        super().__init__(region)
        self.recorded: list[PlannedResource] = []
        #: Called with each resource's gate form (`PlannedResource.as_json`) as it is recorded, as
        #: the engine hands each registration to the analyzers while the program goes on.
        self.on_record = on_record
        # (type, name) -> what the transformation saw, in construction order.
        self._seen: dict[tuple[str, str], list[_Seen]] = {}
        # id(resource) -> (qualified type, protect, urn) of every resource constructed so far.
        self._known: dict[int, tuple[str, bool, str]] = {}
        self._keep: list[pulumi.Resource] = []  # keeps those ids unique while the run lasts
        self._lock = threading.Lock()

    def activate(self, project: str, stack: str, preview: bool) -> None:
        """Route the SDK's registrations to this recorder (until another one is activated)."""
        global _ACTIVE
        pulumi.runtime.set_mocks(self, project=project, stack=stack, preview=preview)
        _ACTIVE = self
        root = pulumi.runtime.get_root_resource()
        if root is not None and id(root) not in _TRANSFORMED_ROOTS:
            # The SDK keeps one root stack per process: register the (forwarding) transformation once.
            pulumi.runtime.register_stack_transformation(_forward_transformation)
            _TRANSFORMED_ROOTS.add(id(root))

    def transformation(self, args: pulumi.ResourceTransformationArgs) -> None:
        opts = args.opts
        stack, project = pulumi.get_stack(), pulumi.get_project()
        parent = self._known.get(id(opts.parent)) if opts.parent is not None else None
        qualified = f"{parent[0]}${args.type_}" if parent else args.type_
        # Like the SDK, `protect` left unset inherits the parent's.
        protect = bool(opts.protect) if opts.protect is not None else bool(parent and parent[1])
        urn = f"urn:pulumi:{stack}::{project}::{qualified}::{args.name}"
        seen = _Seen(
            urn=urn,
            # Top-level resources are children of the root stack, as in the engine.
            parent_urn=parent[2]
            if parent
            else f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}",
            protect=protect,
            retain_on_delete=bool(opts.retain_on_delete),
            ignore_changes=tuple(opts.ignore_changes or ()),
        )
        with self._lock:
            self._known[id(args.resource)] = (qualified, protect, urn)
            self._keep.append(args.resource)
            self._seen.setdefault((args.type_, args.name), []).append(seen)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        rid, state = super().new_resource(args)
        with self._lock:
            queue = self._seen.get((args.typ, args.name)) or []
            seen = queue.pop(0) if queue else None
        inputs = autoname(args.typ, args.name, dict(args.inputs))
        planned = PlannedResource(
            type=args.typ,
            name=args.name,
            urn=seen.urn
            if seen
            else f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{args.typ}::{args.name}",
            parent=seen.parent_urn if seen else None,
            custom=bool(args.custom),
            properties=_plain(inputs),
            id=rid,
            protect=seen.protect if seen else False,
            retain_on_delete=seen.retain_on_delete if seen else False,
            ignore_changes=seen.ignore_changes if seen else (),
        )
        with self._lock:  # the plan's order is the gate's order
            self.recorded.append(planned)
            if self.on_record is not None:
                self.on_record(planned.as_json())
        return rid, state


@dataclass
class _Seen:
    """What the stack transformation saw of one resource before it registered."""

    urn: str
    parent_urn: str | None
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]


_ACTIVE: Recorder | None = None
_TRANSFORMED_ROOTS: set[int] = set()


def _forward_transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    if _ACTIVE is not None:
        _ACTIVE.transformation(args)
    if args.opts.aliases:
        # The SDK turns every alias into a URN as the resource is constructed (Output work per
        # alias); azure-native declares one per API version, ~25 per resource. Nothing here reads
        # aliases (the plan has no prior state to match them against, and the gate's resources
        # carry none), so the plan drops them: same resources and inputs, an Azure plan in half the time.
        opts = copy.copy(args.opts)
        opts.aliases = None
        return pulumi.ResourceTransformationResult(props=args.props, opts=opts)
    return None  # change nothing


def _plain(value: Any) -> Any:
    """Inputs as JSON-able data (resource references become their URN)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, pulumi.Resource):
        return {"urn": getattr(value, "_urn_str", None) or str(type(value).__name__)}
    if isinstance(value, float) and value.is_integer():
        # Numbers cross the engine's wire as doubles; a port or a day count reads as 443, not 443.0.
        return int(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def config_map_from_stack_file(path: Path) -> dict[str, str]:
    """The engine's config map for a stack file: objects as JSON, scalars as strings.

    This is what the CLI hands a program (PULUMI_CONFIG): `true` becomes "true", `3` "3".
    """
    import yaml

    data = yaml.safe_load(Path(path).read_text()) or {}
    config = data.get("config") or {}
    out: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            raise ValueError(f"{path}: {key} is a secret; the offline plan cannot decrypt it - override it with --set")
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


def run_program(
    stack: str,
    config: Mapping[str, str],
    preview: bool = True,
    program_path: Path = ROOT / "__main__.py",
    slim_imports: bool = True,
    on_resource: Callable[[dict[str, Any]], None] | None = None,
) -> Plan:
    """Run the program under mocks with `config` (an engine config map) and return its plan.

    `slim_imports`: load only the provider SDK modules the program uses (`tools/slim_imports.py`);
    the resources and inputs are the same either way, only start-up differs.
    `on_resource`: called with each resource's gate form as it registers (the offline plan's
    policy gate judges resources while the program runs, as the engine does).

    Raises whatever the program raises (e.g. `ConfigError`), after the runtime has settled.
    """
    region = "eu-west-1"
    try:
        region = json.loads(config.get("appstack:aws", "{}")).get("region", region)
    except (json.JSONDecodeError, AttributeError):
        pass  # bad config: the program's own validation reports it
    recorder = Recorder(region=region, on_record=on_resource)
    if slim_imports:
        # Only the SDK modules the program touches are loaded (see tools/slim_imports.py).
        from . import slim_imports as slim

        slim.install()
    pulumi.runtime.set_all_config(dict(config))
    _RUN_CONFIG.clear()
    _RUN_CONFIG.update(config)
    # The program must read the config above, never a PULUMI_CONFIG left in the environment.
    os.environ.pop("PULUMI_CONFIG", None)
    recorder.activate(PROJECT, stack, preview)
    plan = Plan(stack=stack, resources=recorder.recorded)

    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(program_path), run_name="__main__")
        root = pulumi.runtime.get_root_resource()
        exported: dict[str, Any] = dict(getattr(root, "outputs", None) or {})
        # Resolved inside the run: `@pulumi.runtime.test` awaits the returned Output.
        return pulumi.Output.all(**exported).apply(plan.outputs.update)

    try:
        pulumi.runtime.test(program)()
    except BaseException as exc:
        # Tests check what was registered before the failure (for bad config: nothing).
        exc.plan = plan  # type: ignore[attr-defined]
        raise
    return plan
