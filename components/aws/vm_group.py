"""AWS VM group: a launch template and an auto scaling group that heals, rolls and scales."""

from __future__ import annotations

import base64

import pulumi
import pulumi_aws as aws

from ..interfaces import VmGroupArgs
from .vm import METADATA_OPTIONS, ROOT_VOLUME, vm_basis

#: Amazon Linux 2023's root device: the launch template's volume mapping replaces the AMI's own
#: root volume only under this name (a pinned AMI with another root device name needs its own).
ROOT_DEVICE = "/dev/xvda"

#: Seconds a new VM has before its load balancer health counts: cloud-init installs the agent and
#: starts the app in 2-4 minutes on Amazon Linux 2023; 5 minutes leaves room for slow mirrors.
HEALTH_CHECK_GRACE_SECONDS = 300
#: Seconds after a VM is healthy before its metrics count for scaling and before the refresh
#: moves on (lets caches warm and the agent report).
INSTANCE_WARMUP_SECONDS = 60

#: Instance refresh never lets in-service, healthy capacity drop below 100% of the desired size:
#: it launches the replacements first (up to 200% while they warm up), then retires old VMs.
REFRESH_MIN_HEALTHY_PERCENT = 100
REFRESH_MAX_HEALTHY_PERCENT = 200

#: Group metrics published to CloudWatch (1-minute): what the group-level alarms and a
#: dashboard read (in service vs desired).
GROUP_METRICS = (
    aws.autoscaling.Metric.GROUP_DESIRED_CAPACITY,
    aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES,
    aws.autoscaling.Metric.GROUP_PENDING_INSTANCES,
    aws.autoscaling.Metric.GROUP_TERMINATING_INSTANCES,
    aws.autoscaling.Metric.GROUP_TOTAL_INSTANCES,
)


class VmGroup(pulumi.ComponentResource):
    """An auto scaling group of VMs hardened exactly like `Vm`'s, behind the load balancer.

    - Launch template: the AMI, key, role and instance profile of `vm_basis` (shared with
      `Vm`), IMDSv2 only with hop limit 1, no public IP, the firewall's VM security group,
      detailed monitoring, a gp3 root volume encrypted with the customer-managed key, the
      hardened cloud-init (base64, as launch templates take it), termination protection against
      the console and CLI in prod (Auto Scaling still replaces and scales in; AWS documents that
      `DisableApiTermination` does not stop it);
    - auto scaling group over the private subnets, registering its VMs in the load balancer's
      target group (`backend_id`) and replacing a VM that fails the target group's health check
      (`healthCheckType: ELB`) after a grace period;
    - instance refresh on every new launch template version (a changed boot config or pinned
      AMI): rolling, with at least 100% of the desired capacity healthy throughout;
    - target tracking on the group's average CPU between `min_size` and `max_size`; Pulumi sets
      the desired capacity at creation only, the autoscaler owns it afterwards.

    Outputs: `group_id` (the group's name, its ID in AWS), `instance_ids` (``[group_id]``),
    `private_ips` (empty: the group's VMs come and go), `instance_group` (the group's ARN).
    """

    group_id: pulumi.Output[str]
    instance_ids: list[pulumi.Output[str]]
    private_ips: list[pulumi.Output[str]]
    instance_group: pulumi.Output[str]

    def __init__(self, name: str, args: VmGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Switching an existing stack from `instances` keeps the VMs' key, identity and the
        # rest of what both parts share (children of the same names): they move to the group
        # instead of being replaced (prod protects the key, so a replacement would fail).
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="appstack:aws:Vm")])
        super().__init__("appstack:aws:VmGroup", name, None, pulumi.ResourceOptions.merge(opts, moved))
        child = pulumi.ResourceOptions(parent=self)
        vm = args.vm
        tags = dict(vm.tags)
        if args.backend_id is None:
            raise ValueError("an AWS VM group joins the load balancer's target group: backend_id is required")
        basis = vm_basis(name, vm, self)

        named = {**tags, "Name": name}
        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            description="appstack VMs (one version per boot config or image)",
            image_id=basis.image,
            instance_type=vm.machine_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=basis.profile.arn),
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    device_index=0,
                    associate_public_ip_address="false",
                    delete_on_termination="true",
                    security_groups=[vm.security_group_id],
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            ebs_optimized="true",
            # Console and CLI only: Auto Scaling still terminates for health, refresh and scale-in.
            disable_api_termination=vm.deletion_protection,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(**METADATA_OPTIONS),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_type=ROOT_VOLUME["volume_type"],
                        encrypted=str(ROOT_VOLUME["encrypted"]).lower(),
                        delete_on_termination=str(ROOT_VOLUME["delete_on_termination"]).lower(),
                        volume_size=vm.root_volume_gb,
                        kms_key_id=basis.key.arn,
                    ),
                )
            ],
            user_data=base64.b64encode(vm.user_data.encode()).decode(),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=named)
                for kind in ("instance", "volume")
            ],
            # New versions become the default, so a console launch never uses a stale one.
            update_default_version=True,
            tags=tags,
            # A new AMI must not roll the group on the next `up`; pin image_id to roll.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=[] if basis.image_pinned else ["imageId"]),
        )
        group = aws.autoscaling.Group(
            f"{name}-asg",
            min_size=args.min_size,
            max_size=args.max_size,
            desired_capacity=vm.count,
            vpc_zone_identifiers=vm.subnet_ids,
            # The version number, not $Latest: a new version is what starts an instance refresh.
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            target_group_arns=[args.backend_id],
            # Replace VMs the load balancer finds unhealthy, not only those EC2 finds impaired.
            health_check_type="ELB",
            health_check_grace_period=HEALTH_CHECK_GRACE_SECONDS,
            default_instance_warmup=INSTANCE_WARMUP_SECONDS,
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=REFRESH_MIN_HEALTHY_PERCENT,
                    max_healthy_percentage=REFRESH_MAX_HEALTHY_PERCENT,
                    instance_warmup=str(INSTANCE_WARMUP_SECONDS),
                    # A refresh that fails (new VMs never healthy) rolls back to the old version.
                    auto_rollback=True,
                    skip_matching=True,
                ),
            ),
            enabled_metrics=list(GROUP_METRICS),
            metrics_granularity="1Minute",
            # `up` waits until the desired VMs are in service and healthy in the target group.
            wait_for_capacity_timeout="15m",
            tags=[aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=False) for k, v in named.items()],
            # The autoscaler owns the size after creation: `up` must never reset it (a scale-in).
            opts=pulumi.ResourceOptions(parent=self, depends_on=basis.permissions, ignore_changes=["desiredCapacity"]),
        )
        aws.autoscaling.Policy(
            f"{name}-cpu",
            autoscaling_group_name=group.name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                predefined_metric_specification=aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ASGAverageCPUUtilization"
                ),
                target_value=float(args.cpu_target_percent),
            ),
            opts=child,
        )

        self.group_id = group.name
        self.instance_ids = [group.name]
        self.private_ips = []
        self.instance_group = group.arn
        self.register_outputs(
            {
                "group_id": self.group_id,
                "instance_ids": self.instance_ids,
                "private_ips": self.private_ips,
                "instance_group": self.instance_group,
            }
        )
