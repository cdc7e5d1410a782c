"""Concern `encryption-at-rest` (policy names `encryption-...`): E1-E6: disks, logs, alert topics and log buckets encrypted.

Rules work on engine type tokens and camelCase input properties (verified against pulumi-aws 7.x,
pulumi-azure-native 3.x and pulumi-gcp 10.x). Checkers are pure generators of messages.

VM groups are judged where their disks are defined: launch templates and launch configurations
(AWS; an auto scaling group has no disk settings of its own), the scale set's
``virtualMachineProfile`` (Azure), instance templates' ``disks`` (GCP; a managed instance group
has none). A launch configuration cannot name a KMS key at all (its ``rootBlockDevice`` and
``ebsBlockDevices`` have no ``kmsKeyId`` in pulumi-aws 7.51), so it fails the customer-managed-key
rule: use a launch template.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..framework import (
    ADVISORY,
    Context,
    Knob,
    Props,
    Rule,
    StackResource,
    StackRule,
    as_list,
    dig,
    exact_false,
    is_map,
    truthy,
)
from ..shapes import entries, has_text, policy_document, policy_statements
from ..tokens import (
    AWS_INSTANCE,
    AWS_LAUNCH_CONFIGURATION,
    AWS_LAUNCH_TEMPLATE,
    AWS_LOG_GROUP,
    AWS_SNS_TOPIC,
    AWS_SNS_TOPIC_POLICY,
    AWS_SPOT_FLEET,
    AWS_SPOT_INSTANCE,
    AZ_VM,
    AZ_VMSS,
    GCP_DERIVED_INSTANCES,
    GCP_INSTANCE,
    GCP_PROJECT_BUCKET_CONFIG,
    GCP_REGION_TEMPLATE,
    GCP_TEMPLATE,
)

CONCERN = "encryption-at-rest"

# --- type tokens ---------------------------------------------------------------------------------
AWS_EBS_VOLUME = "aws:ebs/volume:Volume"  # pulumi-aws has no aws:ec2/volume token
AWS_S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")  # v7 Bucket == old BucketV2
AWS_S3_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
AWS_S3_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
AWS_S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
AZ_DISK = "azure-native:compute:Disk"
GCP_DISK = "gcp:compute/disk:Disk"
GCP_REGION_DISK = "gcp:compute/regionDisk:RegionDisk"
GCP_TEMPLATES = (GCP_TEMPLATE, GCP_REGION_TEMPLATE)
GCP_STORAGE_BUCKET = "gcp:storage/bucket:Bucket"

CMK_KNOB = Knob(
    {"type": "boolean"},
    True,
    "require customer-managed keys (CMK/CMEK/DES) instead of provider-managed keys",
)


# --- helpers ------------------------------------------------------------------------------------


def kms_key_is_aws_managed(key: str, service: str) -> bool:
    """True for the AWS-managed default key of a service (``alias/aws/<service>``, also as an ARN)."""
    k = key.strip().lower()
    return k == f"alias/aws/{service}" or k.endswith(f":alias/aws/{service}")


# --- E1/E2: AWS EBS volumes encrypted ------------------------------------------------------------


def _encrypted_problem(where: str, block: Any, account_default: bool) -> str | None:
    if not is_map(block):
        return f"{where} is {block!r}, not an object; cannot tell whether it is encrypted (failing closed)"
    value = block.get("encrypted")
    if truthy(value):
        return None
    if exact_false(value):
        return f"{where}.encrypted is {value!r}; set it to true"
    if value is None:
        if account_default:
            return None
        return (
            f"{where}.encrypted is not set, so the volume is unencrypted unless the account enables EBS "
            "encryption by default; set encrypted=true (or set accountDefaultEncryption when the account does)"
        )
    return f"{where}.encrypted is {value!r}, not true; set it to true"


def _aws_instance_blocks(props: Props, kind: str, ctx: Context) -> Iterator[str]:
    """Root and extra EBS devices of an instance or launch configuration."""
    account_default = bool(ctx["accountDefaultEncryption"])
    root = props.get("rootBlockDevice")
    if root is None:
        # An instance launched from a launch template takes its root volume from the template,
        # which this rule checks as its own resource.
        if kind == "instance" and props.get("launchTemplate") is not None:
            pass
        elif not account_default:
            yield (
                "no rootBlockDevice: the root volume inherits the AMI snapshot's encryption, which is off by "
                "default; set rootBlockDevice.encrypted=true"
            )
    else:
        problem = _encrypted_problem("rootBlockDevice", root, account_default)
        if problem:
            yield problem
    devices, err = entries(props.get("ebsBlockDevices"), "ebsBlockDevices")
    if err:
        yield err
    for i, dev in enumerate(devices):
        problem = _encrypted_problem(f"ebsBlockDevices[{i}]", dev, account_default)
        if problem:
            yield problem


def _lt_ebs_mappings(props: Props) -> tuple[list[tuple[int, Any]], list[str]]:
    """``(index, ebs)`` of a launch template's EBS mappings, plus shape errors."""
    mappings, err = entries(props.get("blockDeviceMappings"), "blockDeviceMappings")
    errors = [err] if err else []
    out = []
    for i, m in enumerate(mappings):
        if not is_map(m):
            errors.append(f"blockDeviceMappings[{i}] is {m!r}, not an object; cannot evaluate it (failing closed)")
            continue
        ebs = m.get("ebs")
        if ebs is None:
            continue  # instance-store (virtualName) or noDevice mapping: not an EBS volume
        out.append((i, ebs))
    return out, errors


def _lt_root_unmapped(props: Props, ctx: Context) -> str | None:
    """A message when a launch template's EBS mappings leave out the root device.

    Mapping only a data volume (``/dev/sdf``) with encrypted/kmsKeyId leaves the root volume as
    the AMI's snapshot made it, which is unencrypted unless the AMI is: name the root device too.
    """
    roots = {str(n).strip().lower().removeprefix("/dev/") for n in ctx["rootDeviceNames"]}
    names = []
    for m in as_list(props.get("blockDeviceMappings")):
        if is_map(m) and m.get("ebs") is not None:
            name = str(m.get("deviceName") or "").strip().lower().removeprefix("/dev/")
            if name in roots:
                return None
            names.append(name)
    if not names:
        return None  # no EBS mapping at all: reported on its own
    return (
        f"no blockDeviceMappings entry names the root device ({', '.join(ctx['rootDeviceNames'])}), so the root "
        "volume keeps the AMI snapshot's encryption and key; map the AMI's root device with ebs.encrypted and "
        "ebs.kmsKeyId (or list its device name in rootDeviceNames)"
    )


def _spot_fleet_devices(props: Props) -> Iterator[tuple[str, Any, bool]]:
    """``(label, device, is_root)`` of every inline launch specification's EBS devices; a
    specification without rootBlockDevices yields ``(label, None, True)``."""
    specs, err = entries(props.get("launchSpecifications"), "launchSpecifications")
    if err:
        raise TypeError(err)
    for i, spec in enumerate(specs):
        roots, rerr = entries(dig(spec, "rootBlockDevices"), f"launchSpecifications[{i}].rootBlockDevices")
        devices, derr = entries(dig(spec, "ebsBlockDevices"), f"launchSpecifications[{i}].ebsBlockDevices")
        if rerr or derr:
            raise TypeError(rerr or derr)
        if not roots:
            yield f"launchSpecifications[{i}]", None, True
        for k, dev in enumerate(roots):
            yield f"launchSpecifications[{i}].rootBlockDevices[{k}]", dev, True
        for k, dev in enumerate(devices):
            yield f"launchSpecifications[{i}].ebsBlockDevices[{k}]", dev, False


def check_ebs_encrypted(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    account_default = bool(ctx["accountDefaultEncryption"])
    if resource_type in (AWS_INSTANCE, AWS_SPOT_INSTANCE):
        yield from _aws_instance_blocks(props, "instance", ctx)
    elif resource_type == AWS_SPOT_FLEET:
        for where, dev, _ in _spot_fleet_devices(props):
            if dev is None:
                if not account_default:
                    yield f"{where} has no rootBlockDevices, so the root volume inherits the AMI's encryption; add one with encrypted=true"
                continue
            problem = _encrypted_problem(where, dev, account_default)
            if problem:
                yield problem
    elif resource_type == AWS_LAUNCH_CONFIGURATION:
        yield from _aws_instance_blocks(props, "launch configuration", ctx)
    elif resource_type == AWS_LAUNCH_TEMPLATE:
        ebs_list, errors = _lt_ebs_mappings(props)
        yield from errors
        if not ebs_list and not errors and not account_default:
            yield (
                "the launch template has no blockDeviceMappings with ebs, so the root volume inherits the AMI's "
                'encryption; add a mapping with ebs.encrypted="true"'
            )
        elif not account_default and (root := _lt_root_unmapped(props, ctx)):
            yield root
        for i, ebs in ebs_list:
            problem = _encrypted_problem(f"blockDeviceMappings[{i}].ebs", ebs, account_default)
            if problem:
                yield problem
    elif resource_type == AWS_EBS_VOLUME:
        problem = _encrypted_problem("the volume", props, account_default)
        if problem:
            yield problem


# --- E3: customer-managed keys on disks ----------------------------------------------------------


def _aws_kms_problem(where: str, block: Any) -> str | None:
    if not is_map(block):
        return f"{where} is {block!r}, not an object; cannot find its kmsKeyId (failing closed)"
    key = block.get("kmsKeyId")
    if not has_text(key):
        return f"{where} has no kmsKeyId, so it uses the AWS-managed aws/ebs key; set kmsKeyId to a customer-managed KMS key"
    if kms_key_is_aws_managed(key, "ebs"):
        return f"{where}.kmsKeyId is {key!r}, the AWS-managed key; use a customer-managed KMS key"
    return None


def check_aws_ebs_cmk(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not ctx["requireCustomerManagedKeys"]:
        return
    if resource_type == AWS_SPOT_FLEET:
        for where, dev, _ in _spot_fleet_devices(props):
            problem = (
                f"{where} has no rootBlockDevices, so the root volume has no customer-managed key; add one with kmsKeyId"
                if dev is None
                else _aws_kms_problem(where, dev)
            )
            if problem:
                yield problem
    elif resource_type == AWS_LAUNCH_CONFIGURATION:
        yield (
            "a launch configuration cannot name a KMS key (its block devices have no kmsKeyId), so its volumes use "
            "the account's default EBS key, which this pack cannot see; launch the group from a launch template "
            "with blockDeviceMappings[].ebs.kmsKeyId"
        )
    elif resource_type in (AWS_INSTANCE, AWS_SPOT_INSTANCE):
        root = props.get("rootBlockDevice")
        if root is None:
            if props.get("launchTemplate") is None:
                yield "no rootBlockDevice, so the root volume has no customer-managed key; set rootBlockDevice.kmsKeyId"
        else:
            problem = _aws_kms_problem("rootBlockDevice", root)
            if problem:
                yield problem
        devices, err = entries(props.get("ebsBlockDevices"), "ebsBlockDevices")
        if err:
            yield err
        for i, dev in enumerate(devices):
            problem = _aws_kms_problem(f"ebsBlockDevices[{i}]", dev)
            if problem:
                yield problem
    elif resource_type == AWS_LAUNCH_TEMPLATE:
        ebs_list, errors = _lt_ebs_mappings(props)
        yield from errors
        if not ebs_list and not errors:
            yield "the launch template has no blockDeviceMappings with ebs, so no volume names a customer-managed key; add one with ebs.kmsKeyId"
        elif root := _lt_root_unmapped(props, ctx):
            yield root
        for i, ebs in ebs_list:
            problem = _aws_kms_problem(f"blockDeviceMappings[{i}].ebs", ebs)
            if problem:
                yield problem
    elif resource_type == AWS_EBS_VOLUME:
        problem = _aws_kms_problem("the volume", props)
        if problem:
            yield problem


def _des_id(managed_disk: Any) -> Any:
    return dig(managed_disk, "diskEncryptionSet", "id")


def _azure_storage_profile_cmk(storage: Any, prefix: str) -> Iterator[str]:
    if not is_map(storage):
        yield f"{prefix} is {storage!r}; the OS disk has no disk encryption set (customer-managed key); set {prefix}.osDisk.managedDisk.diskEncryptionSet.id"
        return
    os_disk = storage.get("osDisk")
    if not is_map(os_disk):
        yield f"{prefix}.osDisk is {os_disk!r}; set {prefix}.osDisk.managedDisk.diskEncryptionSet.id to a disk encryption set"
    elif str(os_disk.get("createOption") or "").lower() != "attach":
        # An attached existing OS disk carries its own encryption (checked as azure-native:compute:Disk).
        if not has_text(_des_id(os_disk.get("managedDisk"))):
            yield f"{prefix}.osDisk.managedDisk.diskEncryptionSet.id is not set, so the OS disk uses a platform-managed key; point it at a disk encryption set with a customer-managed key"
    disks, err = entries(storage.get("dataDisks"), f"{prefix}.dataDisks")
    if err:
        yield err
    for i, d in enumerate(disks):
        if not is_map(d):
            yield f"{prefix}.dataDisks[{i}] is {d!r}, not an object; cannot evaluate it (failing closed)"
            continue
        if str(d.get("createOption") or "").lower() == "attach":
            continue
        if not has_text(_des_id(d.get("managedDisk"))):
            yield f"{prefix}.dataDisks[{i}].managedDisk.diskEncryptionSet.id is not set; use a disk encryption set with a customer-managed key"


def check_azure_disk_cmk(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not ctx["requireCustomerManagedKeys"]:
        return
    if resource_type == AZ_VM:
        yield from _azure_storage_profile_cmk(props.get("storageProfile"), "storageProfile")
    elif resource_type == AZ_VMSS:
        yield from _azure_storage_profile_cmk(
            dig(props, "virtualMachineProfile", "storageProfile"), "virtualMachineProfile.storageProfile"
        )
    elif resource_type == AZ_DISK:
        enc = props.get("encryption")
        if not is_map(enc):
            yield f"encryption is {enc!r}, so the disk uses a platform-managed key; set encryption.diskEncryptionSetId and type EncryptionAtRestWithCustomerKey"
            return
        if not has_text(enc.get("diskEncryptionSetId")):
            yield "encryption.diskEncryptionSetId is not set; point the disk at a disk encryption set with a customer-managed key"
        etype = enc.get("type")
        # ARM enums are case-insensitive: "encryptionatrestwithplatformkey" is the platform key too.
        if etype is not None and str(etype).strip().lower() == "encryptionatrestwithplatformkey":
            yield f"encryption.type is {etype!r}; use EncryptionAtRestWithCustomerKey"


def _gcp_disk_key_set(block: Any, kms: str, raw_keys: tuple[str, ...]) -> bool:
    return is_map(block) and any(has_text(block.get(k)) for k in (kms, *raw_keys))


def check_gcp_disk_cmek(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    # Without the knob GCP still encrypts every disk with Google-managed keys: nothing to check.
    if not ctx["requireCustomerManagedKeys"]:
        return
    if resource_type in (GCP_INSTANCE, *GCP_DERIVED_INSTANCES):
        raw = ("diskEncryptionKeyRaw", "diskEncryptionKeyRsa")
        boot = props.get("bootDisk")
        if boot is None and resource_type in GCP_DERIVED_INSTANCES:
            pass  # the boot disk comes from the template / machine image, judged there
        elif not _gcp_disk_key_set(boot, "kmsKeySelfLink", raw):
            yield f"bootDisk has no kmsKeySelfLink (bootDisk is {'set' if is_map(boot) else repr(boot)}), so it uses a Google-managed key; set bootDisk.kmsKeySelfLink to a Cloud KMS key"
        disks, err = entries(props.get("attachedDisks"), "attachedDisks")
        if err:
            yield err
        for i, d in enumerate(disks):
            if not _gcp_disk_key_set(d, "kmsKeySelfLink", raw):
                yield f"attachedDisks[{i}] has no kmsKeySelfLink; set it to the Cloud KMS key that encrypts the disk"
    elif resource_type in (GCP_DISK, GCP_REGION_DISK):
        key = props.get("diskEncryptionKey")
        if not _gcp_disk_key_set(key, "kmsKeySelfLink", ("rawKey", "rsaEncryptedKey", "rawKeyWo", "rsaEncryptedKeyWo")):
            yield f"diskEncryptionKey is {key!r} without kmsKeySelfLink, so the disk uses a Google-managed key; set diskEncryptionKey.kmsKeySelfLink"
    elif resource_type in GCP_TEMPLATES:
        disks, err = entries(props.get("disks"), "disks")
        if err:
            yield err
        elif not disks:
            yield "the instance template has no disks; define the boot disk with diskEncryptionKey.kmsKeySelfLink"
        for i, d in enumerate(disks):
            if not is_map(d):
                yield f"disks[{i}] is {d!r}, not an object; cannot evaluate it (failing closed)"
                continue
            if str(d.get("type") or "").upper() == "SCRATCH":
                continue  # local SSDs cannot use CMEK
            if not has_text(dig(d, "diskEncryptionKey", "kmsKeySelfLink")):
                yield f"disks[{i}].diskEncryptionKey.kmsKeySelfLink is not set; encrypt the disk with a Cloud KMS key"


# --- E1/E2 Azure: encryption at host -------------------------------------------------------------


def check_azure_encryption_at_host(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if resource_type == AZ_VM:
        where, value = "securityProfile.encryptionAtHost", dig(props, "securityProfile", "encryptionAtHost")
    else:
        where = "virtualMachineProfile.securityProfile.encryptionAtHost"
        value = dig(props, "virtualMachineProfile", "securityProfile", "encryptionAtHost")
    if not truthy(value):
        yield (
            f"{where} is {value!r}; set it to true so temp disks, caches and the OS/data disk data flows are "
            "encrypted on the host"
        )


# --- E4: logs encrypted with a CMK ---------------------------------------------------------------


def check_log_group_kms(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    key = props.get("kmsKeyId")
    if not has_text(key):
        yield f"kmsKeyId is {key!r}; encrypt the log group with a customer-managed KMS key (kmsKeyId = the key ARN)"


def check_gcp_log_bucket_cmek(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not ctx["requireCustomerManagedKeys"]:
        return
    name = dig(props, "cmekSettings", "kmsKeyName")
    if not has_text(name):
        yield f"cmekSettings.kmsKeyName is {name!r}; set cmekSettings with a Cloud KMS key for the log bucket"


# --- E5: alert topic encrypted -------------------------------------------------------------------


def check_sns_topic_kms(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    key = props.get("kmsMasterKeyId")
    if not has_text(key):
        yield f"kmsMasterKeyId is {key!r}, so messages are stored unencrypted; set it to a customer-managed KMS key"
    elif ctx["requireCustomerManagedKeys"] and kms_key_is_aws_managed(key, "sns"):
        yield f"kmsMasterKeyId is {key!r}, the AWS-managed key (its policy cannot grant CloudWatch alarms access); use a customer-managed KMS key"


# --- E6: log bucket hardened ---------------------------------------------------------------------

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def check_s3_public_access_block(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    for flag in PAB_FLAGS:
        value = props.get(flag)
        if not truthy(value):
            yield f"{flag} is {value!r}; set all four public access block flags to true"


def check_s3_sse(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    allowed = list(ctx["allowedAlgorithms"])
    rules, err = entries(props.get("rules"), "rules")
    if err:
        yield err
        return
    if not rules:
        yield "the configuration has no rules; add applyServerSideEncryptionByDefault with AES256 or aws:kms"
    for i, r in enumerate(rules):
        algo = dig(r, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        if algo not in allowed:
            yield f"rules[{i}].applyServerSideEncryptionByDefault.sseAlgorithm is {algo!r}; use one of {allowed}"


def _only_insecure_transport(cond: Any) -> bool:
    """The Condition is exactly ``aws:SecureTransport`` false (under Bool or BoolIfExists).

    Condition operators and keys are ANDed, so any other test next to it (a source IP, an
    account) narrows the Deny to those requests and leaves the rest of plain HTTP allowed.
    """
    if not is_map(cond) or not cond:
        return False
    for operator, tests in cond.items():
        if str(operator).strip().lower() not in ("bool", "boolifexists") or not is_map(tests) or not tests:
            return False
        for key, value in tests.items():
            if str(key).strip().lower() != "aws:securetransport" or not all(exact_false(v) for v in as_list(value)):
                return False
    return True


def _s3_objects_covered(resources: list[Any]) -> bool:
    """Some Resource covers every object of the bucket ("*" or ``arn:...:s3:::<bucket>/*``); a Deny
    on one key or prefix leaves the other objects readable over plain HTTP."""
    return any(isinstance(r, str) and _S3_ALL_OBJECTS.fullmatch(r.strip()) for r in resources)


_S3_ALL_OBJECTS = re.compile(r"\*|arn:[^:]+:s3:::[^/*?]+/\*")


def _denies_insecure_transport(doc: Mapping[str, Any], actions_covering: tuple[str, ...] = ("s3:*", "*")) -> bool:
    """True when a statement denies every principal the given actions when aws:SecureTransport is false."""
    for st in policy_statements(doc):
        if not is_map(st) or st.get("Effect") != "Deny":
            continue
        principal = st.get("Principal")
        if not (principal == "*" or (is_map(principal) and "*" in as_list(principal.get("AWS")))):
            continue
        actions = [str(a) for a in as_list(st.get("Action"))]
        if not any(a in actions_covering for a in actions):
            continue
        # NotResource exempts what it lists; Resource must reach the whole bucket (S3) or topic.
        if st.get("NotResource") is not None or st.get("Resource") is None:
            continue
        if "s3:*" in actions_covering and not _s3_objects_covered(as_list(st.get("Resource"))):
            continue
        if _only_insecure_transport(st.get("Condition")):
            return True
    return False


def _tls_only_policy_check(noun: str, action: str, covering: tuple[str, ...], denied: str, what: str):
    """A checker that a resource policy (`policy` JSON) denies `action` to everyone without TLS.

    `noun` names the policy ("bucket", "topic"); `denied`/`what` word the messages ("access",
    "requests" for S3; "publishing" for SNS).
    """
    example = f'{{"Effect":"Deny","Principal":"*","Action":"{action}","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}'

    def check(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
        raw = props.get("policy")
        if raw is None:
            yield (
                f"the {noun} policy has no policy document; add a Deny of {action} for all principals "
                "when aws:SecureTransport is false"
            )
            return
        try:
            doc = policy_document(raw)
        except ValueError:
            yield (
                f"policy is not a JSON policy document ({str(raw)[:80]!r}); cannot verify it denies non-TLS "
                f"{denied} (failing closed)"
            )
            return
        if not _denies_insecure_transport(doc, covering):
            yield f"the {noun} policy does not deny non-TLS {what}; add {example}"

    return check


check_s3_tls_only_policy = _tls_only_policy_check("bucket", "s3:*", ("s3:*", "*"), "access", "requests")
check_sns_tls_only_publish = _tls_only_policy_check(
    "topic", "sns:Publish", ("sns:Publish", "sns:*", "*"), "publishing", "publishing"
)


def check_s3_buckets_hardened(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, str | None]]:
    """Every S3 bucket has a public access block, a default-encryption config and a TLS-only policy.

    Companions reference the bucket through their `bucket` property (the bucket's name / ID). In a
    preview those references may be unknown: the proxy raises UnknownValueError, which the
    framework reports as advisory (and fails closed on `up`).
    """
    buckets = [r for r in resources if r.type in AWS_S3_BUCKETS]
    if not buckets:
        return
    companions: dict[str, set[str]] = {
        "public access block": set(),
        "server-side encryption configuration": set(),
        "bucket policy": set(),
    }
    for r in resources:
        if r.type == AWS_S3_PAB:
            kind = "public access block"
        elif r.type in AWS_S3_SSE:
            kind = "server-side encryption configuration"
        elif r.type == AWS_S3_POLICY:
            kind = "bucket policy"
        else:
            continue
        ref = r.props.get("bucket")
        if has_text(ref):
            companions[kind].add(ref)
    for b in buckets:
        names = {v for v in (b.props.get("bucket"), b.props.get("id")) if has_text(v)}
        if not names:
            yield (
                f"bucket {b.name} has no known bucket name, so its public access block, encryption and policy cannot be matched (failing closed)",
                b.urn,
            )
            continue
        for kind, refs in companions.items():
            if not names & refs:
                yield (
                    f"bucket {b.name} ({sorted(names)[0]}) has no {kind}; add an aws.s3 {kind} whose bucket is this bucket",
                    b.urn,
                )


def check_gcs_bucket_hardened(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    ubla = props.get("uniformBucketLevelAccess")
    if not truthy(ubla):
        yield f"uniformBucketLevelAccess is {ubla!r}; set it to true so object ACLs cannot expose logs"
    pap = props.get("publicAccessPrevention")
    if str(pap).lower() != "enforced":
        yield f'publicAccessPrevention is {pap!r}; set it to "enforced"'


# --- rules ---------------------------------------------------------------------------------------

_ROOT_DEVICES_KNOB = Knob(
    {"type": "array", "items": {"type": "string"}},
    ["/dev/xvda", "/dev/sda1", "/dev/sda", "/dev/nvme0n1"],
    "device names an AMI's root volume uses; a launch template must map one of them",
)

_ACCOUNT_DEFAULT_KNOB = Knob(
    {"type": "boolean"},
    False,
    "the account enables EBS encryption by default, so a volume without `encrypted` is still encrypted",
)

RULES: list[Rule | StackRule] = [
    Rule(
        name="encryption-aws-ebs-encrypted",
        description="EC2 root and extra EBS volumes, launch template and launch configuration block devices, and EBS volumes must be encrypted.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(
            AWS_INSTANCE,
            AWS_SPOT_INSTANCE,
            AWS_SPOT_FLEET,
            AWS_LAUNCH_TEMPLATE,
            AWS_LAUNCH_CONFIGURATION,
            AWS_EBS_VOLUME,
        ),
        check=check_ebs_encrypted,
        knobs={"accountDefaultEncryption": _ACCOUNT_DEFAULT_KNOB, "rootDeviceNames": _ROOT_DEVICES_KNOB},
        catalogue=("E1", "E2"),
        peers=(
            "CKV_AWS_8",
            "CKV_AWS_3",
            "AVD-AWS-0131",
            "AVD-AWS-0008",
            "AVD-AWS-0026",
            "AS-EC26",
            "AWSGuard:encrypted-volumes",
            "pc:aws-ec2-launchtemplate-disallow-unencrypted-block-device",
        ),
    ),
    Rule(
        name="encryption-aws-ebs-customer-managed-key",
        description="EC2 root and extra volumes, launch template EBS devices and EBS volumes must name a customer-managed KMS key (kmsKeyId); launch configurations cannot.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(
            AWS_INSTANCE,
            AWS_SPOT_INSTANCE,
            AWS_SPOT_FLEET,
            AWS_LAUNCH_TEMPLATE,
            AWS_LAUNCH_CONFIGURATION,
            AWS_EBS_VOLUME,
        ),
        check=check_aws_ebs_cmk,
        knobs={"requireCustomerManagedKeys": CMK_KNOB, "rootDeviceNames": _ROOT_DEVICES_KNOB},
        catalogue=("E3",),
        peers=("CKV_AWS_189", "AVD-AWS-0027", "pc:aws-ebs-volume-configure-customer-managed-key"),
    ),
    Rule(
        name="encryption-azure-encryption-at-host",
        description="Azure VMs and scale sets must enable encryption at host.",
        concern=CONCERN,
        clouds=("azure",),
        resource_types=(AZ_VM, AZ_VMSS),
        check=check_azure_encryption_at_host,
        catalogue=("E1", "E2"),
        peers=("CKV_AZURE_2", "AVD-AZU-0038"),
    ),
    Rule(
        name="encryption-azure-disk-customer-managed-key",
        description="Azure VM OS/data disks and managed disks must be encrypted through a disk encryption set (customer-managed key).",
        concern=CONCERN,
        clouds=("azure",),
        resource_types=(AZ_VM, AZ_VMSS, AZ_DISK),
        check=check_azure_disk_cmk,
        knobs={"requireCustomerManagedKeys": CMK_KNOB},
        catalogue=("E3",),
        peers=("CKV_AZURE_93",),
    ),
    Rule(
        name="encryption-gcp-disk-customer-managed-key",
        description="GCP boot, attached, standalone and instance-template disks must be encrypted with a Cloud KMS key (or a customer-supplied key).",
        concern=CONCERN,
        clouds=("gcp",),
        resource_types=(GCP_INSTANCE, *GCP_DERIVED_INSTANCES, GCP_DISK, GCP_REGION_DISK, *GCP_TEMPLATES),
        check=check_gcp_disk_cmek,
        knobs={"requireCustomerManagedKeys": CMK_KNOB},
        catalogue=("E1", "E2", "E3"),
        peers=("CKV_GCP_38", "CKV_GCP_37", "AVD-GCP-0034"),
    ),
    Rule(
        name="encryption-aws-log-group-kms",
        description="CloudWatch log groups must be encrypted with a customer-managed KMS key.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(AWS_LOG_GROUP,),
        check=check_log_group_kms,
        catalogue=("E4",),
        peers=("CKV_AWS_158", "AVD-AWS-0017", "nag:CloudWatchLogGroupEncrypted"),
    ),
    Rule(
        name="encryption-gcp-log-bucket-cmek",
        description="GCP log buckets should be encrypted with a Cloud KMS key (cmekSettings).",
        concern=CONCERN,
        clouds=("gcp",),
        resource_types=(GCP_PROJECT_BUCKET_CONFIG,),
        check=check_gcp_log_bucket_cmek,
        # Advisory: log bucket CMEK needs the Logging service account granted on the key (often an
        # org-level setting outside the stack); many hardened stacks legitimately skip it.
        level=ADVISORY,
        knobs={"requireCustomerManagedKeys": CMK_KNOB},
        catalogue=("E4",),
    ),
    Rule(
        name="encryption-aws-sns-topic-kms",
        description="SNS alert topics must be encrypted with a customer-managed KMS key.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(AWS_SNS_TOPIC,),
        check=check_sns_topic_kms,
        knobs={"requireCustomerManagedKeys": CMK_KNOB},
        catalogue=("E5",),
        peers=("CKV_AWS_26", "AVD-AWS-0095", "AVD-AWS-0136", "nag:SNSEncryptedKMS"),
    ),
    Rule(
        name="encryption-s3-public-access-block",
        description="S3 public access blocks must set all four flags to true.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(AWS_S3_PAB,),
        check=check_s3_public_access_block,
        catalogue=("E6",),
        peers=(
            "CKV_AWS_53",
            "CKV_AWS_54",
            "CKV_AWS_55",
            "CKV_AWS_56",
            "AVD-AWS-0086",
            "AVD-AWS-0087",
            "AVD-AWS-0091",
            "AVD-AWS-0093",
        ),
    ),
    Rule(
        name="encryption-s3-default-encryption",
        description="S3 server-side encryption configurations must use SSE-S3 (AES256) or SSE-KMS.",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=AWS_S3_SSE,
        check=check_s3_sse,
        knobs={
            "allowedAlgorithms": Knob(
                {"type": "array", "items": {"type": "string"}},
                ["AES256", "aws:kms", "aws:kms:dsse"],
                "allowed sseAlgorithm values (SSE-S3 is needed for ALB access log buckets)",
            )
        },
        catalogue=("E6",),
        peers=("CKV_AWS_19", "AVD-AWS-0088"),
    ),
    Rule(
        name="encryption-s3-tls-only-policy",
        description="S3 bucket policies must deny requests that do not use TLS (aws:SecureTransport false).",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(AWS_S3_POLICY,),
        check=check_s3_tls_only_policy,
        catalogue=("E6",),
        peers=("AS-S10",),
    ),
    Rule(
        name="encryption-sns-tls-only-publish",
        description="SNS topic policies must deny publishing that does not use TLS (aws:SecureTransport false).",
        concern=CONCERN,
        clouds=("aws",),
        resource_types=(AWS_SNS_TOPIC_POLICY,),
        check=check_sns_tls_only_publish,
        catalogue=("E5",),
        peers=("AS-SNS3", "AVD-AWS-0136"),
    ),
    StackRule(
        name="encryption-s3-bucket-hardened",
        description="Every S3 bucket must have a public access block, a server-side encryption configuration and a bucket policy.",
        concern=CONCERN,
        clouds=("aws",),
        check=check_s3_buckets_hardened,
        catalogue=("E6",),
        peers=("CKV2_AWS_6", "CKV_AWS_19", "AS-S2", "AS-S10"),
    ),
    Rule(
        name="encryption-gcs-bucket-hardened",
        description="GCS buckets must enforce uniform bucket-level access and public access prevention.",
        concern=CONCERN,
        clouds=("gcp",),
        resource_types=(GCP_STORAGE_BUCKET,),
        check=check_gcs_bucket_hardened,
        catalogue=("E6",),
        peers=("CKV_GCP_29", "CKV_GCP_114"),
    ),
]
