"""Tests for policies/rules/key_management.py: compliant baselines plus one mutation per case."""

from __future__ import annotations

import json

import pytest

from policies.framework import ADVISORY, MANDATORY
from tests.policies.support import (
    DEL,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    mutate,
    rule,
    violations,
)

KMS = "aws:kms/key:Key"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
VAULT = "azure-native:keyvault:Vault"
AZ_KEY = "azure-native:keyvault:Key"

ROOT_STATEMENT = {
    "Sid": "AccountAdministersKeyThroughIam",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "kms:*",
    "Resource": "*",
}
LOGS_STATEMENT = {
    "Sid": "CloudWatchLogsUsesKey",
    "Effect": "Allow",
    "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
    "Resource": "*",
}
AWS_KEY = {
    "description": "appstack logs",
    "enableKeyRotation": True,
    "deletionWindowInDays": 30,
    "policy": json.dumps({"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, LOGS_STATEMENT]}),
}
GCP_KEY = {
    "name": "disk",
    "keyRing": "projects/p/locations/europe-west1/keyRings/appstack",
    "rotationPeriod": "7776000s",
    "destroyScheduledDuration": "2592000s",
}
AZURE_VAULT = {
    "resourceGroupName": "rg",
    "properties": {
        "tenantId": "00000000-0000-0000-0000-000000000000",
        "sku": {"family": "A", "name": "standard"},
        "enablePurgeProtection": True,
        "enableSoftDelete": True,
        "enableRbacAuthorization": True,
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [{"value": "203.0.113.7"}]},
    },
}
AZURE_KEY = {
    "resourceGroupName": "rg",
    "vaultName": "kv",
    "keyName": "disk",
    "properties": {
        "kty": "RSA",
        "keySize": 3072,
        "rotationPolicy": {
            "attributes": {"expiryTime": "P1Y"},
            "lifetimeActions": [
                {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P90D"}},
                {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}},
            ],
        },
    },
}
IAM_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
IAM_BINDING = "gcp:kms/keyRingIAMBinding:KeyRingIAMBinding"
GCP_MEMBER = {
    "cryptoKeyId": "projects/p/locations/l/keyRings/r/cryptoKeys/disk",
    "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
    "member": "serviceAccount:service-123@compute-system.iam.gserviceaccount.com",
}
GCP_BINDING = {
    "keyRingId": "projects/p/locations/l/keyRings/r",
    "role": "roles/cloudkms.viewer",
    "members": ["group:secops@example.com"],
}


@pytest.mark.parametrize(
    "name, type_, props",
    [
        ("keys-rotation-enabled", KMS, AWS_KEY),
        ("keys-rotation-enabled", CRYPTO_KEY, GCP_KEY),
        ("keys-azure-key-rotation-policy", AZ_KEY, AZURE_KEY),
        ("keys-kms-policy-no-public-principal", KMS, AWS_KEY),
        ("keys-kms-no-lockout-bypass", KMS, AWS_KEY),
        ("keys-gcp-kms-not-public", IAM_MEMBER, GCP_MEMBER),
        ("keys-gcp-kms-not-public", IAM_BINDING, GCP_BINDING),
        ("keys-azure-vault-network-restricted", VAULT, AZURE_VAULT),
        ("keys-deletion-window", KMS, AWS_KEY),
        ("keys-deletion-window", CRYPTO_KEY, GCP_KEY),
        ("keys-azure-vault-purge-protection", VAULT, AZURE_VAULT),
    ],
)
def test_passes_when_baseline_is_compliant(name, type_, props):
    assert violations(name, type_, props) == []


def test_levels():
    for name in (
        "keys-rotation-enabled",
        "keys-kms-policy-no-public-principal",
        "keys-kms-no-lockout-bypass",
        "keys-gcp-kms-not-public",
        "keys-deletion-window",
        "keys-azure-vault-purge-protection",
    ):
        assert rule(name).level == MANDATORY, name
    for name in ("keys-azure-key-rotation-policy", "keys-azure-vault-network-restricted"):
        assert rule(name).level == ADVISORY, name


# --- K1 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(KMS, AWS_KEY, ("enableKeyRotation",), False, "enableKeyRotation is False", id="aws_rotation_off"),
        pytest.param(KMS, AWS_KEY, ("enableKeyRotation",), DEL, "enableKeyRotation is None", id="aws_rotation_missing"),
        pytest.param(
            KMS,
            AWS_KEY,
            ("enableKeyRotation",),
            "false",
            "enableKeyRotation is 'false'",
            id="aws_rotation_string_false",
        ),
        pytest.param(
            KMS,
            dict(AWS_KEY, rotationPeriodInDays=365),
            ("rotationPeriodInDays",),
            730,
            "rotationPeriodInDays is 730",
            id="aws_rotation_period_too_long",
        ),
        pytest.param(
            KMS,
            dict(AWS_KEY, rotationPeriodInDays=365),
            ("rotationPeriodInDays",),
            "yearly",
            "not a number",
            id="aws_rotation_period_malformed",
        ),
        pytest.param(
            CRYPTO_KEY, GCP_KEY, ("rotationPeriod",), DEL, "rotationPeriod is not set", id="gcp_rotation_missing"
        ),
        pytest.param(
            CRYPTO_KEY, GCP_KEY, ("rotationPeriod",), "31536000s", "'31536000s' (365 days)", id="gcp_rotation_too_long"
        ),
        pytest.param(
            CRYPTO_KEY, GCP_KEY, ("rotationPeriod",), "90d", "'90d', not a duration", id="gcp_rotation_malformed"
        ),
    ],
)
def test_fails_when_key_does_not_rotate(type_, base, path, value, expect):
    msgs = violations("keys-rotation-enabled", type_, mutate(base, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


@pytest.mark.parametrize(
    "type_, props",
    [
        pytest.param(
            KMS,
            mutate(AWS_KEY, ("enableKeyRotation",), DEL) | {"customerMasterKeySpec": "ECC_NIST_P256"},
            id="aws_asymmetric_key",
        ),
        pytest.param(
            CRYPTO_KEY, mutate(GCP_KEY, ("rotationPeriod",), DEL) | {"purpose": "ASYMMETRIC_SIGN"}, id="gcp_signing_key"
        ),
        pytest.param(CRYPTO_KEY, mutate(GCP_KEY, ("rotationPeriod",), "86400.5s"), id="gcp_fractional_one_day"),
    ],
)
def test_passes_when_rotation_not_applicable_or_within_limit(type_, props):
    assert violations("keys-rotation-enabled", type_, props) == []


def test_gcp_rotation_limit_is_configurable():
    props = mutate(GCP_KEY, ("rotationPeriod",), "15552000s")  # 180 days
    assert violations("keys-rotation-enabled", CRYPTO_KEY, props)
    assert violations("keys-rotation-enabled", CRYPTO_KEY, props, config={"maxGcpRotationDays": 180}) == []


def test_unknown_rotation_raises_in_preview_and_fails_on_up():
    props = mutate(AWS_KEY, ("enableKeyRotation",), UNKNOWN_BOOLEAN_VALUE)
    with pytest.raises(UnknownValueError):
        violations("keys-rotation-enabled", KMS, props)
    msgs = violations("keys-rotation-enabled", KMS, props, dry_run=False)
    assert len(msgs) == 1 and "unknown" in msgs[0]


@pytest.mark.parametrize(
    "path, value, expect",
    [
        pytest.param(("properties", "rotationPolicy"), DEL, "rotationPolicy is None", id="no_rotation_policy"),
        pytest.param(
            ("properties", "rotationPolicy", "lifetimeActions"),
            [{"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}}],
            "no rotate action",
            id="notify_only",
        ),
        pytest.param(
            ("properties", "rotationPolicy", "lifetimeActions", 0, "trigger"),
            {},
            "no rotate action",
            id="rotate_without_trigger",
        ),
        pytest.param(("properties", "rotationPolicy", "attributes"), DEL, "expiryTime is None", id="no_expiry"),
        pytest.param(
            ("properties", "rotationPolicy"), "P90D", "rotationPolicy is 'P90D'", id="rotation_policy_malformed"
        ),
    ],
)
def test_fails_when_azure_key_has_no_rotation_policy(path, value, expect):
    msgs = violations("keys-azure-key-rotation-policy", AZ_KEY, mutate(AZURE_KEY, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


# --- K2 ------------------------------------------------------------------------------------------

PUBLIC = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}


@pytest.mark.parametrize(
    "policy, expect",
    [
        pytest.param(
            json.dumps({"Statement": [ROOT_STATEMENT, PUBLIC]}), "Everyone allows Principal '*'", id="principal_star"
        ),
        pytest.param(
            json.dumps({"Statement": [dict(PUBLIC, Principal={"AWS": "*"})]}),
            "allows Principal '*'",
            id="principal_aws_star",
        ),
        pytest.param(
            json.dumps({"Statement": [dict(PUBLIC, Principal={"AWS": ["arn:aws:iam::111122223333:root", "*"]})]}),
            "allows Principal '*'",
            id="principal_list_with_star",
        ),
        pytest.param(
            json.dumps({"Statement": dict(PUBLIC, Sid=None)}), "Statement[0] allows", id="single_statement_object"
        ),
        pytest.param("{broken", "not a JSON policy document", id="malformed_json"),
        pytest.param(json.dumps({"Statement": ["kms:*"]}), "not an object", id="statement_malformed"),
    ],
)
def test_fails_when_key_policy_allows_everyone(policy, expect):
    msgs = violations("keys-kms-policy-no-public-principal", KMS, mutate(AWS_KEY, ("policy",), policy))
    assert msgs and any(expect in m for m in msgs), msgs


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(
            json.dumps(
                {"Statement": [dict(PUBLIC, Condition={"StringEquals": {"kms:CallerAccount": "111122223333"}})]}
            ),
            id="star_with_condition",
        ),
        pytest.param(json.dumps({"Statement": [dict(PUBLIC, Effect="Deny")]}), id="star_deny"),
        pytest.param(DEL, id="default_key_policy"),
        pytest.param({"Statement": [ROOT_STATEMENT]}, id="policy_as_object"),
    ],
)
def test_passes_when_key_policy_scoped(policy):
    assert violations("keys-kms-policy-no-public-principal", KMS, mutate(AWS_KEY, ("policy",), policy)) == []


def test_unknown_key_policy_raises_in_preview():
    with pytest.raises(UnknownValueError):
        violations("keys-kms-policy-no-public-principal", KMS, mutate(AWS_KEY, ("policy",), UNKNOWN_STRING_VALUE))
    assert violations(
        "keys-kms-policy-no-public-principal", KMS, mutate(AWS_KEY, ("policy",), UNKNOWN_STRING_VALUE), dry_run=False
    )


@pytest.mark.parametrize("value", [True, "true"])
def test_fails_when_lockout_safety_check_bypassed(value):
    msgs = violations("keys-kms-no-lockout-bypass", KMS, dict(AWS_KEY, bypassPolicyLockoutSafetyCheck=value))
    assert len(msgs) == 1 and repr(value) in msgs[0]


def test_passes_when_lockout_bypass_explicitly_false():
    assert violations("keys-kms-no-lockout-bypass", KMS, dict(AWS_KEY, bypassPolicyLockoutSafetyCheck=False)) == []


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(IAM_MEMBER, GCP_MEMBER, ("member",), "allUsers", "'allUsers'", id="member_all_users"),
        pytest.param(
            "gcp:kms/keyRingIAMMember:KeyRingIAMMember",
            GCP_MEMBER,
            ("member",),
            "allAuthenticatedUsers",
            "'allAuthenticatedUsers'",
            id="key_ring_member_all_authenticated",
        ),
        pytest.param(
            IAM_BINDING,
            GCP_BINDING,
            ("members",),
            ["group:secops@example.com", "allUsers"],
            "'allUsers'",
            id="binding_all_users",
        ),
        pytest.param(
            "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding",
            GCP_BINDING,
            ("members",),
            DEL,
            "names no member",
            id="binding_without_members",
        ),
        pytest.param(IAM_MEMBER, GCP_MEMBER, ("member",), DEL, "names no member", id="member_missing"),
    ],
)
def test_fails_when_gcp_key_is_public(type_, base, path, value, expect):
    msgs = violations("keys-gcp-kms-not-public", type_, mutate(base, path, value))
    assert msgs and expect in msgs[0]


@pytest.mark.parametrize(
    "path, value, expect",
    [
        pytest.param(
            ("properties", "networkAcls", "defaultAction"), "Allow", "defaultAction is 'Allow'", id="acl_allow"
        ),
        pytest.param(("properties", "networkAcls"), DEL, "defaultAction is None", id="no_network_acls"),
        pytest.param(("properties", "networkAcls"), "Deny", "defaultAction is None", id="network_acls_malformed"),
    ],
)
def test_fails_when_vault_network_open(path, value, expect):
    msgs = violations("keys-azure-vault-network-restricted", VAULT, mutate(AZURE_VAULT, path, value))
    assert msgs and expect in msgs[0]


def test_passes_when_vault_public_access_disabled():
    props = mutate(AZURE_VAULT, ("properties", "networkAcls"), DEL)
    props["properties"]["publicNetworkAccess"] = "Disabled"
    assert violations("keys-azure-vault-network-restricted", VAULT, props) == []


# --- K3 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(KMS, AWS_KEY, ("deletionWindowInDays",), 7, "deletionWindowInDays is 7", id="aws_window_7_days"),
        pytest.param(KMS, AWS_KEY, ("deletionWindowInDays",), "thirty", "not a number", id="aws_window_malformed"),
        pytest.param(
            CRYPTO_KEY,
            GCP_KEY,
            ("destroyScheduledDuration",),
            "86400s",
            "'86400s' (1 days)",
            id="gcp_destroy_after_one_day",
        ),
        pytest.param(
            CRYPTO_KEY, GCP_KEY, ("destroyScheduledDuration",), "1d", "not a duration", id="gcp_destroy_malformed"
        ),
    ],
)
def test_fails_when_deletion_window_short(type_, base, path, value, expect):
    msgs = violations("keys-deletion-window", type_, mutate(base, path, value))
    assert msgs and expect in msgs[0]


def test_passes_when_deletion_window_defaults_to_30_days():
    assert violations("keys-deletion-window", KMS, mutate(AWS_KEY, ("deletionWindowInDays",), DEL)) == []
    assert violations("keys-deletion-window", CRYPTO_KEY, mutate(GCP_KEY, ("destroyScheduledDuration",), DEL)) == []


def test_deletion_window_threshold_is_configurable():
    props = mutate(AWS_KEY, ("deletionWindowInDays",), 20)
    assert violations("keys-deletion-window", KMS, props) == []
    assert violations("keys-deletion-window", KMS, props, config={"minDeletionWindowDays": 30})


def test_unknown_deletion_window_raises_in_preview():
    with pytest.raises(UnknownValueError):
        violations("keys-deletion-window", KMS, mutate(AWS_KEY, ("deletionWindowInDays",), UNKNOWN_NUMBER_VALUE))


@pytest.mark.parametrize(
    "path, value, expect",
    [
        pytest.param(
            ("properties", "enablePurgeProtection"), False, "enablePurgeProtection is False", id="purge_protection_off"
        ),
        pytest.param(
            ("properties", "enablePurgeProtection"), DEL, "enablePurgeProtection is None", id="purge_protection_missing"
        ),
        pytest.param(("properties", "enableSoftDelete"), False, "enableSoftDelete is False", id="soft_delete_off"),
        pytest.param(("properties",), DEL, "enablePurgeProtection is None", id="properties_missing"),
        pytest.param(("properties",), "standard", "enablePurgeProtection is None", id="properties_malformed"),
    ],
)
def test_fails_when_vault_can_be_purged(path, value, expect):
    msgs = violations("keys-azure-vault-purge-protection", VAULT, mutate(AZURE_VAULT, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


def test_unknown_purge_protection_raises_in_preview_and_fails_on_up():
    props = mutate(AZURE_VAULT, ("properties", "enablePurgeProtection"), UNKNOWN_BOOLEAN_VALUE)
    with pytest.raises(UnknownValueError):
        violations("keys-azure-vault-purge-protection", VAULT, props)
    assert violations("keys-azure-vault-purge-protection", VAULT, props, dry_run=False)
