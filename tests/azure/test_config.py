"""Azure config: bad values stop the program before any resource, with key, value and fix."""

from __future__ import annotations

import base64

import pytest

from components.config import ConfigError
from tools.mocks import run_program
from tools.plan import load_stack_config


def _rsa_1024() -> str:
    blob = b"\x00\x00\x00\x07ssh-rsa" + b"\x00\x00\x00\x03\x01\x00\x01" + b"\x00\x00\x00\x81" + b"\x01" * 129
    return "ssh-rsa " + base64.b64encode(blob).decode()


CASES = {
    "no_ssh_key": (
        ["azure.adminSshPublicKey=null"],
        ["azure.adminSshPublicKey", "no admin SSH public key", "id_ed25519.pub"],
    ),
    "not_a_key": (
        ["azure.adminSshPublicKey=hunter2"],
        ["adminSshPublicKey", "not an ssh-rsa or ssh-ed25519", "public key"],
    ),
    "dsa_key": (["azure.adminSshPublicKey='ssh-dss AAAAB3NzaC1kc3M='"], ["not an ssh-rsa or ssh-ed25519"]),
    "key_type_mismatch": (
        ["azure.adminSshPublicKey='ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIEVYQU1QTEUtS0VZLVJFUExBQ0UtV0lUSC1ZT1VSUyEh'"],
        ["does not hold a ssh-rsa key"],
    ),
    "short_rsa": ([f"azure.adminSshPublicKey='{_rsa_1024()}'"], ["shorter than 2048 bits", "ssh-ed25519"]),
    "weak_tls_policy": (
        ["loadBalancer.tlsPolicy=AppGwSslPolicy20150501"],
        [
            "appstack:loadBalancer.tlsPolicy = 'AppGwSslPolicy20150501'",
            "not allowed on Azure",
            "AppGwSslPolicy20220101S",
        ],
    ),
    "acm_arn_on_azure": (
        ["loadBalancer.certificateId=arn:aws:acm:eu-west-1:123456789012:certificate/x"],
        ["not a versionless Key Vault secret ID", "https://<vault>.vault.azure.net/secrets/"],
    ),
    "versioned_secret": (
        ["loadBalancer.certificateId=https://kv-certs.vault.azure.net/secrets/app/0123456789abcdef0123456789abcdef"],
        ["not a versionless Key Vault secret ID"],
    ),
    "arm64": (["compute.architecture=arm64"], ["appstack:compute.architecture = 'arm64'", "Trusted Launch", "x86_64"]),
    "four_zones": (["network.zoneCount=4"], ["appstack:network.zoneCount = 4", "3 availability zones"]),
    "retention_too_long": (["logging.retentionDays=1000"], ["appstack:logging.retentionDays = 1000", "30 to 730"]),
    "existing_vnet": (
        ["network.existing={networkId: /x/vnet, publicSubnetIds: [a, b], privateSubnetIds: [c, d]}"],
        ["appstack:network.existing", "not supported on Azure yet", "remove appstack:network.existing"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_azure_config_is_one_clear_message_and_no_resource(case):
    overrides, fragments = CASES[case]
    config = load_stack_config("dev", ["cloud=azure", *overrides])
    with pytest.raises(ConfigError) as err:
        run_program("dev", config)
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, message
    assert [r for r in err.value.plan.resources if r.custom] == []  # type: ignore[attr-defined]


def test_aws_stacks_do_not_need_an_azure_key():
    config = load_stack_config("dev", ["azure.adminSshPublicKey=null"])
    assert run_program("dev", config).outputs["url"] == "https://app.dev.example.com"
