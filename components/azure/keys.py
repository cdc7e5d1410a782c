"""Key Vaults, keys and role assignments shared by the Azure parts."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterable, Sequence

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.keyvault as keyvault

from .names import AzureNames
from .settings import AzureSettings

#: Built-in role definitions (GUIDs are the same in every tenant).
ROLE_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
"""Key Vault Crypto Service Encryption User: read a key, wrap and unwrap with it (a DES)."""
ROLE_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
"""Key Vault Secrets User: read secret contents (the gateway reads its certificate so)."""
ROLE_CERTIFICATES_OFFICER = "a4417e6f-fecd-4de8-b567-7b0420556985"
"""Key Vault Certificates Officer: create certificates (the self-signed dev certificate)."""
ROLE_KEY_VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"
"""Key Vault Contributor: manage the vault, not its data (the script opens the firewall to itself)."""

#: Soft-delete retention (days): the maximum; the name stays reserved that long after a delete.
SOFT_DELETE_DAYS = 90


def role_id(subscription: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    """Subscription-scoped ARM ID of a built-in role definition."""
    return pulumi.Output.concat(
        "/subscriptions/", subscription, "/providers/Microsoft.Authorization/roleDefinitions/", role
    )


def assignment_name(names: AzureNames, *purpose: str) -> str:
    """A stable GUID for a role assignment (Azure requires GUID names), unique per stack and purpose."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(["appstack", names.project, names.stack, names.app, *purpose])))


def grant(
    name: str,
    *,
    az: AzureSettings,
    purpose: str,
    role: str,
    principal_id: pulumi.Input[str],
    scope: pulumi.Input[str],
    parent: pulumi.Resource,
) -> authorization.RoleAssignment:
    """Role `role` for a managed identity on `scope` (nothing broader)."""
    return authorization.RoleAssignment(
        name,
        role_assignment_name=assignment_name(az.names, purpose),
        role_definition_id=role_id(az.subscription_id, role),
        principal_id=principal_id,
        # A new identity may not have replicated yet; the type lets ARM skip the directory look-up.
        principal_type="ServicePrincipal",
        scope=scope,
        description=f"appstack: {purpose}",
        opts=pulumi.ResourceOptions(parent=parent),
    )


#: Private ranges (RFC 1918) Key Vault refuses in IP rules.
RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def vault_ip_rules(cidrs: Iterable[str]) -> list[keyvault.IPRuleArgs]:
    """The Key Vault IP rules for the admin networks: their IPv4 ranges outside RFC 1918.

    Key Vault refuses IP rules for IPv6 and for private ranges (RFC 1918: "IP network rules are
    only allowed for public IP addresses", Microsoft Learn, *Configure Azure Key Vault networking
    settings*). A private admin network (a VPN into the VNet, the usual way to SSH to VMs without
    public IPs) never reaches the vault's public endpoint anyway, so it is left out, not sent.
    CIDR form throughout: the API stores a single address as ``a.b.c.d/32`` (sending the bare
    address reads back as a change, terraform-provider-azurerm#8701).
    """
    rules = []
    for cidr in cidrs:
        net = ipaddress.ip_network(cidr, strict=False)
        if isinstance(net, ipaddress.IPv4Network) and not any(net.subnet_of(p) for p in RFC1918):
            rules.append(keyvault.IPRuleArgs(value=str(net)))
    return rules


def vault(
    name: str,
    *,
    az: AzureSettings,
    vault_name: str,
    rg: pulumi.Input[str],
    tags: dict[str, str],
    subnet_ids: Sequence[pulumi.Input[str]] = (),
    protect: bool,
    parent: pulumi.Resource,
) -> keyvault.Vault:
    """A Key Vault with RBAC, soft delete and purge protection, closed to the internet.

    Purge protection is what a disk encryption set requires, and it keeps a deleted key
    recoverable for `SOFT_DELETE_DAYS` (the vault's name stays reserved as long). Azure's trusted
    services (disk encryption sets among them) bypass the firewall; `subnet_ids` (the gateway's)
    and the admin networks' public ranges are the only other ways in. The stack itself creates keys through ARM
    (`Microsoft.KeyVault/vaults/keys`), the management plane, which the firewall does not govern.
    """
    return keyvault.Vault(
        name,
        vault_name=vault_name,
        resource_group_name=rg,
        properties=keyvault.VaultPropertiesArgs(
            tenant_id=az.tenant_id,
            sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
            # Azure RBAC, not access policies: every grant is a role assignment at vault scope.
            enable_rbac_authorization=True,
            enable_soft_delete=True,
            soft_delete_retention_in_days=SOFT_DELETE_DAYS,
            enable_purge_protection=True,
            enabled_for_deployment=False,
            enabled_for_disk_encryption=False,
            enabled_for_template_deployment=False,
            network_acls=keyvault.NetworkRuleSetArgs(
                default_action="Deny",
                bypass="AzureServices",
                # Public IPv4 only: Key Vault rejects private (RFC 1918) ranges (`vault_ip_rules`).
                ip_rules=vault_ip_rules(az.admin_cidrs),
                virtual_network_rules=[keyvault.VirtualNetworkRuleArgs(id=s) for s in subnet_ids],
            ),
        ),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )


def rotating_key(
    name: str,
    *,
    key_name: str,
    vault_name: pulumi.Input[str],
    rg: pulumi.Input[str],
    tags: dict[str, str],
    protect: bool,
    parent: pulumi.Resource,
) -> keyvault.Key:
    """An RSA 3072 key that rotates yearly; each version expires after two years.

    Consumers that follow the latest version (a disk encryption set with auto-rotation) never
    meet an expired version.
    """
    return keyvault.Key(
        name,
        key_name=key_name,
        vault_name=vault_name,
        resource_group_name=rg,
        properties=keyvault.KeyPropertiesArgs(
            kty="RSA",
            key_size=3072,
            key_ops=["wrapKey", "unwrapKey"],
            rotation_policy=keyvault.RotationPolicyArgs(
                attributes=keyvault.KeyRotationPolicyAttributesArgs(expiry_time="P2Y"),
                lifetime_actions=[
                    keyvault.LifetimeActionArgs(
                        action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.ROTATE),
                        trigger=keyvault.TriggerArgs(time_after_create="P1Y"),
                    ),
                    keyvault.LifetimeActionArgs(
                        action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.NOTIFY),
                        trigger=keyvault.TriggerArgs(time_before_expiry="P30D"),
                    ),
                ],
            ),
        ),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )
