"""Bad config never reaches a provider: one clear message (key, value, fix), zero resources."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from tools.mocks import run_program
from tools.plan import load_stack_config

# (stack, --set overrides, keys to delete, expected fragments: key, value, fix)
CASES = {
    "bad_cidr": (
        "dev",
        ["access.adminCidrs=[10.0.0.300/24]"],
        [],
        ["appstack:access.adminCidrs[0] = '10.0.0.300/24'", "not a valid CIDR", "203.0.113.0/24"],
    ),
    "ssh_from_internet": (
        "dev",
        ["access.adminCidrs=[0.0.0.0/0]", "access.ssh=true"],
        [],
        ["appstack:access.adminCidrs[0] = '0.0.0.0/0'", "to the internet", "admin network"],
    ),
    "ssh_from_ipv6_internet": (
        "dev",
        ["access.adminCidrs=['::/0']"],
        [],
        ["appstack:access.adminCidrs[0] = '::/0'", "to the internet", "admin network"],
    ),
    "ssh_without_admins": (
        "dev",
        ["access.ssh=true", "access.adminCidrs=[]"],
        [],
        ["appstack:access.ssh = True", "no admin networks", "set appstack:access.adminCidrs"],
    ),
    "unknown_key": (
        "dev",
        ["computee.instanceCount=2"],
        [],
        ["appstack:computee", "unknown key", "did you mean 'compute'"],
    ),
    "typo_in_key": (
        "dev",
        ["compute.instanceCont=2"],
        [],
        ["appstack:compute.instanceCont = 2", "unknown key", "did you mean 'instanceCount'"],
    ),
    "wrong_type": (
        "dev",
        ["compute.instanceCount=three"],
        [],
        ["appstack:compute.instanceCount = 'three'", "valid integer", "write a whole number"],
    ),
    "zero_instances": (
        "dev",
        ["compute.instanceCount=0"],
        [],
        ["appstack:compute.instanceCount = 0", "greater than or equal to 1", "set it to 1 or more"],
    ),
    "retention_below_prod_floor": (
        "prod",
        ["logging.retentionDays=90"],
        [],
        ["appstack:logging.retentionDays = 90", "below the prod floor of 365", "365 or more"],
    ),
    "retention_below_dev_floor": (
        "dev",
        ["logging.retentionDays=3"],
        [],
        ["appstack:logging.retentionDays = 3", "below the dev floor of 7", "7 or more"],
    ),
    "retention_cloudwatch_rejects": (
        "dev",
        ["logging.retentionDays=45"],
        [],
        ["appstack:logging.retentionDays = 45", "does not accept 45", "e.g. 60"],
    ),
    "unknown_cloud": (
        "dev",
        ["cloud=aws2"],
        [],
        ["appstack:cloud = 'aws2'", "not an allowed value", "'aws', 'azure' or 'gcp'"],
    ),
    "unknown_environment": (
        "dev",
        ["environment=staging"],
        [],
        ["appstack:environment = 'staging'", "not an allowed value", "'dev' or 'prod'"],
    ),
    "missing_required_key": (
        "dev",
        [],
        ["appstack:dns"],
        ["Pulumi.dev.yaml: appstack:dns:", "is required", "add it to Pulumi.dev.yaml"],
    ),
    "missing_owner": (
        "dev",
        ["app.owner="],
        [],
        ["appstack:app.owner = ''", "at least 1 character", "write at least 1 characters"],
    ),
    "weak_tls_policy": (
        "dev",
        ["loadBalancer.tlsPolicy=ELBSecurityPolicy-2016-08"],
        [],
        [
            "appstack:loadBalancer.tlsPolicy = 'ELBSecurityPolicy-2016-08'",
            "not allowed",
            "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        ],
    ),
    # TLS 1.3 capable but still offers CBC-mode TLS 1.2 suites: the policy pack refuses it by default.
    "cbc_tls_policy": (
        "dev",
        ["loadBalancer.tlsPolicy=ELBSecurityPolicy-TLS13-1-2-2021-06"],
        [],
        [
            "appstack:loadBalancer.tlsPolicy = 'ELBSecurityPolicy-TLS13-1-2-2021-06'",
            "not allowed",
            "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        ],
    ),
    "domain_outside_zone": (
        "dev",
        ["dns.domain=app.example.org"],
        [],
        ["appstack:dns.domain = 'app.example.org'", "not inside zone", "parent of the domain"],
    ),
    "bad_email": (
        "dev",
        ["monitoring.alertEmails=[ops]"],
        [],
        ["appstack:monitoring.alertEmails[0] = 'ops'", "not an e-mail address", "ops@example.com"],
    ),
    "cloud_section_missing": (
        "dev",
        [],
        ["appstack:aws"],
        ["appstack:aws", "cloud is aws but appstack:aws is missing", "region: eu-west-1"],
    ),
    "multiline_command": (
        "dev",
        ['app.command="/bin/app\\nUser=root"'],
        [],
        ["appstack:app.command = '/bin/app\\nUser=root'", "should match pattern", "match the pattern"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_gives_one_clear_error_and_registers_nothing(case: str):
    stack, overrides, deleted, fragments = CASES[case]
    config = load_stack_config(stack, overrides)
    for key in deleted:
        del config[key]
    with pytest.raises(ConfigError) as info:
        run_program(stack, config)
    err = info.value
    assert len(err.problems) == 1, err.problems
    line = err.problems[0]
    assert line.startswith(f"Pulumi.{stack}.yaml: appstack:"), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    assert vars(err)["plan"].resources == [], "config errors must be raised before any resource is registered"


def test_several_bad_values_are_all_reported():
    config = load_stack_config("dev", ["compute.instanceCount=0", "access.sshh=true"])
    with pytest.raises(ConfigError) as info:
        run_program("dev", config)
    assert len(info.value.problems) == 2
    assert any("did you mean 'ssh'" in p for p in info.value.problems)


def test_config_error_is_a_run_error_so_the_cli_prints_no_traceback():
    import pulumi

    assert issubclass(ConfigError, pulumi.RunError)


def test_scalar_strings_are_coerced_like_pulumi_config_set():
    # `pulumi config set --path appstack:compute.instanceCount 2` stores a string.
    config = load_stack_config("dev", ["compute.instanceCount='2'", "access.ssh='false'"])
    plan = run_program("dev", config)
    assert len(plan.of_type("aws:ec2/instance:Instance")) == 2
