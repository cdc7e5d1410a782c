"""Every physical Azure name within Azure's rules, at the longest app name and a long stack name."""

from __future__ import annotations

import re
import uuid

import pytest

from components.azure.names import STORAGE_RE, VAULT_RE, AzureNames
from tools.mocks import Plan, run_program
from tools.plan import load_stack_config

LONGEST_APP = "abcdefghij-klmnop-qr"  # 20 characters, the model's maximum
LONG_STACK = "feature-branch.with_a-very-long-name-for-review-environments"
#: Name inputs -> (longest allowed, pattern) per Azure's naming rules for that resource type.
LIMITS: dict[str, tuple[int, re.Pattern[str]]] = {
    "resourceGroupName": (90, re.compile(r"^[-\w.()]*[-\w()]$")),
    "virtualNetworkName": (64, re.compile(r"^[A-Za-z0-9][-\w.]*\w$")),
    "networkSecurityGroupName": (80, re.compile(r"^[A-Za-z0-9][-\w.]*\w$")),
    "natGatewayName": (80, re.compile(r"^[A-Za-z0-9][-\w.]*\w$")),
    "publicIpAddressName": (80, re.compile(r"^[A-Za-z0-9][-\w.]*\w$")),
    "networkInterfaceName": (80, re.compile(r"^[A-Za-z0-9][-\w.]*\w$")),
    "flowLogName": (80, re.compile(r"^[A-Za-z0-9][-\w.]*\w$")),
    "applicationGatewayName": (80, re.compile(r"^[A-Za-z0-9][-\w.]*\w$")),
    "policyName": (128, re.compile(r"^[A-Za-z0-9][-\w]*$")),
    "subnetName": (80, re.compile(r"^[A-Za-z0-9][-\w.]*\w$")),
    "securityRuleName": (80, re.compile(r"^[A-Za-z0-9][-\w.]*\w$")),
    "vmName": (64, re.compile(r"^[A-Za-z0-9][-A-Za-z0-9.]*[A-Za-z0-9]$")),
    "diskEncryptionSetName": (80, re.compile(r"^[A-Za-z0-9][-\w]*$")),
    "workspaceName": (63, re.compile(r"^[A-Za-z0-9][-A-Za-z0-9]{2,61}[A-Za-z0-9]$")),
    "dataCollectionRuleName": (64, re.compile(r"^[A-Za-z0-9][-\w.]*$")),
    "actionGroupName": (260, re.compile(r"^[^%&\\?/]+$")),
    "ruleName": (260, re.compile(r"^[^*#&+:<>?@%{}\\/]+$")),
    "resourceName": (128, re.compile(r"^[A-Za-z0-9][-\w]{2,127}$")),  # user-assigned identities
    "scriptName": (90, re.compile(r"^[-\w.()]+$")),
    "lockName": (90, re.compile(r"^[^<>%&:\\?/]+$")),
    "associationName": (64, re.compile(r"^[-\w.]+$")),
    "keyName": (127, re.compile(r"^[A-Za-z0-9-]+$")),
    "tableName": (63, re.compile(r"^[A-Za-z][A-Za-z0-9_]*_CL$")),
}


def long_plan(stack: str) -> Plan:
    config = load_stack_config("prod", ["cloud=azure", f"app.name={LONGEST_APP}", "access.ssh=true"])
    return run_program(stack, config)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return long_plan(LONG_STACK)


def test_every_name_is_within_azures_rules(plan):
    checked = 0
    for r in plan.resources:
        p = r.properties
        for key, (limit, pattern) in LIMITS.items():
            value = p.get(key)
            if isinstance(value, str) and not value.startswith("/"):
                assert len(value) <= limit and pattern.match(value), f"{r.type} {key}={value!r}"
                checked += 1
        if r.type == "azure-native:keyvault:Vault":
            assert VAULT_RE.match(p["vaultName"]), p["vaultName"]
            checked += 1
        if r.type == "azure-native:storage:StorageAccount":
            assert STORAGE_RE.match(p["accountName"]), p["accountName"]
            checked += 1
        if r.type == "azure-native:compute:VirtualMachine":
            assert len(p["osProfile"]["computerName"]) <= 64
        if r.type == "azure-native:monitor:ActionGroup":
            assert len(p["groupShortName"]) <= 12
        if r.type == "azure-native:authorization:RoleAssignment":
            uuid.UUID(p["roleAssignmentName"])
    assert checked > 60


def test_names_are_unique_per_stack_and_globally_unique_ones_carry_a_stable_suffix(plan):
    other = long_plan(LONG_STACK + "-2")

    def names(p: Plan) -> set[str]:
        return (
            {r.properties["vaultName"] for r in p.of_type("azure-native:keyvault:Vault")}
            | {r.properties["accountName"] for r in p.of_type("azure-native:storage:StorageAccount")}
            | {r.properties["resourceGroupName"] for r in p.of_type("azure-native:resources:ResourceGroup")}
        )

    first, second = names(plan), names(other)
    assert len(first) == 4 and not first & second
    again = AzureNames(LONGEST_APP, LONG_STACK, project="appstack")
    assert again.vault("d") in first and again.storage("fl") in first


def test_consecutive_hyphens_never_reach_a_vault_name():
    names = AzureNames("ab--cd-efghijklmnopq", "dev", project="appstack")
    assert VAULT_RE.match(names.vault("c")) and "--" not in names.vault("c")
