"""The GCP stack planned offline from both stack files with `--set cloud=gcp`: exact
security-critical inputs (camelCase, as the engine and the policy pack see them), dev vs prod,
names and labels within GCP's rules, import isolation and the policy gate (preview and up)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.bootstrap.cloud_init import INSTALLER, SSHD_DROP_IN, SSHD_HARDENING
from components.gcp.names import NAME_RE
from components.naming import digest
from tests.conftest import plan_of
from tools.mocks import PROJECT, Plan, PlannedResource, run_program
from tools.plan import load_stack_config
from tools.policy_gate import run_gate

ROOT = Path(__file__).resolve().parent.parent.parent
GCP = ["cloud=gcp"]
INSTANCE = "gcp:compute/instance:Instance"
FIREWALL = "gcp:compute/firewall:Firewall"


@pytest.fixture(scope="module")
def dev() -> Plan:
    return plan_of("dev", GCP)


@pytest.fixture(scope="module")
def prod() -> Plan:
    # The instances mode (prod's default is a VM group: tests/gcp/test_vm_group.py).
    return plan_of("prod", [*GCP, "compute.mode=instances"])


def props(plan: Plan, name: str, type_: str | None = None) -> dict:
    return plan.named(name, type_).properties


def gcp_resources(plan: Plan) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type.startswith("gcp:")]


# --- the whole stack -------------------------------------------------------------------------


def boot_digest(plan: Plan, name: str = "appstack-vm-0") -> str:
    return digest(props(plan, name, INSTANCE)["metadata"]["user-data"])


def test_outputs_have_the_shared_names_and_gcp_values(dev):
    assert set(dev.outputs) == {"url", "loadBalancerAddress", "instanceIds", "logSink", "alertChannel"}
    assert dev.outputs["url"] == "https://app.dev.example.com"
    assert dev.outputs["instanceIds"] == [
        f"projects/appstack-dev-example/zones/europe-west1-b/instances/appstack-dev-vm-0-{boot_digest(dev)}"
    ]
    assert dev.outputs["logSink"] == "projects/appstack-dev-example/locations/europe-west1/buckets/appstack-dev-logs"
    assert dev.outputs["alertChannel"].startswith("projects/appstack-dev-example/notificationChannels/")


def test_components_have_gcp_type_tokens_and_parents(dev):
    components = {r.type for r in dev.resources if not r.custom}
    assert components == {
        f"appstack:gcp:{p}" for p in ("AppStack", "Network", "LogSink", "Firewall", "Vm", "LoadBalancer", "Monitoring")
    }
    by_urn = {r.urn: r for r in dev.resources}
    for r in gcp_resources(dev):
        parent = by_urn.get(r.parent or "")
        assert parent is not None and not parent.custom, r.name
        assert r.name.startswith(parent.name + "-"), (r.name, parent.name)


def test_explicit_provider_from_appstack_gcp(dev):
    provider = props(dev, "appstack-provider")
    assert provider["project"] == "appstack-dev-example"
    assert provider["region"] == "europe-west1"
    assert json.loads(provider["defaultLabels"]) == {
        "app": "appstack",
        "environment": "dev",
        "owner": "platform-team",
        "managed-by": "pulumi",
        "stack": "dev",
    }


# --- network ---------------------------------------------------------------------------------


def test_network_is_custom_mode_with_flow_logs_private_access_and_logged_nat(dev):
    assert props(dev, "appstack-network-vpc")["autoCreateSubnetworks"] is False
    subnet = props(dev, "appstack-network-subnet")
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["ipCidrRange"] == "10.0.0.0/16"
    assert subnet["logConfig"] == {
        "aggregationInterval": "INTERVAL_5_SEC",
        "flowSampling": 1,
        "metadata": "INCLUDE_ALL_METADATA",
    }
    nat = props(dev, "appstack-network-nat")
    assert nat["logConfig"] == {"enable": True, "filter": "ALL"}
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetworks"] == [
        {
            "name": "projects/appstack-dev-example/regions/europe-west1/subnetworks/appstack-dev-vms",
            "sourceIpRangesToNats": ["ALL_IP_RANGES"],
        }
    ]
    assert nat["router"] == props(dev, "appstack-network-router")["name"]


# --- firewall --------------------------------------------------------------------------------


def _rules(plan: Plan) -> dict[str, dict]:
    return {r.name.removeprefix("appstack-firewall-"): r.properties for r in plan.of_type(FIREWALL)}


def test_firewall_rules_exactly(dev):
    rules = _rules(dev)
    assert set(rules) == {"allow-lb", "deny-ingress", "allow-egress-https", "deny-egress"}
    for rule in rules.values():
        assert rule["targetTags"] == ["appstack-dev-vm"]
        assert rule["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}
        assert rule["network"] == "projects/appstack-dev-example/global/networks/appstack-dev-vpc"
    lb = rules["allow-lb"]
    assert (lb["direction"], lb["priority"]) == ("INGRESS", 1000)
    assert lb["sourceRanges"] == ["130.211.0.0/22", "35.191.0.0/16"]
    assert lb["allows"] == [{"protocol": "tcp", "ports": ["8080"]}]
    deny_in = rules["deny-ingress"]
    assert (deny_in["direction"], deny_in["priority"], deny_in["sourceRanges"]) == ("INGRESS", 65534, ["0.0.0.0/0"])
    assert deny_in["denies"] == [{"protocol": "all"}] and "allows" not in deny_in
    egress = rules["allow-egress-https"]
    assert (egress["direction"], egress["destinationRanges"]) == ("EGRESS", ["0.0.0.0/0"])
    assert egress["allows"] == [{"protocol": "tcp", "ports": ["443"]}]
    deny_out = rules["deny-egress"]
    assert (deny_out["direction"], deny_out["priority"], deny_out["denies"]) == ("EGRESS", 65534, [{"protocol": "all"}])


def test_ssh_opens_22_from_iap_and_admin_cidrs_only_when_on():
    plan = plan_of("dev", [*GCP, "access.ssh=true"])
    ssh = _rules(plan)["allow-ssh"]
    assert ssh["sourceRanges"] == ["35.235.240.0/20", "203.0.113.0/24"]
    assert ssh["allows"] == [{"protocol": "tcp", "ports": ["22"]}]
    assert ssh["direction"] == "INGRESS"
    assert "allow-ssh" not in _rules(plan_of("dev", GCP))


def test_egress_follows_access_egress_cidrs():
    plan = plan_of("dev", [*GCP, "access.egressCidrs=[199.36.153.8/30, 198.51.100.0/24]"])
    assert _rules(plan)["allow-egress-https"]["destinationRanges"] == ["199.36.153.8/30", "198.51.100.0/24"]


# --- VMs -------------------------------------------------------------------------------------


def test_vm_is_hardened(dev):
    vm = props(dev, "appstack-vm-0", INSTANCE)
    metadata = vm["metadata"]
    assert {k: metadata[k] for k in ("enable-oslogin", "block-project-ssh-keys", "serial-port-enable")} == {
        "enable-oslogin": "TRUE",
        "block-project-ssh-keys": "TRUE",
        "serial-port-enable": "FALSE",
    }
    assert vm["shieldedInstanceConfig"] == {
        "enableSecureBoot": True,
        "enableVtpm": True,
        "enableIntegrityMonitoring": True,
    }
    assert vm["canIpForward"] is False
    assert vm["networkInterfaces"] == [
        {
            "subnetwork": "https://www.googleapis.com/compute/v1/projects/appstack-dev-example/regions/europe-west1/subnetworks/appstack-dev-vms"
        }
    ]  # no accessConfigs: no external IP
    assert vm["serviceAccount"] == {
        "email": "appstack-dev-vm@appstack-dev-example.iam.gserviceaccount.com",
        "scopes": [
            "https://www.googleapis.com/auth/logging.write",
            "https://www.googleapis.com/auth/monitoring.write",
        ],
    }
    disk = vm["bootDisk"]
    assert disk["kmsKeySelfLink"] == (
        "projects/appstack-dev-example/locations/europe-west1/keyRings/appstack-dev-disks/cryptoKeys/appstack-dev-disks"
    )
    assert disk["initializeParams"]["image"] == "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
    assert disk["initializeParams"]["size"] == 20
    assert vm["tags"] == ["appstack-dev-vm"]
    assert vm["machineType"] == "e2-small"
    assert vm["deletionProtection"] is False


def test_vm_identity_has_only_the_writer_roles_and_the_disk_key_rotates(dev):
    members = {r.properties["role"]: r.properties for r in dev.of_type("gcp:projects/iAMMember:IAMMember")}
    assert set(members) == {"roles/logging.logWriter", "roles/monitoring.metricWriter"}
    for m in members.values():
        assert m["member"] == "serviceAccount:appstack-dev-vm@appstack-dev-example.iam.gserviceaccount.com"
        assert m["project"] == "appstack-dev-example"
    key = props(dev, "appstack-vm-key")
    assert key["rotationPeriod"] == "7776000s"  # 90 days
    assert key["destroyScheduledDuration"] == "2592000s"
    assert key["purpose"] == "ENCRYPT_DECRYPT"
    grant = props(dev, "appstack-vm-key-compute")
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["member"] == "serviceAccount:service-123456789012@compute-system.iam.gserviceaccount.com"
    assert grant["cryptoKeyId"] == key["keyRing"] + "/cryptoKeys/appstack-dev-disks"
    assert props(dev, "appstack-vm-keyring")["name"] == "appstack-dev-disks"


def test_vm_boot_config_is_the_shared_cloud_init_with_the_ops_agent(dev):
    user_data = props(dev, "appstack-vm-0", INSTANCE)["metadata"]["user-data"]
    assert user_data.startswith("#cloud-config\n")
    doc = yaml.safe_load(user_data)
    assert doc["disable_root"] is True and doc["ssh_pwauth"] is False
    files = {f["path"]: f for f in doc["write_files"]}
    assert files[SSHD_DROP_IN]["content"] == SSHD_HARDENING
    agent = json.loads(files["/etc/appstack/ops-agent-config.yaml"]["content"])
    receivers = agent["logging"]["receivers"]
    assert receivers == {
        "appstack-dev-system": {"type": "files", "include_paths": ["/var/log/syslog"]},
        "appstack-dev-auth": {"type": "files", "include_paths": ["/var/log/auth.log"]},
        "appstack-dev-app": {"type": "files", "include_paths": ["/var/log/appstack/app.log"]},
    }
    assert agent["metrics"]["receivers"] == {"hostmetrics": {"type": "hostmetrics", "collection_interval": "60s"}}
    repo = files["/usr/local/sbin/appstack-add-ops-agent-repo"]["content"]
    assert "https://packages.cloud.google.com/apt google-cloud-ops-agent-${VERSION_CODENAME}-all main" in repo
    assert "signed-by=/etc/apt/keyrings/google-cloud-ops-agent.asc" in repo
    runcmd = doc["runcmd"]
    install = runcmd.index(f"{INSTALLER} google-cloud-ops-agent")
    assert runcmd.index("sh /usr/local/sbin/appstack-add-ops-agent-repo") < install
    assert runcmd[install + 1] == (
        "install -D -m 0644 /etc/appstack/ops-agent-config.yaml /etc/google-cloud-ops-agent/config.yaml"
    )
    assert runcmd[-1] == "systemctl enable --now appstack.service"


def test_a_changed_boot_config_renames_the_vm_so_it_is_replaced_create_first(dev):
    plan = plan_of("dev", [*GCP, "app.port=9090"])
    old, new = props(dev, "appstack-vm-0", INSTANCE)["name"], props(plan, "appstack-vm-0", INSTANCE)["name"]
    assert old != new and old.startswith("appstack-dev-vm-0-") and new.startswith("appstack-dev-vm-0-")
    assert not plan.named("appstack-vm-0", INSTANCE).properties.get("deletionPolicy")
    assert props(plan, "appstack-lb-ig-0")["instances"][0].endswith("/" + new)


def test_a_newly_pinned_image_renames_the_vm_so_it_is_replaced_create_first(dev):
    # `bootDisk.initializeParams.image` is ForceNew: under the old name the replacement would be
    # created next to the VM it replaces, in the same zone, and GCE refuses the duplicate name.
    first = plan_of("dev", [*GCP, "compute.imageId=projects/p/global/images/ubuntu-a"])
    second = plan_of("dev", [*GCP, "compute.imageId=projects/p/global/images/ubuntu-b"])
    a, b = (props(p, "appstack-vm-0", INSTANCE)["name"] for p in (first, second))
    assert a != b and a.startswith("appstack-dev-vm-0-") and b.startswith("appstack-dev-vm-0-")
    assert props(second, "appstack-lb-ig-0")["instances"][0].endswith("/" + b)
    # Unpinned, the family never renames the VMs (a new family image is ignored).
    assert (
        props(dev, "appstack-vm-0", INSTANCE)["name"] == props(plan_of("dev", GCP), "appstack-vm-0", INSTANCE)["name"]
    )


def test_container_app_installs_docker_io_on_ubuntu():
    plan = plan_of("dev", [*GCP, "app.image=nginx:1.27", "app.containerPort=80"])
    runcmd = yaml.safe_load(props(plan, "appstack-vm-0", INSTANCE)["metadata"]["user-data"])["runcmd"]
    assert f"{INSTALLER} docker.io" in runcmd


def test_prod_spreads_three_protected_vms_over_three_zones(prod):
    vms = prod.of_type(INSTANCE)
    assert [v.properties["zone"] for v in vms] == ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
    assert all(v.properties["deletionProtection"] is True for v in vms)
    assert all(v.properties["machineType"] == "e2-standard-2" for v in vms)
    assert all(v.ignore_changes == ("bootDisk.initializeParams.image",) for v in vms)


def test_arm64_and_pinned_image():
    plan = plan_of("dev", [*GCP, "compute.architecture=arm64", "compute.imageId=projects/p/global/images/i"])
    vm = props(plan, "appstack-vm-0", INSTANCE)
    assert vm["machineType"] == "t2a-standard-1"
    assert vm["bootDisk"]["initializeParams"]["image"] == "projects/p/global/images/i"
    assert plan.named("appstack-vm-0", INSTANCE).ignore_changes == ()


# --- load balancer ---------------------------------------------------------------------------


def test_load_balancer_terminates_tls_with_a_strict_policy(dev):
    policy = props(dev, "appstack-lb-tls")
    assert (policy["profile"], policy["minTlsVersion"]) == ("RESTRICTED", "TLS_1_2")
    https = props(dev, "appstack-lb-https-proxy")
    assert https["sslPolicy"] == "projects/appstack-dev-example/global/sslPolicies/appstack-dev-tls"
    cert = f"appstack-dev-cert-{digest('app.dev.example.com')}"
    assert https["sslCertificates"] == [f"projects/appstack-dev-example/global/sslCertificates/{cert}"]
    assert props(dev, "appstack-lb-cert")["managed"] == {"domains": ["app.dev.example.com"]}
    rules = {
        r.properties["portRange"]: r.properties
        for r in dev.of_type("gcp:compute/globalForwardingRule:GlobalForwardingRule")
    }
    assert set(rules) == {"443", "80"}
    for rule in rules.values():
        assert rule["loadBalancingScheme"] == "EXTERNAL_MANAGED"
        assert rule["ipAddress"] == "projects/appstack-dev-example/global/addresses/appstack-dev-ip"
        assert rule["deletionPolicy"] == "DELETE"
    assert rules["443"]["target"].endswith("/targetHttpsProxies/appstack-dev-https-proxy")
    assert rules["80"]["target"].endswith("/targetHttpProxies/appstack-dev-http-proxy")


def test_http_only_redirects_to_https(dev):
    assert props(dev, "appstack-lb-http-proxy")["urlMap"].endswith("/urlMaps/appstack-dev-redirect")
    redirect = props(dev, "appstack-lb-redirect")
    assert redirect["defaultUrlRedirect"] == {
        "httpsRedirect": True,
        "stripQuery": False,
        "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT",
    }
    assert "defaultService" not in redirect


def test_backend_logs_every_request_and_checks_health(dev):
    backend = props(dev, "appstack-lb-backend")
    assert backend["loadBalancingScheme"] == "EXTERNAL_MANAGED"
    assert backend["logConfig"] == {"enable": True, "sampleRate": 1}
    assert backend["protocol"] == "HTTP" and backend["portName"] == "http"
    assert backend["healthChecks"] == "projects/appstack-dev-example/global/healthChecks/appstack-dev-hc"
    assert "securityPolicy" not in backend  # dev: no WAF, ingress open
    assert [b["group"] for b in backend["backends"]] == [
        "https://www.googleapis.com/compute/v1/projects/appstack-dev-example/zones/europe-west1-b/instanceGroups/appstack-dev-ig-0"
    ]
    assert props(dev, "appstack-lb-hc")["httpHealthCheck"] == {"port": 8080, "requestPath": "/health"}
    group = props(dev, "appstack-lb-ig-0")
    assert group["namedPorts"] == [{"name": "http", "port": 8080}]
    assert group["instances"] == [
        "https://www.googleapis.com/compute/v1/projects/appstack-dev-example/zones/europe-west1-b/instances/"
        f"appstack-dev-vm-0-{boot_digest(dev)}"
    ]


def test_dns_a_record_in_the_configured_zone(dev):
    record = props(dev, "appstack-lb-dns")
    assert record == {
        "managedZone": "dev-example-com",
        "name": "app.dev.example.com.",
        "type": "A",
        "ttl": 300,
        "rrdatas": [dev.outputs["loadBalancerAddress"]],
    }


def test_prod_has_cloud_armor_waf_and_deletion_protection(prod):
    backend = props(prod, "appstack-lb-backend")
    assert backend["securityPolicy"].endswith("/global/securityPolicies/appstack-prod-armor")
    armor = props(prod, "appstack-lb-armor")
    assert armor["type"] == "CLOUD_ARMOR"
    waf = [r for r in armor["rules"] if "expr" in r["match"]]
    assert [r["match"]["expr"]["expression"] for r in waf][:2] == [
        "evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': 1})",
        "evaluatePreconfiguredWaf('xss-v33-stable', {'sensitivity': 1})",
    ]
    assert all(r["action"] == "deny(403)" and r["preview"] is False for r in waf)
    default = armor["rules"][-1]
    assert (default["priority"], default["action"]) == (2147483647, "allow")
    assert len(prod.of_type("gcp:compute/instanceGroup:InstanceGroup")) == 3
    for rule in prod.of_type("gcp:compute/globalForwardingRule:GlobalForwardingRule"):
        assert rule.properties["deletionPolicy"] == "PREVENT"
    assert props(prod, "appstack-lb-ip")["deletionPolicy"] == "PREVENT"


def test_restricted_ingress_is_a_cloud_armor_allow_list():
    plan = plan_of("dev", [*GCP, "access.ingressCidrs=[198.51.100.0/24]"])
    rules = props(plan, "appstack-lb-armor")["rules"]
    # The uptime checkers (the mock's 12 addresses; the Monitoring API's on a real project) are let
    # through on the uptime check's path only, 4 addresses a rule; everyone else is refused.
    checkers = sorted(f"192.0.2.{i}/32" for i in range(1, 13))
    path = props(plan, "appstack-monitoring-uptime-check")["httpCheck"]["path"]
    assert path == "/health"

    def match(rule: dict) -> object:
        m = rule["match"]
        return m["expr"]["expression"] if "expr" in m else m["config"]["srcIpRanges"]

    assert [(r["priority"], r["action"], match(r)) for r in rules] == [
        (2000, "allow", ["198.51.100.0/24"]),
        *[
            (
                3000 + j,
                "allow",
                "request.path == '/health' && ("
                + " || ".join(f"inIpRange(origin.ip, '{c}')" for c in checkers[j : j + 4])
                + ")",
            )
            for j in range(0, 12, 4)
        ],
        (2147483647, "deny(403)", ["*"]),
    ]


def test_existing_certificate_and_modern_policy():
    cert = "projects/appstack-dev-example/global/sslCertificates/mine"
    plan = plan_of("dev", [*GCP, f"loadBalancer.certificateId={cert}", "loadBalancer.tlsPolicy=MODERN"])
    assert props(plan, "appstack-lb-https-proxy")["sslCertificates"] == [cert]
    assert not plan.of_type("gcp:compute/managedSslCertificate:ManagedSslCertificate")
    assert props(plan, "appstack-lb-tls")["profile"] == "MODERN"


# --- log sink --------------------------------------------------------------------------------


def test_log_bucket_retention_cmek_and_lock(dev, prod):
    bucket = props(dev, "appstack-logs-bucket")
    assert bucket["retentionDays"] == 30 and bucket["locked"] is False
    assert bucket["location"] == "europe-west1"
    assert bucket["cmekSettings"] == {
        "kmsKeyName": "projects/appstack-dev-example/locations/europe-west1/keyRings/appstack-dev-logs/cryptoKeys/appstack-dev-logs"
    }
    grant = props(dev, "appstack-logs-key-logging")
    assert grant["member"] == "serviceAccount:service-123456789012@gcp-sa-logging.iam.gserviceaccount.com"
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    prod_bucket = props(prod, "appstack-logs-bucket")
    assert prod_bucket["retentionDays"] == 365 and prod_bucket["locked"] is True


def test_sink_routes_the_stacks_vm_network_and_lb_logs_to_the_bucket(dev):
    sink = props(dev, "appstack-logs-sink")
    assert sink["destination"] == (
        "logging.googleapis.com/projects/appstack-dev-example/locations/europe-west1/buckets/appstack-dev-logs"
    )
    assert sink["uniqueWriterIdentity"] is True
    f = sink["filter"]
    for log in ("system", "auth", "app"):
        assert f'"projects/appstack-dev-example/logs/appstack-dev-{log}"' in f
    assert '(resource.type="gce_subnetwork" AND resource.labels.subnetwork_name=~"^appstack-dev-")' in f
    assert '(resource.type="nat_gateway" AND resource.labels.gateway_name=~"^appstack-dev-")' in f
    assert '(resource.type="http_load_balancer" AND resource.labels.forwarding_rule_name=~"^appstack-dev-")' in f


def test_prod_protects_stateful_resources_and_dev_does_not(dev, prod):
    stateful = (
        "gcp:kms/keyRing:KeyRing",
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:logging/projectBucketConfig:ProjectBucketConfig",
    )
    for type_ in stateful:
        assert prod.of_type(type_) and all(r.protect and r.retain_on_delete for r in prod.of_type(type_)), type_
        assert not any(r.protect or r.retain_on_delete for r in dev.of_type(type_)), type_


# --- monitoring ------------------------------------------------------------------------------


def _conditions(plan: Plan, name: str) -> list[dict]:
    return props(plan, name, "gcp:monitoring/alertPolicy:AlertPolicy")["conditions"]


def test_alerts_notify_every_channel_with_per_environment_thresholds(dev, prod):
    channels = dev.of_type("gcp:monitoring/notificationChannel:NotificationChannel")
    assert [(c.properties["type"], c.properties["labels"], c.properties["enabled"]) for c in channels] == [
        ("email", {"email_address": "ops-dev@example.com"}, True)
    ]
    assert len(prod.of_type("gcp:monitoring/notificationChannel:NotificationChannel")) == 2
    policies = prod.of_type("gcp:monitoring/alertPolicy:AlertPolicy")
    assert {p.name for p in policies} == {f"appstack-monitoring-{s}" for s in ("cpu", "uptime", "5xx", "latency")}
    for p in policies:
        assert p.properties["enabled"] is True and len(p.properties["notificationChannels"]) == 2
    cpu = [c["conditionThreshold"] for c in _conditions(dev, "appstack-monitoring-cpu")]
    assert (
        cpu[0]["thresholdValue"] == 0.9
        and _conditions(prod, "appstack-monitoring-cpu")[0]["conditionThreshold"]["thresholdValue"] == 0.8
    )
    assert 'metric.type = "compute.googleapis.com/instance/cpu/utilization"' in cpu[0]["filter"]
    assert 'metadata.user_labels."stack" = "dev"' in cpu[0]["filter"]
    latency = _conditions(prod, "appstack-monitoring-latency")[0]["conditionThreshold"]
    assert latency["thresholdValue"] == 1000 and "https/backend_latencies" in latency["filter"]
    assert 'resource.label."url_map_name" = "appstack-prod-urlmap"' in latency["filter"]
    errors = [c["conditionThreshold"] for c in _conditions(prod, "appstack-monitoring-5xx")]
    assert [e["thresholdValue"] for e in errors] == [10, 0.05]
    assert all(e["filter"].endswith(" AND metric.label.response_code_class = 500") for e in errors)
    assert "response_code_class" not in errors[1]["denominatorFilter"]
    assert props(prod, "appstack-monitoring-5xx", "gcp:monitoring/alertPolicy:AlertPolicy")["combiner"] == "AND"


def test_uptime_check_probes_the_https_url(prod):
    check = props(prod, "appstack-monitoring-uptime-check")
    assert check["httpCheck"] == {"useSsl": True, "validateSsl": True, "port": 443, "path": "/health"}
    assert check["monitoredResource"] == {
        "type": "uptime_url",
        "labels": {"host": "app.example.com", "project_id": "appstack-prod-example"},
    }
    condition = _conditions(prod, "appstack-monitoring-uptime")[0]["conditionThreshold"]
    assert 'metric.type = "monitoring.googleapis.com/uptime_check/check_passed"' in condition["filter"]


# --- names and labels ------------------------------------------------------------------------

#: Keys that hold a GCP name with the 63-character lowercase rule.
NAMED = ("name", "bucketId")


def _check_names(plan: Plan) -> None:
    for r in gcp_resources(plan):
        p = r.properties
        if r.type in (
            "gcp:monitoring/notificationChannel:NotificationChannel",
            "gcp:monitoring/alertPolicy:AlertPolicy",
        ):
            continue  # no `name` input: display names only
        for key in NAMED:
            if key in p and r.type != "gcp:dns/recordSet:RecordSet":
                assert len(p[key]) <= 63 and NAME_RE.match(p[key]), (r.type, key, p[key])
        if "accountId" in p:
            assert 6 <= len(p["accountId"]) <= 30 and NAME_RE.match(p["accountId"]), p["accountId"]
        label_keys = ("userLabels",) if r.type.startswith("gcp:monitoring/") else ("labels", "userLabels")
        for key in label_keys:
            if key in p:
                for k, v in p[key].items():
                    assert re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", k), (r.type, k)
                    assert re.fullmatch(r"[a-z0-9_-]{0,63}", v), (r.type, k, v)
        if "tags" in p:
            assert all(len(t) <= 63 and NAME_RE.match(t) for t in p["tags"])


def test_every_name_fits_at_the_longest_app_name_and_a_long_stack_name():
    stack = "feature-Branch_with.a-very-long-stack-name-for-testing-limits"
    config = load_stack_config(
        "prod", [*GCP, "compute.mode=instances", "app.name=abcdefghij-klmnopqrs", "tags={CostCenter: 'Team A/B'}"]
    )
    plan = run_program(stack, config)
    _check_names(plan)
    vm = plan.named("abcdefghij-klmnopqrs-vm-0", INSTANCE).properties
    assert vm["labels"]["costcenter"] == "team_a_b"
    assert vm["labels"]["stack"] == "feature-branch-with-a-very-long-stack-name-for-testing-limits"
    # The base (app and stack) is cut to 40 characters and ends with a digest of the whole.
    assert re.fullmatch(r"abcdefghij-klmnopqrs-feature-[a-z-]+-[0-9a-f]{6}-vm-0-[0-9a-f]{6}", vm["name"]), vm["name"]


def test_names_fit_on_both_stack_files(dev, prod):
    _check_names(dev)
    _check_names(prod)


# --- isolation and the policy gate -----------------------------------------------------------


def test_a_gcp_plan_imports_only_the_gcp_sdk():
    code = (
        "import sys\n"
        "from tools.mocks import run_program\n"
        "from tools.plan import load_stack_config\n"
        "plan = run_program('dev', load_stack_config('dev', ['cloud=gcp']))\n"
        "assert len(plan.resources) > 40\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('pulumi_')}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['pulumi_gcp']"


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "up"])
def test_the_gcp_stack_passes_the_policy_pack(stack: str, dry_run: bool):
    config = load_stack_config(stack, GCP)
    plan = plan_of(stack, GCP) if dry_run else run_program(stack, config, preview=False)
    result = run_gate(
        [r.as_json() for r in plan.resources], project=PROJECT, stack=stack, stack_config=config, dry_run=dry_run
    )
    assert result.mandatory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.mandatory]
    assert result.advisory == [], [f"{v.policy} {v.name}: {v.message}" for v in result.advisory]


def test_prod_without_protection_or_waf_is_blocked():
    plan = plan_of(
        "prod", [*GCP, "compute.mode=instances", "protection.deletionProtection=false", "loadBalancer.waf=false"]
    )
    result = run_gate([r.as_json() for r in plan.resources], project=PROJECT, stack="prod", dry_run=True)
    assert {v.policy for v in result.mandatory} == {
        "deletion-lb-protection",
        "deletion-vm-protection",
        "waf-public-frontend-protected",
    }


# --- config checks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("loadBalancer.tlsPolicy=COMPATIBLE", "use one of RESTRICTED, MODERN"),
        ("loadBalancer.certificateId=arn:aws:acm:eu-west-1:123456789012:certificate/x", "projects/<project>/global"),
        ("logging.retentionDays=3653", "use 1 to 3650 days"),
    ],
)
def test_gcp_config_errors_name_the_fix_and_register_nothing(override: str, fragment: str):
    from components.config import ConfigError

    with pytest.raises(ConfigError, match=re.escape(fragment)) as info:
        run_program("dev", load_stack_config("dev", [*GCP, override]))
    assert info.value.plan.resources == []  # type: ignore[attr-defined]


def test_cli_plans_dev_on_gcp_with_the_gate():
    proc = subprocess.run(
        [sys.executable, "-m", "tools.plan", "--stack", "dev", "--set", "cloud=gcp", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "plan for stack dev on gcp:" in proc.stdout
    assert "0 mandatory, 0 advisory violation(s)" in proc.stdout
