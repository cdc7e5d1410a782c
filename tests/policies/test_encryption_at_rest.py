"""Tests for policies/rules/encryption_at_rest.py: compliant baselines plus one mutation per case."""

from __future__ import annotations

import json

import pytest

from policies.framework import ADVISORY, MANDATORY
from tests.policies.support import (
    DEL,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    mutate,
    reported_name,
    rule,
    stack_violations,
    violations,
)

KEY = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-aaaa-bbbb-cccc-123456789012"


# --- compliant baselines, as the hardened stack builds them --------------------------------------

INSTANCE = "aws:ec2/instance:Instance"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
LC = "aws:ec2/launchConfiguration:LaunchConfiguration"
VOLUME = "aws:ebs/volume:Volume"

AWS_INSTANCE = {
    "ami": "ami-0123456789abcdef0",
    "instanceType": "t3.small",
    "rootBlockDevice": {"volumeType": "gp3", "volumeSize": 20, "encrypted": True, "kmsKeyId": KEY},
    "ebsBlockDevices": [
        {"deviceName": "/dev/sdf", "volumeType": "gp3", "volumeSize": 50, "encrypted": True, "kmsKeyId": KEY}
    ],
    "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
}
AWS_LT = {
    "imageId": "ami-0123456789abcdef0",
    "blockDeviceMappings": [
        {
            "deviceName": "/dev/xvda",
            "ebs": {
                "volumeType": "gp3",
                "volumeSize": 20,
                "encrypted": "true",
                "kmsKeyId": KEY,
                "deleteOnTermination": "true",
            },
        },
        {"deviceName": "/dev/sdb", "virtualName": "ephemeral0"},
    ],
}
AWS_LC = {
    "imageId": "ami-0123456789abcdef0",
    "instanceType": "t3.small",
    "rootBlockDevice": {"volumeType": "gp3", "encrypted": True},
}
AWS_VOLUME = {"availabilityZone": "eu-west-1a", "size": 50, "type": "gp3", "encrypted": True, "kmsKeyId": KEY}

AZ_VM = "azure-native:compute:VirtualMachine"
AZ_VMSS = "azure-native:compute:VirtualMachineScaleSet"
AZ_DISK = "azure-native:compute:Disk"
DES = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/des"
AZURE_VM = {
    "resourceGroupName": "rg",
    "securityProfile": {"encryptionAtHost": True, "securityType": "TrustedLaunch"},
    "storageProfile": {
        "osDisk": {
            "createOption": "FromImage",
            "managedDisk": {"storageAccountType": "Premium_LRS", "diskEncryptionSet": {"id": DES}},
        },
        "dataDisks": [
            {"lun": 0, "createOption": "Empty", "diskSizeGB": 64, "managedDisk": {"diskEncryptionSet": {"id": DES}}}
        ],
    },
}
AZURE_VMSS = {
    "resourceGroupName": "rg",
    "virtualMachineProfile": {
        "securityProfile": {"encryptionAtHost": True},
        "storageProfile": {"osDisk": {"createOption": "FromImage", "managedDisk": {"diskEncryptionSet": {"id": DES}}}},
    },
}
AZURE_DISK = {
    "resourceGroupName": "rg",
    "creationData": {"createOption": "Empty"},
    "diskSizeGB": 64,
    "encryption": {"diskEncryptionSetId": DES, "type": "EncryptionAtRestWithCustomerKey"},
}

GCP_INSTANCE = "gcp:compute/instance:Instance"
GCP_DISK = "gcp:compute/disk:Disk"
GCP_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
CMEK = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/disk"
GCP_VM = {
    "machineType": "e2-small",
    "bootDisk": {"initializeParams": {"image": "debian-cloud/debian-12"}, "kmsKeySelfLink": CMEK},
    "attachedDisks": [{"source": "projects/p/zones/z/disks/data", "kmsKeySelfLink": CMEK}],
    "networkInterfaces": [{"subnetwork": "app"}],
}
GCP_PD = {"zone": "europe-west1-b", "size": 50, "diskEncryptionKey": {"kmsKeySelfLink": CMEK}}
GCP_IT = {
    "machineType": "e2-small",
    "disks": [
        {"boot": True, "sourceImage": "debian-cloud/debian-12", "diskEncryptionKey": {"kmsKeySelfLink": CMEK}},
        {"type": "SCRATCH", "diskType": "local-ssd", "interface": "NVME"},
    ],
}

EBS = "encryption-aws-ebs-encrypted"
EBS_CMK = "encryption-aws-ebs-customer-managed-key"
AZ_HOST = "encryption-azure-encryption-at-host"
AZ_CMK = "encryption-azure-disk-customer-managed-key"
GCP_CMEK = "encryption-gcp-disk-customer-managed-key"


@pytest.mark.parametrize(
    "name, type_, props",
    [
        (EBS, INSTANCE, AWS_INSTANCE),
        (EBS, LT, AWS_LT),
        (EBS, LC, AWS_LC),
        (EBS, VOLUME, AWS_VOLUME),
        (EBS_CMK, INSTANCE, AWS_INSTANCE),
        (EBS_CMK, LT, AWS_LT),
        (EBS_CMK, VOLUME, AWS_VOLUME),
        (AZ_HOST, AZ_VM, AZURE_VM),
        (AZ_HOST, AZ_VMSS, AZURE_VMSS),
        (AZ_CMK, AZ_VM, AZURE_VM),
        (AZ_CMK, AZ_VMSS, AZURE_VMSS),
        (AZ_CMK, AZ_DISK, AZURE_DISK),
        (GCP_CMEK, GCP_INSTANCE, GCP_VM),
        (GCP_CMEK, GCP_DISK, GCP_PD),
        (GCP_CMEK, "gcp:compute/regionDisk:RegionDisk", GCP_PD),
        (GCP_CMEK, GCP_TEMPLATE, GCP_IT),
        (GCP_CMEK, "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate", GCP_IT),
    ],
)
def test_passes_when_baseline_is_compliant(name, type_, props):
    assert violations(name, type_, props) == []


def test_levels():
    for name in (
        EBS,
        EBS_CMK,
        AZ_HOST,
        AZ_CMK,
        GCP_CMEK,
        "encryption-aws-log-group-kms",
        "encryption-aws-sns-topic-kms",
        "encryption-s3-public-access-block",
        "encryption-s3-default-encryption",
        "encryption-s3-tls-only-policy",
        "encryption-s3-bucket-hardened",
        "encryption-gcs-bucket-hardened",
    ):
        assert rule(name).level == MANDATORY, name
    assert rule("encryption-gcp-log-bucket-cmek").level == ADVISORY


# --- E1/E2 AWS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(
            INSTANCE,
            AWS_INSTANCE,
            ("rootBlockDevice", "encrypted"),
            False,
            "rootBlockDevice.encrypted is False",
            id="root_encrypted_false",
        ),
        pytest.param(
            INSTANCE,
            AWS_INSTANCE,
            ("rootBlockDevice", "encrypted"),
            DEL,
            "rootBlockDevice.encrypted is not set",
            id="root_encrypted_missing",
        ),
        pytest.param(
            INSTANCE, AWS_INSTANCE, ("rootBlockDevice",), DEL, "no rootBlockDevice", id="no_root_block_device"
        ),
        pytest.param(
            INSTANCE,
            AWS_INSTANCE,
            ("rootBlockDevice",),
            "gp3",
            "'gp3', not an object",
            id="root_block_device_malformed",
        ),
        pytest.param(
            INSTANCE,
            AWS_INSTANCE,
            ("ebsBlockDevices", 0, "encrypted"),
            DEL,
            "ebsBlockDevices[0].encrypted is not set",
            id="extra_volume_unencrypted",
        ),
        pytest.param(
            INSTANCE, AWS_INSTANCE, ("ebsBlockDevices",), "/dev/sdf", "not a list", id="ebs_block_devices_is_string"
        ),
        pytest.param(
            LT,
            AWS_LT,
            ("blockDeviceMappings", 0, "ebs", "encrypted"),
            "false",
            "encrypted is 'false'",
            id="launch_template_encrypted_is_string_false",
        ),
        pytest.param(
            LT,
            AWS_LT,
            ("blockDeviceMappings", 0, "ebs", "encrypted"),
            DEL,
            "ebs.encrypted is not set",
            id="launch_template_encrypted_missing",
        ),
        pytest.param(
            LT,
            AWS_LT,
            ("blockDeviceMappings", 0, "ebs", "encrypted"),
            "yes",
            "encrypted is 'yes'",
            id="launch_template_encrypted_garbage",
        ),
        pytest.param(
            LT,
            AWS_LT,
            ("blockDeviceMappings",),
            DEL,
            "no blockDeviceMappings with ebs",
            id="launch_template_without_mappings",
        ),
        pytest.param(
            LT, AWS_LT, ("blockDeviceMappings",), "xvda", "not a list", id="launch_template_mappings_malformed"
        ),
        pytest.param(
            LC,
            AWS_LC,
            ("rootBlockDevice", "encrypted"),
            False,
            "encrypted is False",
            id="launch_configuration_unencrypted",
        ),
        pytest.param(VOLUME, AWS_VOLUME, ("encrypted",), False, "encrypted is False", id="volume_encrypted_false"),
        pytest.param(VOLUME, AWS_VOLUME, ("encrypted",), DEL, "encrypted is not set", id="volume_encrypted_missing"),
    ],
)
def test_fails_when_ebs_unencrypted(type_, base, path, value, expect):
    msgs = violations(EBS, type_, mutate(base, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


def test_passes_when_account_default_encryption_covers_missing_flag():
    props = mutate(AWS_INSTANCE, ("rootBlockDevice", "encrypted"), DEL)
    assert violations(EBS, INSTANCE, props, config={"accountDefaultEncryption": True}) == []
    assert (
        violations(
            EBS, INSTANCE, mutate(AWS_INSTANCE, ("rootBlockDevice",), DEL), config={"accountDefaultEncryption": True}
        )
        == []
    )


def test_fails_when_explicit_false_even_with_account_default():
    props = mutate(AWS_LT, ("blockDeviceMappings", 0, "ebs", "encrypted"), "false")
    assert violations(EBS, LT, props, config={"accountDefaultEncryption": True})


def test_passes_when_instance_takes_root_volume_from_launch_template():
    props = mutate(AWS_INSTANCE, ("rootBlockDevice",), DEL)
    props["launchTemplate"] = {"id": "lt-123", "version": "$Latest"}
    assert violations(EBS, INSTANCE, props) == []
    assert violations(EBS_CMK, INSTANCE, props) == []


def test_launch_configuration_cannot_name_a_customer_managed_key():
    # Its block devices have no kmsKeyId: with CMKs required it fails; without, only encryption counts.
    msgs = violations(EBS_CMK, LC, AWS_LC)
    assert len(msgs) == 1 and "launch template" in msgs[0] and "kmsKeyId" in msgs[0]
    assert violations(EBS_CMK, LC, AWS_LC, config={"requireCustomerManagedKeys": False}) == []
    assert violations(EBS, LC, AWS_LC) == []


def test_unknown_encrypted_raises_in_preview_and_fails_on_up():
    props = mutate(AWS_INSTANCE, ("rootBlockDevice", "encrypted"), UNKNOWN_BOOLEAN_VALUE)
    with pytest.raises(UnknownValueError):
        violations(EBS, INSTANCE, props)
    msgs = violations(EBS, INSTANCE, props, dry_run=False)
    assert len(msgs) == 1 and "unknown" in msgs[0]


# --- E3 AWS --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(
            INSTANCE,
            AWS_INSTANCE,
            ("rootBlockDevice", "kmsKeyId"),
            DEL,
            "rootBlockDevice has no kmsKeyId",
            id="root_without_cmk",
        ),
        pytest.param(
            INSTANCE,
            AWS_INSTANCE,
            ("rootBlockDevice", "kmsKeyId"),
            "alias/aws/ebs",
            "'alias/aws/ebs'",
            id="root_with_aws_managed_alias",
        ),
        pytest.param(
            INSTANCE, AWS_INSTANCE, ("rootBlockDevice",), DEL, "no rootBlockDevice", id="no_root_block_device"
        ),
        pytest.param(
            INSTANCE,
            AWS_INSTANCE,
            ("ebsBlockDevices", 0, "kmsKeyId"),
            "",
            "ebsBlockDevices[0] has no kmsKeyId",
            id="extra_volume_without_cmk",
        ),
        pytest.param(
            LT,
            AWS_LT,
            ("blockDeviceMappings", 0, "ebs", "kmsKeyId"),
            DEL,
            "blockDeviceMappings[0].ebs has no kmsKeyId",
            id="launch_template_without_cmk",
        ),
        pytest.param(
            LT,
            AWS_LT,
            ("blockDeviceMappings",),
            [],
            "no blockDeviceMappings with ebs",
            id="launch_template_without_mappings",
        ),
        pytest.param(VOLUME, AWS_VOLUME, ("kmsKeyId",), DEL, "has no kmsKeyId", id="volume_without_cmk"),
        pytest.param(
            VOLUME,
            AWS_VOLUME,
            ("kmsKeyId",),
            "arn:aws:kms:eu-west-1:111122223333:alias/aws/ebs",
            "AWS-managed",
            id="volume_with_aws_managed_alias_arn",
        ),
    ],
)
def test_fails_when_ebs_has_no_customer_managed_key(type_, base, path, value, expect):
    msgs = violations(EBS_CMK, type_, mutate(base, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


def test_passes_when_cmk_not_required():
    props = mutate(AWS_VOLUME, ("kmsKeyId",), DEL)
    assert violations(EBS_CMK, VOLUME, props, config={"requireCustomerManagedKeys": False}) == []


def test_unknown_kms_key_raises_in_preview():
    props = mutate(AWS_VOLUME, ("kmsKeyId",), UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        violations(EBS_CMK, VOLUME, props)
    assert violations(EBS_CMK, VOLUME, props, dry_run=False)


# --- Azure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(
            AZ_VM,
            AZURE_VM,
            ("securityProfile", "encryptionAtHost"),
            False,
            "encryptionAtHost is False",
            id="vm_encryption_at_host_false",
        ),
        pytest.param(
            AZ_VM, AZURE_VM, ("securityProfile",), DEL, "encryptionAtHost is None", id="vm_security_profile_missing"
        ),
        pytest.param(
            AZ_VM,
            AZURE_VM,
            ("securityProfile",),
            "TrustedLaunch",
            "encryptionAtHost is None",
            id="vm_security_profile_malformed",
        ),
        pytest.param(
            AZ_VMSS,
            AZURE_VMSS,
            ("virtualMachineProfile", "securityProfile", "encryptionAtHost"),
            DEL,
            "encryptionAtHost is None",
            id="vmss_encryption_at_host_missing",
        ),
    ],
)
def test_fails_when_azure_encryption_at_host_off(type_, base, path, value, expect):
    msgs = violations(AZ_HOST, type_, mutate(base, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(
            AZ_VM,
            AZURE_VM,
            ("storageProfile", "osDisk", "managedDisk", "diskEncryptionSet"),
            DEL,
            "osDisk.managedDisk.diskEncryptionSet.id is not set",
            id="os_disk_without_des",
        ),
        pytest.param(
            AZ_VM,
            AZURE_VM,
            ("storageProfile", "dataDisks", 0, "managedDisk"),
            DEL,
            "dataDisks[0].managedDisk.diskEncryptionSet.id",
            id="data_disk_without_des",
        ),
        pytest.param(AZ_VM, AZURE_VM, ("storageProfile",), DEL, "storageProfile is None", id="storage_profile_missing"),
        pytest.param(
            AZ_VM, AZURE_VM, ("storageProfile", "dataDisks"), "disk0", "not a list", id="data_disks_malformed"
        ),
        pytest.param(
            AZ_VMSS,
            AZURE_VMSS,
            ("virtualMachineProfile", "storageProfile", "osDisk", "managedDisk"),
            {},
            "osDisk.managedDisk.diskEncryptionSet.id is not set",
            id="vmss_os_disk_without_des",
        ),
        pytest.param(AZ_DISK, AZURE_DISK, ("encryption",), DEL, "encryption is None", id="disk_encryption_missing"),
        pytest.param(
            AZ_DISK,
            AZURE_DISK,
            ("encryption", "diskEncryptionSetId"),
            DEL,
            "diskEncryptionSetId is not set",
            id="disk_without_des",
        ),
        pytest.param(
            AZ_DISK,
            AZURE_DISK,
            ("encryption", "type"),
            "EncryptionAtRestWithPlatformKey",
            "'EncryptionAtRestWithPlatformKey'",
            id="disk_platform_key",
        ),
    ],
)
def test_fails_when_azure_disk_has_no_customer_managed_key(type_, base, path, value, expect):
    msgs = violations(AZ_CMK, type_, mutate(base, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


def test_passes_when_azure_data_disk_is_attached_existing_disk():
    props = mutate(
        AZURE_VM,
        ("storageProfile", "dataDisks", 0),
        {"lun": 0, "createOption": "Attach", "managedDisk": {"id": "/subscriptions/s/disks/d"}},
    )
    assert violations(AZ_CMK, AZ_VM, props) == []


def test_unknown_des_raises_in_preview():
    props = mutate(AZURE_DISK, ("encryption", "diskEncryptionSetId"), UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        violations(AZ_CMK, AZ_DISK, props)


# --- GCP -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, base, path, value, expect",
    [
        pytest.param(
            GCP_INSTANCE,
            GCP_VM,
            ("bootDisk", "kmsKeySelfLink"),
            DEL,
            "bootDisk has no kmsKeySelfLink",
            id="boot_disk_google_managed",
        ),
        pytest.param(
            GCP_INSTANCE, GCP_VM, ("bootDisk",), DEL, "bootDisk has no kmsKeySelfLink", id="boot_disk_missing"
        ),
        pytest.param(
            GCP_INSTANCE,
            GCP_VM,
            ("attachedDisks", 0, "kmsKeySelfLink"),
            DEL,
            "attachedDisks[0] has no kmsKeySelfLink",
            id="attached_disk_google_managed",
        ),
        pytest.param(GCP_INSTANCE, GCP_VM, ("attachedDisks",), "data", "not a list", id="attached_disks_malformed"),
        pytest.param(
            GCP_DISK, GCP_PD, ("diskEncryptionKey",), DEL, "diskEncryptionKey is None", id="disk_google_managed"
        ),
        pytest.param(
            GCP_TEMPLATE,
            GCP_IT,
            ("disks", 0, "diskEncryptionKey"),
            DEL,
            "disks[0].diskEncryptionKey.kmsKeySelfLink",
            id="template_disk_google_managed",
        ),
        pytest.param(GCP_TEMPLATE, GCP_IT, ("disks",), [], "no disks", id="template_without_disks"),
        pytest.param(GCP_TEMPLATE, GCP_IT, ("disks",), "boot", "not a list", id="template_disks_malformed"),
    ],
)
def test_fails_when_gcp_disk_has_no_cmek(type_, base, path, value, expect):
    msgs = violations(GCP_CMEK, type_, mutate(base, path, value))
    assert msgs and any(expect in m for m in msgs), msgs


def test_passes_when_gcp_disk_uses_customer_supplied_key():
    props = mutate(GCP_VM, ("bootDisk", "kmsKeySelfLink"), DEL)
    props["bootDisk"]["diskEncryptionKeyRaw"] = "c2VjcmV0"
    assert violations(GCP_CMEK, GCP_INSTANCE, props) == []


def test_passes_when_gcp_cmek_not_required():
    props = mutate(GCP_VM, ("bootDisk", "kmsKeySelfLink"), DEL)
    assert violations(GCP_CMEK, GCP_INSTANCE, props, config={"requireCustomerManagedKeys": False}) == []


def test_unknown_gcp_key_raises_in_preview():
    props = mutate(GCP_PD, ("diskEncryptionKey", "kmsKeySelfLink"), UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        violations(GCP_CMEK, GCP_DISK, props)
    assert violations(GCP_CMEK, GCP_DISK, props, dry_run=False)


# --- E4/E5 ---------------------------------------------------------------------------------------

LOG_GROUP = {"name": "/appstack/app", "retentionInDays": 365, "kmsKeyId": KEY}
TOPIC = {"name": "appstack-alerts", "kmsMasterKeyId": KEY}
GCP_LOG_BUCKET = {
    "project": "p",
    "location": "global",
    "bucketId": "appstack",
    "retentionDays": 30,
    "cmekSettings": {"kmsKeyName": CMEK},
}


def test_log_group_and_topic_baselines_pass():
    assert violations("encryption-aws-log-group-kms", "aws:cloudwatch/logGroup:LogGroup", LOG_GROUP) == []
    assert violations("encryption-aws-sns-topic-kms", "aws:sns/topic:Topic", TOPIC) == []
    assert (
        violations(
            "encryption-gcp-log-bucket-cmek", "gcp:logging/projectBucketConfig:ProjectBucketConfig", GCP_LOG_BUCKET
        )
        == []
    )


def test_fails_when_log_group_has_no_kms_key():
    msgs = violations(
        "encryption-aws-log-group-kms", "aws:cloudwatch/logGroup:LogGroup", mutate(LOG_GROUP, ("kmsKeyId",), DEL)
    )
    assert msgs and "kmsKeyId is None" in msgs[0]


def test_unknown_log_group_key_raises_in_preview():
    with pytest.raises(UnknownValueError):
        violations(
            "encryption-aws-log-group-kms",
            "aws:cloudwatch/logGroup:LogGroup",
            mutate(LOG_GROUP, ("kmsKeyId",), UNKNOWN_STRING_VALUE),
        )


@pytest.mark.parametrize(
    "value, expect",
    [
        pytest.param(DEL, "kmsMasterKeyId is None", id="topic_unencrypted"),
        pytest.param("", "kmsMasterKeyId is ''", id="topic_empty_key"),
        pytest.param("alias/aws/sns", "'alias/aws/sns'", id="topic_aws_managed_key"),
    ],
)
def test_fails_when_topic_not_encrypted_with_cmk(value, expect):
    msgs = violations("encryption-aws-sns-topic-kms", "aws:sns/topic:Topic", mutate(TOPIC, ("kmsMasterKeyId",), value))
    assert msgs and expect in msgs[0]


def test_passes_when_topic_uses_aws_managed_key_and_cmk_not_required():
    props = mutate(TOPIC, ("kmsMasterKeyId",), "alias/aws/sns")
    assert (
        violations(
            "encryption-aws-sns-topic-kms", "aws:sns/topic:Topic", props, config={"requireCustomerManagedKeys": False}
        )
        == []
    )


def test_fails_when_gcp_log_bucket_has_no_cmek():
    msgs = violations(
        "encryption-gcp-log-bucket-cmek",
        "gcp:logging/projectBucketConfig:ProjectBucketConfig",
        mutate(GCP_LOG_BUCKET, ("cmekSettings",), DEL),
    )
    assert msgs and "cmekSettings.kmsKeyName is None" in msgs[0]


# --- E6 S3 / GCS ---------------------------------------------------------------------------------

PAB_T = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE_T = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
POLICY_T = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_T = "aws:s3/bucket:Bucket"
BUCKET_NAME = "appstack-logs-1a2b3c"
PAB = {
    "bucket": BUCKET_NAME,
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}
SSE = {"bucket": BUCKET_NAME, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowElbLogs",
            "Effect": "Allow",
            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{BUCKET_NAME}/*",
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET_NAME}", f"arn:aws:s3:::{BUCKET_NAME}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
}
POLICY = {"bucket": BUCKET_NAME, "policy": json.dumps(TLS_ONLY)}
GCS = {"location": "EU", "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced"}


def test_s3_baselines_pass():
    assert violations("encryption-s3-public-access-block", PAB_T, PAB) == []
    assert violations("encryption-s3-default-encryption", SSE_T, SSE) == []
    assert (
        violations(
            "encryption-s3-default-encryption",
            SSE_T,
            mutate(
                SSE,
                ("rules", 0, "applyServerSideEncryptionByDefault"),
                {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY},
            ),
        )
        == []
    )
    assert violations("encryption-s3-tls-only-policy", POLICY_T, POLICY) == []
    assert violations("encryption-gcs-bucket-hardened", "gcp:storage/bucket:Bucket", GCS) == []


@pytest.mark.parametrize("flag", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
@pytest.mark.parametrize("value", [False, DEL], ids=["false", "missing"])
def test_fails_when_public_access_block_flag_off(flag, value):
    msgs = violations("encryption-s3-public-access-block", PAB_T, mutate(PAB, (flag,), value))
    assert len(msgs) == 1 and msgs[0].startswith(flag)


@pytest.mark.parametrize(
    "path, value, expect",
    [
        pytest.param(("rules",), [], "no rules", id="no_rules"),
        pytest.param(("rules",), DEL, "no rules", id="rules_missing"),
        pytest.param(
            ("rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm"), "none", "'none'", id="bad_algorithm"
        ),
        pytest.param(("rules",), "AES256", "not a list", id="rules_malformed"),
    ],
)
def test_fails_when_sse_configuration_weak(path, value, expect):
    msgs = violations("encryption-s3-default-encryption", SSE_T, mutate(SSE, path, value))
    assert msgs and expect in msgs[0]


@pytest.mark.parametrize(
    "policy, expect",
    [
        pytest.param(
            json.dumps({"Version": "2012-10-17", "Statement": [TLS_ONLY["Statement"][0]]}),
            "does not deny non-TLS",
            id="no_deny_statement",
        ),
        pytest.param(
            json.dumps(
                {"Statement": [dict(TLS_ONLY["Statement"][1], Condition={"Bool": {"aws:SecureTransport": "true"}})]}
            ),
            "does not deny non-TLS",
            id="wrong_condition",
        ),
        pytest.param("{not json", "not a JSON policy document", id="malformed_json"),
        pytest.param(DEL, "no policy document", id="policy_missing"),
    ],
)
def test_fails_when_bucket_policy_allows_non_tls(policy, expect):
    msgs = violations("encryption-s3-tls-only-policy", POLICY_T, mutate(POLICY, ("policy",), policy))
    assert msgs and expect in msgs[0]


def test_passes_when_bucket_policy_is_an_object():
    assert violations("encryption-s3-tls-only-policy", POLICY_T, mutate(POLICY, ("policy",), TLS_ONLY)) == []


STACK = [
    (BUCKET_T, "logs", {"bucket": BUCKET_NAME, "arn": f"arn:aws:s3:::{BUCKET_NAME}"}),
    (PAB_T, "logs-pab", PAB),
    (SSE_T, "logs-sse", SSE),
    (POLICY_T, "logs-policy", POLICY),
]


def test_passes_when_every_bucket_is_hardened():
    assert stack_violations("encryption-s3-bucket-hardened", STACK) == []


@pytest.mark.parametrize(
    "drop, expect",
    [(1, "no public access block"), (2, "no server-side encryption configuration"), (3, "no bucket policy")],
)
def test_fails_when_bucket_lacks_companion(drop, expect):
    res = [r for i, r in enumerate(STACK) if i != drop]
    found = stack_violations("encryption-s3-bucket-hardened", res)
    assert len(found) == 1 and expect in found[0][0] and reported_name(found[0][1]) == "logs"


def test_fails_when_companion_targets_another_bucket():
    res = [*STACK[:1], (PAB_T, "other-pab", dict(PAB, bucket="other-bucket")), *STACK[2:]]
    found = stack_violations("encryption-s3-bucket-hardened", res)
    assert len(found) == 1 and "no public access block" in found[0][0]


def test_passes_with_legacy_bucket_v2_token():
    res = [("aws:s3/bucketV2:BucketV2", "logs", {"bucket": BUCKET_NAME}), *STACK[1:]]
    assert stack_violations("encryption-s3-bucket-hardened", res) == []


def test_unknown_bucket_reference_raises_in_preview_and_fails_on_up():
    res = [*STACK[:1], (PAB_T, "logs-pab", dict(PAB, bucket=UNKNOWN_STRING_VALUE)), *STACK[2:]]
    with pytest.raises(UnknownValueError):
        stack_violations("encryption-s3-bucket-hardened", res)
    found = stack_violations("encryption-s3-bucket-hardened", res, dry_run=False)
    assert found and "unknown" in found[0][0]


@pytest.mark.parametrize(
    "path, value, expect",
    [
        pytest.param(("uniformBucketLevelAccess",), False, "uniformBucketLevelAccess is False", id="ubla_off"),
        pytest.param(("uniformBucketLevelAccess",), DEL, "uniformBucketLevelAccess is None", id="ubla_missing"),
        pytest.param(("publicAccessPrevention",), "inherited", "'inherited'", id="pap_inherited"),
        pytest.param(("publicAccessPrevention",), DEL, "publicAccessPrevention is None", id="pap_missing"),
    ],
)
def test_fails_when_gcs_bucket_not_hardened(path, value, expect):
    msgs = violations("encryption-gcs-bucket-hardened", "gcp:storage/bucket:Bucket", mutate(GCS, path, value))
    assert msgs and expect in msgs[0]


# --- E5: TLS-only publishing on SNS topics -------------------------------------------------------

TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SNS_TLS = "encryption-sns-tls-only-publish"
_TOPIC_ARN = "arn:aws:sns:eu-west-1:111122223333:alerts"
_DENY_INSECURE = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Resource": _TOPIC_ARN,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
_ALLOW_CW = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": _TOPIC_ARN,
}


def _topic_policy(*statements) -> dict:
    return {"arn": _TOPIC_ARN, "policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


def test_sns_tls_rule_is_mandatory_e5():
    assert rule(SNS_TLS).level == MANDATORY
    assert "E5" in rule(SNS_TLS).catalogue


def test_passes_when_topic_policy_denies_insecure_publish():
    assert violations(SNS_TLS, TOPIC_POLICY, _topic_policy(_ALLOW_CW, _DENY_INSECURE)) == []


@pytest.mark.parametrize("action", ["sns:*", "*", ["sns:Subscribe", "sns:Publish"]])
def test_passes_when_deny_covers_publish_with_broader_actions(action):
    assert violations(SNS_TLS, TOPIC_POLICY, _topic_policy({**_DENY_INSECURE, "Action": action})) == []


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(None, id="no-deny-statement"),
        pytest.param({**_DENY_INSECURE, "Effect": "Allow"}, id="allow-not-deny"),
        pytest.param({**_DENY_INSECURE, "Action": "sns:Subscribe"}, id="deny-other-action"),
        pytest.param({**_DENY_INSECURE, "Principal": {"Service": "cloudwatch.amazonaws.com"}}, id="deny-one-principal"),
        pytest.param({**_DENY_INSECURE, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, id="wrong-condition"),
    ],
)
def test_fails_when_topic_policy_does_not_deny_insecure_publish(statement):
    statements = [_ALLOW_CW] + ([statement] if statement else [])
    found = violations(SNS_TLS, TOPIC_POLICY, _topic_policy(*statements))
    assert len(found) == 1 and "aws:SecureTransport" in found[0]


def test_fails_when_topic_policy_document_is_missing():
    assert violations(SNS_TLS, TOPIC_POLICY, {"arn": _TOPIC_ARN}) != []


def test_fails_when_topic_policy_is_not_json():
    found = violations(SNS_TLS, TOPIC_POLICY, {"arn": _TOPIC_ARN, "policy": "not json"})
    assert len(found) == 1 and "failing closed" in found[0]


def test_unknown_topic_policy_raises_in_preview_and_fails_on_up():
    props = {"arn": _TOPIC_ARN, "policy": UNKNOWN_STRING_VALUE}
    with pytest.raises(UnknownValueError):
        violations(SNS_TLS, TOPIC_POLICY, props)
    assert len(violations(SNS_TLS, TOPIC_POLICY, props, dry_run=False)) == 1


# ---------------------------------------------------------------------------------------------
# Spot instances and spot fleets carry their own EBS devices.

SPOT = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
DEVICE = {"volumeType": "gp3", "volumeSize": 20, "encrypted": True, "kmsKeyId": KEY}
AWS_SPOT_FLEET = {
    "iamFleetRole": "arn:aws:iam::111122223333:role/fleet",
    "targetCapacity": 1,
    "launchSpecifications": [
        {
            "ami": "ami-1",
            "instanceType": "t3.small",
            "rootBlockDevices": [DEVICE],
            "ebsBlockDevices": [{**DEVICE, "deviceName": "/dev/sdf"}],
        }
    ],
}


@pytest.mark.parametrize("name", [EBS, EBS_CMK])
def test_passes_when_spot_devices_encrypted_with_cmk(name):
    assert violations(name, SPOT, AWS_INSTANCE) == []
    assert violations(name, SPOT_FLEET, AWS_SPOT_FLEET) == []


@pytest.mark.parametrize(
    "name,type_,base,path,value,needle",
    [
        (EBS, SPOT, AWS_INSTANCE, ("rootBlockDevice", "encrypted"), False, "rootBlockDevice.encrypted"),
        (EBS_CMK, SPOT, AWS_INSTANCE, ("rootBlockDevice", "kmsKeyId"), DEL, "rootBlockDevice has no kmsKeyId"),
        (
            EBS,
            SPOT_FLEET,
            AWS_SPOT_FLEET,
            ("launchSpecifications", 0, "rootBlockDevices", 0, "encrypted"),
            False,
            "launchSpecifications[0].rootBlockDevices[0].encrypted",
        ),
        (
            EBS,
            SPOT_FLEET,
            AWS_SPOT_FLEET,
            ("launchSpecifications", 0, "ebsBlockDevices", 0, "encrypted"),
            DEL,
            "launchSpecifications[0].ebsBlockDevices[0].encrypted is not set",
        ),
        (
            EBS,
            SPOT_FLEET,
            AWS_SPOT_FLEET,
            ("launchSpecifications", 0, "rootBlockDevices"),
            DEL,
            "has no rootBlockDevices",
        ),
        (
            EBS_CMK,
            SPOT_FLEET,
            AWS_SPOT_FLEET,
            ("launchSpecifications", 0, "ebsBlockDevices", 0, "kmsKeyId"),
            DEL,
            "ebsBlockDevices[0] has no kmsKeyId",
        ),
        (EBS, SPOT_FLEET, AWS_SPOT_FLEET, ("launchSpecifications",), "spec", "could not evaluate"),
    ],
    ids=[
        "spot_root_unencrypted",
        "spot_root_no_cmk",
        "fleet_root_unencrypted",
        "fleet_data_encryption_unset",
        "fleet_no_root_device",
        "fleet_data_no_cmk",
        "fleet_specs_malformed",
    ],
)
def test_fails_when_spot_devices_not_encrypted(name, type_, base, path, value, needle):
    found = violations(name, type_, mutate(base, path, value))
    assert len(found) == 1 and needle in found[0], found


@pytest.mark.parametrize(
    "type_",
    [
        "gcp:compute/instanceFromTemplate:InstanceFromTemplate",
        "gcp:compute/instanceFromMachineImage:InstanceFromMachineImage",
    ],
)
def test_derived_gcp_instance_judges_disks_it_sets(type_):
    assert (
        violations(GCP_CMEK, type_, {"sourceInstanceTemplate": "t"}, config={"requireCustomerManagedKeys": True}) == []
    )
    props = {"bootDisk": {"initializeParams": {"size": 20}}}
    found = violations(GCP_CMEK, type_, props, config={"requireCustomerManagedKeys": True})
    assert len(found) == 1 and "bootDisk has no kmsKeySelfLink" in found[0]
