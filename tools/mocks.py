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

import hashlib
import json
import os
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config
from pulumi.runtime.sync_await import _sync_await

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


class PlanMocks(pulumi_mocks.Mocks):
    """Answers resource registrations and provider functions with plausible, stable values."""

    def __init__(self, region: str = "eu-west-1") -> None:
        self.region = region

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        t, name, inputs = args.typ, args.name, dict(args.inputs)
        if not args.custom:
            return None, {}
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
        elif t == "aws:route53/record:Record":
            out["fqdn"] = str(inputs.get("name", name)).rstrip(".")
        return rid, {**inputs, **out, "id": rid}

    def call(self, args: pulumi_mocks.MockCallArgs):
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


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also recording each registration's parent and inputs."""

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[PlannedResource] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine does: the whole chain of parent types, without the root stack's type
        # (the SDK's mock keeps only the immediate parent's). URN-based exemptions rely on it.
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            from pulumi.runtime import rpc

            inputs = autoname(request.type, request.name, rpc.deserialize_properties(request.object))
            self.recorded.append(
                PlannedResource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent or None,
                    custom=bool(request.custom),
                    properties=_plain(inputs),
                    id=response.id or None,
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    ignore_changes=tuple(request.ignoreChanges),
                )
            )
        return response


def _plain(value: Any) -> Any:
    """Inputs as JSON-able data (resource references become their URN)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, pulumi.Resource):
        return {"urn": getattr(value, "_urn_str", None) or str(type(value).__name__)}
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
    stack: str, config: Mapping[str, str], preview: bool = True, program: Path = ROOT / "__main__.py"
) -> Plan:
    """Run the program under mocks with `config` (an engine config map) and return its plan.

    Raises whatever the program raises (e.g. `ConfigError`), after the runtime has settled.
    """
    region = "eu-west-1"
    try:
        region = json.loads(config.get("appstack:aws", "{}")).get("region", region)
    except (json.JSONDecodeError, AttributeError):
        pass  # bad config: the program's own validation reports it
    monitor = RecordingMonitor(PlanMocks(region=region))
    set_all_config(dict(config))
    os.environ.pop("PULUMI_CONFIG", None)
    pulumi_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    from pulumi.runtime.settings import SETTINGS, get_root_resource
    from pulumi.runtime.stack import run_pulumi_func

    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    plan = Plan(stack=stack, resources=monitor.recorded)
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__")))
    except BaseException as exc:
        # Tests check what was registered before the failure (for bad config: nothing).
        exc.plan = plan  # type: ignore[attr-defined]
        raise
    root = get_root_resource()
    exported = dict(getattr(root, "outputs", {}) or {})

    async def resolve() -> dict[str, Any]:
        return {k: await pulumi.Output.from_input(v).future() for k, v in exported.items()}

    plan.outputs = _sync_await(resolve())
    return plan
