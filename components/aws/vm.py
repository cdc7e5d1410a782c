"""AWS VMs: N hardened EC2 instances spread over the private subnets."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from ..bootstrap.cloud_init import APP_LOG, AgentSetup
from ..interfaces import VmArgs
from .kms import account_of, customer_key

#: Amazon Linux 2023 public SSM parameters, per architecture: AWS keeps them on the latest AMI.
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"

#: The only managed policies the instance role gets: Session Manager and the CloudWatch agent.
INSTANCE_POLICIES = ("AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy")

CW_AGENT_CONFIG = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"


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
            "namespace": "CWAgent",
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
            "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s "
            f"-c file:{CW_AGENT_CONFIG}",
        ),
    )


class Vm(pulumi.ComponentResource):
    """`count` EC2 instances, round-robin over the private subnets.

    Each instance: IMDSv2 only with hop limit 1 (no credential theft through SSRF or from
    containers), no public IP, no key pair (admins use SSM Session Manager), an instance
    profile with only the SSM and CloudWatch agent policies, a gp3 root volume encrypted with
    a rotating customer-managed key, detailed monitoring, and hardened cloud-init user data.
    Outputs: `instance_ids`, `private_ips`.
    """

    instance_ids: list[pulumi.Output[str]]
    private_ips: list[pulumi.Output[str]]

    def __init__(self, name: str, args: VmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:aws:Vm", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        account = account_of(self)
        key = customer_key(name, "appstack VM disks", account, [], args.protect, tags, self)

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
        for policy in INSTANCE_POLICIES:
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy}",
                role=role.name,
                policy_arn=account.partition.apply(lambda p, policy=policy: f"arn:{p}:iam::aws:policy/{policy}"),
                opts=child,
            )
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=child)

        if args.image_id:
            image = pulumi.Output.from_input(args.image_id)
            ignore: list[str] = []
        else:
            image = aws.ssm.get_parameter_output(
                name=AL2023_PARAMETER.format(arch=args.architecture), opts=pulumi.InvokeOutputOptions(parent=self)
            ).value
            # A new AMI must not replace running instances on the next `up`; pin image_id to roll.
            ignore = ["ami"]

        subnets = pulumi.Output.from_input(args.subnet_ids)
        self.instance_ids, self.private_ips = [], []
        for i in range(args.count):
            instance = aws.ec2.Instance(
                f"{name}-{i}",
                ami=image,
                instance_type=args.machine_type,
                subnet_id=subnets.apply(lambda ids, i=i: ids[i % len(ids)]),
                vpc_security_group_ids=[args.security_group_id],
                iam_instance_profile=profile.name,
                associate_public_ip_address=False,
                source_dest_check=True,
                monitoring=True,
                ebs_optimized=True,
                disable_api_termination=args.deletion_protection,
                metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    http_put_response_hop_limit=1,
                    instance_metadata_tags="disabled",
                ),
                root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                    volume_type="gp3",
                    volume_size=args.root_volume_gb,
                    encrypted=True,
                    kms_key_id=key.arn,
                    delete_on_termination=True,
                ),
                user_data=args.user_data,
                # A changed boot config must reach the VMs, which only read it at first boot.
                user_data_replace_on_change=True,
                tags={**tags, "Name": f"{name}-{i}"},
                volume_tags={**tags, "Name": f"{name}-{i}"},
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=ignore),
            )
            self.instance_ids.append(instance.id)
            self.private_ips.append(instance.private_ip)
        self.register_outputs({"instance_ids": self.instance_ids, "private_ips": self.private_ips})
