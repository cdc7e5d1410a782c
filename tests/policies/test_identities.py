"""I1-I2: dedicated VM identities and no broad privileges."""

from __future__ import annotations

import json

import pytest

from policies.framework import ADVISORY, MANDATORY
from tests.policies.support import UNKNOWN_STRING_VALUE, UnknownValueError, rule, violations

DEDICATED = "identity-vm-dedicated"
AZ_IDENTITY = "identity-azure-vm-managed-identity"
BROAD = "identity-no-broad-privileges"
AZ_ROLES = "identity-azure-no-broad-roles"

AWS_INSTANCE = "aws:ec2/instance:Instance"
AWS_LT = "aws:ec2/launchTemplate:LaunchTemplate"
AWS_LC = "aws:ec2/launchConfiguration:LaunchConfiguration"
GCP_REGION_TEMPLATE = "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate"
GCP_INSTANCE = "gcp:compute/instance:Instance"
GCP_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
AZ_VM = "azure-native:compute:VirtualMachine"
AZ_VMSS = "azure-native:compute:VirtualMachineScaleSet"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
GCP_MEMBER = "gcp:projects/iAMMember:IAMMember"
GCP_BINDING = "gcp:projects/iAMBinding:IAMBinding"
GCP_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"

SA = "appstack-vm@my-project.iam.gserviceaccount.com"
DEFAULT_SA = "123456789-compute@developer.gserviceaccount.com"
GCE = {"machineType": "e2-small", "serviceAccount": {"email": SA, "scopes": ["cloud-platform"]}}
EC2 = {"ami": "ami-1", "iamInstanceProfile": "appstack-vm-profile"}
LT = {"imageId": "ami-1", "iamInstanceProfile": {"name": "appstack-vm-profile"}}
SSM_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


LEAST = doc(
    {
        "Effect": "Allow",
        "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
        "Resource": "arn:aws:logs:eu-west-1:1:log-group:app:*",
    }
)


def test_levels_and_catalogue():
    assert rule(DEDICATED).level == MANDATORY and rule(DEDICATED).catalogue == ("I1",)
    assert rule(BROAD).level == MANDATORY and rule(BROAD).catalogue == ("I2",)
    assert rule(AZ_IDENTITY).level == ADVISORY and rule(AZ_ROLES).level == ADVISORY


# ---------------------------------------------------------------------------------------------
# I1


@pytest.mark.parametrize(
    "type_,props",
    [
        (AWS_INSTANCE, EC2),
        (AWS_INSTANCE, {"ami": "ami-1", "iamInstanceProfile": UNKNOWN_STRING_VALUE}),  # profile of this stack
        (AWS_LT, LT),
        (AWS_LT, {"iamInstanceProfile": {"arn": UNKNOWN_STRING_VALUE}}),
        (GCP_INSTANCE, GCE),
        (AWS_LC, {"imageId": "ami-1", "iamInstanceProfile": "appstack-vm-profile"}),
        (GCP_TEMPLATE, GCE),
        (GCP_REGION_TEMPLATE, GCE),
        (GCP_INSTANCE, {"serviceAccount": {"email": UNKNOWN_STRING_VALUE, "scopes": ["cloud-platform"]}}),
    ],
)
def test_passes_when_vm_has_dedicated_identity(type_, props):
    assert violations(DEDICATED, type_, props) == []


@pytest.mark.parametrize(
    "type_,props,needle",
    [
        (AWS_INSTANCE, {"ami": "ami-1"}, "iamInstanceProfile is not set"),
        (AWS_INSTANCE, {"ami": "ami-1", "iamInstanceProfile": ""}, "iamInstanceProfile is not set"),
        (AWS_LT, {"imageId": "ami-1"}, "iamInstanceProfile (arn or name) is not set"),
        (AWS_LT, {"iamInstanceProfile": "profile"}, "iamInstanceProfile (arn or name) is not set"),
        (AWS_LC, {"imageId": "ami-1"}, "iamInstanceProfile is not set"),
        (GCP_REGION_TEMPLATE, {"serviceAccount": {"email": DEFAULT_SA}}, DEFAULT_SA),
        (GCP_INSTANCE, {"machineType": "e2-small"}, "serviceAccount is not set"),
        (GCP_INSTANCE, {"serviceAccount": {"scopes": ["cloud-platform"]}}, "email is not set"),
        (GCP_INSTANCE, {"serviceAccount": {"email": DEFAULT_SA}}, DEFAULT_SA),
        (GCP_TEMPLATE, {"serviceAccount": {"email": "my-project@appspot.gserviceaccount.com"}}, "appspot"),
        (GCP_TEMPLATE, {"serviceAccount": [SA]}, "not an object"),
        (GCP_INSTANCE, {"serviceAccount": {"email": 42}}, "not a string"),
    ],
)
def test_fails_when_vm_lacks_dedicated_identity(type_, props, needle):
    msgs = violations(DEDICATED, type_, props)
    assert len(msgs) == 1 and needle in msgs[0], msgs


def test_unknown_sa_email_passes_in_preview_but_fails_closed_on_up():
    props = {"serviceAccount": {"email": UNKNOWN_STRING_VALUE}}
    assert violations(DEDICATED, GCP_INSTANCE, props, dry_run=True) == []
    assert "unknown" in violations(DEDICATED, GCP_INSTANCE, props, dry_run=False)[0]


def test_unknown_profile_object_raises_in_preview():
    with pytest.raises(UnknownValueError):
        violations(DEDICATED, AWS_LT, {"iamInstanceProfile": "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"})


@pytest.mark.parametrize("type_", [AZ_VM, AZ_VMSS])
def test_azure_managed_identity(type_):
    assert violations(AZ_IDENTITY, type_, {"identity": {"type": "SystemAssigned"}}) == []
    assert "not set" in violations(AZ_IDENTITY, type_, {})[0]
    assert "'None'" in violations(AZ_IDENTITY, type_, {"identity": {"type": "None"}})[0]
    assert "a list" in violations(AZ_IDENTITY, type_, {"identity": ["SystemAssigned"]})[0]


# ---------------------------------------------------------------------------------------------
# I2


@pytest.mark.parametrize(
    "type_,props",
    [
        (ATTACH, {"role": "vm-role", "policyArn": SSM_ARN}),
        (ATTACH, {"role": "vm-role", "policyArn": "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"}),
        (
            ATTACH,
            {"role": "vm-role", "policyArn": "arn:aws:iam::123456789012:policy/AdministratorAccess"},
        ),  # customer policy, checked by document
        (ATTACH, {"role": "vm-role", "policyArn": UNKNOWN_STRING_VALUE}),  # policy of this stack (preview)
        (ROLE_POLICY, {"role": "vm-role", "policy": LEAST}),
        (POLICY, {"policy": doc({"Effect": "Deny", "Action": "*", "Resource": "*"})}),
        (POLICY, {"policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})}),
        (
            ROLE,
            {
                "assumeRolePolicy": "{}",
                "inlinePolicies": [{"name": "logs", "policy": LEAST}],
                "managedPolicyArns": [SSM_ARN],
            },
        ),
        (GCP_INSTANCE, GCE),  # cloud-platform scope on a dedicated SA is the recommended setup
        (GCP_MEMBER, {"project": "p", "role": "roles/logging.logWriter", "member": f"serviceAccount:{SA}"}),
        (GCP_BINDING, {"project": "p", "role": "roles/monitoring.metricWriter", "members": [f"serviceAccount:{SA}"]}),
        (
            GCP_POLICY,
            {
                "project": "p",
                "policyData": json.dumps({"bindings": [{"role": "roles/viewer", "members": ["group:x"]}]}),
            },
        ),
    ],
)
def test_passes_when_privileges_narrow(type_, props):
    assert violations(BROAD, type_, props) == []


@pytest.mark.parametrize(
    "type_,props,needle",
    [
        (ATTACH, {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, "AdministratorAccess"),
        (ATTACH, {"role": "r", "policyArn": "arn:aws-us-gov:iam::aws:policy/PowerUserAccess"}, "PowerUserAccess"),
        (
            "aws:iam/userPolicyAttachment:UserPolicyAttachment",
            {"user": "u", "policyArn": "arn:aws:iam::aws:policy/IAMFullAccess"},
            "IAMFullAccess",
        ),
        (
            ROLE_POLICY,
            {"role": "r", "policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
            "allows ['*']",
        ),
        (POLICY, {"policy": doc({"Effect": "Allow", "Action": ["s3:*", "*:*"], "Resource": ["*"]})}, "allows ['*:*']"),
        (POLICY, {"policy": doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})}, "allows ['iam:*']"),
        (POLICY, {"policy": doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})}, "NotAction"),
        (POLICY, {"policy": "{not json"}, "not valid JSON"),
        (POLICY, {"policy": json.dumps(["Statement"])}, "not a policy document"),
        (POLICY, {"policy": doc("Allow *")}, "Statement[0] is not an object"),
        (POLICY, {}, "policy is not set"),
        (ROLE, {"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}, "managedPolicyArns[0]"),
        (
            ROLE,
            {"inlinePolicies": [{"name": "x", "policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})}]},
            "inlinePolicies[0].policy",
        ),
        (GCP_INSTANCE, {"serviceAccount": {"email": DEFAULT_SA, "scopes": ["cloud-platform"]}}, "cloud-platform scope"),
        (
            GCP_TEMPLATE,
            {"serviceAccount": {"scopes": ["https://www.googleapis.com/auth/cloud-platform"]}},
            "cloud-platform scope",
        ),
        (GCP_MEMBER, {"project": "p", "role": "roles/owner", "member": "user:a@example.com"}, "roles/owner"),
        (
            GCP_MEMBER,
            {"project": "p", "role": "roles/iam.serviceAccountUser", "member": f"serviceAccount:{SA}"},
            "serviceAccountUser",
        ),
        (GCP_BINDING, {"project": "p", "role": "roles/editor", "members": ["group:dev@example.com"]}, "roles/editor"),
        (
            "gcp:folder/iAMMember:IAMMember",
            {"folder": "f", "role": "roles/iam.serviceAccountTokenCreator", "member": "x"},
            "TokenCreator",
        ),
        (
            GCP_POLICY,
            {"policyData": json.dumps({"bindings": [{"role": "roles/owner", "members": ["user:a"]}]})},
            "bindings[0] grants roles/owner",
        ),
        (GCP_POLICY, {"policyData": "{"}, "not valid JSON"),
    ],
)
def test_fails_when_privileges_broad(type_, props, needle):
    msgs = violations(BROAD, type_, props)
    assert len(msgs) == 1 and needle in msgs[0], msgs


def test_knobs_change_the_deny_lists():
    props = {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}
    assert violations(BROAD, ATTACH, props) == []
    assert violations(BROAD, ATTACH, props, config={"deniedManagedPolicies": ["AmazonS3FullAccess"]})
    member = {"project": "p", "role": "roles/iam.serviceAccountUser", "member": "x"}
    assert violations(BROAD, GCP_MEMBER, member, config={"deniedRoles": ["roles/owner"]}) == []


def test_unknown_policy_document_raises_in_preview_and_fails_on_up():
    props = {"role": "r", "policy": UNKNOWN_STRING_VALUE}
    with pytest.raises(UnknownValueError):
        violations(BROAD, ROLE_POLICY, props)
    assert "unknown" in violations(BROAD, ROLE_POLICY, props, dry_run=False)[0]


def test_unknown_policy_arn_fails_closed_on_up():
    assert "unknown" in violations(BROAD, ATTACH, {"role": "r", "policyArn": UNKNOWN_STRING_VALUE}, dry_run=False)[0]


@pytest.mark.parametrize(
    "role_id,needle",
    [
        (
            "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            "Owner",
        ),
        ("/providers/Microsoft.Authorization/roleDefinitions/B24988AC-6180-42A0-AB88-20F7382DD24C", "Contributor"),
        (
            "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
            "User Access Administrator",
        ),
    ],
)
def test_fails_when_azure_role_is_broad(role_id, needle):
    msgs = violations(
        AZ_ROLES, ROLE_ASSIGNMENT, {"principalId": "p", "scope": "/subscriptions/s", "roleDefinitionId": role_id}
    )
    assert len(msgs) == 1 and needle in msgs[0]


def test_passes_when_azure_role_is_narrow():
    # Key Vault Crypto Service Encryption User
    role_id = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
    assert violations(AZ_ROLES, ROLE_ASSIGNMENT, {"principalId": "p", "scope": "x", "roleDefinitionId": role_id}) == []


SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"


def test_spot_fleet_launch_specifications_need_an_instance_profile():
    base = {
        "iamFleetRole": "r",
        "targetCapacity": 1,
        "launchSpecifications": [{"ami": "a", "iamInstanceProfileArn": "arn:aws:iam::1:instance-profile/app"}],
    }
    assert violations("identity-vm-dedicated", SPOT_FLEET, base) == []
    bare = {**base, "launchSpecifications": [{"ami": "a"}]}
    found = violations("identity-vm-dedicated", SPOT_FLEET, bare)
    assert len(found) == 1 and "launchSpecifications[0]" in found[0]
