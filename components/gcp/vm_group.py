"""GCP VM group: a regional instance template and managed instance group that heal, roll and scale."""

from __future__ import annotations

import pulumi
import pulumi_gcp.compute as compute

from ..interfaces import VmGroupArgs
from ..naming import digest
from .kms import client_config
from .names import app_of, base, labels, physical
from .vm import HARDENED_METADATA, UBUNTU_FAMILIES, VM_SCOPES, vm_basis, zone_count

#: Seconds a new VM has before a failed auto-healing check recreates it: cloud-init installs the
#: Ops Agent (with retries) and starts the app in 2-5 minutes on Ubuntu; 5 minutes leaves room.
AUTOHEAL_INITIAL_DELAY_SECONDS = 300
#: Seconds a replacement must be running before the rollout counts it available and moves on.
MIN_READY_SECONDS = 60
#: Seconds the autoscaler waits after a VM starts before its CPU counts (boot is CPU-heavy).
AUTOSCALER_COOLDOWN_SECONDS = 120
DISK_TYPE = "pd-balanced"
TEMPLATE_DESCRIPTION = "appstack VMs (one template per boot config, image, machine type and network)"


def update_policy(zones: int) -> compute.RegionInstanceGroupManagerUpdatePolicyArgs:
    """Rolling updates that never drop capacity: new VMs first, then the old ones go.

    `maxUnavailableFixed: 0`: no VM is taken down before its replacement is up and ready.
    `maxSurgeFixed`: a regional group needs a surge of 0 or at least one per zone it spans,
    so one extra VM per zone at a time. `SUBSTITUTE` gives replacements new names, which a
    surge needs (`RECREATE` would reuse the name and so take the old VM down first).
    """
    return compute.RegionInstanceGroupManagerUpdatePolicyArgs(
        type="PROACTIVE",
        minimal_action="REPLACE",
        most_disruptive_allowed_action="REPLACE",
        replacement_method="SUBSTITUTE",
        max_surge_fixed=zones,
        max_unavailable_fixed=0,
        min_ready_sec=MIN_READY_SECONDS,
        instance_redistribution_type="PROACTIVE",
    )


class VmGroup(pulumi.ComponentResource):
    """A regional managed instance group of VMs hardened exactly like `Vm`'s.

    - Regional instance template: the disk key, service account and grants of `vm_basis`
      (shared with `Vm`), Shielded VM (Secure Boot, vTPM, integrity monitoring), OS Login with
      project SSH keys blocked and no serial console, no external IP, no IP forwarding, the
      firewall's network tag, a CMEK boot disk, the hardened cloud-init. Templates are
      immutable: the name carries a digest of what it holds, so a change creates the new
      template before the old one goes and the group rolls onto it;
    - regional managed instance group over the first `network.zoneCount` zones, recreating VMs
      that fail their own HTTP auto-healing check on the app's health path (after an initial
      delay), rolling a new template out proactively with surge only (`update_policy`);
    - regional autoscaler on average CPU between `min_size` and `max_size`. The group has no
      target size of its own: the autoscaler owns it (starting at `min_size`).

    The load balancer's backend service names the group's `instance_group`.
    Outputs: `group_id` (``projects/<p>/regions/<r>/instanceGroupManagers/<name>``),
    `instance_ids` (``[group_id]``), `private_ips` (empty), `instance_group` (its URL).
    """

    group_id: pulumi.Output[str]
    instance_ids: list[pulumi.Output[str]]
    private_ips: list[pulumi.Output[str]]
    instance_group: pulumi.Output[str]

    def __init__(self, name: str, args: VmGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Switching an existing stack from `instances` keeps the VMs' key, identity and the
        # rest of what both parts share (children of the same names): they move to the group
        # instead of being replaced (prod protects the key, so a replacement would fail).
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="appstack:gcp:Vm")])
        super().__init__("appstack:gcp:VmGroup", name, None, pulumi.ResourceOptions.merge(opts, moved))
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        vm = args.vm
        gcp_labels = labels(vm.tags)
        base_name = base(app_of(name, "vm"))
        region = client_config(self).region
        basis = vm_basis(name, vm, self)

        image = vm.image_id or UBUNTU_FAMILIES[vm.architecture]
        subnets = pulumi.Output.from_input(vm.subnet_ids)
        # A template is immutable: any change to what it holds replaces it, and the replacement
        # is created before the old one is deleted, so under an unchanged name GCE refuses it
        # (alreadyExists). The name carries a digest of everything the template holds: the
        # settings below and the subnet, tag, account and key (which change with
        # `network.existing` or a new key ring), not only the boot config, image and size.
        held = (
            vm.user_data,
            vm.machine_type,
            image,
            vm.root_volume_gb,
            sorted(gcp_labels.items()),
            sorted(HARDENED_METADATA.items()),
            VM_SCOPES,
            DISK_TYPE,
            TEMPLATE_DESCRIPTION,
        )
        template_name = pulumi.Output.all(
            subnets.apply(lambda s: s[0]), vm.security_group_id, basis.email, basis.key.id
        ).apply(lambda refs: physical(base_name, f"tpl-{digest(*held, *refs, length=8)}"))
        template = compute.RegionInstanceTemplate(
            f"{name}-template",
            name=template_name,
            description=TEMPLATE_DESCRIPTION,
            region=region,
            machine_type=vm.machine_type,
            disks=[
                compute.RegionInstanceTemplateDiskArgs(
                    boot=True,
                    auto_delete=True,
                    source_image=image,
                    disk_size_gb=vm.root_volume_gb,
                    disk_type=DISK_TYPE,
                    disk_encryption_key=compute.RegionInstanceTemplateDiskDiskEncryptionKeyArgs(
                        kms_key_self_link=basis.key.id
                    ),
                    labels=gcp_labels,
                )
            ],
            network_interfaces=[
                # No access_configs: no external IP; egress goes through Cloud NAT.
                compute.RegionInstanceTemplateNetworkInterfaceArgs(subnetwork=subnets.apply(lambda s: s[0]))
            ],
            can_ip_forward=False,
            shielded_instance_config=compute.RegionInstanceTemplateShieldedInstanceConfigArgs(
                enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True
            ),
            service_account=compute.RegionInstanceTemplateServiceAccountArgs(email=basis.email, scopes=list(VM_SCOPES)),
            metadata={**HARDENED_METADATA, "user-data": vm.user_data},
            tags=[vm.security_group_id],
            labels=gcp_labels,
            # Live-migrate on host maintenance and restart after a crash.
            scheduling=compute.RegionInstanceTemplateSchedulingArgs(
                automatic_restart=True, on_host_maintenance="MIGRATE"
            ),
            # VMs boot with the key usable and the roles granted.
            opts=pulumi.ResourceOptions(parent=self, depends_on=basis.grants),
        )
        # Its own check, as Google advises: auto-healing recreates VMs, so it is more patient
        # than the load balancer's (which only stops sending traffic).
        health = compute.HealthCheck(
            f"{name}-autoheal",
            name=physical(base_name, "autoheal"),
            description="appstack auto-healing: recreate a VM whose app stops answering",
            http_health_check=compute.HealthCheckHttpHealthCheckArgs(
                port=args.app_port, request_path=args.health_check_path
            ),
            check_interval_sec=10,
            timeout_sec=5,
            healthy_threshold=2,
            unhealthy_threshold=6,
            opts=child,
        )
        zones = compute.get_zones_output(region=region, status="UP", opts=invoke).names
        count = zone_count(vm.subnet_ids)
        group = compute.RegionInstanceGroupManager(
            f"{name}-mig",
            name=physical(base_name, "mig"),
            description="appstack VMs",
            base_instance_name=physical(base_name, "vm"),
            region=region,
            distribution_policy_zones=zones.apply(lambda names: sorted(names)[:count]),
            distribution_policy_target_shape="EVEN",
            versions=[
                compute.RegionInstanceGroupManagerVersionArgs(name="primary", instance_template=template.self_link)
            ],
            named_ports=[compute.RegionInstanceGroupManagerNamedPortArgs(name="http", port=args.app_port)],
            auto_healing_policies=compute.RegionInstanceGroupManagerAutoHealingPoliciesArgs(
                health_check=health.id, initial_delay_sec=AUTOHEAL_INITIAL_DELAY_SECONDS
            ),
            update_policy=update_policy(count),
            # `up` returns once the group's VMs are created and healthy (or fails the update).
            wait_for_instances=True,
            wait_for_instances_status="STABLE",
            opts=child,
        )
        compute.RegionAutoscaler(
            f"{name}-autoscaler",
            name=physical(base_name, "autoscaler"),
            description="appstack: keep average CPU at the target",
            region=region,
            target=group.id,
            autoscaling_policy=compute.RegionAutoscalerAutoscalingPolicyArgs(
                min_replicas=args.min_size,
                max_replicas=args.max_size,
                cooldown_period=AUTOSCALER_COOLDOWN_SECONDS,
                cpu_utilization=compute.RegionAutoscalerAutoscalingPolicyCpuUtilizationArgs(
                    target=args.cpu_target_percent / 100
                ),
            ),
            opts=child,
        )

        self.group_id = group.id
        self.instance_ids = [group.id]
        self.private_ips = []
        self.instance_group = group.instance_group
        self.register_outputs(
            {
                "group_id": self.group_id,
                "instance_ids": self.instance_ids,
                "private_ips": self.private_ips,
                "instance_group": self.instance_group,
            }
        )
