"""M1-M2: IMDSv2 required and IMDS hop limit on EC2 instances and launch templates."""

from __future__ import annotations

import copy

import pytest

from policies.framework import MANDATORY
from tests.policies.support import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, rule, violations

INSTANCE = "aws:ec2/instance:Instance"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIG = "aws:ec2/launchConfiguration:LaunchConfiguration"
IMDS = "metadata-imdsv2-required"
HOPS = "metadata-hop-limit"

#: What components/aws/vm.py builds.
HARDENED_OPTIONS = {
    "httpEndpoint": "enabled",
    "httpTokens": "required",
    "httpPutResponseHopLimit": 1,
    "instanceMetadataTags": "disabled",
}
INSTANCE_PROPS = {
    "ami": "ami-123",
    "instanceType": "t3.small",
    "associatePublicIpAddress": False,
    "metadataOptions": HARDENED_OPTIONS,
}
TEMPLATE_PROPS = {"imageId": "ami-123", "metadataOptions": HARDENED_OPTIONS}
LAUNCH_CONFIG_PROPS = {
    "imageId": "ami-123",
    "instanceType": "t3.small",
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
}


def with_options(props, **changes):
    out = copy.deepcopy(props)
    for key, value in changes.items():
        if value is None:
            out["metadataOptions"].pop(key, None)
        else:
            out["metadataOptions"][key] = value
    return out


def test_levels_and_catalogue():
    assert rule(IMDS).level == MANDATORY and rule(IMDS).catalogue == ("M1",)
    assert rule(HOPS).level == MANDATORY and rule(HOPS).catalogue == ("M2",)


@pytest.mark.parametrize(
    "type_,props", [(INSTANCE, INSTANCE_PROPS), (TEMPLATE, TEMPLATE_PROPS), (LAUNCH_CONFIG, LAUNCH_CONFIG_PROPS)]
)
@pytest.mark.parametrize("name", [IMDS, HOPS])
def test_passes_when_hardened(name, type_, props):
    assert violations(name, type_, props) == []


@pytest.mark.parametrize(
    "type_,props", [(INSTANCE, INSTANCE_PROPS), (TEMPLATE, TEMPLATE_PROPS), (LAUNCH_CONFIG, LAUNCH_CONFIG_PROPS)]
)
@pytest.mark.parametrize(
    "tokens,shown", [("optional", "'optional'"), (None, "not set"), ("", "''"), ("Required-ish", "Required-ish")]
)
def test_fails_when_http_tokens_not_required(type_, props, tokens, shown):
    props = with_options(props, httpTokens=tokens) if tokens is not None else with_options(props, httpTokens=None)
    msgs = violations(IMDS, type_, props)
    assert len(msgs) == 1 and shown in msgs[0] and "required" in msgs[0]


def test_passes_when_http_tokens_required_in_other_case():
    assert violations(IMDS, INSTANCE, with_options(INSTANCE_PROPS, httpTokens="Required")) == []


@pytest.mark.parametrize("name", [IMDS, HOPS])
def test_passes_when_metadata_endpoint_disabled(name):
    props = with_options(INSTANCE_PROPS, httpEndpoint="disabled", httpTokens="optional", httpPutResponseHopLimit=5)
    assert violations(name, INSTANCE, props) == []


@pytest.mark.parametrize("type_,props", [(INSTANCE, INSTANCE_PROPS), (TEMPLATE, TEMPLATE_PROPS)])
@pytest.mark.parametrize("name", [IMDS, HOPS])
def test_fails_when_metadata_options_missing(name, type_, props):
    props = {k: v for k, v in props.items() if k != "metadataOptions"}
    msgs = violations(name, type_, props)
    assert len(msgs) == 1 and "metadataOptions is not set" in msgs[0]


@pytest.mark.parametrize("name", [IMDS, HOPS])
@pytest.mark.parametrize("bad", ["required", ["required"], 1])
def test_fails_when_metadata_options_malformed(name, bad):
    msgs = violations(name, INSTANCE, {**INSTANCE_PROPS, "metadataOptions": bad})
    assert len(msgs) == 1 and "not an object" in msgs[0]


@pytest.mark.parametrize("hops", [2, "2", 64])
def test_fails_when_hop_limit_above_default(hops):
    msgs = violations(HOPS, TEMPLATE, with_options(TEMPLATE_PROPS, httpPutResponseHopLimit=hops))
    assert len(msgs) == 1 and str(hops) in msgs[0] and "above 1" in msgs[0]


def test_passes_when_hop_limit_2_and_knob_allows_container_hosts():
    props = with_options(INSTANCE_PROPS, httpPutResponseHopLimit=2)
    assert violations(HOPS, INSTANCE, props, config={"maxHopLimit": 2}) == []
    assert violations(
        HOPS, INSTANCE, with_options(INSTANCE_PROPS, httpPutResponseHopLimit=3), config={"maxHopLimit": 2}
    )


def test_fails_when_hop_limit_missing():
    msgs = violations(HOPS, INSTANCE, with_options(INSTANCE_PROPS, httpPutResponseHopLimit=None))
    assert len(msgs) == 1 and "httpPutResponseHopLimit is not set" in msgs[0]


@pytest.mark.parametrize("bad", ["one", True, [1]])
def test_fails_when_hop_limit_not_a_number(bad):
    msgs = violations(HOPS, INSTANCE, with_options(INSTANCE_PROPS, httpPutResponseHopLimit=bad))
    assert len(msgs) == 1 and "not a number" in msgs[0]


@pytest.mark.parametrize(
    "name,key,unknown",
    [(IMDS, "httpTokens", UNKNOWN_STRING_VALUE), (HOPS, "httpPutResponseHopLimit", UNKNOWN_NUMBER_VALUE)],
)
def test_unknown_deciding_value_raises_in_preview_and_fails_on_up(name, key, unknown):
    props = with_options(INSTANCE_PROPS, **{key: unknown})
    with pytest.raises(UnknownValueError):
        violations(name, INSTANCE, props, dry_run=True)
    msgs = violations(name, INSTANCE, props, dry_run=False)
    assert len(msgs) == 1 and "unknown" in msgs[0]


def test_other_resource_types_are_ignored():
    assert violations(IMDS, "aws:ec2/vpc:Vpc", {}) == []


SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"


@pytest.mark.parametrize("name", [IMDS, HOPS])
def test_spot_fleet_inline_specifications_cannot_require_imdsv2(name):
    specs = {"iamFleetRole": "r", "targetCapacity": 1, "launchSpecifications": [{"ami": "ami-1"}]}
    found = violations(name, SPOT_FLEET, specs)
    assert len(found) == 1 and "launchTemplateConfigs" in found[0]
    templated = {
        "iamFleetRole": "r",
        "targetCapacity": 1,
        "launchTemplateConfigs": [{"launchTemplateSpecification": {"id": "lt-1"}}],
    }
    assert violations(name, SPOT_FLEET, templated) == []


@pytest.mark.parametrize("name", [IMDS, HOPS])
def test_auto_scaling_group_is_judged_through_its_template(name):
    # The group has no metadata settings: its VMs take them from the template, judged on its own.
    assert "aws:autoscaling/group:Group" not in rule(name).resource_types


def test_fails_when_launch_configuration_hop_limit_above_default():
    msgs = violations(HOPS, LAUNCH_CONFIG, with_options(LAUNCH_CONFIG_PROPS, httpPutResponseHopLimit=2))
    assert len(msgs) == 1 and "httpPutResponseHopLimit is 2" in msgs[0], msgs
