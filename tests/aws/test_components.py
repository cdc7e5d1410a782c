"""AWS components constructed one at a time under Pulumi mocks (`@pulumi.runtime.test`).

`construct` runs a component inside a `@pulumi.runtime.test` function that returns the
component's outputs with the output assertions applied, so they actually run; assertions on the
children's inputs follow once every registration has completed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pulumi
import pytest

from components.interfaces import ExistingNetworkArgs, FirewallArgs, LogSinkArgs, NetworkArgs
from tools.mocks import PlannedResource, Recorder

TAGS = {"app": "t", "environment": "dev", "owner": "team", "managed-by": "pulumi"}


class Recorded:
    def __init__(self) -> None:
        self.recorder = Recorder()
        self.recorder.activate(project="appstack", stack="test", preview=False)

    def of(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.recorder.recorded if r.type == type_]

    def construct(
        self,
        factory: Callable[[], pulumi.ComponentResource],
        check_outputs: Callable[[pulumi.ComponentResource], pulumi.Output],
    ) -> None:
        @pulumi.runtime.test
        def run():
            return check_outputs(factory())

        run()


@pytest.fixture
def rec() -> Recorded:
    return Recorded()


def test_firewall_without_ssh_has_no_port_22(rec):
    from components.aws import Firewall

    def outputs(fw):
        def check(ids):
            lb_id, vm_id = ids
            assert lb_id.startswith("sg-") and vm_id.startswith("sg-") and lb_id != vm_id

        return pulumi.Output.all(fw.lb_group_id, fw.vm_group_id).apply(check)

    rec.construct(
        lambda: Firewall(
            "fw",
            FirewallArgs(
                network_id="vpc-1",
                app_port=8080,
                ingress_cidrs=["0.0.0.0/0"],
                admin_cidrs=["203.0.113.0/24"],
                ssh=False,
                egress_cidrs=["0.0.0.0/0"],
                tags=TAGS,
            ),
        ),
        outputs,
    )
    ingress = rec.of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert {r.name for r in ingress} == {"fw-lb-https-0", "fw-lb-http-0", "fw-vm-app"}
    assert all(not (r.properties["fromPort"] <= 22 <= r.properties["toPort"]) for r in ingress)
    component = rec.of("appstack:aws:Firewall")[0]
    assert all(r.parent == component.urn for r in ingress)


def test_firewall_ipv6_sources_use_the_ipv6_property(rec):
    from components.aws import Firewall

    rec.construct(
        lambda: Firewall(
            "fw6",
            FirewallArgs(
                network_id="vpc-1",
                app_port=8080,
                ingress_cidrs=["0.0.0.0/0", "::/0"],
                admin_cidrs=["2001:db8::/48"],
                ssh=True,
                egress_cidrs=["0.0.0.0/0"],
                tags=TAGS,
            ),
        ),
        lambda fw: fw.vm_group_id.apply(lambda v: v.startswith("sg-") or pytest.fail("no vm group id")),
    )
    rules = {r.name: r.properties for r in rec.of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert rules["fw6-lb-https-1"]["cidrIpv6"] == "::/0" and "cidrIpv4" not in rules["fw6-lb-https-1"]
    assert rules["fw6-vm-ssh-0"]["cidrIpv6"] == "2001:db8::/48"
    assert (rules["fw6-vm-ssh-0"]["fromPort"], rules["fw6-vm-ssh-0"]["toPort"]) == (22, 22)


def test_log_sink_outputs_and_protected_children(rec):
    from components.aws import LogSink

    def outputs(sink):
        def check(values):
            log_sink, key_arn, app_arn = values
            assert log_sink == "/appstack/t-dev"
            assert key_arn.startswith("arn:aws:kms:eu-west-1:123456789012:key/")
            assert app_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/appstack/t-dev/app"

        return pulumi.Output.all(sink.log_sink, sink.key_id, sink.log_groups["app"]).apply(check)

    rec.construct(
        lambda: LogSink(
            "sink",
            LogSinkArgs(prefix="/appstack/t-dev", streams=("app", "flow"), retention_days=30, protect=True, tags=TAGS),
        ),
        outputs,
    )
    groups = rec.of("aws:cloudwatch/logGroup:LogGroup")
    assert sorted(g.name for g in groups) == ["sink-app", "sink-flow"]
    # protect=True: keys and logs are protected and survive a destroy.
    assert all(g.protect and g.retain_on_delete for g in groups)
    keys = rec.of("aws:kms/key:Key")
    assert len(keys) == 1 and keys[0].protect and keys[0].retain_on_delete


def test_network_spreads_subnets_over_zones_with_nat_per_zone(rec):
    from components.aws import Network

    def outputs(net):
        def check(values):
            public, private = values
            assert len(public) == 3 and len(private) == 3 and not set(public) & set(private)

        return pulumi.Output.all(net.public_subnet_ids, net.private_subnet_ids).apply(check)

    rec.construct(
        lambda: Network(
            "net",
            NetworkArgs(
                cidr="10.1.0.0/16",
                zone_count=3,
                nat_per_zone=True,
                flow_log_destination="arn:aws:logs:eu-west-1:123456789012:log-group:/x/flow",
                tags=TAGS,
            ),
        ),
        outputs,
    )
    subnets = {r.name: r.properties for r in rec.of("aws:ec2/subnet:Subnet")}
    assert [subnets[f"net-public-{i}"]["availabilityZone"] for i in range(3)] == [
        "eu-west-1a",
        "eu-west-1b",
        "eu-west-1c",
    ]
    assert subnets["net-public-0"]["cidrBlock"] == "10.1.0.0/20"
    assert subnets["net-private-0"]["cidrBlock"] == "10.1.128.0/20"
    assert all(p["mapPublicIpOnLaunch"] is False for p in subnets.values())
    assert len(rec.of("aws:ec2/natGateway:NatGateway")) == 3
    assert len(rec.of("aws:ec2/flowLog:FlowLog")) == 1


def test_network_shares_one_nat_when_not_per_zone(rec):
    from components.aws import Network

    rec.construct(
        lambda: Network(
            "net1",
            NetworkArgs(cidr="10.0.0.0/16", zone_count=2, nat_per_zone=False, flow_log_destination=None, tags=TAGS),
        ),
        lambda net: net.private_subnet_ids.apply(lambda ids: len(ids) == 2 or pytest.fail(f"{ids}")),
    )
    assert len(rec.of("aws:ec2/natGateway:NatGateway")) == 1
    routes = [r.properties for r in rec.of("aws:ec2/route:Route") if "natGatewayId" in r.properties]
    assert len(routes) == 2 and len({r["natGatewayId"] for r in routes}) == 1
    assert rec.of("aws:ec2/flowLog:FlowLog") == []


def test_existing_network_is_passed_through_without_resources(rec):
    from components.aws import Network

    existing = ExistingNetworkArgs("vpc-0abc", ["subnet-a", "subnet-b"], ["subnet-c", "subnet-d"])

    def outputs(net):
        def check(values):
            assert values == ["vpc-0abc", ["subnet-a", "subnet-b"], ["subnet-c", "subnet-d"]]

        return pulumi.Output.all(net.network_id, net.public_subnet_ids, net.private_subnet_ids).apply(check)

    rec.construct(
        lambda: Network(
            "ext",
            NetworkArgs(
                cidr="10.0.0.0/16",
                zone_count=2,
                nat_per_zone=False,
                flow_log_destination=None,
                tags=TAGS,
                existing=existing,
            ),
        ),
        outputs,
    )
    assert [r.type for r in rec.recorder.recorded] == ["appstack:aws:Network"]


def test_network_fails_clearly_when_the_region_has_too_few_zones(rec):
    from components.aws import Network

    with pytest.raises(
        ValueError, match=re.escape("network.zoneCount is 4; set appstack:network.zoneCount to 3 or less")
    ):
        rec.construct(
            lambda: Network(
                "net4",
                NetworkArgs(cidr="10.0.0.0/16", zone_count=4, nat_per_zone=False, flow_log_destination=None, tags=TAGS),
            ),
            lambda net: net.private_subnet_ids,
        )
