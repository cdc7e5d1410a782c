"""AWS stack: exact security-critical inputs of the planned resources (engine camelCase keys)."""

from __future__ import annotations

import json

import pytest
import yaml

from components.bootstrap.cloud_init import SSHD_DROP_IN
from components.config import ConfigError
from tests.conftest import plan_of
from tools.mocks import Plan

TAGGABLE_EXCEPTIONS = {
    # Types whose AWS API has no tags.
    "aws:kms/alias:Alias",
    "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    "aws:route53/record:Record",
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:sns/topicSubscription:TopicSubscription",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
    "pulumi:providers:aws",
}


def props(plan: Plan, name: str) -> dict:
    return plan.named(name).properties


def test_instances_require_imdsv2_with_hop_limit_1(dev_plan):
    for vm in dev_plan.of_type("aws:ec2/instance:Instance"):
        assert vm.properties["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
            "instanceMetadataTags": "disabled",
        }


def test_instances_have_no_public_ip_no_key_pair_and_an_instance_profile(dev_plan):
    profile = dev_plan.named("appstack-vm-profile").properties["name"]
    for vm in dev_plan.of_type("aws:ec2/instance:Instance"):
        p = vm.properties
        assert p["associatePublicIpAddress"] is False
        assert "keyName" not in p
        assert p["iamInstanceProfile"] == profile
        assert p["sourceDestCheck"] is True
        assert p["monitoring"] is True


def test_root_volume_is_gp3_encrypted_with_the_vm_key(dev_plan):
    key = dev_plan.named("appstack-vm-key")
    vm = props(dev_plan, "appstack-vm-0")
    root = vm["rootBlockDevice"]
    assert root["volumeType"] == "gp3"
    assert root["encrypted"] is True
    assert root["kmsKeyId"] == f"arn:aws:kms:eu-west-1:123456789012:key/{key.id}"
    assert root["volumeSize"] == 20
    assert key.properties["enableKeyRotation"] is True


def test_instance_role_has_only_ssm_and_the_agents_scoped_statements(dev_plan):
    arns = sorted(
        a.properties["policyArn"] for a in dev_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    )
    # CloudWatchAgentServerPolicy may create log groups and set retention on `*`: never again.
    assert arns == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    trust = json.loads(props(dev_plan, "appstack-vm-role")["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    agent = props(dev_plan, "appstack-vm-agent")
    assert agent["role"] == dev_plan.named("appstack-vm-role").id
    groups = [
        f"arn:aws:logs:eu-west-1:123456789012:log-group:/appstack/appstack/dev/{s}" for s in ("system", "auth", "app")
    ]
    assert json.loads(agent["policy"])["Statement"] == [
        {
            "Sid": "AgentWritesTheStackLogGroups",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [r for g in groups for r in (g, f"{g}:log-stream:*")],
        },
        {
            "Sid": "AgentPutsMetricsInItsNamespace",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "CWAgent"}},
        },
    ]


def test_user_data_hardens_sshd_and_cloud_init(dev_plan):
    user_data = props(dev_plan, "appstack-vm-0")["userData"]
    assert user_data.startswith("#cloud-config\n")
    doc = yaml.safe_load(user_data)
    assert doc["disable_root"] is True
    assert doc["ssh_pwauth"] is False
    sshd = next(f for f in doc["write_files"] if f["path"] == SSHD_DROP_IN)
    lines = sshd["content"].splitlines()
    for directive in ("PermitRootLogin no", "PasswordAuthentication no", "KbdInteractiveAuthentication no"):
        assert directive in lines
    assert "systemctl restart sshd" in doc["runcmd"]


def test_user_data_configures_the_cloudwatch_agent_for_system_auth_and_app_logs(dev_plan):
    doc = yaml.safe_load(props(dev_plan, "appstack-vm-0")["userData"])
    assert "/usr/local/sbin/appstack-install-packages amazon-cloudwatch-agent rsyslog" in doc["runcmd"]
    agent = next(f for f in doc["write_files"] if f["path"] == "/etc/appstack/amazon-cloudwatch-agent.json")
    cfg = json.loads(agent["content"])
    assert cfg["metrics"]["namespace"] == "CWAgent"
    # Read from /etc/appstack/: fetch-config deletes the agent's own etc/amazon-cloudwatch-agent.json.
    assert (
        "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s "
        "-c file:/etc/appstack/amazon-cloudwatch-agent.json"
    ) in doc["runcmd"]
    groups = {c["log_group_name"]: c["file_path"] for c in cfg["logs"]["logs_collected"]["files"]["collect_list"]}
    assert groups == {
        "/appstack/appstack/dev/system": "/var/log/messages",
        "/appstack/appstack/dev/auth": "/var/log/secure",
        "/appstack/appstack/dev/app": "/var/log/appstack/app.log",
    }
    assert cfg["metrics"]["metrics_collected"]["mem"]["measurement"] == ["mem_used_percent"]
    assert cfg["metrics"]["metrics_collected"]["disk"]["measurement"] == ["used_percent"]


def test_app_runs_as_a_non_root_systemd_service_on_the_app_port(dev_plan):
    doc = yaml.safe_load(props(dev_plan, "appstack-vm-0")["userData"])
    unit = next(f for f in doc["write_files"] if f["path"] == "/etc/systemd/system/appstack.service")["content"]
    assert "Environment=APP_PORT=8080 HEALTH_PATH=/health" in unit
    assert "DynamicUser=yes" in unit and "NoNewPrivileges=yes" in unit
    assert "systemctl enable --now appstack.service" in doc["runcmd"]


def test_container_image_runs_through_docker_with_its_port_published_on_the_app_port():
    plan = plan_of("dev", ["app.image=public.ecr.aws/nginx/nginx:1.27", "app.containerPort=80"])
    doc = yaml.safe_load(plan.named("appstack-vm-0").properties["userData"])
    unit = next(f for f in doc["write_files"] if f["path"] == "/etc/systemd/system/appstack.service")["content"]
    # nginx listens on 80; the load balancer probes 8080 on the VM.
    assert (
        "ExecStart=/usr/bin/docker run --rm --name appstack -p 8080:80 -e APP_PORT=80 public.ecr.aws/nginx/nginx:1.27"
        in unit.splitlines()
    )
    # Unit-level keys in [Unit]; systemd ignores them in [Service].
    head, service = unit.split("[Service]")
    assert "After=docker.service" in head.splitlines() and "Requires=docker.service" in head.splitlines()
    assert "docker.service" not in service
    assert "/usr/local/sbin/appstack-install-packages amazon-cloudwatch-agent rsyslog docker" in doc["runcmd"]


def test_container_port_without_an_image_is_refused():
    with pytest.raises(ConfigError, match=r"appstack:app\.containerPort = 80: containerPort is set but no image runs"):
        plan_of("dev", ["app.containerPort=80"])


def test_container_port_defaults_to_the_app_port():
    plan = plan_of("dev", ["app.image=registry.example.com/app:1"])
    doc = yaml.safe_load(plan.named("appstack-vm-0").properties["userData"])
    unit = next(f for f in doc["write_files"] if f["path"] == "/etc/systemd/system/appstack.service")["content"]
    assert "-p 8080:8080 -e APP_PORT=8080 registry.example.com/app:1" in unit


def test_ami_is_looked_up_and_not_replaced_on_change_unless_pinned(dev_plan):
    vm = dev_plan.named("appstack-vm-0")
    assert vm.properties["ami"].startswith("ami-0")
    assert vm.ignore_changes == ("ami",)
    pinned = plan_of("dev", ["compute.imageId=ami-0123456789abcdef0"]).named("appstack-vm-0")
    assert pinned.properties["ami"] == "ami-0123456789abcdef0"
    assert pinned.ignore_changes == ()


def test_security_groups_never_open_admin_ports_and_app_port_only_from_lb(dev_plan):
    rules = {
        r.name: r.properties for r in dev_plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    }
    assert set(rules) == {"appstack-firewall-lb-https-0", "appstack-firewall-lb-http-0", "appstack-firewall-vm-app"}
    https = rules["appstack-firewall-lb-https-0"]
    assert (https["fromPort"], https["toPort"], https["ipProtocol"], https["cidrIpv4"]) == (
        443,
        443,
        "tcp",
        "0.0.0.0/0",
    )
    app = rules["appstack-firewall-vm-app"]
    assert (app["fromPort"], app["toPort"], app["ipProtocol"]) == (8080, 8080, "tcp")
    assert "cidrIpv4" not in app and "cidrIpv6" not in app
    assert app["referencedSecurityGroupId"] == dev_plan.named("appstack-firewall-lb").id
    assert app["securityGroupId"] == dev_plan.named("appstack-firewall-vm").id


def test_ssh_opens_only_from_admin_cidrs_when_enabled():
    plan = plan_of("dev", ["access.ssh=true"])
    ssh = [
        r.properties
        for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.properties["fromPort"] <= 22 <= r.properties["toPort"]
    ]
    assert len(ssh) == 1
    assert (ssh[0]["cidrIpv4"], ssh[0]["fromPort"], ssh[0]["toPort"], ssh[0]["ipProtocol"]) == (
        "203.0.113.0/24",
        22,
        22,
        "tcp",
    )
    assert ssh[0]["securityGroupId"] == plan.named("appstack-firewall-vm").id


def test_vm_egress_is_https_only(dev_plan):
    egress = {r.name: r.properties for r in dev_plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")}
    assert {(p["fromPort"], p["toPort"], p["ipProtocol"]) for p in egress.values()} == {
        (443, 443, "tcp"),
        (8080, 8080, "tcp"),
    }
    assert (
        egress["appstack-firewall-lb-to-app"]["referencedSecurityGroupId"] == dev_plan.named("appstack-firewall-vm").id
    )
    assert egress["appstack-firewall-vm-https-0"]["cidrIpv4"] == "0.0.0.0/0"


def test_default_security_group_is_emptied(dev_plan):
    p = props(dev_plan, "appstack-network-default-sg")
    assert p["ingress"] == [] and p["egress"] == []


def test_https_listener_uses_tls13_policy_and_validated_certificate(dev_plan):
    https = props(dev_plan, "appstack-lb-https")
    assert (https["port"], https["protocol"]) == (443, "HTTPS")
    assert https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
    validation = dev_plan.named("appstack-lb-cert", "aws:acm/certificateValidation:CertificateValidation")
    assert https["certificateArn"] == validation.properties["certificateArn"]
    assert https["certificateArn"].startswith("arn:aws:acm:eu-west-1:123456789012:certificate/")
    assert https["defaultActions"][0]["type"] == "forward"


def test_http_listener_only_redirects_to_https(dev_plan):
    http = props(dev_plan, "appstack-lb-http")
    assert (http["port"], http["protocol"]) == (80, "HTTP")
    assert http["defaultActions"] == [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ]


def test_alb_drops_invalid_headers_and_logs_access(dev_plan):
    alb = props(dev_plan, "appstack-lb-alb")
    assert alb["loadBalancerType"] == "application"
    assert alb["internal"] is False
    assert alb["dropInvalidHeaderFields"] is True
    assert alb["desyncMitigationMode"] == "defensive"
    assert alb["enableDeletionProtection"] is False
    bucket = dev_plan.named("appstack-lb-logs", "aws:s3/bucket:Bucket")
    assert alb["accessLogs"] == {"bucket": bucket.id, "prefix": "alb", "enabled": True}
    bucket = bucket.properties
    assert bucket["forceDestroy"] is True


def test_access_log_bucket_is_private_sse_s3_tls_only_with_elb_grant_and_expiry(dev_plan):
    pab = dev_plan.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0].properties
    assert {
        k: pab[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    } == {
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    sse = dev_plan.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0]
    assert sse.properties["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    policy = json.loads(dev_plan.of_type("aws:s3/bucketPolicy:BucketPolicy")[0].properties["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"
    assert by_sid["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # eu-west-1's ELB account, as the provider lists it (was 156460647715, a wrong account).
    assert by_sid["ElbAccountDelivers"]["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}
    assert by_sid["ElbServiceDelivers"]["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert by_sid["ElbServiceDelivers"]["Resource"].endswith("/alb/AWSLogs/123456789012/*")
    lifecycle = dev_plan.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0].properties
    assert lifecycle["rules"][0]["expiration"] == {"days": 30}
    assert lifecycle["rules"][0]["status"] == "Enabled"


def test_certificate_is_dns_validated_in_the_configured_zone(dev_plan):
    cert = dev_plan.named("appstack-lb-cert", "aws:acm/certificate:Certificate").properties
    assert (cert["domainName"], cert["validationMethod"]) == ("app.dev.example.com", "DNS")
    record = props(dev_plan, "appstack-lb-cert-validation")
    assert record["type"] == "CNAME" and record["ttl"] == 60
    alias = props(dev_plan, "appstack-lb-dns")
    assert alias["name"] == "app.dev.example.com" and alias["type"] == "A"
    assert alias["zoneId"] == record["zoneId"]


def test_existing_certificate_skips_acm():
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    plan = plan_of("dev", [f"loadBalancer.certificateId={arn}"])
    assert plan.of_type("aws:acm/certificate:Certificate") == []
    assert plan.named("appstack-lb-https").properties["certificateArn"] == arn


def test_log_groups_are_kms_encrypted_with_environment_retention(dev_plan, prod_plan):
    for plan, days in ((dev_plan, 30), (prod_plan, 365)):
        key = plan.named("appstack-logs-key")
        groups = {r.properties["name"]: r.properties for r in plan.of_type("aws:cloudwatch/logGroup:LogGroup")}
        env = plan.stack
        assert {f"/appstack/appstack/{env}/{s}" for s in ("system", "auth", "app", "flow")} <= set(groups)
        for g in groups.values():
            assert g["retentionInDays"] == days
            assert g["kmsKeyId"] == f"arn:aws:kms:eu-west-1:123456789012:key/{key.id}"


def test_log_key_rotates_and_lets_only_cloudwatch_logs_of_this_account_use_it(dev_plan):
    key = props(dev_plan, "appstack-logs-key")
    assert key["enableKeyRotation"] is True
    assert key["deletionWindowInDays"] == 30
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    assert statements["AccountAdministersKeyThroughIam"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    logs = statements["CloudWatchLogsUseKey"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"}
    }


def test_flow_logs_capture_all_traffic_into_the_log_sink(dev_plan):
    flow = dev_plan.of_type("aws:ec2/flowLog:FlowLog")[0].properties
    assert flow["trafficType"] == "ALL"
    assert flow["logDestinationType"] == "cloud-watch-logs"
    assert flow["logDestination"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/appstack/appstack/dev/flow"
    assert flow["vpcId"] == dev_plan.named("appstack-network-vpc").id


def test_alert_topic_is_kms_encrypted_and_usable_by_cloudwatch(dev_plan):
    topic = dev_plan.named("appstack-monitoring-alerts", "aws:sns/topic:Topic").properties
    key = dev_plan.named("appstack-monitoring-key")
    assert topic["kmsMasterKeyId"] == f"arn:aws:kms:eu-west-1:123456789012:key/{key.id}"
    statements = {s["Sid"]: s for s in json.loads(key.properties["policy"])["Statement"]}
    assert statements["CloudWatchAlarmsPublish"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    topic_policy = json.loads(dev_plan.of_type("aws:sns/topicPolicy:TopicPolicy")[0].properties["policy"])
    deny = next(s for s in topic_policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    subs = dev_plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert [(s.properties["protocol"], s.properties["endpoint"]) for s in subs] == [("email", "ops-dev@example.com")]


def test_every_alarm_has_actions_and_status_checks_recover(dev_plan):
    topic_arn = "arn:aws:sns:eu-west-1:123456789012:appstack-monitoring-alerts"
    alarms = {a.name: a.properties for a in dev_plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert set(alarms) == {
        "appstack-monitoring-cpu-0",
        "appstack-monitoring-system-check-0",
        "appstack-monitoring-instance-check-0",
        "appstack-monitoring-lb-5xx",
        "appstack-monitoring-target-5xx",
        "appstack-monitoring-unhealthy-hosts",
        "appstack-monitoring-response-time",
    }
    for a in alarms.values():
        assert a["actionsEnabled"] is True
        assert topic_arn in a["alarmActions"]
    assert alarms["appstack-monitoring-system-check-0"]["alarmActions"][0] == "arn:aws:automate:eu-west-1:ec2:recover"
    assert alarms["appstack-monitoring-system-check-0"]["metricName"] == "StatusCheckFailed_System"
    assert alarms["appstack-monitoring-cpu-0"]["threshold"] == 90
    assert alarms["appstack-monitoring-cpu-0"]["dimensions"] == {"InstanceId": dev_plan.named("appstack-vm-0").id}
    assert alarms["appstack-monitoring-lb-5xx"]["dimensions"]["LoadBalancer"].startswith("app/appstack-lb-alb/")


def test_tags_on_every_taggable_resource(dev_plan):
    expected = {"app": "appstack", "environment": "dev", "owner": "platform-team", "managed-by": "pulumi"}
    for r in dev_plan.resources:
        if not r.custom or r.type in TAGGABLE_EXCEPTIONS:
            continue
        tags = r.properties.get("tags")
        assert tags is not None, f"{r.type} {r.name} has no tags"
        assert {k: tags.get(k) for k in expected} == expected, r.name


def test_every_resource_is_parented_under_a_component(dev_plan):
    components = {r.urn for r in dev_plan.resources if not r.custom}
    top = [r for r in dev_plan.resources if r.parent not in components]
    assert [r.type for r in top] == ["appstack:aws:AppStack"]
    for r in dev_plan.resources:
        if r.custom and r.type != "pulumi:providers:aws":
            assert r.name.startswith(
                (
                    "appstack-logs-",
                    "appstack-network-",
                    "appstack-firewall-",
                    "appstack-vm-",
                    "appstack-lb-",
                    "appstack-monitoring-",
                )
            ), r.name


def test_component_type_tokens_are_stable(dev_plan):
    tokens = sorted(r.type for r in dev_plan.resources if not r.custom)
    assert tokens == sorted(
        [
            "appstack:aws:AppStack",
            "appstack:aws:LogSink",
            "appstack:aws:Network",
            "appstack:aws:Firewall",
            "appstack:aws:Vm",
            "appstack:aws:LoadBalancer",
            "appstack:aws:Monitoring",
        ]
    )


def test_stack_outputs_have_the_cloud_neutral_names(dev_plan):
    assert dev_plan.outputs == {
        "url": "https://app.dev.example.com",
        "loadBalancerAddress": dev_plan.outputs["loadBalancerAddress"],
        "instanceIds": [dev_plan.named("appstack-vm-0").id],
        "logSink": "/appstack/appstack/dev",
        "alertChannel": "arn:aws:sns:eu-west-1:123456789012:appstack-monitoring-alerts",
    }
    assert dev_plan.outputs["loadBalancerAddress"].endswith(".eu-west-1.elb.amazonaws.com")


def test_newer_regions_grant_log_delivery_to_the_service_principal_only():
    plan = plan_of("dev", ["aws.region=ap-southeast-4"])
    policy = json.loads(plan.of_type("aws:s3/bucketPolicy:BucketPolicy")[0].properties["policy"])
    principals = [s["Principal"] for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert principals == [{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}]
    assert plan.named("appstack-vm-0").properties["subnetId"]
