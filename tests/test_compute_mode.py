"""`compute.mode` and `compute.group`: environment defaults and one line per bad value."""

from __future__ import annotations

import pytest

from components.config import ConfigError, StackConfig, parse_config, raw_from_config_map
from tools.plan import load_stack_config_with_origins

GROUP = "compute.mode=group"


def load(stack: str, overrides: list[str] | tuple[str, ...] = ()) -> StackConfig:
    """The validated config of `Pulumi.<stack>.yaml` with `--set` overrides, as `tools.plan` reads it."""
    config, origins = load_stack_config_with_origins(stack, overrides)
    return parse_config(raw_from_config_map(config), stack, origins=origins)


def test_dev_defaults_to_plain_instances_and_a_group_of_one():
    compute = load("dev").compute
    assert compute.mode == "instances"
    group = compute.group
    assert (group.min, group.desired, group.max, group.cpu_target_percent) == (1, 1, 2, 60)


def test_prod_defaults_to_a_group_of_two_to_six_starting_at_three():
    compute = load("prod").compute
    assert compute.mode == "group"
    group = compute.group
    assert (group.min, group.desired, group.max, group.cpu_target_percent) == (2, 3, 6, 60)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            [GROUP, "compute.group.min=3"],
            "--set compute.group.min=3: appstack:compute.group.min = 3: the group needs min <= desired <= max, "
            "got min 3, desired 1, max 2; set appstack:compute.group.min to 2 or less, or raise max",
        ),
        (
            [GROUP, "compute.group.desired=5"],
            "--set compute.group.desired=5: appstack:compute.group.desired = 5: the group needs min <= desired <= "
            "max, got min 1, desired 5, max 2; set appstack:compute.group.desired to 1..2, or widen min and max",
        ),
        (
            [GROUP, "compute.group.max=1001"],
            "--set compute.group.max=1001: appstack:compute.group.max = 1001: a VM group on aws holds at most 1000 "
            "VMs; set appstack:compute.group.max to 1000 or less",
        ),
        (
            [GROUP, "compute.group.cpuTargetPercent=85"],
            "--set compute.group.cpuTargetPercent=85: appstack:compute.group.cpuTargetPercent = 85: the group "
            "scales at 85% CPU, at or above the CPU alarm's 80%, so the alarm would page before the group scales "
            "out; set appstack:compute.group.cpuTargetPercent below 80",
        ),
        (
            ["compute.mode=autoscaling"],
            "--set compute.mode=autoscaling: appstack:compute.mode = 'autoscaling': not an allowed value; use "
            "'instances' or 'group'",
        ),
        (
            [GROUP, "compute.group.min=0"],
            "--set compute.group.min=0: appstack:compute.group.min = 0: input should be greater than or equal to "
            "1; set it to 1 or more",
        ),
    ],
)
def test_bad_group_config_is_one_line_naming_key_value_and_fix(overrides, expected):
    stack = "prod" if any("cpuTarget" in o for o in overrides) else "dev"
    with pytest.raises(ConfigError) as err:
        load(stack, overrides)
    assert err.value.problems == [expected]


def test_max_is_the_clouds_limit():
    # GCP's regional managed instance groups hold 2000 VMs, Azure's Flexible scale sets 1000.
    load("prod", [GROUP, "cloud=gcp", "compute.group.max=2000"])
    with pytest.raises(ConfigError) as err:
        load("prod", [GROUP, "cloud=azure", "compute.group.max=2000"])
    assert "a VM group on azure holds at most 1000 VMs" in err.value.problems[0]


def test_group_limits_are_not_checked_in_instances_mode():
    # The group's settings are inert until the mode selects them.
    load("prod", ["compute.mode=instances", "compute.group.max=1500", "compute.group.cpuTargetPercent=85"])


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_switching_to_a_group_keeps_what_the_vms_shared(cloud, monkeypatch):
    """The group aliases the `Vm` type: its same-named children (disk key, identity) move, not replace."""
    from tools.mocks import Recorder, run_program
    from tools.plan import load_stack_config

    seen: dict[str, list] = {}
    original = Recorder.transformation

    def spy(self, args):
        if args.type_.endswith(":VmGroup"):
            seen[args.type_] = list(args.opts.aliases or [])
        return original(self, args)

    monkeypatch.setattr(Recorder, "transformation", spy)
    run_program("prod", load_stack_config("prod", [f"cloud={cloud}", GROUP]))
    (alias,) = seen[f"appstack:{cloud}:VmGroup"]
    assert alias.type_ == f"appstack:{cloud}:Vm"
