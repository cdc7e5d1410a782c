# aws-cdk-lib's jsii-generated interfaces are Protocols whose parameter names differ from the
# classes that implement them (`_scope` vs `scope`), which pyright reads as a mismatch; and the
# `compare` group (aws-cdk-lib, cdk-nag) is not installed by `make lint`.
# pyright: reportArgumentType=false, reportMissingImports=false
"""The AWS dev stack as an AWS CDK app, checked by cdk-nag: what `make bench-compare` times.

    python -m tools.compare.cdk_app [--instances N] [--no-nag] [--out DIR]

The same parts as `components/aws` plan for the dev stack: a VPC over two zones (public and
private subnets, one NAT gateway, flow logs to a KMS-encrypted log group), security groups for the
load balancer (443/80 from anywhere) and the VMs (the app port from the load balancer only, HTTPS
out), an S3 bucket for access logs (private, TLS only), an ALB with an HTTPS listener (TLS 1.3
policy, DNS-validated certificate) and an HTTP listener that redirects, a target group, N EC2
instances (IMDSv2, encrypted gp3 root volume with a customer key, an SSM-managed role, no
public IP), log groups per stream, an SNS topic (KMS) and alarms (CPU and status checks per
instance; 5xx, unhealthy hosts and latency on the load balancer), and an alias record.

`app.synth()` writes the CloudFormation template (no CDK CLI needed: jsii runs aws-cdk-lib under
node); cdk-nag's AwsSolutions rules run as an aspect during synthesis, as a user would run them.
Prints the resource count and the number of cdk-nag findings.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

APP_PORT = 8080
DOMAIN, ZONE = "app.dev.example.com", "dev.example.com"


def build(instances: int, nag: bool, outdir: str):
    import aws_cdk as cdk
    from aws_cdk import (
        Duration,
        RemovalPolicy,
    )
    from aws_cdk import aws_certificatemanager as acm
    from aws_cdk import aws_cloudwatch as cw
    from aws_cdk import aws_cloudwatch_actions as cw_actions
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_elasticloadbalancingv2 as elbv2
    from aws_cdk import aws_elasticloadbalancingv2_targets as targets
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_route53 as route53
    from aws_cdk import aws_route53_targets as r53_targets
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_sns_subscriptions as subs

    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "appstack-dev", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    cdk.Tags.of(stack).add("app", "appstack")
    cdk.Tags.of(stack).add("environment", "dev")

    log_key = kms.Key(stack, "LogKey", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
    log_key.grant_encrypt_decrypt(iam.ServicePrincipal("logs.eu-west-1.amazonaws.com"))
    disk_key = kms.Key(stack, "DiskKey", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
    groups = {
        stream: logs.LogGroup(
            stack,
            f"Logs{stream.title()}",
            log_group_name=f"/appstack/dev/{stream}",
            retention=logs.RetentionDays.ONE_MONTH,
            encryption_key=log_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        for stream in ("system", "auth", "app", "flow")
    }

    vpc = ec2.Vpc(
        stack,
        "Network",
        ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
        max_azs=2,
        nat_gateways=1,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=20),
            ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
        ],
        flow_logs={
            "all": ec2.FlowLogOptions(
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(groups["flow"]),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )
        },
    )

    lb_sg = ec2.SecurityGroup(stack, "LbSg", vpc=vpc, description="load balancer", allow_all_outbound=False)
    lb_sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS")
    lb_sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "HTTP, redirected")
    vm_sg = ec2.SecurityGroup(stack, "VmSg", vpc=vpc, description="VMs", allow_all_outbound=False)
    vm_sg.add_ingress_rule(lb_sg, ec2.Port.tcp(APP_PORT), "app port from the load balancer")
    vm_sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS out")
    lb_sg.add_egress_rule(vm_sg, ec2.Port.tcp(APP_PORT), "to the VMs")

    access_logs = s3.Bucket(
        stack,
        "LbLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
        removal_policy=RemovalPolicy.DESTROY,
    )

    role = iam.Role(
        stack,
        "VmRole",
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
    )
    for group in groups.values():
        group.grant_write(role)
    user_data = ec2.UserData.for_linux()
    user_data.add_commands("systemctl enable --now app.service")
    vms = [
        ec2.Instance(
            stack,
            f"Vm{i}",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            instance_type=ec2.InstanceType("t3.small"),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            security_group=vm_sg,
            role=role,
            user_data=user_data,
            require_imdsv2=True,
            detailed_monitoring=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        20, encrypted=True, kms_key=disk_key, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
        )
        for i in range(instances)
    ]

    zone = route53.HostedZone.from_hosted_zone_attributes(stack, "Zone", hosted_zone_id="Z0EXAMPLE", zone_name=ZONE)
    cert = acm.Certificate(stack, "Cert", domain_name=DOMAIN, validation=acm.CertificateValidation.from_dns(zone))
    lb = elbv2.ApplicationLoadBalancer(
        stack,
        "Lb",
        vpc=vpc,
        internet_facing=True,
        security_group=lb_sg,
        drop_invalid_header_fields=True,
        deletion_protection=False,
    )
    lb.log_access_logs(access_logs, "lb")
    https = lb.add_listener(
        "Https",
        port=443,
        certificates=[cert],
        ssl_policy=elbv2.SslPolicy.TLS13_RES,
        open=False,
    )
    tg = https.add_targets(
        "Vms",
        port=APP_PORT,
        protocol=elbv2.ApplicationProtocol.HTTP,
        targets=[targets.InstanceTarget(vm) for vm in vms],
        health_check=elbv2.HealthCheck(path="/healthz", healthy_threshold_count=2),
    )
    lb.add_redirect(source_port=80, target_port=443)
    route53.ARecord(
        stack,
        "Alias",
        zone=zone,
        record_name=DOMAIN,
        target=route53.RecordTarget.from_alias(r53_targets.LoadBalancerTarget(lb)),
    )

    topic = sns.Topic(stack, "Alerts", master_key=log_key, enforce_ssl=True)
    topic.add_subscription(subs.EmailSubscription("ops-dev@example.com"))
    action = cw_actions.SnsAction(topic)
    alarms: list[cw.Alarm] = []
    for i, vm in enumerate(vms):
        dims = {"InstanceId": vm.instance_id}
        alarms.append(
            cw.Alarm(
                stack,
                f"Cpu{i}",
                metric=cw.Metric(
                    namespace="AWS/EC2", metric_name="CPUUtilization", dimensions_map=dims, period=Duration.minutes(5)
                ),
                threshold=80,
                evaluation_periods=2,
            )
        )
        alarms.append(
            cw.Alarm(
                stack,
                f"Status{i}",
                metric=cw.Metric(
                    namespace="AWS/EC2",
                    metric_name="StatusCheckFailed_System",
                    dimensions_map=dims,
                    statistic="Maximum",
                ),
                threshold=1,
                evaluation_periods=2,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            )
        )
    alarms.append(
        cw.Alarm(
            stack,
            "Lb5xx",
            metric=lb.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
            threshold=10,
            evaluation_periods=1,
        )
    )
    alarms.append(
        cw.Alarm(
            stack,
            "Unhealthy",
            metric=tg.metrics.unhealthy_host_count(),
            threshold=1,
            evaluation_periods=2,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )
    )
    alarms.append(
        cw.Alarm(stack, "Latency", metric=lb.metrics.target_response_time(), threshold=2, evaluation_periods=3)
    )
    for alarm in alarms:
        alarm.add_alarm_action(action)

    if nag:
        from cdk_nag import AwsSolutionsChecks

        cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=False))
    return app, stack


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.compare.cdk_app")
    ap.add_argument("--instances", type=int, default=1)
    ap.add_argument("--no-nag", action="store_true")
    ap.add_argument("--out", help="cloud assembly directory (default: a temporary one)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="appstack-cdk-") as tmp:
        app, stack = build(args.instances, not args.no_nag, args.out or tmp)
        assembly = app.synth()
        template = json.loads(Path(assembly.directory, f"{stack.stack_name}.template.json").read_text())
        findings = 0
        for art in assembly.artifacts:
            for msgs in getattr(art, "messages", None) or []:
                findings += 1 if msgs else 0
        print(json.dumps({"resources": len(template.get("Resources", {})), "nag_findings": findings}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
