"""Offline mocks of pulumi-gcp resources and functions (plugged in by `tools.mocks.CLOUD_MOCKS`).

Resources get the IDs and self links Google gives them (``projects/<p>/zones/<z>/instances/<n>``,
``https://www.googleapis.com/compute/v1/...``) and the computed outputs the program reads
(addresses, e-mails, uptime check IDs); functions answer with documentation-style values for the
project and region in the stack's `appstack:gcp` config.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pulumi

from .mocks import run_config

COMPUTE = "https://www.googleapis.com/compute/v1/"
#: A project number of the documented example form (never a real project).
PROJECT_NUMBER = "123456789012"
DEFAULT_PROJECT, DEFAULT_REGION = "appstack-test-example", "europe-west1"
#: Zone suffixes per region where they are not a, b, c (europe-west1 has no zone a).
ZONE_SUFFIXES = {"europe-west1": "bcd", "us-central1": "abcf", "us-east1": "bcd"}


def _short(seed: str, n: int = 12) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:n]


def _number(seed: str, n: int = 19) -> str:
    return str(int(_short(seed, 16), 16))[:n]


def project_and_region() -> tuple[str, str]:
    """The stack's `appstack:gcp` project and region (defaults outside a stack, e.g. unit tests)."""
    try:
        gcp = json.loads(run_config("appstack:gcp") or pulumi.Config("appstack").get("gcp") or "{}")
    except (json.JSONDecodeError, TypeError):
        gcp = {}
    if not isinstance(gcp, dict):
        gcp = {}
    return str(gcp.get("project") or DEFAULT_PROJECT), str(gcp.get("region") or DEFAULT_REGION)


def zones(region: str) -> list[str]:
    return [f"{region}-{z}" for z in ZONE_SUFFIXES.get(region, "abc")]


def _ip(seed: str) -> str:
    # 203.0.113.0/24 (TEST-NET-3): documentation addresses only.
    return f"203.0.113.{int(_short(seed, 2), 16) % 250 + 2}"


def new_resource(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
    """(ID, state) of a gcp resource: the inputs plus the outputs Google computes."""
    t, name, inputs = args.typ, args.name, dict(args.inputs)
    project, region = project_and_region()
    project = str(inputs.get("project") or project)
    physical = str(inputs.get("name") or f"{name}-{_short(name, 7)}")
    kind = t.split(":")[1].split("/")[1] if "/" in t else t
    out: dict[str, Any] = {}
    rid = f"projects/{project}/{kind}/{physical}"

    def compute(path: str) -> None:
        nonlocal rid
        rid = f"projects/{project}/{path}"
        out["selfLink"] = COMPUTE + rid

    if t == "gcp:compute/network:Network":
        compute(f"global/networks/{physical}")
    elif t == "gcp:compute/subnetwork:Subnetwork":
        compute(f"regions/{region}/subnetworks/{physical}")
        out["gatewayAddress"] = "10.0.0.1"
    elif t == "gcp:compute/router:Router":
        compute(f"regions/{region}/routers/{physical}")
    elif t == "gcp:compute/routerNat:RouterNat":
        rid = f"{project}/{region}/{inputs.get('router')}/{physical}"
    elif t == "gcp:compute/firewall:Firewall":
        compute(f"global/firewalls/{physical}")
    elif t == "gcp:compute/instance:Instance":
        zone = str(inputs.get("zone") or zones(region)[0])
        compute(f"zones/{zone}/instances/{physical}")
        nics = [dict(n) for n in inputs.get("networkInterfaces") or [{}]]
        nics[0]["networkIp"] = f"10.0.0.{int(_short(physical, 2), 16) % 250 + 2}"
        out.update(networkInterfaces=nics, instanceId=_number(physical), zone=zone)
    elif t == "gcp:compute/instanceGroup:InstanceGroup":
        compute(f"zones/{inputs.get('zone')}/instanceGroups/{physical}")
    elif t == "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate":
        compute(f"regions/{region}/instanceTemplates/{physical}")
    elif t == "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager":
        compute(f"regions/{region}/instanceGroupManagers/{physical}")
        out["instanceGroup"] = f"{COMPUTE}projects/{project}/regions/{region}/instanceGroups/{physical}"
    elif t == "gcp:compute/regionAutoscaler:RegionAutoscaler":
        compute(f"regions/{region}/autoscalers/{physical}")
    elif t == "gcp:compute/globalAddress:GlobalAddress":
        compute(f"global/addresses/{physical}")
        out["address"] = _ip(physical)
    elif t == "gcp:compute/healthCheck:HealthCheck":
        compute(f"global/healthChecks/{physical}")
    elif t == "gcp:compute/backendService:BackendService":
        compute(f"global/backendServices/{physical}")
    elif t == "gcp:compute/securityPolicy:SecurityPolicy":
        compute(f"global/securityPolicies/{physical}")
    elif t == "gcp:compute/managedSslCertificate:ManagedSslCertificate":
        compute(f"global/sslCertificates/{physical}")
    elif t == "gcp:compute/sSLPolicy:SSLPolicy":
        compute(f"global/sslPolicies/{physical}")
    elif t == "gcp:compute/uRLMap:URLMap":
        compute(f"global/urlMaps/{physical}")
    elif t == "gcp:compute/targetHttpsProxy:TargetHttpsProxy":
        compute(f"global/targetHttpsProxies/{physical}")
    elif t == "gcp:compute/targetHttpProxy:TargetHttpProxy":
        compute(f"global/targetHttpProxies/{physical}")
    elif t == "gcp:compute/globalForwardingRule:GlobalForwardingRule":
        compute(f"global/forwardingRules/{physical}")
    elif t == "gcp:kms/keyRing:KeyRing":
        rid = f"projects/{project}/locations/{inputs.get('location')}/keyRings/{physical}"
    elif t == "gcp:kms/cryptoKey:CryptoKey":
        rid = f"{inputs.get('keyRing')}/cryptoKeys/{physical}"
    elif t == "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember":
        rid = f"{inputs.get('cryptoKeyId')}/{inputs.get('role')}/{inputs.get('member')}"
    elif t == "gcp:serviceAccount/account:Account":
        email = f"{inputs.get('accountId')}@{project}.iam.gserviceaccount.com"
        rid = f"projects/{project}/serviceAccounts/{email}"
        out.update(email=email, member=f"serviceAccount:{email}", uniqueId=_number(email, 21), name=rid)
    elif t == "gcp:projects/iAMMember:IAMMember":
        rid = f"{project}/{inputs.get('role')}/{inputs.get('member')}"
    elif t == "gcp:logging/projectBucketConfig:ProjectBucketConfig":
        rid = f"projects/{project}/locations/{inputs.get('location')}/buckets/{inputs.get('bucketId')}"
        out["name"] = rid
    elif t == "gcp:logging/projectSink:ProjectSink":
        rid = f"projects/{project}/sinks/{physical}"
        out["writerIdentity"] = f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com"
    elif t == "gcp:monitoring/notificationChannel:NotificationChannel":
        rid = f"projects/{project}/notificationChannels/{_number(name)}"
        out["name"] = rid
    elif t == "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig":
        check = f"{str(inputs.get('displayName', name)).lower().replace(' ', '-')}-{_short(name, 8)}"
        rid = f"projects/{project}/uptimeCheckConfigs/{check}"
        out.update(name=rid, uptimeCheckId=check)
    elif t == "gcp:monitoring/alertPolicy:AlertPolicy":
        rid = f"projects/{project}/alertPolicies/{_number(name)}"
        out["name"] = rid
    elif t == "gcp:dns/recordSet:RecordSet":
        rid = f"projects/{project}/managedZones/{inputs.get('managedZone')}/rrsets/{inputs.get('name')}/{inputs.get('type')}"
    if "name" not in out and "name" in inputs:
        out["name"] = inputs["name"]
    return rid, {**inputs, **out, "id": rid}


def call(args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
    """(outputs, failures) of a gcp function the program calls."""
    token, a = args.token, dict(args.args)
    project, region = project_and_region()
    project = str(a.get("project") or a.get("projectId") or project)
    if token == "gcp:organizations/getClientConfig:getClientConfig":
        return {"project": project, "region": region, "zone": "", "id": project, "accessToken": ""}, []
    if token == "gcp:organizations/getProject:getProject":
        return {"projectId": project, "number": PROJECT_NUMBER, "name": project, "id": f"projects/{project}"}, []
    if token == "gcp:compute/getZones:getZones":
        names = zones(str(a.get("region") or region))
        return {"names": names, "project": project, "region": a.get("region") or region, "id": project}, []
    if token == "gcp:logging/getProjectCmekSettings:getProjectCmekSettings":
        return {
            "project": project,
            "name": f"projects/{project}/cmekSettings",
            "serviceAccountId": f"service-{PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com",
            "id": f"projects/{project}/cmekSettings",
        }, []
    if token == "gcp:monitoring/getUptimeCheckIPs:getUptimeCheckIPs":
        # Documentation addresses (RFC 5737), one per checker region: the shape, not Google's list.
        checkers = [
            {"ipAddress": f"192.0.2.{i}", "location": location, "region": region_name}
            for i, (region_name, location) in enumerate(
                [
                    ("USA", "Iowa"),
                    ("USA", "Oregon"),
                    ("USA", "Virginia"),
                    ("EUROPE", "Belgium"),
                    ("SOUTH_AMERICA", "Sao Paulo"),
                    ("ASIA_PACIFIC", "Singapore"),
                ]
                * 2,
                start=1,
            )
        ]
        return {"uptimeCheckIps": checkers, "id": "uptime-check-ips"}, []
    if token == "gcp:dns/getManagedZones:getManagedZones":
        # The stack's own zone exists (a real project must have it: README, deploy on GCP).
        zone = "example.com"
        try:
            dns = run_config("appstack:dns") or pulumi.Config("appstack").get("dns") or "{}"
            zone = str(json.loads(dns).get("zone") or zone)
        except (json.JSONDecodeError, AttributeError):
            pass
        zone_name = zone.rstrip(".").replace(".", "-")
        managed = {
            "dnsName": zone.rstrip(".") + ".",
            "name": zone_name,
            "id": f"projects/{project}/managedZones/{zone_name}",
            "managedZoneId": _number(zone_name),
            "description": "",
            "nameServers": [f"ns-cloud-a{i}.googledomains.com." for i in range(1, 5)],
            "visibility": "public",
            "project": project,
        }
        return {"managedZones": [managed], "project": project, "id": f"projects/{project}"}, []
    raise NotImplementedError(
        f"the offline plan has no mock for provider function {token}; add one in tools/mocks_gcp.py"
    )
