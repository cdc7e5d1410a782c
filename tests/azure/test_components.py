"""Azure parts constructed one at a time under Pulumi mocks (`@pulumi.runtime.test`).

Each test's `@pulumi.runtime.test` function returns the part's outputs with the output
assertions applied, so they run; assertions on the children's inputs follow once every
registration has completed.
"""

from __future__ import annotations

import ipaddress
import itertools

import pulumi
import pytest

from components.azure.names import AzureNames
from components.azure.settings import KEY, AzureSettings
from components.interfaces import FirewallArgs, LogSinkArgs, MonitoringArgs
from tools.mocks import PlannedResource, Recorder
from tools.mocks_azure import SUBSCRIPTION, TENANT

TAGS = {"app": "t", "environment": "dev", "owner": "team", "managed-by": "pulumi"}
RG = "rg-t-test"
VNET = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/vnet-t-test"


def settings() -> AzureSettings:
    return AzureSettings(
        location="westeurope",
        names=AzureNames("t", "test", project="appstack"),
        admin_ssh_public_key="ssh-ed25519 AAAA example",
        customer_managed_keys=True,
        encryption_at_host=True,
        tenant_id=TENANT,
        subscription_id=SUBSCRIPTION,
        network_watcher_resource_group="NetworkWatcherRG",
        network_watcher_name="NetworkWatcher_westeurope",
        dns_zone_resource_group=None,
        retention_days=30,
        network_cidr="10.1.0.0/16",
        zones=("1", "2"),
    )


@pytest.fixture
def recorder() -> Recorder:
    rec = Recorder()
    rec.activate(project="appstack", stack="test", preview=False)
    return rec


def of(rec: Recorder, type_: str) -> list[PlannedResource]:
    return [r for r in rec.recorded if r.type == type_]


def test_firewall_alone_outputs_its_nsg_ids_and_opens_ssh_only_from_admins(recorder):
    from components.azure import Firewall

    @pulumi.runtime.test
    def run():
        fw = Firewall(
            "t-firewall",
            FirewallArgs(
                network_id=VNET,
                app_port=9000,
                ingress_cidrs=["198.51.100.0/24", "203.0.113.0/24"],
                admin_cidrs=["192.0.2.0/24"],
                ssh=True,
                egress_cidrs=["0.0.0.0/0"],
                tags=TAGS,
                scope=RG,
                extras={KEY: settings()},
            ),
        )

        def check(ids: list[str]) -> None:
            lb, vm = ids
            assert lb.endswith("/networkSecurityGroups/nsg-t-test-agw")
            assert vm.endswith("/networkSecurityGroups/nsg-t-test-vm")
            assert lb.startswith(f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Network/")

        return pulumi.Output.all(fw.lb_group_id, fw.vm_group_id).apply(check)

    run()
    rules = {r.name: r.properties for r in of(recorder, "azure-native:network:SecurityRule")}
    https = rules["t-firewall-agw-allow-https-in"]
    assert https["sourceAddressPrefixes"] == ["198.51.100.0/24", "203.0.113.0/24"]
    assert "sourceAddressPrefix" not in https
    ssh = rules["t-firewall-vm-allow-ssh-from-admins"]
    assert (ssh["sourceAddressPrefix"], ssh["destinationPortRange"]) == ("192.0.2.0/24", "22")
    app = rules["t-firewall-vm-allow-app-from-gateway"]
    assert (app["sourceAddressPrefix"], app["destinationPortRange"]) == ("10.1.0.0/19", "9000")
    priorities = [
        r["priority"] for n, r in rules.items() if n.startswith("t-firewall-vm-") and r["direction"] == "Inbound"
    ]
    assert len(set(priorities)) == len(priorities)


def test_firewall_writes_one_rule_per_nsg_at_a_time(recorder):
    """Concurrent rule PUTs on one NSG fail with 429 RetryableErrorDueToAnotherOperation, which
    azure-native does not retry (pulumi-azure-native#3720): each rule waits for the previous one."""
    from components.azure import Firewall

    after: dict[str, list[str]] = {}

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        if args.type_ == "azure-native:network:SecurityRule":
            deps = args.opts.depends_on or []
            after[args.name] = [d._name for d in deps]  # type: ignore[union-attr]

    @pulumi.runtime.test
    def run():
        fw = Firewall(
            "t-firewall",
            FirewallArgs(
                network_id=VNET,
                app_port=9000,
                ingress_cidrs=["0.0.0.0/0"],
                admin_cidrs=["192.0.2.0/24"],
                ssh=True,
                egress_cidrs=["0.0.0.0/0"],
                tags=TAGS,
                scope=RG,
                extras={KEY: settings()},
            ),
            pulumi.ResourceOptions(transformations=[record]),
        )
        return fw.vm_group_id

    run()
    rules = [r.name for r in of(recorder, "azure-native:network:SecurityRule")]
    for label in ("agw", "vm"):
        chain = [n for n in rules if n.startswith(f"t-firewall-{label}-")]
        assert len(chain) >= 5
        assert after[chain[0]] == []
        for previous, rule in itertools.pairwise(chain):
            assert after[rule] == [previous], rule


def test_firewall_splits_rules_that_mix_ipv4_and_ipv6(recorder):
    """Azure refuses a rule whose prefixes span both families (Azure/AKS#3136): one rule each."""
    from components.azure import Firewall

    @pulumi.runtime.test
    def run():
        return Firewall(
            "t-firewall",
            FirewallArgs(
                network_id=VNET,
                app_port=9000,
                ingress_cidrs=["0.0.0.0/0", "::/0"],
                admin_cidrs=["192.0.2.0/24", "2001:db8::/48"],
                ssh=True,
                egress_cidrs=["0.0.0.0/0", "::/0"],
                tags=TAGS,
                scope=RG,
                extras={KEY: settings()},
            ),
        ).vm_group_id

    run()
    rules = {
        r.name.removeprefix("t-firewall-"): r.properties for r in of(recorder, "azure-native:network:SecurityRule")
    }
    https, https6 = rules["agw-allow-https-in"], rules["agw-allow-https-in-ipv6"]
    assert (https["sourceAddressPrefix"], https["priority"]) == ("0.0.0.0/0", 100)
    assert (https6["sourceAddressPrefix"], https6["priority"]) == ("::/0", 101)
    assert https6["securityRuleName"] == "allow-https-in-ipv6"
    assert rules["vm-allow-ssh-from-admins"]["sourceAddressPrefix"] == "192.0.2.0/24"
    assert rules["vm-allow-ssh-from-admins-ipv6"]["sourceAddressPrefix"] == "2001:db8::/48"
    assert rules["vm-allow-https-out"]["destinationAddressPrefix"] == "0.0.0.0/0"
    assert rules["vm-allow-https-out-ipv6"]["destinationAddressPrefix"] == "::/0"
    for name, rule in rules.items():
        prefixes = [rule.get("sourceAddressPrefix"), rule.get("destinationAddressPrefix")]
        prefixes += rule.get("sourceAddressPrefixes", []) + rule.get("destinationAddressPrefixes", [])
        families = {ipaddress.ip_network(p).version for p in prefixes if (p and p[0].isdigit()) or (p and ":" in p)}
        assert len(families) <= 1, name
    for label in ("agw", "vm"):
        ps = [r["priority"] for n, r in rules.items() if n.startswith(label + "-") and r["direction"] == "Inbound"]
        assert len(set(ps)) == len(ps)


def test_log_sink_alone_outputs_the_workspace_and_a_flow_store(recorder):
    from components.azure import LogSink

    @pulumi.runtime.test
    def run():
        sink = LogSink(
            "t-logs",
            LogSinkArgs(
                prefix="/appstack/t/test",
                streams=("system", "auth", "app", "flow"),
                retention_days=365,
                protect=True,
                tags=TAGS,
                scope=RG,
            ),
        )

        def check(v: list[str]) -> None:
            log_sink, flow, dcr = v
            assert log_sink.endswith("/providers/Microsoft.OperationalInsights/workspaces/log-t-test")
            assert "/providers/Microsoft.Storage/storageAccounts/stflt" in flow
            assert dcr.endswith("/dataCollectionRules/dcr-t-test")

        return pulumi.Output.all(sink.log_sink, sink.log_groups["flow"], sink.data_collection_rule_id).apply(check)

    run()
    (ws,) = of(recorder, "azure-native:operationalinsights:Workspace")
    assert ws.properties["retentionInDays"] == 365 and ws.protect and ws.retain_on_delete


def test_monitoring_alone_alerts_through_its_action_group(recorder):
    from components.azure import Monitoring

    vm = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/vm-t-test-0"
    gw = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Network/applicationGateways/agw-t-test"

    @pulumi.runtime.test
    def run():
        mon = Monitoring(
            "t-monitoring",
            MonitoringArgs(
                alert_emails=["ops@example.com"],
                instance_ids=[vm],
                lb_id=gw,
                target_group_id=gw + "/backendAddressPools/vms",
                cpu_high_percent=75,
                response_time_seconds=0.5,
                server_errors_per_period=5,
                unhealthy_hosts=1,
                period_seconds=120,
                protect=False,
                tags=TAGS,
                scope=RG,
            ),
        )
        return mon.alert_channel.apply(lambda ag: ag.endswith("/actionGroups/ag-t-test") or pytest.fail(ag))

    run()
    alerts = {r.name: r.properties for r in of(recorder, "azure-native:monitor:MetricAlert")}
    assert alerts["t-monitoring-vm0-cpu"]["criteria"]["allOf"][0]["threshold"] == 75
    assert alerts["t-monitoring-agw-latency"]["criteria"]["allOf"][0]["threshold"] == 500
    # 120 s is not a window Azure accepts: it rounds up to 5 minutes.
    assert {a["windowSize"] for a in alerts.values()} == {"PT5M"}
    assert alerts["t-monitoring-vm0-cpu"]["scopes"] == [vm]
