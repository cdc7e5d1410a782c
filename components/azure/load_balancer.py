"""Azure TLS load balancer: Application Gateway v2 (WAF_v2 with a WAF policy when `waf`)."""

from __future__ import annotations

import textwrap

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.dns as dns
import pulumi_azure_native.keyvault as keyvault
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.monitor as monitor
import pulumi_azure_native.network as network
import pulumi_azure_native.resources as resources

from ..interfaces import LoadBalancerArgs
from .keys import ROLE_CERTIFICATES_OFFICER, ROLE_KEY_VAULT_CONTRIBUTOR, ROLE_SECRETS_USER, grant, vault
from .names import AzureNames, app_of
from .network import vm_address
from .settings import AzureSettings, settings_of

#: Key Vault certificate the dev path creates (self-signed) when no `certificateId` is given.
SELF_SIGNED_CERT = "appstack-self-signed"
#: Autoscaling bounds of the gateway's instances: 2+ in prod so one instance can fail.
MIN_CAPACITY = {False: 1, True: 2}
MAX_CAPACITY = 10
#: Azure CLI version of the certificate script (a pinned, supported deployment-script image).
AZ_CLI_VERSION = "2.67.0"

#: Creates the self-signed certificate once. The vault admits no public address, so the script
#: opens it to its own container's address for the duration and closes it again on exit.
CERT_SCRIPT = textwrap.dedent(
    """\
    set -eu
    ip=$(curl -fsS --retry 5 https://api.ipify.org)
    az keyvault network-rule add -g "$RESOURCE_GROUP" -n "$VAULT" --ip-address "$ip/32" -o none
    trap 'az keyvault network-rule remove -g "$RESOURCE_GROUP" -n "$VAULT" --ip-address "$ip/32" -o none' EXIT
    az keyvault certificate get-default-policy |
      jq --arg cn "CN=$DOMAIN" --arg d "$DOMAIN" \\
        '.x509CertificateProperties.subject = $cn | .x509CertificateProperties.subjectAlternativeNames = {dnsNames: [$d]}' \\
      > /tmp/policy.json
    # Firewall changes take a while to apply: retry until the certificate exists.
    for attempt in $(seq 1 30); do
      if az keyvault certificate show --vault-name "$VAULT" -n "$CERT" -o none 2>/dev/null; then exit 0; fi
      az keyvault certificate create --vault-name "$VAULT" -n "$CERT" -p @/tmp/policy.json -o none && exit 0
      echo "attempt $attempt: the vault is not reachable yet" >&2
      sleep 10
    done
    exit 1
    """
)


def _sub(gateway: pulumi.Input[str], kind: str, name: str) -> network.SubResourceArgs:
    return network.SubResourceArgs(id=pulumi.Output.concat(gateway, f"/{kind}/{name}"))


class LoadBalancer(pulumi.ComponentResource):
    """Application Gateway v2 in its own subnet, in front of the VMs' private addresses.

    HTTPS listener with the strict 2022 TLS policy (TLS 1.2+, ECDHE AEAD suites only), an HTTP
    listener that only redirects to HTTPS, a health probe on the app's path, the certificate read
    from Key Vault by a user-assigned identity (`certificate_id`, or a self-signed Key Vault
    certificate for trying the stack), WAF_v2 with a Prevention-mode WAF policy when `waf`,
    access and firewall logs to the log sink, a zone-redundant Standard public IP (the stack's
    only one besides NAT), and an A record in Azure DNS when the zone's resource group is known.

    Outputs: `url`, `address` (public IP), `lb_id` (gateway ID), `target_group_id` and
    `backend_id` (the backend pool ID).
    """

    url: pulumi.Output[str]
    address: pulumi.Output[str]
    lb_id: pulumi.Output[str]
    target_group_id: pulumi.Output[str]
    backend_id: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:azure:LoadBalancer", name, None, opts)
        az = settings_of(args.extras)
        names = AzureNames(app_of(name, "lb"))
        rg = args.scope
        assert rg is not None, "the Azure load balancer needs the resource group (args.scope)"
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        # Resolved once the firewall's rules exist: Azure refuses a gateway whose subnet's NSG does
        # not admit GatewayManager yet.
        gateway_subnet = pulumi.Output.all(args.subnet_ids, args.security_group_id).apply(lambda v: v[0][0])

        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity", resource_name_=names.of("id", "agw"), resource_group_name=rg, tags=tags, opts=child
        )
        kv = vault(
            f"{name}-kv",
            az=az,
            vault_name=names.vault("c"),
            rg=rg,
            tags=tags,
            subnet_ids=[gateway_subnet],
            protect=args.protect,
            parent=self,
        )
        read_cert = grant(
            f"{name}-cert-access",
            az=az,
            purpose="agw-secrets",
            role=ROLE_SECRETS_USER,
            principal_id=identity.principal_id,
            scope=kv.id,
            parent=self,
        )
        if args.certificate_id:
            secret_id: pulumi.Input[str] = args.certificate_id
            cert_ready: list[pulumi.Resource] = [read_cert]
        else:
            secret_id, script = self._self_signed(name, az, names, rg, kv, args.domain, tags)
            cert_ready = [read_cert, script]

        ip = network.PublicIPAddress(
            f"{name}-ip",
            public_ip_address_name=names.of("pip", "agw"),
            resource_group_name=rg,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            zones=list(az.zones),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        policy = None
        if args.waf:
            policy = network.WebApplicationFirewallPolicy(
                f"{name}-waf",
                policy_name=names.of("waf"),
                resource_group_name=rg,
                policy_settings=network.PolicySettingsArgs(
                    state="Enabled",
                    mode="Prevention",
                    request_body_check=True,
                    request_body_inspect_limit_in_kb=128,
                ),
                managed_rules=network.ManagedRulesDefinitionArgs(
                    managed_rule_sets=[
                        # Microsoft's default rule set (OWASP CRS based, with Microsoft threat intel).
                        network.ManagedRuleSetArgs(rule_set_type="Microsoft_DefaultRuleSet", rule_set_version="2.1"),
                        network.ManagedRuleSetArgs(rule_set_type="Microsoft_BotManagerRuleSet", rule_set_version="1.1"),
                    ]
                ),
                tags=tags,
                opts=child,
            )

        gateway_name = names.of("agw")
        gw = pulumi.Output.all(az.subscription_id, rg).apply(
            lambda v: (
                f"/subscriptions/{v[0]}/resourceGroups/{v[1]}/providers/Microsoft.Network/applicationGateways/"
                f"{gateway_name}"
            )
        )
        count = len(args.instance_ids)
        # The VMs' static private addresses; the pool is filled once every VM exists.
        backends = pulumi.Output.all(*args.instance_ids).apply(
            lambda _: [vm_address(az.network_cidr, len(az.zones), i) for i in range(count)]
        )
        tier = "WAF_v2" if args.waf else "Standard_v2"
        gateway = network.ApplicationGateway(
            f"{name}-gateway",
            application_gateway_name=gateway_name,
            resource_group_name=rg,
            sku=network.ApplicationGatewaySkuArgs(name=tier, tier=tier),
            autoscale_configuration=network.ApplicationGatewayAutoscaleConfigurationArgs(
                min_capacity=MIN_CAPACITY[args.deletion_protection], max_capacity=MAX_CAPACITY
            ),
            zones=list(az.zones),
            identity=network.ManagedServiceIdentityArgs(
                type=network.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity.id]
            ),
            enable_http2=True,
            gateway_ip_configurations=[
                network.ApplicationGatewayIPConfigurationArgs(
                    name="gateway", subnet=network.SubResourceArgs(id=gateway_subnet)
                )
            ],
            frontend_ip_configurations=[
                network.ApplicationGatewayFrontendIPConfigurationArgs(
                    name="public", public_ip_address=network.SubResourceArgs(id=ip.id)
                )
            ],
            frontend_ports=[
                network.ApplicationGatewayFrontendPortArgs(name="https", port=443),
                network.ApplicationGatewayFrontendPortArgs(name="http", port=80),
            ],
            ssl_certificates=[network.ApplicationGatewaySslCertificateArgs(name="tls", key_vault_secret_id=secret_id)],
            ssl_policy=network.ApplicationGatewaySslPolicyArgs(policy_type="Predefined", policy_name=args.tls_policy),
            backend_address_pools=[
                network.ApplicationGatewayBackendAddressPoolArgs(
                    name="vms",
                    backend_addresses=backends.apply(
                        lambda ips: [network.ApplicationGatewayBackendAddressArgs(ip_address=a) for a in ips]
                    ),
                )
            ],
            probes=[
                network.ApplicationGatewayProbeArgs(
                    name="health",
                    protocol="Http",
                    # The VMs answer on their own address; the probe's Host header needs a value.
                    host="127.0.0.1",
                    path=args.health_check_path,
                    interval=15,
                    timeout=10,
                    unhealthy_threshold=3,
                    match=network.ApplicationGatewayProbeHealthResponseMatchArgs(status_codes=["200-399"]),
                )
            ],
            backend_http_settings_collection=[
                network.ApplicationGatewayBackendHttpSettingsArgs(
                    name="app",
                    port=args.app_port,
                    # Plain HTTP inside the VNet, to the VM subnet's app port only (see the firewall).
                    protocol="Http",
                    cookie_based_affinity="Disabled",
                    request_timeout=30,
                    probe=_sub(gw, "probes", "health"),
                )
            ],
            http_listeners=[
                network.ApplicationGatewayHttpListenerArgs(
                    name="https",
                    protocol="Https",
                    frontend_ip_configuration=_sub(gw, "frontendIPConfigurations", "public"),
                    frontend_port=_sub(gw, "frontendPorts", "https"),
                    ssl_certificate=_sub(gw, "sslCertificates", "tls"),
                ),
                network.ApplicationGatewayHttpListenerArgs(
                    name="http",
                    protocol="Http",
                    frontend_ip_configuration=_sub(gw, "frontendIPConfigurations", "public"),
                    frontend_port=_sub(gw, "frontendPorts", "http"),
                ),
            ],
            redirect_configurations=[
                network.ApplicationGatewayRedirectConfigurationArgs(
                    name="http-to-https",
                    redirect_type="Permanent",
                    target_listener=_sub(gw, "httpListeners", "https"),
                    include_path=True,
                    include_query_string=True,
                )
            ],
            request_routing_rules=[
                network.ApplicationGatewayRequestRoutingRuleArgs(
                    name="https-to-app",
                    rule_type="Basic",
                    priority=100,
                    http_listener=_sub(gw, "httpListeners", "https"),
                    backend_address_pool=_sub(gw, "backendAddressPools", "vms"),
                    backend_http_settings=_sub(gw, "backendHttpSettingsCollection", "app"),
                ),
                network.ApplicationGatewayRequestRoutingRuleArgs(
                    name="http-redirect",
                    rule_type="Basic",
                    priority=200,
                    http_listener=_sub(gw, "httpListeners", "http"),
                    redirect_configuration=_sub(gw, "redirectConfigurations", "http-to-https"),
                ),
            ],
            firewall_policy=network.SubResourceArgs(id=policy.id) if policy else None,
            tags=tags,
            # The identity must read the certificate before the gateway can load it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=cert_ready),
        )
        monitor.DiagnosticSetting(
            f"{name}-diagnostics",
            name="appstack-logs",
            resource_uri=gateway.id,
            workspace_id=args.log_key_id,
            # Resource-specific tables (AGWAccessLogs, AGWFirewallLogs), not AzureDiagnostics.
            log_analytics_destination_type="Dedicated",
            logs=[monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)],
            metrics=[monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)],
            opts=child,
        )
        if args.deletion_protection:
            authorization.ManagementLockByScope(
                f"{name}-lock",
                lock_name=f"lock-{gateway_name}",
                level="CanNotDelete",
                scope=gateway.id,
                notes="appstack: deletion protection (protection.deletionProtection)",
                opts=child,
            )
        if az.dns_zone_resource_group:
            relative = "@" if args.domain == args.zone else args.domain.removesuffix("." + args.zone)
            dns.RecordSet(
                f"{name}-dns",
                zone_name=args.zone,
                resource_group_name=az.dns_zone_resource_group,
                relative_record_set_name=relative,
                record_type="A",
                ttl=300,
                # An alias of the public IP: the record follows the address.
                target_resource=dns.SubResourceArgs(id=ip.id),
                opts=child,
            )

        self.url = pulumi.Output.from_input(f"https://{args.domain}")
        self.address = ip.ip_address.apply(lambda a: a or "")
        self.lb_id = gateway.id
        self.target_group_id = pulumi.Output.concat(gateway.id, "/backendAddressPools/vms")
        # The pool a VM group would join (`Cloud.group_joins_backend`).
        self.backend_id = self.target_group_id
        self.register_outputs(
            {"url": self.url, "address": self.address, "lb_id": self.lb_id, "target_group_id": self.target_group_id}
        )

    def _self_signed(
        self,
        name: str,
        az: AzureSettings,
        names: AzureNames,
        rg: pulumi.Input[str],
        kv: keyvault.Vault,
        domain: str,
        tags: dict[str, str],
    ) -> tuple[pulumi.Output[str], resources.AzureCliScript]:
        """A self-signed Key Vault certificate for `domain`, created by a deployment script."""
        vault_name = names.vault("c")
        runner = managedidentity.UserAssignedIdentity(
            f"{name}-cert-identity",
            resource_name_=names.of("id", "cert"),
            resource_group_name=rg,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        grants = [
            grant(
                f"{name}-cert-{purpose}",
                az=az,
                purpose=f"cert-{purpose}",
                role=role,
                principal_id=runner.principal_id,
                scope=kv.id,
                parent=self,
            )
            for purpose, role in (("create", ROLE_CERTIFICATES_OFFICER), ("firewall", ROLE_KEY_VAULT_CONTRIBUTOR))
        ]
        script = resources.AzureCliScript(
            f"{name}-cert-script",
            script_name=names.of("ds", "cert"),
            resource_group_name=rg,
            kind="AzureCLI",
            az_cli_version=AZ_CLI_VERSION,
            identity=resources.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[runner.id]),
            script_content=CERT_SCRIPT,
            environment_variables=[
                resources.EnvironmentVariableArgs(name="RESOURCE_GROUP", value=rg),
                resources.EnvironmentVariableArgs(name="VAULT", value=vault_name),
                resources.EnvironmentVariableArgs(name="CERT", value=SELF_SIGNED_CERT),
                resources.EnvironmentVariableArgs(name="DOMAIN", value=domain),
            ],
            retention_interval="PT1H",
            cleanup_preference="Always",
            timeout="PT30M",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
        # Versionless: the gateway picks up renewals (Key Vault renews the certificate itself).
        secret = pulumi.Output.all(script.id).apply(
            lambda _: f"https://{vault_name}.vault.azure.net/secrets/{SELF_SIGNED_CERT}"
        )
        return secret, script
