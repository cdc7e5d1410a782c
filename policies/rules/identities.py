"""Concern `identities` (policy names `identity-...`): I1-I2: dedicated least-privilege VM identities.

References to identities created in the same stack (a GCP service account's e-mail, a customer
managed policy's ARN) are unknown during preview. When the question is "is this the default
compute service account / an AWS managed admin policy", an unknown value during preview can only
be a new resource of this stack (defaults and AWS managed policies are constants or data-source
results, known in preview), so it is not flagged in preview; on `up` the value is known and is
checked (an unknown at apply time still fails closed).

VM groups are judged where their VMs' identity is defined: launch templates and launch
configurations (AWS ``iamInstanceProfile``; an auto scaling group has none of its own), instance
templates' ``serviceAccount`` (GCP; a managed instance group has none), the scale set's
``identity`` (Azure; its VMs share it).

Trust ("trust restricted" in I1): an AWS role's ``assumeRolePolicy`` must not let any principal
assume it (``*`` or ``NotPrincipal`` without an account/org condition), and an OIDC federation
(GitHub Actions, EKS) must pin the token's ``:sub`` claim.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from ..framework import ADVISORY, Context, Knob, Props, Rule, StackRule, as_list, is_map
from ..shapes import get, has_key, is_set, parsed_json, policy_statements, ref_name, show, text
from ..tokens import (
    AWS_INSTANCE,
    AWS_LAUNCH_CONFIGURATION,
    AWS_LAUNCH_TEMPLATE,
    AWS_SPOT_FLEET,
    AWS_SPOT_INSTANCE,
    AZ_VM,
    AZ_VMSS,
    GCP_VM_TYPES,
)
from .key_management import condition_scopes

AWS_POLICY_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
#: pulumi-aws 6.60+ resources that set a role's/user's/group's whole list of managed policies
#: (``policyArns``): the same attachment as above, in a second shape.
AWS_POLICY_ATTACHMENTS_EXCLUSIVE = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
)
AWS_POLICY_DOCUMENTS = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
AWS_ROLE = "aws:iam/role:Role"
GCP_IAM_MEMBERS = (
    "gcp:projects/iAMMember:IAMMember",
    "gcp:folder/iAMMember:IAMMember",
    "gcp:organizations/iAMMember:IAMMember",
)
GCP_IAM_BINDINGS = (
    "gcp:projects/iAMBinding:IAMBinding",
    "gcp:folder/iAMBinding:IAMBinding",
    "gcp:organizations/iAMBinding:IAMBinding",
)
GCP_IAM_POLICIES = (
    "gcp:projects/iAMPolicy:IAMPolicy",
    "gcp:folder/iAMPolicy:IAMPolicy",
    "gcp:organizations/iAMPolicy:IAMPolicy",
)
#: Custom roles carry the denied roles' powers under a name of their own.
GCP_CUSTOM_ROLES = ("gcp:projects/iAMCustomRole:IAMCustomRole", "gcp:organizations/iAMCustomRole:IAMCustomRole")
AZ_ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
#: A custom role with the built-in roles' actions is the same grant under another id.
AZ_ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
#: Action patterns that make a role Owner/Contributor (``*``) or User Access Administrator.
_AZ_BROAD_ACTIONS = (
    "*",
    "*/write",
    "microsoft.authorization/*",
    "microsoft.authorization/roleassignments/*",
    "microsoft.authorization/roleassignments/write",
)

_SCOPE_CLOUD_PLATFORM = ("cloud-platform", "https://www.googleapis.com/auth/cloud-platform")


class _Pending:
    """Marker: a reference that is unknown during preview (a resource of this stack)."""


PENDING = _Pending()


def _ref(m: Any, key: str, ctx: Context) -> Any:
    """A reference value; `PENDING` when unknown during preview, re-raised on `up` (fail closed)."""
    try:
        return get(m, key)
    except UnknownValueError:
        if ctx.dry_run:
            return PENDING
        raise


def _is_default_sa(email: Any, ctx: Context) -> bool:
    # The Compute API takes the literal "default" for the project's default compute account.
    return isinstance(email, str) and (
        email.strip().lower() == "default"
        or any(fnmatch.fnmatchcase(email.strip().lower(), p.lower()) for p in ctx["defaultServiceAccounts"])
    )


# ---------------------------------------------------------------------------------------------
# I1: dedicated identity


def _meaningful(value: Any) -> bool:
    """A condition value that names something: not only wildcards (``*``, ``repo:*``)."""
    v = str(value).strip().removeprefix("repo:")
    return bool(v.replace("*", "").replace("?", "").strip(":/ "))


def _oidc_subject_pinned(cond: Any, provider: str) -> bool:
    """Whether a Condition pins the OIDC subject (``<issuer>:sub``) of `provider` to something.

    Without it, every token the issuer signs passes: for GitHub Actions that is every workflow of
    every repository (``:aud`` is the same ``sts.amazonaws.com`` for all of them).
    """
    issuer = provider.split("oidc-provider/", 1)[-1].strip().lower()
    if not is_map(cond):
        return False
    for operator, tests in cond.items():
        op = str(operator).lower()
        if "not" in op.split(":")[-1] or op.endswith("ifexists") or not is_map(tests):
            continue
        for key, values in tests.items():
            k = str(key).strip().lower()
            if k == f"{issuer}:sub" and as_list(values) and all(_meaningful(v) for v in as_list(values)):
                return True
    return False


def _trust_problems(raw: Any) -> Iterator[str]:
    """I1 "trust restricted": who may assume an AWS role."""
    try:
        doc = parsed_json(raw)
    except ValueError:
        yield "assumeRolePolicy is not valid JSON; cannot verify who may assume the role (failing closed)"
        return
    if not is_map(doc):
        yield f"assumeRolePolicy is not a policy document ({show(doc)}); cannot verify who may assume the role"
        return
    for i, st in enumerate(policy_statements(doc)):
        if not is_map(st) or text(get(st, "Effect")) != "allow":
            continue
        cond = get(st, "Condition")
        if has_key(st, "NotPrincipal") and not condition_scopes(cond):
            yield f"assumeRolePolicy Statement[{i}] allows NotPrincipal (everyone but the named principals) to assume the role; name the principals"
            continue
        principal = get(st, "Principal")
        if isinstance(principal, str):
            values: list[Any] = [principal]
        elif is_map(principal):
            values = [v for k in principal for v in as_list(principal[k])]
        else:
            values = []
        if any(isinstance(v, str) and v.strip() == "*" for v in values) and not condition_scopes(cond):
            yield (
                f"assumeRolePolicy Statement[{i}] lets any AWS principal assume the role (Principal '*') without an "
                "account/org condition; name the account, role or service"
            )
        federated = as_list(principal.get("Federated")) if is_map(principal) else []
        for provider in federated:
            if isinstance(provider, str) and "oidc-provider/" in provider and not _oidc_subject_pinned(cond, provider):
                yield (
                    f"assumeRolePolicy Statement[{i}] trusts OIDC provider {provider.rsplit('/', 1)[-1]} without pinning "
                    "its ':sub' claim, so any identity of that issuer (any GitHub repository) can assume the role; add "
                    "StringEquals/StringLike on '<issuer>:sub'"
                )


def check_vm_identity(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type == AWS_ROLE:
        raw = get(props, "assumeRolePolicy")
        if raw is not None:
            yield from _trust_problems(raw)
        return
    if resource_type in (AWS_INSTANCE, AWS_SPOT_INSTANCE, AWS_LAUNCH_CONFIGURATION):
        if not is_set(props, "iamInstanceProfile"):
            yield "iamInstanceProfile is not set; attach a dedicated instance profile (e.g. for SSM)"
    elif resource_type == AWS_LAUNCH_TEMPLATE:
        profile = get(props, "iamInstanceProfile")
        if not is_map(profile) or not (is_set(profile, "arn") or is_set(profile, "name")):
            yield "iamInstanceProfile (arn or name) is not set; attach a dedicated instance profile"
    elif resource_type == AWS_SPOT_FLEET:
        for i, spec in enumerate(as_list(get(props, "launchSpecifications"))):
            if not (is_set(spec, "iamInstanceProfile") or is_set(spec, "iamInstanceProfileArn")):
                yield f"launchSpecifications[{i}] sets no iamInstanceProfile or iamInstanceProfileArn; attach a dedicated instance profile"
    elif resource_type in GCP_VM_TYPES:
        sa = get(props, "serviceAccount")
        if sa is None:
            yield "serviceAccount is not set; attach a dedicated service account (not the default compute one)"
            return
        if not is_map(sa):
            yield f"serviceAccount is not an object ({show(sa)}); attach a dedicated service account"
            return
        email = _ref(sa, "email", ctx)
        if email is None or (isinstance(email, str) and not email.strip()):
            yield "serviceAccount.email is not set, so the default compute service account is used; use a dedicated one"
        elif email is not PENDING and not isinstance(email, str):
            yield f"serviceAccount.email is not a string ({show(email)}); use a dedicated service account"
        elif _is_default_sa(email, ctx):
            yield f"serviceAccount.email is the default compute service account ({email}); use a dedicated one"


def check_azure_vm_identity(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    identity = get(props, "identity")
    if not is_map(identity):
        yield f"identity is {'not set' if identity is None else show(identity)}; give the VM a managed identity"
        return
    if text(get(identity, "type")) in ("", "none"):
        yield f"identity.type is {show(get(identity, 'type'))}; use SystemAssigned or UserAssigned"


# ---------------------------------------------------------------------------------------------
# I2: no broad privileges


def _denied_managed_policy(arn: Any, ctx: Context) -> str | None:
    """The AWS managed policy name when `arn` is one of the denied ones."""
    if not isinstance(arn, str):
        return None
    head, _, tail = arn.partition(":policy/")
    if not head.startswith("arn:aws") or not head.endswith(":iam::aws"):
        return None
    name = tail.rsplit("/", 1)[-1]
    return name if name in set(ctx["deniedManagedPolicies"]) else None


#: Stand-ins for "every resource" and "every action": IAM matches Resource and Action with
#: wildcards, so ``arn:*``, ``arn:aws:*:*:*:*`` are Resource "*" and ``iam:?*`` or ``i*:*`` grant
#: all of ``iam:*``. A pattern is judged by whether it matches every sample the denied one does.
#: Samples carry an account, so that an account-wide pattern (``arn:aws:*:*:<account>:*``, any
#: resource of the account) counts as every resource once its account id is made a wildcard.
_SAMPLE_ARNS = (
    "arn:aws:iam::111122223333:role/admin",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:ec2:eu-west-1:111122223333:instance/i-0123",
    "arn:aws:kms:eu-west-1:111122223333:key/k",
)
_SAMPLE_ACTIONS = (
    "iam:createuser",
    "iam:attachrolepolicy",
    "iam:passrole",
    "iam:putrolepolicy",
    "iam:createaccesskey",
    "iam:updateassumerolepolicy",
    "ec2:runinstances",
    "s3:getobject",
    "kms:decrypt",
    "sts:assumerole",
    "organizations:leaveorganization",
)


_ACCOUNT_ID = re.compile(r"(?<=:)\d{12}(?=:)")


def _covers_all(pattern: Any, samples: tuple[str, ...]) -> bool:
    if not isinstance(pattern, str):
        return False
    p = pattern.strip().lower()
    return p == "*" or all(fnmatch.fnmatchcase(x, p) for x in samples)


def _denied_action(action: Any, denied: list[str]) -> bool:
    if not isinstance(action, str):
        return False
    a = action.strip().lower()
    if a in denied:
        return True
    for d in denied:
        samples = tuple(x for x in _SAMPLE_ACTIONS if fnmatch.fnmatchcase(x, d))
        if samples and _covers_all(a, samples):
            return True
    return False


def _broad_statements(document: Any, ctx: Context, path: str) -> Iterator[str]:
    try:
        document = parsed_json(document)
    except ValueError:
        yield f"{path} is not valid JSON; cannot verify it grants no broad privileges"
        return
    if not is_map(document):
        yield f"{path} is not a policy document object ({show(document)})"
        return
    denied_actions = [str(a).lower() for a in ctx["deniedActions"]]
    for i, st in enumerate(policy_statements(document)):
        if not is_map(st):
            yield f"{path} Statement[{i}] is not an object ({show(st)})"
            continue
        if text(get(st, "Effect")) != "allow":
            continue
        # NotResource grants every resource but the listed ones: as broad as "*".
        resources = [_ACCOUNT_ID.sub("*", r) if isinstance(r, str) else r for r in as_list(get(st, "Resource"))]
        if not (has_key(st, "NotResource") or any(_covers_all(r, _SAMPLE_ARNS) for r in resources)):
            continue
        if has_key(st, "NotAction"):
            yield f'{path} Statement[{i}] allows NotAction {list(as_list(get(st, "NotAction")))} on Resource "*"; list the actions instead'
            continue
        broad = [str(a) for a in as_list(get(st, "Action")) if _denied_action(a, denied_actions)]
        if broad:
            yield f'{path} Statement[{i}] allows {broad} on Resource "*"; grant only the actions and resources the VM needs'


def check_no_broad_privileges(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type in AWS_POLICY_ATTACHMENTS:
        arn = _ref(props, "policyArn", ctx)
        name = _denied_managed_policy(arn, ctx)
        if name:
            yield f"policyArn attaches the AWS managed policy {name} ({arn}); attach a least-privilege policy instead"
    elif resource_type in AWS_POLICY_ATTACHMENTS_EXCLUSIVE:
        for i, arn in enumerate(as_list(get(props, "policyArns"))):
            name = _denied_managed_policy(arn, ctx)
            if name:
                yield f"policyArns[{i}] attaches the AWS managed policy {name} ({arn}); attach a least-privilege policy instead"
    elif resource_type in AWS_POLICY_DOCUMENTS:
        if not is_set(props, "policy"):
            yield "policy is not set; cannot verify it grants no broad privileges"
            return
        yield from _broad_statements(get(props, "policy"), ctx, "policy")
    elif resource_type == AWS_ROLE:
        for i, arn in enumerate(as_list(get(props, "managedPolicyArns"))):
            name = _denied_managed_policy(arn, ctx)
            if name:
                yield f"managedPolicyArns[{i}] is the AWS managed policy {name}; attach a least-privilege policy instead"
        for i, inline in enumerate(as_list(get(props, "inlinePolicies"))):
            if is_map(inline) and is_set(inline, "policy"):
                yield from _broad_statements(get(inline, "policy"), ctx, f"inlinePolicies[{i}].policy")
    elif resource_type in GCP_VM_TYPES:
        sa = get(props, "serviceAccount")
        if not is_map(sa):
            return  # no service account, no API access; identity-vm-dedicated reports the missing identity
        scopes = [text(s) for s in as_list(get(sa, "scopes"))]
        email = _ref(sa, "email", ctx)
        default = email is None or (isinstance(email, str) and not email.strip()) or _is_default_sa(email, ctx)
        if default and any(s in _SCOPE_CLOUD_PLATFORM for s in scopes):
            yield "the default compute service account has the cloud-platform scope (project Editor); use a dedicated service account"
    elif resource_type in GCP_IAM_MEMBERS + GCP_IAM_BINDINGS:
        role = get(props, "role")
        if isinstance(role, str) and role in set(ctx["deniedRoles"]):
            yield f"role {role} is granted at {resource_type.split(':')[1].split('/')[0]} level; grant a narrower predefined or custom role"
    elif resource_type in GCP_CUSTOM_ROLES:
        denied = {str(p).strip().lower() for p in ctx["deniedPermissions"]}
        bad = [str(p) for p in as_list(get(props, "permissions")) if str(p).strip().lower() in denied]
        if bad:
            yield f"the custom role includes {bad}, which make it as powerful as owner / serviceAccountUser / tokenCreator; drop them"
    elif resource_type in GCP_IAM_POLICIES:
        data = get(props, "policyData")
        try:
            doc = parsed_json(data)
        except ValueError:
            yield "policyData is not valid JSON; cannot verify it grants no broad roles"
            return
        if not is_map(doc):
            yield f"policyData is not a policy object ({show(data)})"
            return
        for i, binding in enumerate(as_list(get(doc, "bindings"))):
            role = get(binding, "role") if is_map(binding) else None
            if isinstance(role, str) and role in set(ctx["deniedRoles"]):
                yield f"policyData bindings[{i}] grants {role}; grant a narrower role"


def check_azure_broad_roles(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type == AZ_ROLE_DEFINITION:
        for i, perm in enumerate(as_list(get(props, "permissions"))):
            actions = [str(a).strip().lower() for a in as_list(get(perm, "actions"))] if is_map(perm) else []
            broad = [a for a in actions if a in _AZ_BROAD_ACTIONS]
            if broad:
                yield f"permissions[{i}].actions {broad} make this custom role as broad as Owner/Contributor/User Access Administrator; list the actions it needs"
        return
    role = _ref(props, "roleDefinitionId", ctx)
    if not isinstance(role, str):
        return
    guid = ref_name(role).lower()
    denied = {str(k).lower(): v for k, v in ctx["deniedRoleDefinitions"].items()}
    if guid in denied:
        yield f"roleDefinitionId is the built-in {denied[guid]} role ({guid}); assign a narrower role"


RULES: list[Rule | StackRule] = [
    Rule(
        name="identity-vm-dedicated",
        description="VMs, launch templates/configurations and instance templates must give VMs a dedicated identity (AWS instance profile, GCP non-default service account), and AWS roles must be assumable only by named principals (no '*', OIDC subject pinned).",
        concern="identities",
        clouds=("aws", "gcp"),
        resource_types=(
            AWS_INSTANCE,
            AWS_SPOT_INSTANCE,
            AWS_SPOT_FLEET,
            AWS_LAUNCH_TEMPLATE,
            AWS_LAUNCH_CONFIGURATION,
            *GCP_VM_TYPES,
            AWS_ROLE,  # the role's trust policy ("trust restricted" in I1)
        ),
        check=check_vm_identity,
        knobs={
            "defaultServiceAccounts": Knob(
                {"type": "array", "items": {"type": "string"}},
                ["*-compute@developer.gserviceaccount.com", "*@appspot.gserviceaccount.com"],
                "e-mail globs of GCP default service accounts that VMs must not use",
            )
        },
        catalogue=("I1",),
        peers=("CKV2_AWS_41", "CKV_GCP_30", "AVD-GCP-0044", "nag:EC2InstanceProfileAttached"),
    ),
    Rule(
        # Advisory: a VM that calls no Azure API needs no identity; a managed identity is the
        # way to give it one without secrets, which is what this nudges towards.
        name="identity-azure-vm-managed-identity",
        description="Azure VMs and scale sets should have a managed identity instead of stored credentials.",
        concern="identities",
        clouds=("azure",),
        resource_types=(AZ_VM, AZ_VMSS),
        check=check_azure_vm_identity,
        level=ADVISORY,
        catalogue=("I1",),
    ),
    Rule(
        name="identity-no-broad-privileges",
        description="Identities must not get admin-level privileges (AWS AdministratorAccess or Allow */*, GCP owner/editor/SA impersonation at project level, cloud-platform scope on the default SA).",
        concern="identities",
        clouds=("aws", "gcp"),
        resource_types=(
            *AWS_POLICY_ATTACHMENTS,
            *AWS_POLICY_ATTACHMENTS_EXCLUSIVE,
            *AWS_POLICY_DOCUMENTS,
            AWS_ROLE,
            *GCP_VM_TYPES,
            *GCP_IAM_MEMBERS,
            *GCP_IAM_BINDINGS,
            *GCP_IAM_POLICIES,
            *GCP_CUSTOM_ROLES,
        ),
        check=check_no_broad_privileges,
        knobs={
            "deniedManagedPolicies": Knob(
                {"type": "array", "items": {"type": "string"}},
                ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"],
                "AWS managed policy names that must not be attached",
            ),
            "deniedActions": Knob(
                {"type": "array", "items": {"type": "string"}},
                ["*", "*:*", "iam:*"],
                'IAM actions that must not be allowed on Resource "*"',
            ),
            "deniedRoles": Knob(
                {"type": "array", "items": {"type": "string"}},
                ["roles/owner", "roles/editor", "roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator"],
                "GCP roles that must not be granted at project/folder/organization level",
            ),
            "defaultServiceAccounts": Knob(
                {"type": "array", "items": {"type": "string"}},
                ["*-compute@developer.gserviceaccount.com", "*@appspot.gserviceaccount.com"],
                "e-mail globs of GCP default service accounts",
            ),
            "deniedPermissions": Knob(
                {"type": "array", "items": {"type": "string"}},
                [
                    "resourcemanager.projects.setIamPolicy",
                    "resourcemanager.folders.setIamPolicy",
                    "resourcemanager.organizations.setIamPolicy",
                    "iam.serviceAccounts.actAs",
                    "iam.serviceAccounts.getAccessToken",
                    "iam.serviceAccounts.implicitDelegation",
                    "iam.serviceAccountKeys.create",
                ],
                "GCP permissions a custom role must not include (they grant what the denied roles grant)",
            ),
        },
        catalogue=("I2",),
        peers=(
            "CKV_AWS_274",
            "CKV_AWS_62",
            "CKV_AWS_63",
            "CKV_AWS_355",
            "CKV2_AWS_56",
            "CKV_GCP_31",
            "CKV_GCP_41",
            "CKV_GCP_42",
            "CKV_GCP_49",
            "CKV_GCP_117",
            "AVD-AWS-0057",
            "AVD-GCP-0007",
            "AwsSolutions-IAM4",
            "AwsSolutions-IAM5",
        ),
    ),
    Rule(
        # Advisory: Owner/Contributor on a narrow scope (one resource) can be legitimate, and the
        # assignment's scope is often an output we cannot judge.
        name="identity-azure-no-broad-roles",
        description="Azure role assignments should not grant Owner, Contributor or User Access Administrator.",
        concern="identities",
        clouds=("azure",),
        resource_types=(AZ_ROLE_ASSIGNMENT, AZ_ROLE_DEFINITION),
        check=check_azure_broad_roles,
        level=ADVISORY,
        knobs={
            "deniedRoleDefinitions": Knob(
                {"type": "object", "additionalProperties": {"type": "string"}},
                {
                    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
                    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
                    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
                },
                "built-in role definition GUIDs (-> display name) that must not be assigned",
            )
        },
        catalogue=("I2",),
    ),
]
