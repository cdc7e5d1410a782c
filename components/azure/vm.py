"""Azure VMs: N hardened Ubuntu VMs over the zones, CMK disks, the Azure Monitor Agent."""

from __future__ import annotations

import base64

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.compute as compute
import pulumi_azure_native.monitor as monitor
import pulumi_azure_native.network as network

from ..bootstrap.cloud_init import AgentSetup
from ..interfaces import VmArgs
from .keys import ROLE_CRYPTO_SERVICE_ENCRYPTION_USER, grant, rotating_key, vault
from .names import AzureNames, app_of
from .network import vm_address
from .settings import ADMIN_USER, AzureSettings, settings_of

#: Ubuntu 24.04 LTS (Gen2, so Trusted Launch works) from Canonical, x86_64 (the only architecture
#: Trusted Launch supports; the config refuses arm64 on Azure).
UBUNTU_IMAGE = ("Canonical", "ubuntu-24_04-lts", "server")
#: The Ubuntu image's own OS disk is 30 GiB; Azure refuses a smaller one.
MIN_OS_DISK_GB = 30
#: The Azure Monitor Agent for Linux: the extension the data collection rule drives.
AMA_PUBLISHER, AMA_TYPE, AMA_VERSION = "Microsoft.Azure.Monitor", "AzureMonitorLinuxAgent", "1.0"


def monitor_agent() -> AgentSetup:
    """What cloud-init adds for the Azure Monitor Agent: nothing.

    The agent arrives as a VM extension (`AzureMonitorLinuxAgent`) and takes its configuration
    from the data collection rule. It reads syslog through rsyslog, which Ubuntu's Azure images
    run already, and tails the app log the shared cloud-init creates.
    """
    return AgentSetup()


def custom_data(user_data: str) -> str:
    """`osProfile.customData`: Azure takes the cloud-init document base64-encoded."""
    return base64.b64encode(user_data.encode()).decode()


def image_reference(image_id: str | None, architecture: str) -> compute.ImageReferenceArgs:
    """A pinned image (ARM ID or gallery image) or the latest Ubuntu 24.04 LTS."""
    if image_id:
        if image_id.startswith("/communityGalleries/"):
            return compute.ImageReferenceArgs(community_gallery_image_id=image_id)
        if image_id.startswith("/sharedGalleries/"):
            return compute.ImageReferenceArgs(shared_gallery_image_id=image_id)
        return compute.ImageReferenceArgs(id=image_id)
    publisher, offer, sku = UBUNTU_IMAGE
    # "latest" is resolved once, at creation: a new image release does not replace a VM.
    return compute.ImageReferenceArgs(publisher=publisher, offer=offer, sku=sku, version="latest")


def linux_configuration(az: AzureSettings) -> compute.LinuxConfigurationArgs:
    """SSH keys only: password login off, the admin's public key, the VM agent for extensions."""
    return compute.LinuxConfigurationArgs(
        disable_password_authentication=True,
        provision_vm_agent=True,
        ssh=compute.SshConfigurationArgs(
            public_keys=[
                compute.SshPublicKeyArgs(
                    path=f"/home/{ADMIN_USER}/.ssh/authorized_keys",
                    key_data=az.admin_ssh_public_key,
                )
            ]
        ),
    )


def security_profile(az: AzureSettings) -> compute.SecurityProfileArgs:
    """Trusted Launch (secure boot + vTPM) and encryption at host."""
    return compute.SecurityProfileArgs(
        security_type="TrustedLaunch",
        uefi_settings=compute.UefiSettingsArgs(secure_boot_enabled=True, v_tpm_enabled=True),
        encryption_at_host=az.encryption_at_host,
    )


class Vm(pulumi.ComponentResource):
    """N Linux VMs, round-robin over the zones' subnets, no public IPs.

    Hardened: SSH keys only (`disablePasswordAuthentication`, never an admin password), Trusted
    Launch (secure boot + vTPM), encryption at host, OS disks under a customer-managed Key Vault
    key through a disk encryption set (`appstack:azure.customerManagedKeys`), a system-assigned
    identity with no roles, the shared cloud-init as custom data, the Azure Monitor Agent with
    the log sink's data collection rule, and a CanNotDelete lock with deletion protection.

    Outputs: `instance_ids` (VM IDs), `private_ips`.
    """

    instance_ids: list[pulumi.Output[str]]
    private_ips: list[pulumi.Output[str]]

    def __init__(self, name: str, args: VmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:azure:Vm", name, None, opts)
        az = settings_of(args.extras)
        names = AzureNames(app_of(name, "vm"))
        rg = args.scope
        assert rg is not None, "the Azure VMs need the resource group (args.scope)"
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)

        disk_set: compute.DiskEncryptionSet | None = None
        ready: list[pulumi.Resource] = []
        if az.customer_managed_keys:
            disk_set, grant_ = disk_encryption_set(name, az, names, rg, tags, args.protect, self)
            # The set can wrap keys only once its identity holds the role.
            ready.append(grant_)

        # Resolved once the firewall's rules exist, so the VMs boot behind their final NSG rules.
        subnets = pulumi.Output.all(args.subnet_ids, args.security_group_id).apply(lambda v: list(v[0]))
        self.instance_ids, self.private_ips = [], []
        for i in range(args.count):
            zone = az.zones[i % len(az.zones)]
            nic = network.NetworkInterface(
                f"{name}-{i}-nic",
                network_interface_name=names.of("nic", str(i)),
                resource_group_name=rg,
                ip_configurations=[
                    network.NetworkInterfaceIPConfigurationArgs(
                        name="primary",
                        primary=True,
                        subnet=network.SubnetArgs(id=subnets.apply(lambda ids, i=i: ids[i % len(ids)])),
                        # Static: the gateway's backend pool lists these addresses (network.vm_address).
                        private_ip_allocation_method="Static",
                        private_ip_address=vm_address(az.network_cidr, len(az.zones), i),
                        # No public_ip_address: the VMs are reached through the gateway only.
                    )
                ],
                tags=tags,
                opts=child,
            )
            vm_name = names.vm(i)
            vm = compute.VirtualMachine(
                f"{name}-{i}",
                vm_name=vm_name,
                resource_group_name=rg,
                zones=[zone],
                hardware_profile=compute.HardwareProfileArgs(vm_size=args.machine_type),
                storage_profile=compute.StorageProfileArgs(
                    image_reference=image_reference(args.image_id, args.architecture),
                    os_disk=compute.OSDiskArgs(
                        create_option="FromImage",
                        disk_size_gb=max(args.root_volume_gb, MIN_OS_DISK_GB),
                        caching=compute.CachingTypes.READ_WRITE,
                        delete_option="Delete",
                        managed_disk=compute.ManagedDiskParametersArgs(
                            storage_account_type="Premium_LRS",
                            disk_encryption_set=compute.DiskEncryptionSetParametersArgs(id=disk_set.id)
                            if disk_set
                            else None,
                        ),
                    ),
                ),
                os_profile=compute.OSProfileArgs(
                    computer_name=vm_name,
                    admin_username=ADMIN_USER,
                    custom_data=custom_data(args.user_data),
                    allow_extension_operations=True,
                    linux_configuration=linux_configuration(az),
                ),
                security_profile=security_profile(az),
                network_profile=compute.NetworkProfileArgs(
                    network_interfaces=[
                        compute.NetworkInterfaceReferenceArgs(id=nic.id, primary=True, delete_option="Delete")
                    ]
                ),
                # The agent's identity; it holds no roles (the data collection rule authorizes it).
                identity=compute.VirtualMachineIdentityArgs(type=compute.ResourceIdentityType.SYSTEM_ASSIGNED),
                # Serial console and screenshots into Azure-managed storage, for boot failures.
                diagnostics_profile=compute.DiagnosticsProfileArgs(
                    boot_diagnostics=compute.BootDiagnosticsArgs(enabled=True)
                ),
                tags=tags,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=ready,
                    # customData is fixed at creation; the image reference "latest" likewise.
                    ignore_changes=["storageProfile.imageReference.version"],
                ),
            )
            agent = compute.VirtualMachineExtension(
                f"{name}-{i}-ama",
                vm_extension_name=AMA_TYPE,
                vm_name=vm.name,
                resource_group_name=rg,
                publisher=AMA_PUBLISHER,
                type=AMA_TYPE,
                type_handler_version=AMA_VERSION,
                auto_upgrade_minor_version=True,
                enable_automatic_upgrade=True,
                tags=tags,
                opts=child,
            )
            for j, rule in enumerate(args.log_destinations):
                monitor.DataCollectionRuleAssociation(
                    f"{name}-{i}-dcr" + (f"-{j}" if j else ""),
                    association_name=f"dcra-{names.base}"[:64] if not j else f"dcra-{names.base}-{j}"[:64],
                    resource_uri=vm.id,
                    data_collection_rule_id=rule,
                    description="appstack: syslog, performance counters and the app log to the log sink",
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[agent]),
                )
            if args.deletion_protection:
                authorization.ManagementLockByScope(
                    f"{name}-{i}-lock",
                    lock_name=f"lock-{vm_name}"[:90],
                    level="CanNotDelete",
                    scope=vm.id,
                    notes="appstack: deletion protection (protection.deletionProtection)",
                    opts=child,
                )
            self.instance_ids.append(vm.id)
            self.private_ips.append(nic.id.apply(lambda _, i=i: vm_address(az.network_cidr, len(az.zones), i)))
        self.register_outputs({"instance_ids": self.instance_ids, "private_ips": self.private_ips})


def disk_encryption_set(
    name: str,
    az: AzureSettings,
    names: AzureNames,
    rg: pulumi.Input[str],
    tags: dict[str, str],
    protect: bool,
    parent: pulumi.Resource,
) -> tuple[compute.DiskEncryptionSet, authorization.RoleAssignment]:
    """A disk encryption set over a rotating Key Vault key of its own vault, and the set's grant.

    Shared by `Vm` and `VmGroup`; children ``{name}-kv``, ``{name}-disk-key``, ``{name}-des``.
    """
    kv = vault(f"{name}-kv", az=az, vault_name=names.vault("d"), rg=rg, tags=tags, protect=protect, parent=parent)
    key = rotating_key(
        f"{name}-disk-key", key_name="disk", vault_name=kv.name, rg=rg, tags=tags, protect=protect, parent=parent
    )
    disk_set = compute.DiskEncryptionSet(
        f"{name}-des",
        disk_encryption_set_name=names.of("des"),
        resource_group_name=rg,
        encryption_type="EncryptionAtRestWithCustomerKey",
        identity=compute.EncryptionSetIdentityArgs(type="SystemAssigned"),
        active_key=compute.KeyForDiskEncryptionSetArgs(
            key_url=key.key_uri_with_version, source_vault=compute.SourceVaultArgs(id=kv.id)
        ),
        # Follows the key's yearly rotation without a deployment.
        rotation_to_latest_key_version_enabled=True,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )
    role = grant(
        f"{name}-des-key-access",
        az=az,
        purpose="des-key",
        role=ROLE_CRYPTO_SERVICE_ENCRYPTION_USER,
        principal_id=disk_set.identity.apply(lambda i: i.principal_id if i else ""),
        scope=kv.id,
        parent=parent,
    )
    return disk_set, role
