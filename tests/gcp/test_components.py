"""GCP parts constructed one at a time under Pulumi mocks (`@pulumi.runtime.test`), and the
naming helpers. Each test function returns its Output, so the assertions inside really run."""

from __future__ import annotations

import pulumi
import pytest

from components.gcp.load_balancer import managed_zone_named
from components.gcp.names import BASE_LIMIT, NAME_RE, base, label_key, label_value, labels, physical
from components.interfaces import ExistingNetworkArgs, FirewallArgs, NetworkArgs
from tools.mocks import PlannedResource, Recorder

TAGS = {"app": "t", "environment": "dev", "owner": "Team A", "managed-by": "pulumi"}


class Recorded:
    def __init__(self) -> None:
        self.recorder = Recorder()
        self.recorder.activate(project="appstack", stack="test", preview=False)

    def of(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.recorder.recorded if r.type == type_]


@pytest.fixture
def rec() -> Recorded:
    return Recorded()


def test_firewall_with_ssh_opens_22_from_iap_and_admins_only(rec):
    from components.gcp import Firewall

    @pulumi.runtime.test
    def run():
        fw = Firewall(
            "app-firewall",
            FirewallArgs(
                network_id="projects/p/global/networks/n",
                app_port=9000,
                ingress_cidrs=["0.0.0.0/0"],
                admin_cidrs=["198.51.100.0/24"],
                ssh=True,
                egress_cidrs=["0.0.0.0/0"],
                tags=TAGS,
            ),
        )

        def check(ids: list[str]) -> None:
            tag, rule = ids
            assert tag == "app-test-vm"
            assert rule == "app-test-allow-lb"

        return pulumi.Output.all(fw.vm_group_id, fw.lb_group_id).apply(check)

    run()
    rules = {r.name: r.properties for r in rec.of("gcp:compute/firewall:Firewall")}
    assert rules["app-firewall-allow-ssh"]["sourceRanges"] == ["35.235.240.0/20", "198.51.100.0/24"]
    assert rules["app-firewall-allow-lb"]["allows"] == [{"protocol": "tcp", "ports": ["9000"]}]
    assert all(not any(a.get("ports") in (None, []) for a in r.get("allows", [])) for r in rules.values())


def test_existing_network_creates_nothing_and_passes_its_ids(rec):
    from components.gcp import Network

    @pulumi.runtime.test
    def run():
        net = Network(
            "app-network",
            NetworkArgs(
                cidr="10.0.0.0/16",
                zone_count=2,
                nat_per_zone=False,
                flow_log_destination=None,
                tags=TAGS,
                existing=ExistingNetworkArgs("projects/p/global/networks/x", ["s1", "s1"], ["s1", "s1"]),
            ),
        )

        def check(values: list) -> None:
            assert values == ["projects/p/global/networks/x", "s1", "s1"]

        return pulumi.Output.all(net.network_id, *net.private_subnet_ids).apply(check)

    run()
    assert [r for r in rec.recorder.recorded if r.custom] == []


def test_new_network_without_flow_log_destination_has_no_log_config(rec):
    from components.gcp import Network

    @pulumi.runtime.test
    def run():
        net = Network(
            "app-network",
            NetworkArgs(cidr="10.1.0.0/20", zone_count=3, nat_per_zone=True, flow_log_destination=None, tags=TAGS),
        )
        assert len(net.private_subnet_ids) == 3
        return net.network_id.apply(lambda n: None if n.endswith("/global/networks/app-test-vpc") else 1 / 0)

    run()
    (subnet,) = rec.of("gcp:compute/subnetwork:Subnetwork")
    assert "logConfig" not in subnet.properties
    assert subnet.properties["ipCidrRange"] == "10.1.0.0/20"


def test_names_stay_within_gcp_rules():
    longest = base("abcdefghij-klmnopqrs", "Feature_Branch.with-a-really-long-name-indeed")
    assert len(longest) <= BASE_LIMIT and NAME_RE.match(longest)
    assert base("abcdefghij-klmnopqrs", "a") != base("abcdefghij-klmnopqrs", "b")
    assert len(physical(longest, "allow-egress-https")) <= 63
    with pytest.raises(ValueError, match="name suffix"):
        physical(longest, "x" * 30)
    assert label_value("Team A/B") == "team_a_b"
    assert label_key("9lives") == "k9lives"
    assert len(label_value("x" * 100)) == 63
    assert labels({"Owner": "Platform Team"}, stack="Dev.1") == {"owner": "platform_team", "stack": "dev-1"}


def test_dns_zone_lookup_names_the_fix():
    from pulumi_gcp.dns.outputs import GetManagedZonesManagedZoneResult as Zone

    zones = [
        Zone(
            description="",
            dns_name="example.com.",
            id="i",
            managed_zone_id="1",
            name_servers=[],
            visibility="private",
            name="priv",
        ),
        Zone(
            description="",
            dns_name="example.com.",
            id="i",
            managed_zone_id="2",
            name_servers=[],
            visibility="public",
            name="pub",
        ),
    ]
    assert managed_zone_named(zones, "example.com") == "pub"
    with pytest.raises(ValueError, match=r"no public Cloud DNS managed zone for 'other\.org\.'"):
        managed_zone_named(zones, "other.org")
