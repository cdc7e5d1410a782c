"""Concern `admin-access` (policy names `access-...`): A1-A7: password and root login, SSH keys or SSM, boot configuration, boot code fetched from elsewhere, OS Login, project SSH keys, serial console, secrets in boot data.

Boot data is every value a VM runs or hands to cloud-init: AWS ``userData``/``userDataBase64``
(instances, spot requests, launch configurations and templates, spot fleet
``launchSpecifications``), Azure ``customData``/``userData``, VM and scale-set extension
``settings``/``protectedSettings`` (``commandToExecute``, ``script``) and run-command
``source.script``, GCP ``metadataStartupScript`` and the ``startup-script``/``user-data`` keys of
instance, template and project metadata (project-wide keys run on every VM that does not set its
own). It is decoded and judged by what it writes (see `policies.boot`). GCP metadata booleans are
read as the guest agent parses them (Go ``strconv.ParseBool``: ``yes``/``on`` are not true).
Messages never echo secret values.

What boot data has the VM fetch and run is judged too (`access-boot-no-unreviewed-downloads`):
the download forms inside scripts and cloud-init (`policies.boot.document_downloads`), and the
carriers whose value is a script URL: GCP ``startup-script-url``/``windows-startup-script-url``/
``shutdown-script-url``/``sysprep-specialize-script-url`` metadata (instance, template, project,
item), Azure extension ``fileUris`` and other ``*Uri``/``*Url`` settings (both CustomScript
publishers, settings and protectedSettings, inline scale-set extensions), and run-command
``source.scriptUri``. GCP's Windows and shutdown script keys are read as scripts for it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..boot import boot_texts, document_downloads, document_writes, login_problems, plain, url_trusted
from ..framework import ADVISORY, MANDATORY, Context, Knob, Props, Rule, StackRule, as_list, dig, is_map, truthy
from ..shapes import parsed_json
from ..tokens import (
    AWS_INSTANCE,
    AWS_LAUNCH_CONFIGURATION,
    AWS_LAUNCH_TEMPLATE,
    AWS_SPOT_FLEET,
    AWS_SPOT_INSTANCE,
    AZ_VM,
    AZ_VMSS,
    GCP_DERIVED_INSTANCES,
    GCP_INSTANCE,
    GCP_REGION_TEMPLATE,
    GCP_TEMPLATE,
)

CONCERN = "admin-access"

GCP_PROJECT_METADATA = "gcp:compute/projectMetadata:ProjectMetadata"
GCP_PROJECT_METADATA_ITEM = "gcp:compute/projectMetadataItem:ProjectMetadataItem"

#: Azure resources that run a script on a VM after boot (CustomScript and other extensions, run
#: commands): what they run is boot data as much as customData is.
AZ_EXTENSIONS = (
    "azure-native:compute:VirtualMachineExtension",
    "azure-native:compute:VirtualMachineScaleSetExtension",
    "azure-native:compute:VirtualMachineScaleSetVMExtension",
)
AZ_RUN_COMMANDS = (
    "azure-native:compute:VirtualMachineRunCommandByVirtualMachine",
    "azure-native:compute:VirtualMachineScaleSetVMRunCommand",
)

AWS_VMS = (AWS_INSTANCE, AWS_SPOT_INSTANCE, AWS_LAUNCH_CONFIGURATION, AWS_LAUNCH_TEMPLATE)
AZURE_VMS = (AZ_VM, AZ_VMSS)
GCP_VMS = (GCP_INSTANCE, GCP_TEMPLATE, GCP_REGION_TEMPLATE, *GCP_DERIVED_INSTANCES)
GCP_PROJECT = (GCP_PROJECT_METADATA, GCP_PROJECT_METADATA_ITEM)
#: Everything that carries a script or cloud-init run as root on a VM; GCP project metadata's
#: startup-script and user-data run on every VM of the project that does not set its own.
BOOT_TYPES = (*AWS_VMS, AWS_SPOT_FLEET, *AZURE_VMS, *AZ_EXTENSIONS, *AZ_RUN_COMMANDS, *GCP_VMS, *GCP_PROJECT)
#: Metadata keys whose value the guest agent runs (startup-script) or hands to cloud-init (user-data).
GCP_BOOT_KEYS = ("startup-script", "user-data")

#: GCP metadata booleans as the guest agent reads them (Go's strconv.ParseBool, case-sensitive):
#: "yes", "on" or "TRUE " are not true, so they leave OS Login and key blocking off.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


# ---------------------------------------------------------------------------------------------
# Value helpers


def _meta_true(value: Any) -> bool:
    value = plain(value)
    if isinstance(value, bool):
        return value
    return isinstance(value, (str, int)) and str(value) in _TRUE


def _meta_false(value: Any) -> bool:
    value = plain(value)
    if isinstance(value, bool):
        return not value
    return isinstance(value, (str, int)) and str(value) in _FALSE


def _metadata(props: Props) -> Any:
    """GCP ``metadata`` as a mapping (possibly empty); a non-object raises (fail closed)."""
    meta = plain(props.get("metadata"))
    if meta is None:
        return {}
    if not is_map(meta):
        raise TypeError(f"metadata is {type(meta).__name__}, expected an object")
    return meta


def _meta_get(meta: Any, key: str) -> tuple[bool, Any]:
    """``(present, value)`` of a metadata key, matched case-insensitively.

    Only the asked-for value is read, so an unknown value under another key does not stop a rule.
    """
    for k in meta:
        if str(k).lower() == key:
            return True, plain(meta[k])
    return False, None


# ---------------------------------------------------------------------------------------------
# Boot data: where it is and how to read it


def boot_sources(resource_type: str, props: Props) -> Iterator[tuple[str, Any, bool]]:
    """``(label, raw value, is_base64)`` for every boot-data property that is set."""
    if resource_type in (AWS_INSTANCE, AWS_SPOT_INSTANCE, AWS_LAUNCH_CONFIGURATION):
        yield "userData", props.get("userData"), False
        yield "userDataBase64", props.get("userDataBase64"), True
    elif resource_type == AWS_LAUNCH_TEMPLATE:
        yield "userData", props.get("userData"), True
    elif resource_type == AZ_VM:
        yield "osProfile.customData", dig(props, "osProfile", "customData"), True
        yield "userData", props.get("userData"), True
    elif resource_type == AZ_VMSS:
        yield (
            "virtualMachineProfile.osProfile.customData",
            dig(props, "virtualMachineProfile", "osProfile", "customData"),
            True,
        )
        yield "virtualMachineProfile.userData", dig(props, "virtualMachineProfile", "userData"), True
    elif resource_type == AWS_SPOT_FLEET:
        specs = props.get("launchSpecifications")
        for i, spec in enumerate(as_list(specs)):
            yield f"launchSpecifications[{i}].userData", dig(spec, "userData"), False
    elif resource_type in AZ_EXTENSIONS:
        yield from _extension_scripts("", props)
    elif resource_type in AZ_RUN_COMMANDS:
        yield "source.script", dig(props, "source", "script"), False
    elif resource_type in GCP_VMS:
        yield "metadataStartupScript", props.get("metadataStartupScript"), False
        meta = _metadata(props)
        for key in GCP_BOOT_KEYS:
            present, value = _meta_get(meta, key)
            if present:
                yield f"metadata.{key}", value, False
    elif resource_type in GCP_PROJECT:
        for key in GCP_BOOT_KEYS:
            present, value = _project_get(resource_type, props, key)
            if present:
                yield f"project metadata {key}", value, False
    if resource_type == AZ_VMSS:
        extensions = dig(props, "virtualMachineProfile", "extensionProfile", "extensions")
        for i, ext in enumerate(as_list(extensions)):
            yield from _extension_scripts(f"virtualMachineProfile.extensionProfile.extensions[{i}].", ext)


def _extension_scripts(prefix: str, ext: Any) -> Iterator[tuple[str, Any, bool]]:
    """The commands and scripts of a VM extension's (protected) settings: CustomScript's
    ``commandToExecute`` (plain) and ``script`` (base64, optionally gzipped). Any extension type is
    read, so a renamed or third-party script runner is judged too."""
    for part in ("settings", "protectedSettings"):
        settings = plain(dig(ext, part))
        if isinstance(settings, str):
            settings = parsed_json(settings)
        if settings is None:
            continue
        if not is_map(settings):
            raise TypeError(f"{prefix}{part} is {type(settings).__name__}, expected an object")
        for key in settings:
            if str(key).lower() in ("commandtoexecute", "script"):
                yield f"{prefix}{part}.{key}", plain(settings[key]), str(key).lower() == "script"


def boot_documents(resource_type: str, props: Props) -> Iterator[tuple[str, str]]:
    """``(label, text)`` for every boot document of a resource."""
    for label, raw, is_b64 in boot_sources(resource_type, props):
        for text in boot_texts(raw, is_b64):
            yield label, text


def _unique(messages: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for m in messages:
        if m not in seen:
            seen.add(m)
            yield m


# ---------------------------------------------------------------------------------------------
# A1/A2 (Azure): no password login, SSH key, admin user name


def _azure_os_profile(resource_type: str, props: Props) -> tuple[str, Any, bool]:
    """``(path, osProfile or None, is_windows_or_attached)`` of an Azure VM or scale set."""
    if resource_type == AZ_VMSS:
        base, path = props.get("virtualMachineProfile"), "virtualMachineProfile.osProfile"
        if base is not None and not is_map(base):
            raise TypeError(f"virtualMachineProfile is {type(base).__name__}, expected an object")
    else:
        base, path = props, "osProfile"
    profile = dig(base, "osProfile")
    if profile is not None and not is_map(profile):
        raise TypeError(f"{path} is {type(profile).__name__}, expected an object")
    os_type = str(dig(base, "storageProfile", "osDisk", "osType") or "").lower()
    create = str(dig(base, "storageProfile", "osDisk", "createOption") or "").lower()
    skip = os_type == "windows" or dig(profile, "windowsConfiguration") is not None
    if profile is None and create == "attach":
        skip = True  # a specialized OS disk is not provisioned: there is no osProfile to judge
    return path, profile, skip


def _check_azure_password(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    path, profile, skip = _azure_os_profile(resource_type, props)
    if skip:
        return
    if profile is None:
        yield f"{path} is missing; set linuxConfiguration.disablePasswordAuthentication=true and an SSH key"
        return
    disabled = dig(profile, "linuxConfiguration", "disablePasswordAuthentication")
    if not truthy(disabled):
        shown = "not set (defaults to false)" if disabled is None else repr(disabled)
        yield f"{path}.linuxConfiguration.disablePasswordAuthentication is {shown}; set it to true"
    if plain(profile.get("adminPassword")):
        yield f"{path}.adminPassword is set on a Linux VM; remove it and log in with SSH keys only"


def _check_azure_ssh_key(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    path, profile, skip = _azure_os_profile(resource_type, props)
    if skip:
        return
    keys = dig(profile, "linuxConfiguration", "ssh", "publicKeys")
    items = as_list(keys)
    usable = [k for k in items if is_map(k) and str(plain(k.get("keyData")) or "").strip()]
    if len(usable) != len(items):
        yield f"{path}.linuxConfiguration.ssh.publicKeys has an entry without keyData; give every entry a public key"
    if not usable:
        yield f"{path}.linuxConfiguration.ssh.publicKeys has no SSH public key; add the admin's public key"


def _check_admin_username(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    path, profile, _ = _azure_os_profile(resource_type, props)
    if profile is None:
        return
    name = profile.get("adminUsername")
    if name is None:
        yield f"{path}.adminUsername is missing; set a named, non-privileged admin account"
        return
    forbidden = {str(n).lower() for n in ctx["forbiddenUsernames"]}
    if str(name).strip().lower() in forbidden:
        yield f"{path}.adminUsername is {name!r}; use a named admin account, not a well-known one"


AZURE_NO_PASSWORD = Rule(
    name="access-linux-no-password-auth",
    description="Linux VMs must disable SSH password authentication and set no admin password.",
    concern=CONCERN,
    clouds=("azure",),
    resource_types=AZURE_VMS,
    check=_check_azure_password,
    level=MANDATORY,
    catalogue=("A1",),
    peers=(
        "CKV_AZURE_149",
        "CKV_AZURE_1",
        "AVD-AZU-0039",
        "PSR:VM.PublicKey",
        "pc:azure-disallow-password-authentication",
    ),
)

AZURE_SSH_KEY = Rule(
    name="access-ssh-key-required",
    description="Linux VMs must carry an admin SSH public key.",
    concern=CONCERN,
    clouds=("azure",),
    resource_types=AZURE_VMS,
    check=_check_azure_ssh_key,
    level=MANDATORY,
    catalogue=("A2",),
    peers=("CKV_AZURE_178",),
)

ADMIN_USERNAME = Rule(
    name="access-admin-username-not-reserved",
    description="The VM admin account must not be root, admin or another well-known name.",
    concern=CONCERN,
    clouds=("azure",),
    resource_types=AZURE_VMS,
    check=_check_admin_username,
    level=MANDATORY,
    knobs={
        "forbiddenUsernames": Knob(
            {"type": "array", "items": {"type": "string"}},
            ["root", "admin", "administrator", "sysadmin", "superuser"],
            "admin user names that are refused (case-insensitive)",
        )
    },
    catalogue=("A2",),
    peers=("CKV_AZURE_178",),
)


# ---------------------------------------------------------------------------------------------
# A2 (AWS, advisory): SSM instead of key pairs


def _check_prefer_ssm(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    key = props.get("keyName")
    if key and props.get("iamInstanceProfile"):
        yield (
            f"keyName {key!r} is set although an instance profile is attached; use SSM Session Manager "
            "instead of an SSH key pair and drop keyName"
        )


AWS_PREFER_SSM = Rule(
    name="access-aws-prefer-ssm-over-key-pair",
    description="EC2 instances with an instance profile should be reached through SSM, not an SSH key pair.",
    concern=CONCERN,
    clouds=("aws",),
    resource_types=AWS_VMS,
    check=_check_prefer_ssm,
    level=ADVISORY,  # catalogue *adv*: a key pair may still be the break-glass path.
    catalogue=("A2",),
    peers=(),  # no peer checks this pairing; the catalogue lists A2 as our own advisory
)


# ---------------------------------------------------------------------------------------------
# A3: boot configuration must not turn on root or password login


def _check_boot_login(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    accepted = ctx["permitRootLoginAccepted"]

    def found() -> Iterator[str]:
        for label, text in boot_documents(resource_type, props):
            writes = document_writes(text)
            for setting in writes.settings:
                problem = login_problems(setting, accepted)
                if problem:
                    yield f"{label} {problem}"
            for finding in writes.findings:
                yield f"{label} {finding}"

    yield from _unique(found())


BOOT_LOGIN = Rule(
    name="access-boot-config-no-root-or-password-login",
    description="Boot data (user/custom data, startup scripts, VM extension and run-command scripts, GCP project metadata) must not enable root login or SSH password login; what it writes for PermitRootLogin must be no.",
    concern=CONCERN,
    clouds=("aws", "azure", "gcp"),
    resource_types=BOOT_TYPES,
    check=_check_boot_login,
    level=MANDATORY,
    knobs={
        "permitRootLoginAccepted": Knob(
            {"type": "array", "items": {"type": "string"}},
            ["no"],
            "PermitRootLogin values boot data may write (CIS: only no; prohibit-password still lets root in with a key)",
        )
    },
    catalogue=("A3",),
    peers=(),
)


# ---------------------------------------------------------------------------------------------
# A3: boot code fetched from somewhere the pack cannot read

#: GCP metadata keys whose value is the URL of a script the guest agent downloads and runs.
_GCP_SCRIPT_URL_RE = re.compile(r"^(?:windows-)?(?:startup|shutdown)-script-url$|^sysprep-specialize-script-url$")
#: GCP metadata keys whose value is a script the guest agent runs (besides `GCP_BOOT_KEYS`).
_GCP_SCRIPT_RE = re.compile(
    r"^(?:windows-)?(?:startup|shutdown)-script(?:-ps1|-cmd|-bat)?$|^sysprep-specialize-script-(?:ps1|cmd|bat)$"
)
#: Extension settings keys that name what the extension downloads (CustomScript ``fileUris``,
#: DSC ``configuration.url``/``modulesUrl``, ...): any key ending in uri(s)/url(s).
_URI_KEY_RE = re.compile(r"(?:uri|url)s?$", re.IGNORECASE)
_URL_VALUE_RE = re.compile(r"^\s*[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _setting_urls(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """``(path, url)`` for every URL under a uri/url-named key of extension settings."""
    value = plain(value)
    if depth > 8:
        return
    if is_map(value):
        for key in value:
            sub = plain(value[key])
            name = str(key).lower()
            if _URI_KEY_RE.search(name) and "proxy" not in name:
                script_key = name in ("fileuris", "fileuri", "scripturi", "scripturis")
                for i, item in enumerate(as_list(sub)):
                    item = plain(item)
                    if isinstance(item, str):
                        if not item.strip() or not (script_key or _URL_VALUE_RE.match(item)):
                            continue  # empty, or a path under a generic *Url key
                        many = not isinstance(sub, str) and not is_map(sub)
                        yield (f"{path}.{key}[{i}]" if many else f"{path}.{key}"), item
                    elif script_key and not is_map(item):
                        raise TypeError(f"{path}.{key} is {type(item).__name__}, expected a URL")
            elif is_map(sub) or (isinstance(sub, Sequence) and not isinstance(sub, str)):
                yield from _setting_urls(sub, f"{path}.{key}", depth + 1)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for i, item in enumerate(value):
            yield from _setting_urls(item, f"{path}[{i}]", depth + 1)


def _extension_urls(prefix: str, ext: Any) -> Iterator[tuple[str, str]]:
    for part in ("settings", "protectedSettings"):
        settings = plain(dig(ext, part))
        if isinstance(settings, str):
            settings = parsed_json(settings)
        if settings is None:
            continue
        if not is_map(settings):
            raise TypeError(f"{prefix}{part} is {type(settings).__name__}, expected an object")
        yield from _setting_urls(settings, f"{prefix}{part}")


def fetched_scripts(resource_type: str, props: Props) -> Iterator[tuple[str, str]]:
    """``(label, url)`` for every script a resource has the VM download and run by URL."""
    if resource_type in AZ_EXTENSIONS:
        yield from _extension_urls("", props)
    elif resource_type in AZ_RUN_COMMANDS:
        uri = plain(dig(props, "source", "scriptUri"))
        if uri is not None and str(uri).strip():
            yield "source.scriptUri", str(uri)
    elif resource_type == AZ_VMSS:
        extensions = dig(props, "virtualMachineProfile", "extensionProfile", "extensions")
        for i, ext in enumerate(as_list(extensions)):
            yield from _extension_urls(f"virtualMachineProfile.extensionProfile.extensions[{i}].", ext)
    elif resource_type in GCP_VMS or resource_type in GCP_PROJECT:
        for _key, value, where in _gcp_script_keys(resource_type, props, _GCP_SCRIPT_URL_RE):
            if str(value).strip():  # an empty URL runs nothing
                yield where, str(value)


def _gcp_script_keys(resource_type: str, props: Props, pattern: re.Pattern[str]) -> Iterator[tuple[str, Any, str]]:
    """``(key, value, label)`` of GCP metadata keys matching `pattern` (only their values are read)."""
    if resource_type == GCP_PROJECT_METADATA_ITEM:
        key = props.get("key")
        if key is not None and pattern.match(str(key).lower()):
            yield str(key), plain(props.get("value")), f"project metadata {key}"
        return
    meta = _metadata(props)
    where = "project metadata" if resource_type in GCP_PROJECT else "metadata."
    for key in meta:
        if pattern.match(str(key).lower()):
            value = plain(meta[key])
            if value is not None:
                yield str(key), value, f"{where}{key}" if where.endswith(".") else f"{where} {key}"


def _download_documents(resource_type: str, props: Props) -> Iterator[tuple[str, str]]:
    """Every boot document, plus the GCP Windows and shutdown scripts (they run as root too)."""
    yield from boot_documents(resource_type, props)
    if resource_type in GCP_VMS or resource_type in GCP_PROJECT:
        for key, value, where in _gcp_script_keys(resource_type, props, _GCP_SCRIPT_RE):
            if key.lower() not in GCP_BOOT_KEYS:
                for text in boot_texts(value, False):
                    yield where, text


_QUERY_RE = re.compile(r"[?#].*$", re.S)
_USERINFO_RE = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@\s]*@", re.I)


def _shown_url(url: str) -> str:
    """A URL for a message: SAS tokens, signatures and credentials (query, user info) redacted."""
    shown = _USERINFO_RE.sub(r"\1(redacted)@", url.strip())
    shown = _QUERY_RE.sub("?(query redacted)", shown) if re.search(r"[?#]", shown) else shown
    return repr(shown if len(shown) <= 120 else shown[:117] + "...")


def _check_boot_downloads(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    trusted = [str(p) for p in ctx["trustedUrlPrefixes"] or ()]
    advice = (
        "ship the script in the boot data (so the pack reads it), or serve it from a prefix listed in "
        "trustedUrlPrefixes (failing closed)"
    )

    def untrusted(urls: Iterable[str]) -> list[str]:
        return [u for u in urls if not url_trusted(u, trusted)]

    def found() -> Iterator[str]:
        for where, url in fetched_scripts(resource_type, props):
            if untrusted([url]):
                yield f"{where} has the VM download and run {_shown_url(url)}, which the pack cannot read; {advice}"
        for label, text in _download_documents(resource_type, props):
            for d in document_downloads(text):
                if d.unsigned:
                    if not d.urls or untrusted(d.urls):
                        yield (
                            f"{label} {d.where} {d.how}, so what it installs is code nobody signed; "
                            "install from a signed repository (failing closed)"
                        )
                    continue
                bad = untrusted(d.urls)
                if not bad and not d.unresolved:
                    continue
                shown = ", ".join(_shown_url(u) for u in bad)
                if d.unresolved:
                    shown = (
                        f"{shown} and a URL the boot data does not fix" if shown else "a URL the boot data does not fix"
                    )
                yield f"{label} {d.where} {d.how} from {shown}; {advice}".replace("  ", " ")

    yield from _unique(found())


BOOT_DOWNLOADS = Rule(
    name="access-boot-no-unreviewed-downloads",
    description="Boot data must not fetch code the pack cannot read and run it (curl|sh, download then execute, cloud-init #include and write_files source, GCP startup-script-url, Azure fileUris and run-command scriptUri) unless it comes from a trusted URL prefix.",
    concern=CONCERN,
    clouds=("aws", "azure", "gcp"),
    resource_types=BOOT_TYPES,
    check=_check_boot_downloads,
    # MANDATORY: a downloaded script can undo everything A3 checks (turn root login back on)
    # and no reviewer or policy ever sees it.
    level=MANDATORY,
    knobs={
        "trustedUrlPrefixes": Knob(
            {"type": "array", "items": {"type": "string"}},
            [],
            "URL prefixes (scheme://host/path, matched at a path boundary) whose scripts boot data may download and run; "
            "none by default: our stacks run no downloaded code",
        )
    },
    catalogue=("A3",),
    peers=(),  # no peer checks this: a gap none covers
)


# ---------------------------------------------------------------------------------------------
# A4-A6 (GCP): OS Login, project SSH keys, serial port


def _project_get(resource_type: str, props: Props, key: str) -> tuple[bool, Any]:
    """``(present, value)`` of one key of project metadata (map or single item)."""
    if resource_type == GCP_PROJECT_METADATA:
        return _meta_get(_metadata(props), key)
    item_key = props.get("key")
    if item_key is not None and str(item_key).lower() == key:
        return True, plain(props.get("value"))
    return False, None


def _instance_get(resource_type: str, props: Props, key: str) -> tuple[bool, Any]:
    if resource_type in GCP_PROJECT:
        return _project_get(resource_type, props, key)
    return _meta_get(_metadata(props), key)


def _check_oslogin(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    present, value = _instance_get(resource_type, props, "enable-oslogin")
    where = "project metadata" if resource_type in GCP_PROJECT else "metadata"
    if present:
        if not _meta_true(value):
            yield f"{where} sets enable-oslogin={value!r}; set it to TRUE"
    elif resource_type not in (*GCP_PROJECT, *GCP_DERIVED_INSTANCES) and ctx["requireOnInstance"]:
        # Instances from a template or machine image inherit the key when they do not set it.
        yield "metadata enable-oslogin is not set; set it to TRUE so logins go through IAM (OS Login)"


def _check_block_project_keys(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    present, value = _instance_get(resource_type, props, "block-project-ssh-keys")
    if not present and resource_type in GCP_DERIVED_INSTANCES:
        return  # inherited from the template or machine image, judged there
    if not present:
        yield "metadata block-project-ssh-keys is not set; set it to TRUE"
    elif not _meta_true(value):
        yield f"metadata block-project-ssh-keys is {value!r}; set it to TRUE"


def _check_serial_port(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    present, value = _instance_get(resource_type, props, "serial-port-enable")
    if present and not _meta_false(value):
        where = "project metadata" if resource_type in GCP_PROJECT else "metadata"
        yield f"{where} serial-port-enable is {value!r}; remove it or set it to FALSE"


GCP_OSLOGIN = Rule(
    name="access-gcp-oslogin-required",
    description="GCP VMs must set enable-oslogin=TRUE and project metadata must never turn OS Login off.",
    concern=CONCERN,
    clouds=("gcp",),
    resource_types=GCP_VMS + GCP_PROJECT,
    check=_check_oslogin,
    level=MANDATORY,
    knobs={
        "requireOnInstance": Knob(
            {"type": "boolean"},
            True,
            "require enable-oslogin=TRUE on every instance/template (false: only an explicit FALSE fails)",
        )
    },
    catalogue=("A4",),
    peers=("CKV_GCP_33", "CKV_GCP_34", "AVD-GCP-0036", "AVD-GCP-0042", "gpl:enable_oslogin_project_v1"),
)

GCP_BLOCK_PROJECT_KEYS = Rule(
    name="access-gcp-block-project-ssh-keys",
    description="GCP VMs must set block-project-ssh-keys=TRUE.",
    concern=CONCERN,
    clouds=("gcp",),
    resource_types=GCP_VMS,
    check=_check_block_project_keys,
    level=MANDATORY,
    catalogue=("A5",),
    peers=("CKV_GCP_32", "AVD-GCP-0030", "gpl:block_ssh_keys_v1"),
)

SERIAL_CONSOLE_OFF = Rule(
    name="access-serial-console-off",
    description="GCP VMs and project metadata must not enable the interactive serial console.",
    concern=CONCERN,
    clouds=("gcp",),
    resource_types=GCP_VMS + GCP_PROJECT,
    check=_check_serial_port,
    level=MANDATORY,
    catalogue=("A6",),
    peers=("CKV_GCP_35", "AVD-GCP-0032"),
)


# ---------------------------------------------------------------------------------------------
# A7: secrets in boot data

_KEY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("an AWS secret access key", re.compile(r"aws_secret_access_key\s*[=:]\s*[\"']?[A-Za-z0-9/+]{40}", re.I)),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("a service-account key", re.compile(r"\"private_key_id\"\s*:\s*\"[0-9a-f]{16,}\"")),
)
_PASSWORD_RE = re.compile(
    r"(?i)(?<![\w-])([\w.-]*(?:password|passwd|passphrase|pwd|secret|api[_-]?key|token))[\"']?[ \t]*[:=][ \t]*[\"']?([^\s\"',;]+)"
)
_URL_CRED_RE = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@", re.I)
_NOT_A_SECRET = {"true", "false", "yes", "no", "none", "null", "~", "random"}
_EXCLUDED_KEYS = {"lock_passwd", "ssh_pwauth", "chpasswd"}


def _secret_docs(resource_type: str, props: Props) -> Iterator[tuple[str, str]]:
    for label, text in boot_documents(resource_type, props):
        if "protectedSettings" not in label:  # encrypted at rest and hidden from the VM's readers
            yield label, text
    if resource_type in GCP_VMS:
        # Every metadata value is readable by any process on the VM through the metadata server.
        meta = _metadata(props)
        for key in meta:
            if str(key).lower() not in ("startup-script", "user-data"):
                value = plain(meta[key])
                if isinstance(value, str):
                    yield f"metadata.{key}", value


@functools.lru_cache(maxsize=256)
def _key_lines(text: str) -> tuple[tuple[int, str], ...]:
    """(line number, what) for each key pattern a line matches. Cached by content: a stack's VMs
    mostly share their boot data, and the pack judges each VM."""
    return tuple(
        (lineno, what)
        for lineno, line in enumerate(text.splitlines(), 1)
        for what, pattern in _KEY_PATTERNS
        if pattern.search(line)
    )


def _check_key_material(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    def found() -> Iterator[str]:
        for label, text in _secret_docs(resource_type, props):
            for lineno, what in _key_lines(text):
                yield (
                    f"{label} line {lineno} contains {what}; boot data is readable from the instance "
                    "metadata and the cloud API: fetch secrets at boot from a secret manager instead"
                )

    yield from _unique(found())


def _looks_like_value(value: str) -> bool:
    v = value.strip()
    if len(v) < 4 or v.lower() in _NOT_A_SECRET:
        return False
    # References, templates and placeholders are not secrets themselves.
    return not v.startswith(("$", "{{", "${", "%", "<", "/", "@"))


@functools.lru_cache(maxsize=256)
def _password_lines(text: str) -> tuple[tuple[int, str], ...]:
    """(line number, finding) for each literal password or credential URL. Cached by content, as
    `_key_lines`; the findings never carry the value."""
    out: list[tuple[int, str]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("#"):
            continue
        for m in _PASSWORD_RE.finditer(line):
            if m.group(1).lower() not in _EXCLUDED_KEYS and _looks_like_value(m.group(2)):
                out.append(
                    (
                        lineno,
                        f"assigns a literal value to {m.group(1)!r} (value redacted); "
                        "read it at boot from a secret manager instead",
                    )
                )
        if _URL_CRED_RE.search(line):
            out.append((lineno, "has a URL with an embedded password (redacted); use a secret manager"))
    return tuple(out)


def _check_passwords(resource_type: str, props: Props, ctx: Context) -> Iterable[str]:
    def found() -> Iterator[str]:
        for label, text in _secret_docs(resource_type, props):
            for lineno, finding in _password_lines(text):
                yield f"{label} line {lineno} {finding}"

    yield from _unique(found())


NO_KEYS_IN_BOOT_DATA = Rule(
    name="access-no-secrets-in-boot-data",
    description="Boot data must not contain cloud access keys or private keys.",
    concern=CONCERN,
    clouds=("aws", "azure", "gcp"),
    resource_types=BOOT_TYPES,
    check=_check_key_material,
    # MANDATORY: the patterns are specific (AKIA/ASIA ids, PEM private key headers, service-account
    # key ids), so false positives are rare, and boot data is readable by every process on the VM
    # through the metadata service and by anyone who can describe the instance.
    level=MANDATORY,
    catalogue=("A7",),
    peers=("CKV_AWS_46", "CKV_AZURE_45", "AVD-AWS-0029", "AVD-AWS-0129", "AVD-AZU-0037"),
)

NO_PASSWORDS_IN_BOOT_DATA = Rule(
    name="access-no-passwords-in-boot-data",
    description="Boot data should not assign literal passwords, tokens or API keys.",
    concern=CONCERN,
    clouds=("aws", "azure", "gcp"),
    resource_types=BOOT_TYPES,
    check=_check_passwords,
    # ADVISORY: `password=`-style matching is heuristic (test fixtures, non-secret settings).
    level=ADVISORY,
    catalogue=("A7",),
    peers=("CKV_AWS_46", "CKV_AZURE_45", "AVD-AWS-0029", "AVD-AZU-0037"),
)


RULES: list[Rule | StackRule] = [
    AZURE_NO_PASSWORD,
    AZURE_SSH_KEY,
    ADMIN_USERNAME,
    AWS_PREFER_SSM,
    BOOT_LOGIN,
    BOOT_DOWNLOADS,
    GCP_OSLOGIN,
    GCP_BLOCK_PROJECT_KEYS,
    SERIAL_CONSOLE_OFF,
    NO_KEYS_IN_BOOT_DATA,
    NO_PASSWORDS_IN_BOOT_DATA,
]
