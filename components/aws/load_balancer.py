"""AWS TLS load balancer: an internet-facing ALB with HTTPS only, access logs and DNS."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from ..interfaces import LoadBalancerArgs
from ..naming import bounded_name, digest, stack_id
from .kms import account_of

#: ELB log delivery principal; the only one in regions opened after August 2022.
LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
#: Regions opened before August 2022 deliver access logs from a regional ELB account (AWS docs,
#: "Enable access logs for your Application Load Balancer"). A static table, not a look-up: the
#: provider's look-up fails in regions it does not list, which would break newer regions.
#: Checked entry by entry against the provider's own list (hashicorp/terraform-provider-aws,
#: internal/service/elb/service_account_data_source.go, `accountIDPerRegionMap`, commit
#: 01f43111); tests/aws/test_real_account.py keeps a copy of that list to compare with.
ELB_LOG_ACCOUNTS: dict[str, str] = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
}
#: AWS's limit on load balancer and target group names.
LB_NAME_LIMIT = 32
ACCESS_LOG_PREFIX = "alb"
#: AWS managed rule groups in the web ACL: OWASP-style common rules, known bad inputs
#: (Log4Shell and friends), and Amazon's IP reputation list.
WAF_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


class LoadBalancer(pulumi.ComponentResource):
    """An ALB in the public subnets forwarding HTTPS to the VMs' app port.

    - HTTPS listener with a TLS 1.3 policy from an allow-list; HTTP only answers 301 to HTTPS;
    - invalid header fields dropped, defensive desync mitigation, deletion protection in prod;
    - access logs to a private S3 bucket: SSE-S3 (ALB cannot write to SSE-KMS buckets), public
      access blocked, TLS-only policy, ELB log-delivery grant, lifecycle expiry;
    - in prod, a WAFv2 web ACL with AWS managed rule groups, logging to the log sink's key;
    - certificate from ACM validated through DNS in the configured Route 53 zone (or an existing
      one), and an alias record for the domain.

    Outputs: `url`, `address` (ALB DNS name), `lb_id` and `target_group_id` (metric dimensions),
    `backend_id` (the target group's ARN, which a VM group registers its VMs in).
    """

    url: pulumi.Output[str]
    address: pulumi.Output[str]
    lb_id: pulumi.Output[str]
    target_group_id: pulumi.Output[str]
    backend_id: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:aws:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        account = account_of(self)

        bucket_policy = self._log_bucket(name, args, account, tags)
        lb = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=lb_name(name),
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            subnets=args.subnet_ids,
            security_groups=[args.security_group_id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=args.deletion_protection,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(
                bucket=bucket_policy.bucket, prefix=ACCESS_LOG_PREFIX, enabled=True
            ),
            tags=tags,
            # The ALB checks on creation that it can write to the bucket: grant first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy]),
        )
        tg = aws.lb.TargetGroup(
            f"{name}-tg",
            # Port and VPC force a new target group; they are in its name, so the new one never
            # collides with the old one during Pulumi's create-before-delete replacement.
            name=pulumi.Output.from_input(args.network_id).apply(
                lambda vpc: target_group_name(name, args.app_port, vpc)
            ),
            port=args.app_port,
            protocol="HTTP",
            target_type="instance",
            vpc_id=args.network_id,
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=args.health_check_path,
                protocol="HTTP",
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags=tags,
            opts=child,
        )
        # A VM group (`instance_ids` empty) registers its VMs itself (`backend_id`).
        for i, instance_id in enumerate(args.instance_ids):
            aws.lb.TargetGroupAttachment(
                f"{name}-target-{i}", target_group_arn=tg.arn, target_id=instance_id, port=args.app_port, opts=child
            )

        zone = aws.route53.get_zone_output(
            name=args.zone, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        certificate_arn = (
            pulumi.Output.from_input(args.certificate_id)
            if args.certificate_id
            else self._certificate(name, args.domain, zone.zone_id, tags)
        )
        aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=lb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=args.tls_policy,
            certificate_arn=certificate_arn,
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=tg.arn)],
            tags=tags,
            opts=child,
        )
        aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=lb.arn,
            port=80,
            protocol="HTTP",
            # Plain HTTP never reaches the app: it only answers a permanent redirect.
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
                )
            ],
            tags=tags,
            opts=child,
        )
        if args.waf:
            self._waf(name, lb, args, tags)
        aws.route53.Record(
            f"{name}-dns",
            zone_id=zone.zone_id,
            name=args.domain,
            type="A",
            aliases=[aws.route53.RecordAliasArgs(name=lb.dns_name, zone_id=lb.zone_id, evaluate_target_health=True)],
            opts=child,
        )

        self.url = pulumi.Output.from_input(f"https://{args.domain}")
        self.address = lb.dns_name
        self.lb_id = lb.arn_suffix
        self.target_group_id = tg.arn_suffix
        self.backend_id = tg.arn
        self.register_outputs(
            {
                "url": self.url,
                "address": self.address,
                "lb_id": self.lb_id,
                "target_group_id": self.target_group_id,
                "backend_id": self.backend_id,
            }
        )

    def _waf(self, name: str, lb: aws.lb.LoadBalancer, args: LoadBalancerArgs, tags: dict[str, str]) -> None:
        child = pulumi.ResourceOptions(parent=self)

        rules = [
            aws.wafv2.WebAclRuleArgs(
                name=group,
                priority=i,
                # Managed groups block on their own verdicts; "none" keeps those verdicts.
                override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                    none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
                ),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        name=group, vendor_name="AWS"
                    )
                ),
                visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                    cloudwatch_metrics_enabled=True, metric_name=f"{name}-{group}", sampled_requests_enabled=True
                ),
            )
            for i, group in enumerate(WAF_MANAGED_RULE_GROUPS)
        ]
        acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=rules,
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=f"{name}-waf", sampled_requests_enabled=True
            ),
            tags=tags,
            opts=child,
        )
        aws.wafv2.WebAclAssociation(f"{name}-waf", resource_arn=lb.arn, web_acl_arn=acl.arn, opts=child)
        # WAF only logs to log groups whose name starts with aws-waf-logs-; the stack in the name
        # lets two stacks of one app share an account and region.
        group = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs",
            name=f"aws-waf-logs-{name}-{stack_id()}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_key_id,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf", resource_arn=acl.arn, log_destination_configs=[group.arn], opts=child
        )

    def _certificate(
        self, name: str, domain: str, zone_id: pulumi.Input[str], tags: dict[str, str]
    ) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        cert = aws.acm.Certificate(f"{name}-cert", domain_name=domain, validation_method="DNS", tags=tags, opts=child)
        option = cert.domain_validation_options[0]
        record = aws.route53.Record(
            f"{name}-cert-validation",
            zone_id=zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=60,
            allow_overwrite=True,
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-cert", certificate_arn=cert.arn, validation_record_fqdns=[record.fqdn], opts=child
        )
        # Listeners wait for validation: an unvalidated certificate cannot be attached.
        return validation.certificate_arn

    def _log_bucket(self, name: str, args: LoadBalancerArgs, account, tags: dict[str, str]) -> aws.s3.BucketPolicy:
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        bucket = aws.s3.Bucket(f"{name}-logs", force_destroy=not args.protect, tags=tags, opts=stateful)
        aws.s3.BucketOwnershipControls(
            f"{name}-logs",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-logs",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    # SSE-S3: ALB access log delivery does not support SSE-KMS buckets.
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.access_log_retention_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=child,
        )

        def policy(values: list[str]) -> str:
            bucket_arn, account_id, partition, region = values
            logs = f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*"
            legacy = (
                [
                    {
                        "Sid": "ElbAccountDelivers",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:{partition}:iam::{ELB_LOG_ACCOUNTS[region]}:root"},
                        "Action": "s3:PutObject",
                        "Resource": logs,
                    }
                ]
                if region in ELB_LOG_ACCOUNTS
                else []
            )
            return json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, f"{bucket_arn}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                        *legacy,
                        {
                            "Sid": "ElbServiceDelivers",
                            "Effect": "Allow",
                            "Principal": {"Service": LOG_DELIVERY_SERVICE},
                            "Action": "s3:PutObject",
                            "Resource": logs,
                            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                        },
                    ],
                }
            )

        return aws.s3.BucketPolicy(
            f"{name}-logs",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, account.account_id, account.partition, account.region).apply(policy),
            # Public access block first, or the policy with a '*' principal could be judged public.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )


def lb_name(name: str) -> str:
    """The ALB's name: component name and stack, within AWS's 32 characters.

    Explicit because the provider's auto-name (``<logical name>-<7 hex>``) overflows 32
    characters for app names of 17 or more characters, which the config accepts. None of the
    ALB's inputs that force a replacement (name, scheme, type) ever change here, so a fixed
    name never collides with itself.
    """
    lb = bounded_name(name, stack_id(), limit=LB_NAME_LIMIT)
    # AWS reserves the "internal-" prefix for the DNS names of internal load balancers.
    return f"lb-{lb}"[:LB_NAME_LIMIT].rstrip("-") if lb.startswith("internal-") else lb


def target_group_name(name: str, port: int, vpc_id: str) -> str:
    """The target group's name: within 32 characters, and new whenever the group must be."""
    tail = digest(stack_id(), port, vpc_id)
    return f"{bounded_name(name, stack_id(), limit=LB_NAME_LIMIT - len(tail) - 1)}-{tail}"
