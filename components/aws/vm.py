"""AWS VMs: N hardened EC2 instances spread over the private subnets."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..bootstrap.cloud_init import APP_LOG, AgentSetup
from ..interfaces import VmArgs
from .kms import account_of, customer_key

#: Amazon Linux 2023 public SSM parameters, per architecture: AWS keeps them on the latest AMI.
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"

#: The only managed policy the instance role gets: Session Manager (admin access without SSH).
#: Not `CloudWatchAgentServerPolicy`: it may create log groups and set retention on any group
#: (`*`), so a running agent re-creates log groups a `pulumi destroy` just deleted. The agent's
#: own statements are in `agent_policy`, scoped to this stack's log groups.
INSTANCE_POLICIES = ("AmazonSSMManagedInstanceCore",)

#: Outside the agent's etc/: `amazon-cloudwatch-agent-ctl -a fetch-config` deletes
#: etc/amazon-cloudwatch-agent.json after translating it (packaging/dependencies/
#: amazon-cloudwatch-agent-ctl, `cwa_config`), so a second fetch-config (a re-run, an admin
#: restarting the agent) would find no config.
CW_AGENT_CONFIG = "/etc/appstack/amazon-cloudwatch-agent.json"
CW_AGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
#: The agent's default metric namespace, stated explicitly: the role may publish only there.
CW_NAMESPACE = "CWAgent"
#: Log sink streams the agent writes (the flow stream is written by VPC flow logs).
AGENT_STREAMS = ("system", "auth", "app")


def agent_policy(log_group_arns: list[str]) -> str:
    """The CloudWatch agent's permissions: exactly what it calls with `cloudwatch_agent`'s config.

    Verified against the agent's source (aws/amazon-cloudwatch-agent v1.300071.0):
    - logs: the pusher calls CreateLogStream then PutLogEvents, and CreateLogGroup only when the
      group is missing (plugins/outputs/cloudwatchlogs/internal/pusher/target.go) — not granted,
      so the agent can never re-create a group the stack deleted; DescribeLogGroups and
      PutRetentionPolicy only when the config sets retention_in_days, which it does not;
    - metrics: PutMetricData, limited to `CW_NAMESPACE` by the cloudwatch:namespace key;
    - no describe calls: the InstanceId dimension comes from instance metadata; ec2:DescribeTags
      is called only for tag or AutoScalingGroupName dimensions and ec2:DescribeVolumes only
      for the VolumeId disk dimension (plugins/processors/ec2tagger), neither configured here.
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AgentWritesTheStackLogGroups",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": [r for arn in log_group_arns for r in (arn, f"{arn}:log-stream:*")],
                },
                {
                    "Sid": "AgentPutsMetricsInItsNamespace",
                    "Effect": "Allow",
                    "Action": "cloudwatch:PutMetricData",
                    # PutMetricData has no resource-level permissions; the namespace key scopes it.
                    "Resource": "*",
                    "Condition": {"StringEquals": {"cloudwatch:namespace": CW_NAMESPACE}},
                },
            ],
        }
    )


def cloudwatch_agent(log_prefix: str) -> AgentSetup:
    """CloudWatch agent: system, auth and app logs into the log sink; memory and disk metrics.

    AL2023 logs to the journal only, so rsyslog is installed for /var/log/messages and secure.
    """
    config = {
        "agent": {"run_as_user": "root"},
        "logs": {
            "logs_collected": {
                "files": {
                    "collect_list": [
                        {
                            "file_path": "/var/log/messages",
                            "log_group_name": f"{log_prefix}/system",
                            "log_stream_name": "{instance_id}",
                        },
                        {
                            "file_path": "/var/log/secure",
                            "log_group_name": f"{log_prefix}/auth",
                            "log_stream_name": "{instance_id}",
                        },
                        {
                            "file_path": APP_LOG,
                            "log_group_name": f"{log_prefix}/app",
                            "log_stream_name": "{instance_id}",
                        },
                    ]
                }
            }
        },
        "metrics": {
            "namespace": CW_NAMESPACE,
            "append_dimensions": {"InstanceId": "${aws:InstanceId}"},
            "metrics_collected": {
                "mem": {"measurement": ["mem_used_percent"]},
                "disk": {"measurement": ["used_percent"], "resources": ["/"]},
            },
        },
    }
    return AgentSetup(
        packages=("amazon-cloudwatch-agent", "rsyslog"),
        files=((CW_AGENT_CONFIG, json.dumps(config, indent=2)),),
        commands=(
            "systemctl enable --now rsyslog",
            f"{CW_AGENT_CTL} -a fetch-config -m ec2 -s -c file:{CW_AGENT_CONFIG}",
        ),
    )


#: Instance metadata: IMDSv2 only (session tokens), hop limit 1 so a container or a forwarded
#: request cannot reach it, instance tags not exposed. One set for instances and launch templates.
METADATA_OPTIONS = {
    "http_endpoint": "enabled",
    "http_tokens": "required",
    "http_put_response_hop_limit": 1,
    "instance_metadata_tags": "disabled",
}
#: Root volume: gp3, encrypted with the VM disk key (`VmBasis.key`), gone with its VM (VMs keep
#: no state: logs are shipped, the app is rebuilt from the boot config).
ROOT_VOLUME = {"volume_type": "gp3", "encrypted": True, "delete_on_termination": True}


@dataclass(frozen=True)
class VmBasis:
    """What every VM of a stack boots with, whether a plain instance or a group member."""

    key: aws.kms.Key
    """The rotating customer-managed key of the root volumes."""
    profile: aws.iam.InstanceProfile
    """Instance profile: Session Manager plus the agent's own statements (`agent_policy`)."""
    permissions: list[pulumi.Resource]
    """The role's policies: VMs depend on them (they boot with them, and go before the log
    groups those policies name)."""
    image: pulumi.Output[str]
    """The AMI: `image_id`, else the latest Amazon Linux 2023 from AWS's public SSM parameter."""
    image_pinned: bool
    """False when `image` is the looked-up latest AMI (its changes are ignored, never rolled)."""


def vm_basis(name: str, args: VmArgs, parent: pulumi.Resource) -> VmBasis:
    """The disk key, role, instance profile and AMI of `args`' VMs, children of `parent`.

    Shared by `Vm` and `VmGroup`, so both boot with exactly the same identity and disks.
    """
    child = pulumi.ResourceOptions(parent=parent)
    tags = dict(args.tags)
    account = account_of(parent)
    key = customer_key(name, "appstack VM disks", account, [], args.protect, tags, parent)

    role = aws.iam.Role(
        f"{name}-role",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
        tags=tags,
        opts=child,
    )
    permissions: list[pulumi.Resource] = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy}",
            role=role.name,
            policy_arn=account.partition.apply(lambda p, policy=policy: f"arn:{p}:iam::aws:policy/{policy}"),
            opts=child,
        )
        for policy in INSTANCE_POLICIES
    ]
    if args.log_destinations:
        permissions.append(
            aws.iam.RolePolicy(
                f"{name}-agent",
                role=role.id,
                policy=pulumi.Output.all(*args.log_destinations).apply(
                    lambda arns: agent_policy([str(a) for a in arns])
                ),
                opts=child,
            )
        )
    profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=child)

    if args.image_id:
        image = pulumi.Output.from_input(args.image_id)
    else:
        image = aws.ssm.get_parameter_output(
            name=AL2023_PARAMETER.format(arch=args.architecture), opts=pulumi.InvokeOutputOptions(parent=parent)
        ).value
    return VmBasis(key=key, profile=profile, permissions=permissions, image=image, image_pinned=bool(args.image_id))


class Vm(pulumi.ComponentResource):
    """`count` EC2 instances, round-robin over the private subnets.

    Each instance: IMDSv2 only with hop limit 1 (no credential theft through SSRF or from
    containers), no public IP, no key pair (admins use SSM Session Manager), an instance
    profile with the SSM policy and the agent's own statements (`agent_policy`: write to
    `log_destinations` only, metrics in the agent's namespace), a gp3 root volume encrypted
    with a rotating customer-managed key, detailed monitoring, and hardened cloud-init user
    data. Instances depend on those permissions, and through them on the log groups, so a
    destroy deletes the instances (and their running agent) before the log groups.
    Outputs: `instance_ids`, `private_ips`.
    """

    instance_ids: list[pulumi.Output[str]]
    private_ips: list[pulumi.Output[str]]

    def __init__(self, name: str, args: VmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:aws:Vm", name, None, opts)
        tags = dict(args.tags)
        basis = vm_basis(name, args, self)
        # A new AMI must not replace running instances on the next `up`; pin image_id to roll.
        ignore = [] if basis.image_pinned else ["ami"]

        subnets = pulumi.Output.from_input(args.subnet_ids)
        self.instance_ids, self.private_ips = [], []
        for i in range(args.count):
            instance = aws.ec2.Instance(
                f"{name}-{i}",
                ami=basis.image,
                instance_type=args.machine_type,
                subnet_id=subnets.apply(lambda ids, i=i: ids[i % len(ids)]),
                vpc_security_group_ids=[args.security_group_id],
                iam_instance_profile=basis.profile.name,
                associate_public_ip_address=False,
                source_dest_check=True,
                monitoring=True,
                ebs_optimized=True,
                # Guards against a termination from the console or CLI only: the provider turns
                # it off before it terminates (`resourceInstanceDelete`), so `pulumi destroy` and
                # every replacement still go ahead. Not a protection against Pulumi; see README.
                disable_api_termination=args.deletion_protection,
                metadata_options=aws.ec2.InstanceMetadataOptionsArgs(**METADATA_OPTIONS),
                root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                    **ROOT_VOLUME, volume_size=args.root_volume_gb, kms_key_id=basis.key.arn
                ),
                user_data=args.user_data,
                # A changed boot config must reach the VMs, which only read it at first boot.
                # That replaces every VM in the same `up` (`compute.mode: group` rolls instead).
                user_data_replace_on_change=True,
                tags={**tags, "Name": f"{name}-{i}"},
                volume_tags={**tags, "Name": f"{name}-{i}"},
                # Boot with the permissions in place; and since they name the log groups, a
                # destroy deletes the instance (and its running agent) before those groups.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=ignore, depends_on=basis.permissions),
            )
            self.instance_ids.append(instance.id)
            self.private_ips.append(instance.private_ip)
        self.register_outputs({"instance_ids": self.instance_ids, "private_ips": self.private_ips})
