"""Azure VM group: a Flexible VM scale set that heals, rolls with surge and scales on CPU."""

from __future__ import annotations

import pulumi
import pulumi_azure_native.compute as compute
import pulumi_azure_native.monitor as monitor

from ..interfaces import VmGroupArgs
from .names import AzureNames, app_of
from .settings import ADMIN_USER, settings_of
from .vm import (
    AMA_PUBLISHER,
    AMA_TYPE,
    AMA_VERSION,
    MIN_OS_DISK_GB,
    custom_data,
    disk_encryption_set,
    image_reference,
    linux_configuration,
    security_profile,
)

#: The Application Health extension for Linux: the VM reports its app's health to the platform
#: (rolling upgrades and automatic repairs read it). 1.0: binary states, an HTTP 200 from the
#: health path is healthy; 2.0's rich states want a JSON body the app does not send.
HEALTH_PUBLISHER, HEALTH_TYPE, HEALTH_VERSION = "Microsoft.ManagedServices", "ApplicationHealthLinux", "1.0"
#: A Flexible scale set's NICs need this network API version (or later).
NETWORK_API_VERSION = "2020-11-01"
#: Time a new VM has before automatic repairs act on an unhealthy report: cloud-init installs
#: packages (with retries) and starts the app in 2-5 minutes on Ubuntu; 10 leaves room.
REPAIR_GRACE_PERIOD = "PT10M"
#: Autoscale: sustained CPU over this window adds or removes one VM, then waits the cooldown.
SCALE_WINDOW, SCALE_COOLDOWN = "PT5M", "PT5M"
#: Scale in only well below the target, so one VM fewer does not push CPU straight back over it.
SCALE_IN_GAP_PERCENT = 25


def rolling_upgrade_policy() -> compute.RollingUpgradePolicyArgs:
    """Rolling upgrades that never drop capacity.

    `maxSurge`: each batch creates VMs on the new model before deleting old ones, so serving
    capacity stays at the scale set's size; 20% per batch; a batch whose new VMs report unhealthy
    (Application Health) stops the upgrade and rolls those VMs back.
    """
    return compute.RollingUpgradePolicyArgs(
        max_surge=True,
        max_batch_instance_percent=20,
        max_unhealthy_instance_percent=20,
        max_unhealthy_upgraded_instance_percent=20,
        pause_time_between_batches="PT0S",
        prioritize_unhealthy_instances=True,
        rollback_failed_instances_on_policy_breach=True,
    )


class VmGroup(pulumi.ComponentResource):
    """A Flexible VM scale set over the zones, its VMs hardened exactly like `Vm`'s.

    - Each VM: SSH keys only (`linux_configuration`), Trusted Launch and encryption at host
      (`security_profile`), a CMK OS disk through the disk encryption set (`disk_encryption_set`,
      shared with `Vm`), no public IP, a system-assigned identity with no roles, the hardened
      cloud-init as custom data, boot diagnostics, the Azure Monitor Agent with the log sink's
      data collection rule (associated with the scale set);
    - NICs join the gateway's backend pool (`backend_id`) in the first zone's VM subnet (its NSG
      rules apply; the scale set spans every zone);
    - the Application Health extension probes the app's health path; automatic repairs replace
      a VM reporting unhealthy after a grace period;
    - upgrade mode Rolling with `rolling_upgrade_policy` (surge, never below the set's size);
    - autoscale on average `Percentage CPU` between `min_size` and `max_size`; Pulumi sets the
      capacity at creation only, the autoscale setting owns it afterwards.

    No management lock in prod: the autoscaler and automatic repairs must delete VMs.
    Outputs: `group_id` (the scale set's ID), `instance_ids` (``[group_id]``), `private_ips`
    (empty), `instance_group` (the scale set's ID).
    """

    group_id: pulumi.Output[str]
    instance_ids: list[pulumi.Output[str]]
    private_ips: list[pulumi.Output[str]]
    instance_group: pulumi.Output[str]

    def __init__(self, name: str, args: VmGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Switching an existing stack from `instances` keeps the VMs' key, identity and the
        # rest of what both parts share (children of the same names): they move to the group
        # instead of being replaced (prod protects the key, so a replacement would fail).
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="appstack:azure:Vm")])
        super().__init__("appstack:azure:VmGroup", name, None, pulumi.ResourceOptions.merge(opts, moved))
        vm = args.vm
        az = settings_of(vm.extras)
        names = AzureNames(app_of(name, "vm"))
        rg = vm.scope
        assert rg is not None, "the Azure VM group needs the resource group (args.vm.scope)"
        if args.backend_id is None:
            raise ValueError("an Azure VM group joins the gateway's backend pool: backend_id is required")
        tags = dict(vm.tags)
        child = pulumi.ResourceOptions(parent=self)

        disk_set: compute.DiskEncryptionSet | None = None
        ready: list[pulumi.Resource] = []
        if az.customer_managed_keys:
            disk_set, grant_ = disk_encryption_set(name, az, names, rg, tags, vm.protect, self)
            ready.append(grant_)

        # Resolved once the firewall's rules exist, so the VMs boot behind their final NSG rules.
        subnet = pulumi.Output.all(vm.subnet_ids, vm.security_group_id).apply(lambda v: str(v[0][0]))
        scale_set = compute.VirtualMachineScaleSet(
            f"{name}-vmss",
            vm_scale_set_name=names.of("vmss"),
            resource_group_name=rg,
            orchestration_mode="Flexible",
            # Flexible over zones: Azure spreads the VMs over the zones, one fault domain each.
            zones=list(az.zones),
            platform_fault_domain_count=1,
            sku=compute.SkuArgs(name=vm.machine_type, tier="Standard", capacity=vm.count),
            identity=compute.VirtualMachineScaleSetIdentityArgs(type=compute.ResourceIdentityType.SYSTEM_ASSIGNED),
            upgrade_policy=compute.UpgradePolicyArgs(
                mode=compute.UpgradeMode.ROLLING, rolling_upgrade_policy=rolling_upgrade_policy()
            ),
            automatic_repairs_policy=compute.AutomaticRepairsPolicyArgs(
                enabled=True, grace_period=REPAIR_GRACE_PERIOD, repair_action="Replace"
            ),
            scale_in_policy=compute.ScaleInPolicyArgs(rules=["Default"], prioritize_unhealthy_vms=True),
            virtual_machine_profile=compute.VirtualMachineScaleSetVMProfileArgs(
                storage_profile=compute.VirtualMachineScaleSetStorageProfileArgs(
                    image_reference=image_reference(vm.image_id, vm.architecture),
                    os_disk=compute.VirtualMachineScaleSetOSDiskArgs(
                        create_option="FromImage",
                        disk_size_gb=max(vm.root_volume_gb, MIN_OS_DISK_GB),
                        caching=compute.CachingTypes.READ_WRITE,
                        delete_option="Delete",
                        managed_disk=compute.VirtualMachineScaleSetManagedDiskParametersArgs(
                            storage_account_type="Premium_LRS",
                            disk_encryption_set=compute.DiskEncryptionSetParametersArgs(id=disk_set.id)
                            if disk_set
                            else None,
                        ),
                    ),
                ),
                os_profile=compute.VirtualMachineScaleSetOSProfileArgs(
                    computer_name_prefix=names.short(),
                    admin_username=ADMIN_USER,
                    custom_data=custom_data(vm.user_data),
                    allow_extension_operations=True,
                    linux_configuration=linux_configuration(az),
                ),
                security_profile=security_profile(az),
                network_profile=compute.VirtualMachineScaleSetNetworkProfileArgs(
                    network_api_version=NETWORK_API_VERSION,
                    network_interface_configurations=[
                        compute.VirtualMachineScaleSetNetworkConfigurationArgs(
                            name="nic",
                            primary=True,
                            delete_option="Delete",
                            ip_configurations=[
                                compute.VirtualMachineScaleSetIPConfigurationArgs(
                                    name="primary",
                                    primary=True,
                                    subnet=compute.ApiEntityReferenceArgs(id=subnet),
                                    # No public_ip_address_configuration: reached through the gateway only.
                                    application_gateway_backend_address_pools=[
                                        compute.SubResourceArgs(id=args.backend_id)
                                    ],
                                )
                            ],
                        )
                    ],
                ),
                extension_profile=compute.VirtualMachineScaleSetExtensionProfileArgs(
                    extensions=[
                        compute.VirtualMachineScaleSetExtensionArgs(
                            name=HEALTH_TYPE,
                            publisher=HEALTH_PUBLISHER,
                            type=HEALTH_TYPE,
                            type_handler_version=HEALTH_VERSION,
                            auto_upgrade_minor_version=True,
                            settings={
                                "protocol": "http",
                                "port": args.app_port,
                                "requestPath": args.health_check_path,
                                "intervalInSeconds": 5,
                                "numberOfProbes": 1,
                            },
                        ),
                        compute.VirtualMachineScaleSetExtensionArgs(
                            name=AMA_TYPE,
                            publisher=AMA_PUBLISHER,
                            type=AMA_TYPE,
                            type_handler_version=AMA_VERSION,
                            auto_upgrade_minor_version=True,
                            enable_automatic_upgrade=True,
                        ),
                    ]
                ),
                diagnostics_profile=compute.DiagnosticsProfileArgs(
                    boot_diagnostics=compute.BootDiagnosticsArgs(enabled=True)
                ),
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=ready,
                # The autoscale setting owns the capacity; "latest" is resolved once per VM.
                ignore_changes=["sku.capacity", "virtualMachineProfile.storageProfile.imageReference.version"],
            ),
        )
        for j, dcr in enumerate(vm.log_destinations):
            monitor.DataCollectionRuleAssociation(
                f"{name}-dcr" + (f"-{j}" if j else ""),
                association_name=f"dcra-{names.base}"[:64] if not j else f"dcra-{names.base}-{j}"[:64],
                resource_uri=scale_set.id,
                data_collection_rule_id=dcr,
                description="appstack: syslog, performance counters and the app log to the log sink",
                opts=child,
            )

        def rule(
            direction: monitor.ScaleDirection, operator: monitor.ComparisonOperationType, threshold: int
        ) -> monitor.ScaleRuleArgs:
            return monitor.ScaleRuleArgs(
                metric_trigger=monitor.MetricTriggerArgs(
                    metric_name="Percentage CPU",
                    metric_namespace="microsoft.compute/virtualmachinescalesets",
                    metric_resource_uri=scale_set.id,
                    operator=operator,
                    statistic=monitor.MetricStatisticType.AVERAGE,
                    threshold=threshold,
                    time_aggregation=monitor.TimeAggregationType.AVERAGE,
                    time_grain="PT1M",
                    time_window=SCALE_WINDOW,
                ),
                scale_action=monitor.ScaleActionArgs(
                    direction=direction, type=monitor.ScaleType.CHANGE_COUNT, value="1", cooldown=SCALE_COOLDOWN
                ),
            )

        target = args.cpu_target_percent
        monitor.AutoscaleSetting(
            f"{name}-autoscale",
            autoscale_setting_name=names.of("autoscale"),
            resource_group_name=rg,
            target_resource_uri=scale_set.id,
            enabled=True,
            profiles=[
                monitor.AutoscaleProfileArgs(
                    name="cpu",
                    capacity=monitor.ScaleCapacityArgs(
                        minimum=str(args.min_size), maximum=str(args.max_size), default=str(vm.count)
                    ),
                    rules=[
                        rule(monitor.ScaleDirection.INCREASE, monitor.ComparisonOperationType.GREATER_THAN, target),
                        rule(
                            monitor.ScaleDirection.DECREASE,
                            monitor.ComparisonOperationType.LESS_THAN,
                            max(target - SCALE_IN_GAP_PERCENT, 5),
                        ),
                    ],
                )
            ],
            tags=tags,
            opts=child,
        )

        self.group_id = scale_set.id
        self.instance_ids = [scale_set.id]
        self.private_ips = []
        self.instance_group = scale_set.id
        self.register_outputs(
            {
                "group_id": self.group_id,
                "instance_ids": self.instance_ids,
                "private_ips": self.private_ips,
                "instance_group": self.instance_group,
            }
        )
