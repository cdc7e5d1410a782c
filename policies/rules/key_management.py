"""Concern `key-management` (policy names `keys-...`): K1-K3: key rotation, least-privilege key policies, deletion guards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..framework import ADVISORY, Context, Knob, Props, Rule, StackRule, as_list, dig, exact_false, is_map, truthy
from ..shapes import has_text, policy_document, policy_statements
from .network_exposure import is_internet, jointly_internet

CONCERN = "key-management"

AWS_KMS_KEY = "aws:kms/key:Key"
GCP_CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
GCP_KMS_IAM_MEMBER = ("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gcp:kms/keyRingIAMMember:KeyRingIAMMember")
GCP_KMS_IAM_BINDING = ("gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding", "gcp:kms/keyRingIAMBinding:KeyRingIAMBinding")
#: A whole IAM policy (``policyData`` JSON) is a third way to grant the same access.
GCP_KMS_IAM_POLICY = ("gcp:kms/cryptoKeyIAMPolicy:CryptoKeyIAMPolicy", "gcp:kms/keyRingIAMPolicy:KeyRingIAMPolicy")
AZ_VAULT = "azure-native:keyvault:Vault"
AZ_KEY = "azure-native:keyvault:Key"

DAY = 86400
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def parse_duration_seconds(value: Any) -> float:
    """A Google duration string such as ``"7776000s"`` in seconds; ValueError when malformed."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"{value!r} is not a duration like '7776000s'")
    return float(m.group(1))


# --- K1: rotation --------------------------------------------------------------------------------


def _aws_rotation(props: Props, ctx: Context) -> Iterator[str]:
    spec = props.get("customerMasterKeySpec")
    if spec is not None and str(spec).strip().upper() != "SYMMETRIC_DEFAULT":
        return  # AWS cannot rotate asymmetric or HMAC keys automatically: not applicable
    if has_text(props.get("customKeyStoreId")):
        return  # keys in a custom key store (CloudHSM/XKS) cannot be rotated automatically
    enabled = props.get("enableKeyRotation")
    if not truthy(enabled):
        yield f"enableKeyRotation is {enabled!r}; set it to true"
        return
    period = props.get("rotationPeriodInDays")
    limit = ctx["maxAwsRotationDays"]
    if period is not None:
        if not isinstance(period, (int, float)) or isinstance(period, bool):
            yield f"rotationPeriodInDays is {period!r}, not a number; set it to at most {limit}"
        elif period > limit:
            yield f"rotationPeriodInDays is {period}; rotate at least every {limit} days"


def _gcp_rotation(props: Props, ctx: Context) -> Iterator[str]:
    purpose = props.get("purpose")
    if purpose is not None and str(purpose).strip().upper() != "ENCRYPT_DECRYPT":
        return  # only symmetric encryption keys support automatic rotation
    if truthy(props.get("importOnly")):
        return  # imported key material cannot be rotated by Cloud KMS
    limit = ctx["maxGcpRotationDays"]
    period = props.get("rotationPeriod")
    if period is None:
        yield f"rotationPeriod is not set, so the key never rotates; set it to at most {limit * DAY}s ({limit} days)"
        return
    try:
        seconds = parse_duration_seconds(period)
    except ValueError:
        yield f"rotationPeriod is {period!r}, not a duration like '7776000s'; cannot evaluate it (failing closed)"
        return
    if seconds > limit * DAY:
        yield f"rotationPeriod is {period!r} ({seconds / DAY:g} days); rotate at least every {limit} days ({limit * DAY}s)"


def check_rotation(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type == AWS_KMS_KEY:
        yield from _aws_rotation(props, ctx)
    elif resource_type == GCP_CRYPTO_KEY:
        yield from _gcp_rotation(props, ctx)


def check_azure_key_rotation_policy(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    policy = dig(props, "properties", "rotationPolicy")
    if not is_map(policy):
        yield f"properties.rotationPolicy is {policy!r}; add a rotation policy with a rotate lifetime action and an expiry"
        return
    actions = as_list(policy.get("lifetimeActions"))
    rotates = False
    for a in actions:
        if str(dig(a, "action", "type") or "").lower() != "rotate":
            continue
        trigger = dig(a, "trigger")
        if is_map(trigger) and (has_text(trigger.get("timeAfterCreate")) or has_text(trigger.get("timeBeforeExpiry"))):
            rotates = True
    if not rotates:
        yield "properties.rotationPolicy.lifetimeActions has no rotate action with a trigger; add {action: {type: rotate}, trigger: {timeAfterCreate: P90D}}"
    expiry = dig(policy, "attributes", "expiryTime")
    if not has_text(expiry):
        yield f"properties.rotationPolicy.attributes.expiryTime is {expiry!r}; set an expiry (e.g. P1Y) so keys are rotated before they expire"


# --- K2: least privilege -------------------------------------------------------------------------


def _principal_is_public(principal: Any) -> bool:
    if isinstance(principal, str) and principal.strip() == "*":
        return True
    if is_map(principal):
        return any(isinstance(p, str) and p.strip() == "*" for k in ("AWS", "*") for p in as_list(principal.get(k)))
    return False


#: Condition keys that tie a wildcard principal to our account or organisation. Any other
#: condition (aws:SecureTransport, a date, a tag) leaves the key open to every AWS account.
_SCOPING_KEYS = {
    "kms:calleraccount",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
}


def condition_scopes(cond: Any) -> bool:
    """Whether a Condition limits who may use the key: an account/org key under a positive
    operator (not ``...Not...``, not ``...IfExists``, which passes when the key is absent) with
    values that are not all wildcards."""
    if not is_map(cond):
        return False
    for operator, tests in cond.items():
        op = str(operator).lower()
        if "not" in op.split(":")[-1] or op.endswith("ifexists") or op in ("null",) or not is_map(tests):
            continue
        for key, values in tests.items():
            if str(key).lower() not in _SCOPING_KEYS:
                continue
            vals = [str(v).strip() for v in as_list(values)]
            if vals and all(v and v.replace("*", "").replace("?", "").strip(":") for v in vals):
                return True
    return False


def check_kms_policy_no_public_principal(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    raw = props.get("policy")
    if raw is None:
        return  # no policy: AWS applies the default key policy (account root only)
    try:
        doc = policy_document(raw)
    except ValueError:
        yield f"policy is not a JSON policy document ({str(raw)[:80]!r}); cannot verify its principals (failing closed)"
        return
    for i, st in enumerate(policy_statements(doc)):
        if not is_map(st):
            yield f"policy Statement[{i}] is {st!r}, not an object; cannot evaluate it (failing closed)"
            continue
        if str(st.get("Effect") or "").strip().lower() != "allow":
            continue
        # NotPrincipal with Allow grants everyone except the named principals: as public as '*'.
        not_principal = st.get("NotPrincipal") is not None
        if not (not_principal or _principal_is_public(st.get("Principal"))):
            continue
        if condition_scopes(st.get("Condition")):
            continue  # kms:CallerAccount, aws:PrincipalOrgID ... scope the wildcard to us
        sid = st.get("Sid") or f"Statement[{i}]"
        who = "NotPrincipal (everyone but the named principals)" if not_principal else "Principal '*'"
        yield (
            f"policy {sid} allows {who} without a Condition that scopes it to an account or organisation; name the "
            "account root/roles or add a condition such as kms:CallerAccount / aws:PrincipalOrgID"
        )


def check_kms_no_lockout_bypass(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    value = props.get("bypassPolicyLockoutSafetyCheck")
    if truthy(value):
        yield f"bypassPolicyLockoutSafetyCheck is {value!r}; remove it (or set false) so a key policy cannot lock out administrators"


#: ``principalSet://goog/public:all`` is the IAM principal identifier for allUsers.
_PUBLIC_MEMBERS = ("allusers", "allauthenticatedusers", "principalset://goog/public:all")


def check_gcp_kms_not_public(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type in GCP_KMS_IAM_POLICY:
        try:
            doc = policy_document(props.get("policyData"))
        except ValueError:
            yield "policyData is not a JSON IAM policy; cannot verify it grants nothing to everyone (failing closed)"
            return
        for i, binding in enumerate(as_list(doc.get("bindings"))):
            for m in as_list(dig(binding, "members")):
                if str(m).strip().lower() in _PUBLIC_MEMBERS:
                    yield f"policyData bindings[{i}] grants {dig(binding, 'role')!r} on a KMS key/key ring to {m!r}; grant it to specific service accounts"
        return
    members = [props.get("member")] if resource_type in GCP_KMS_IAM_MEMBER else as_list(props.get("members"))
    if not members or members == [None]:
        yield "the IAM grant names no member; cannot evaluate it (failing closed)"
        return
    for m in members:
        if str(m).strip().lower() in _PUBLIC_MEMBERS:
            yield f"member {m!r} grants {props.get('role')!r} on a KMS key/key ring to everyone; grant it to specific service accounts"


def check_azure_vault_network(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    access = dig(props, "properties", "publicNetworkAccess")
    if str(access or "").lower() == "disabled":
        return
    default_action = dig(props, "properties", "networkAcls", "defaultAction")
    if str(default_action or "").lower() != "deny":
        yield (
            f"properties.networkAcls.defaultAction is {default_action!r} and publicNetworkAccess is {access!r}; "
            "set networkAcls.defaultAction to Deny (allow the deployer via ipRules) or disable public network access"
        )
        return
    # A Deny default with an ipRule for the whole internet (0.0.0.0/0, 0.0.0.0/1 + 128.0.0.0/1)
    # is the same as Allow.
    rules = [str(dig(r, "value")) for r in as_list(dig(props, "properties", "networkAcls", "ipRules"))]
    wide = [r for r in rules if is_internet(r)] or jointly_internet(rules, None)
    if wide:
        yield f"properties.networkAcls.ipRules {wide} admit the whole internet, so defaultAction Deny restricts nothing; list only the admin/deployer addresses"


# --- K3: deletion guards -------------------------------------------------------------------------


def check_deletion_window(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    min_days = ctx["minDeletionWindowDays"]
    if resource_type == AWS_KMS_KEY:
        days = props.get("deletionWindowInDays")
        effective = 30 if days is None else days  # AWS default is 30 days
        if not isinstance(effective, (int, float)) or isinstance(effective, bool):
            yield f"deletionWindowInDays is {days!r}, not a number; set it to at least {min_days}"
        elif effective < min_days:
            yield f"deletionWindowInDays is {effective}; set it to at least {min_days} days so a scheduled deletion can be cancelled"
    elif resource_type == GCP_CRYPTO_KEY:
        value = props.get("destroyScheduledDuration")
        if value is None:
            seconds: float | None = 30 * DAY  # Cloud KMS default
        else:
            try:
                seconds = parse_duration_seconds(value)
            except ValueError:
                yield f"destroyScheduledDuration is {value!r}, not a duration like '2592000s'; cannot evaluate it (failing closed)"
                return
        if seconds < min_days * DAY:
            yield f"destroyScheduledDuration is {value!r} ({seconds / DAY:g} days); set it to at least {min_days * DAY}s ({min_days} days)"


def check_azure_vault_purge_protection(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    purge = dig(props, "properties", "enablePurgeProtection")
    if not truthy(purge):
        yield f"properties.enablePurgeProtection is {purge!r}; set it to true so deleted keys cannot be purged during retention"
    soft = dig(props, "properties", "enableSoftDelete")
    if exact_false(soft):
        yield f"properties.enableSoftDelete is {soft!r}; leave soft delete on"


RULES: list[Rule | StackRule] = [
    Rule(
        name="keys-rotation-enabled",
        description="Symmetric KMS keys must rotate automatically (AWS enableKeyRotation; GCP rotationPeriod at most 90 days).",
        concern=CONCERN,
        clouds=("aws", "gcp"),
        resource_types=(AWS_KMS_KEY, GCP_CRYPTO_KEY),
        check=check_rotation,
        knobs={
            "maxAwsRotationDays": Knob(
                {"type": "integer", "minimum": 90, "maximum": 2560}, 365, "longest allowed AWS rotationPeriodInDays"
            ),
            "maxGcpRotationDays": Knob(
                {"type": "integer", "minimum": 1}, 90, "longest allowed GCP rotationPeriod, in days"
            ),
        },
        catalogue=("K1",),
        peers=("CKV_AWS_7", "CKV_GCP_43", "AVD-AWS-0065", "AVD-GCP-0065", "AS-KMS5"),
    ),
    Rule(
        name="keys-azure-key-rotation-policy",
        description="Azure Key Vault keys should have a rotation policy with a rotate action and an expiry.",
        concern=CONCERN,
        clouds=("azure",),
        resource_types=(AZ_KEY,),
        check=check_azure_key_rotation_policy,
        # Advisory (catalogue): consumers that pin a key version break on rotation/expiry, so
        # teams adopt it deliberately.
        level=ADVISORY,
        catalogue=("K1",),
        peers=("CKV_AZURE_40", "PSR:KeyVault.AutoRotationPolicy"),
    ),
    Rule(
        name="keys-kms-policy-no-public-principal",
        description="KMS key policies must not allow Principal '*' without a condition.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(AWS_KMS_KEY,),
        check=check_kms_policy_no_public_principal,
        catalogue=("K2",),
        peers=("CKV_AWS_33", "CKV2_AWS_64"),
    ),
    Rule(
        name="keys-kms-no-lockout-bypass",
        description="KMS keys must not bypass the policy lockout safety check.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(AWS_KMS_KEY,),
        check=check_kms_no_lockout_bypass,
        catalogue=("K2",),
        peers=("pc:aws-kms-key-disallow-bypass-policy-lockout-safety-check",),
    ),
    Rule(
        name="keys-gcp-kms-not-public",
        description="Cloud KMS keys and key rings must not be granted to allUsers or allAuthenticatedUsers.",
        concern=CONCERN,
        clouds=("gcp",),
        resource_types=(*GCP_KMS_IAM_MEMBER, *GCP_KMS_IAM_BINDING, *GCP_KMS_IAM_POLICY),
        check=check_gcp_kms_not_public,
        catalogue=("K2",),
        peers=("CKV2_GCP_6", "CKV2_GCP_8"),
    ),
    Rule(
        name="keys-azure-vault-network-restricted",
        description="Azure Key Vaults should deny public network access by default (networkAcls Deny or public access disabled).",
        concern=CONCERN,
        clouds=("azure",),
        resource_types=(AZ_VAULT,),
        check=check_azure_vault_network,
        # Advisory: a deployer outside the VNet needs an ipRules entry first; mandatory would block
        # the first deployment of most stacks.
        level=ADVISORY,
        catalogue=("K2",),
        peers=("CKV_AZURE_109", "CKV_AZURE_189", "AVD-AZU-0013"),
    ),
    Rule(
        name="keys-deletion-window",
        description="Scheduled key deletion must wait at least 14 days (AWS deletionWindowInDays, GCP destroyScheduledDuration).",
        concern=CONCERN,
        clouds=("aws", "gcp"),
        resource_types=(AWS_KMS_KEY, GCP_CRYPTO_KEY),
        check=check_deletion_window,
        knobs={
            "minDeletionWindowDays": Knob(
                {"type": "integer", "minimum": 1, "maximum": 30},
                14,
                "shortest allowed key deletion waiting period, in days",
            )
        },
        catalogue=("K3",),
        peers=("CKV_GCP_82",),
    ),
    Rule(
        name="keys-azure-vault-purge-protection",
        description="Azure Key Vaults must enable purge protection and keep soft delete on.",
        concern=CONCERN,
        clouds=("azure",),
        resource_types=(AZ_VAULT,),
        check=check_azure_vault_purge_protection,
        catalogue=("K3",),
        peers=("CKV_AZURE_110", "CKV_AZURE_42", "AVD-AZU-0016", "PSR:KeyVault.PurgeProtect"),
    ),
]
