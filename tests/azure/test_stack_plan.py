"""Azure stack: exact security-critical inputs of the planned resources (engine camelCase keys)."""

from __future__ import annotations

import base64

import pytest
import yaml

from components.azure.firewall import GATEWAY_MANAGER_PORTS
from components.bootstrap.cloud_init import SSHD_DROP_IN
from components.interfaces import STACK_OUTPUTS
from tests.azure.conftest import azure_plan
from tools.mocks import Plan

VM = "azure-native:compute:VirtualMachine"
NIC = "azure-native:network:NetworkInterface"
RULE = "azure-native:network:SecurityRule"
VAULT = "azure-native:keyvault:Vault"
APPGW = "azure-native:network:ApplicationGateway"
ALERT = "azure-native:monitor:MetricAlert"
LOCK = "azure-native:authorization:ManagementLockByScope"
EXAMPLE_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVYQU1QTEUtS0VZLVJFUExBQ0UtV0lUSC1ZT1VSUyEh example-admin@example.com"
)
#: Types whose ARM resource takes no tags (sub-resources and extension resources).
UNTAGGED = {
    "pulumi:providers:azure-native",
    "azure-native:network:Subnet",
    "azure-native:network:SecurityRule",
    "azure-native:operationalinsights:Table",
    "azure-native:authorization:RoleAssignment",
    "azure-native:authorization:ManagementLockByScope",
    "azure-native:monitor:DataCollectionRuleAssociation",
    "azure-native:monitor:DiagnosticSetting",
}


def rules(plan: Plan, nsg_label: str) -> dict[str, dict]:
    prefix = f"appstack-firewall-{nsg_label}-"
    return {r.name.removeprefix(prefix): r.properties for r in plan.of_type(RULE) if r.name.startswith(prefix)}


def test_both_stack_files_plan_on_azure_with_the_shared_outputs(az_dev, az_prod):
    for plan, vms in ((az_dev, 1), (az_prod, 3)):
        assert set(plan.outputs) == set(STACK_OUTPUTS)
        assert plan.outputs["url"].startswith("https://app.")
        assert len(plan.outputs["instanceIds"]) == vms
        assert all("/providers/Microsoft.Compute/virtualMachines/" in i for i in plan.outputs["instanceIds"])
        assert "/providers/Microsoft.OperationalInsights/workspaces/" in plan.outputs["logSink"]
        assert "/providers/Microsoft.Insights/actionGroups/" in plan.outputs["alertChannel"]
        assert not [r for r in plan.resources if r.type.startswith(("aws:", "gcp:"))]


def test_every_part_is_a_component_with_a_stable_token_and_child_names(az_dev):
    parts = {r.type: r.name for r in az_dev.resources if not r.custom}
    assert parts == {
        "appstack:azure:AppStack": "appstack",
        "appstack:azure:LogSink": "appstack-logs",
        "appstack:azure:Network": "appstack-network",
        "appstack:azure:Firewall": "appstack-firewall",
        "appstack:azure:Vm": "appstack-vm",
        "appstack:azure:LoadBalancer": "appstack-lb",
        "appstack:azure:Monitoring": "appstack-monitoring",
    }
    urns = {r.urn: r for r in az_dev.resources}
    for r in az_dev.resources:
        if r.custom and r.parent in urns and not urns[r.parent].type.endswith(":AppStack"):
            assert r.name.startswith(urns[r.parent].name + "-"), r.name


def test_explicit_provider_for_the_configured_location(az_dev):
    provider = az_dev.of_type("pulumi:providers:azure-native")
    assert [p.properties.get("location") for p in provider] == ["westeurope"]
    group = az_dev.of_type("azure-native:resources:ResourceGroup")[0].properties
    assert (group["resourceGroupName"], group["location"]) == ("rg-appstack-dev", "westeurope")


def test_tags_everywhere(az_prod):
    for r in az_prod.resources:
        if r.custom and r.type not in UNTAGGED:
            tags = r.properties.get("tags") or {}
            assert {
                "app": "appstack",
                "environment": "prod",
                "owner": "platform-team",
                "managed-by": "pulumi",
            }.items() <= tags.items(), r.name


def test_vms_use_keys_only_trusted_launch_encryption_at_host_and_a_cmk(az_prod):
    des = az_prod.of_type("azure-native:compute:DiskEncryptionSet")
    assert len(des) == 1 and des[0].properties["encryptionType"] == "EncryptionAtRestWithCustomerKey"
    assert des[0].properties["rotationToLatestKeyVersionEnabled"] is True
    vms = sorted(az_prod.of_type(VM), key=lambda v: v.name)
    assert [v.properties["zones"] for v in vms] == [["1"], ["2"], ["3"]]
    for vm in vms:
        p = vm.properties
        os_profile = p["osProfile"]
        assert "adminPassword" not in os_profile
        assert os_profile["adminUsername"] == "azureuser"
        assert os_profile["linuxConfiguration"] == {
            "disablePasswordAuthentication": True,
            "provisionVMAgent": True,
            "ssh": {"publicKeys": [{"keyData": EXAMPLE_KEY, "path": "/home/azureuser/.ssh/authorized_keys"}]},
        }
        assert p["securityProfile"] == {
            "encryptionAtHost": True,
            "securityType": "TrustedLaunch",
            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
        }
        disk = p["storageProfile"]["osDisk"]["managedDisk"]
        assert disk["diskEncryptionSet"]["id"].endswith("/diskEncryptionSets/des-appstack-prod")
        assert p["storageProfile"]["imageReference"] == {
            "publisher": "Canonical",
            "offer": "ubuntu-24_04-lts",
            "sku": "server",
            "version": "latest",
        }
        assert p["identity"] == {"type": "SystemAssigned"}
        assert p["hardwareProfile"] == {"vmSize": "Standard_D2s_v5"}


def test_nics_have_no_public_ip_and_static_addresses_in_their_zones_subnet(az_prod):
    nics = sorted(az_prod.of_type(NIC), key=lambda n: n.name)
    addresses = []
    for nic in nics:
        (config,) = nic.properties["ipConfigurations"]
        assert "publicIPAddress" not in config
        assert config["privateIPAllocationMethod"] == "Static"
        addresses.append(config["privateIPAddress"])
    # Eighths of 10.0.0.0/16: the gateway takes 10.0.0.0/19, zone n's VMs 10.0.(32n).0/19.
    assert addresses == ["10.0.32.4", "10.0.64.4", "10.0.96.4"]
    pool = az_prod.of_type(APPGW)[0].properties["backendAddressPools"][0]["backendAddresses"]
    assert [a["ipAddress"] for a in pool] == addresses


def test_custom_data_is_the_shared_cloud_init_with_hardened_sshd(az_dev):
    vm = az_dev.of_type(VM)[0].properties
    text = base64.b64decode(vm["osProfile"]["customData"]).decode()
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    assert doc["disable_root"] is True and doc["ssh_pwauth"] is False
    files = {f["path"]: f for f in doc["write_files"]}
    assert "PasswordAuthentication no" in files[SSHD_DROP_IN]["content"]
    assert "PermitRootLogin no" in files[SSHD_DROP_IN]["content"]
    assert "systemctl enable --now appstack.service" in doc["runcmd"]


def test_container_app_installs_docker_io_on_ubuntu():
    plan = azure_plan("dev", ["app.image=public.ecr.aws/nginx/nginx:1.27", "app.containerPort=80"])
    text = base64.b64decode(plan.of_type(VM)[0].properties["osProfile"]["customData"]).decode()
    assert "docker.io" in yaml.safe_load(text)["runcmd"][2]


def test_every_vm_has_the_monitor_agent_and_the_data_collection_rule(az_prod):
    vms = {v.properties["vmName"] for v in az_prod.of_type(VM)}
    agents = az_prod.of_type("azure-native:compute:VirtualMachineExtension")
    assert {a.properties["vmName"] for a in agents} == vms
    for a in agents:
        p = a.properties
        assert (p["publisher"], p["type"], p["enableAutomaticUpgrade"]) == (
            "Microsoft.Azure.Monitor",
            "AzureMonitorLinuxAgent",
            True,
        )
    dcr = az_prod.of_type("azure-native:monitor:DataCollectionRule")[0].properties
    associations = az_prod.of_type("azure-native:monitor:DataCollectionRuleAssociation")
    assert len(associations) == len(vms)
    assert {a.properties["dataCollectionRuleId"].rsplit("/", 1)[-1] for a in associations} == {
        dcr["dataCollectionRuleName"]
    }
    (syslog,) = dcr["dataSources"]["syslog"]
    assert {"auth", "authpriv", "daemon", "kern", "syslog"} <= set(syslog["facilityNames"])
    (app,) = dcr["dataSources"]["logFiles"]
    assert app["filePatterns"] == ["/var/log/appstack/app.log"]
    # The Linux agent's counter names (Microsoft's Linux DCR samples); `Processor Information` is Windows.
    assert dcr["dataSources"]["performanceCounters"][0]["counterSpecifiers"] == [
        "Processor(*)\\% Processor Time",
        "Memory(*)\\% Used Memory",
        "Memory(*)\\Available MBytes Memory",
        "Logical Disk(*)\\% Used Space",
        "Logical Disk(*)\\Free Megabytes",
    ]


def test_vm_subnets_admit_the_app_only_from_the_gateway_and_no_ssh_by_default(az_dev):
    vm = rules(az_dev, "vm")
    assert "allow-ssh-from-admins" not in vm
    assert vm["allow-app-from-gateway"] == {
        **vm["allow-app-from-gateway"],
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "sourceAddressPrefix": "10.0.0.0/19",
        "destinationPortRange": "8080",
        "priority": 100,
    }
    assert (vm["deny-all-in"]["access"], vm["deny-all-in"]["sourceAddressPrefix"], vm["deny-all-in"]["priority"]) == (
        "Deny",
        "*",
        4000,
    )
    assert vm["deny-internet-out"]["destinationAddressPrefix"] == "Internet"
    assert vm["allow-https-out"]["destinationPortRange"] == "443"


def test_ssh_opens_only_to_the_admin_networks():
    vm = rules(azure_plan("dev", ["access.ssh=true"]), "vm")
    ssh = vm["allow-ssh-from-admins"]
    assert (ssh["sourceAddressPrefix"], ssh["destinationPortRange"], ssh["access"]) == ("203.0.113.0/24", "22", "Allow")


def test_gateway_subnet_admits_443_80_from_ingress_and_what_v2_needs(az_dev):
    agw = rules(az_dev, "agw")
    assert agw["allow-https-in"]["sourceAddressPrefix"] == "0.0.0.0/0"
    assert agw["allow-https-in"]["destinationPortRange"] == "443"
    assert agw["allow-http-redirect-in"]["destinationPortRange"] == "80"
    gm = agw["allow-gateway-manager-in"]
    assert (gm["sourceAddressPrefix"], gm["destinationPortRange"]) == ("GatewayManager", GATEWAY_MANAGER_PORTS)
    assert agw["allow-azure-lb-in"]["sourceAddressPrefix"] == "AzureLoadBalancer"
    assert agw["deny-all-in"]["access"] == "Deny"


def test_gateway_subnet_is_dedicated_and_vm_subnets_egress_through_nat(az_prod):
    subnets = {s.properties["subnetName"]: s.properties for s in az_prod.of_type("azure-native:network:Subnet")}
    assert set(subnets) == {"snet-agw", "snet-vm-z1", "snet-vm-z2", "snet-vm-z3"}
    assert "natGateway" not in subnets["snet-agw"]
    for zone in "123":
        s = subnets[f"snet-vm-z{zone}"]
        assert s["defaultOutboundAccess"] is False
        assert s["natGateway"]["id"].endswith(f"/natGateways/ng-appstack-prod-z{zone}")
    # Prod: one zonal NAT gateway per zone; dev: one shared.
    assert len(az_prod.of_type("azure-native:network:NatGateway")) == 3
    assert len(azure_plan("dev").of_type("azure-native:network:NatGateway")) == 1


def test_vnet_flow_log_to_the_log_sink_with_traffic_analytics(az_prod):
    (flow,) = az_prod.of_type("azure-native:network:FlowLog")
    p = flow.properties
    assert p["targetResourceId"].endswith("/virtualNetworks/vnet-appstack-prod")
    assert p["storageId"].endswith(
        "/storageAccounts/" + az_prod.of_type("azure-native:storage:StorageAccount")[0].properties["accountName"]
    )
    assert (p["networkWatcherName"], p["resourceGroupName"]) == ("NetworkWatcher_westeurope", "NetworkWatcherRG")
    assert p["enabled"] is True and p["retentionPolicy"] == {"days": 365, "enabled": True}
    ta = p["flowAnalyticsConfiguration"]["networkWatcherFlowAnalyticsConfiguration"]
    assert ta["enabled"] is True
    assert ta["workspaceResourceId"] == az_prod.outputs["logSink"]


def test_flow_log_storage_is_private_tls12_only(az_dev):
    (account,) = az_dev.of_type("azure-native:storage:StorageAccount")
    p = account.properties
    assert p["allowBlobPublicAccess"] is False
    assert p["minimumTlsVersion"] == "TLS1_2"
    assert p["enableHttpsTrafficOnly"] is True
    assert p["networkRuleSet"] == {"defaultAction": "Deny", "bypass": "AzureServices"}


def test_key_vaults_use_rbac_soft_delete_purge_protection_and_deny_by_default(az_dev):
    vaults = az_dev.of_type(VAULT)
    assert len(vaults) == 2
    for v in vaults:
        p = v.properties["properties"]
        assert p["enableRbacAuthorization"] is True
        assert p["enableSoftDelete"] is True and p["softDeleteRetentionInDays"] == 90
        assert p["enablePurgeProtection"] is True
        assert p["networkAcls"]["defaultAction"] == "Deny"
        assert p["networkAcls"]["bypass"] == "AzureServices"
        assert "accessPolicies" not in p


def test_key_vault_ip_rules_hold_public_admin_ranges_only():
    # Key Vault refuses RFC 1918 ranges in IP rules (a VPN admin network would fail the vault's
    # creation) and IPv6; a single address stays in the /32 form the API stores.
    plan = azure_plan(
        "dev", ["access.adminCidrs=[10.8.0.0/16, 192.168.4.0/24, 203.0.113.7/32, 198.51.100.0/24, 2001:db8::/48]"]
    )
    for v in plan.of_type(VAULT):
        acls = v.properties["properties"]["networkAcls"]
        assert acls["ipRules"] == [{"value": "203.0.113.7/32"}, {"value": "198.51.100.0/24"}], v.name


def test_disk_key_rotates_and_only_the_encryption_set_may_use_it(az_dev):
    (key,) = az_dev.of_type("azure-native:keyvault:Key")
    p = key.properties["properties"]
    assert (p["kty"], p["keySize"]) == ("RSA", 3072)
    assert p["rotationPolicy"]["attributes"] == {"expiryTime": "P2Y"}
    roles = {r.name: r.properties for r in az_dev.of_type("azure-native:authorization:RoleAssignment")}
    des = roles["appstack-vm-des-key-access"]
    assert des["roleDefinitionId"].endswith("/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6")
    assert des["scope"].endswith("/vaults/" + az_dev.named("appstack-vm-kv").properties["vaultName"])
    assert des["principalType"] == "ServicePrincipal"


def test_gateway_https_with_the_strict_tls_policy_and_http_only_redirects(az_dev):
    p = az_dev.of_type(APPGW)[0].properties
    assert p["sslPolicy"] == {"policyType": "Predefined", "policyName": "AppGwSslPolicy20220101S"}
    listeners = {listener["name"]: listener for listener in p["httpListeners"]}
    assert listeners["https"]["protocol"] == "Https"
    assert listeners["http"]["protocol"] == "Http"
    rules_ = {r["name"]: r for r in p["requestRoutingRules"]}
    assert "backendAddressPool" not in rules_["http-redirect"]
    assert rules_["http-redirect"]["redirectConfiguration"]["id"].endswith("/redirectConfigurations/http-to-https")
    (redirect,) = p["redirectConfigurations"]
    assert redirect["redirectType"] == "Permanent"
    assert redirect["targetListener"]["id"].endswith("/httpListeners/https")
    (probe,) = p["probes"]
    assert (probe["path"], probe["protocol"]) == ("/health", "Http")
    (cert,) = p["sslCertificates"]
    assert (
        cert["keyVaultSecretId"]
        == f"https://{az_dev.named('appstack-lb-kv').properties['vaultName']}.vault.azure.net/secrets/appstack-self-signed"
    )
    assert p["identity"]["type"] == "UserAssigned"
    assert p["sku"] == {"name": "Standard_v2", "tier": "Standard_v2"}
    assert "firewallPolicy" not in p


def test_gateway_reads_its_certificate_through_its_own_identity(az_dev):
    roles = {r.name: r.properties for r in az_dev.of_type("azure-native:authorization:RoleAssignment")}
    read = roles["appstack-lb-cert-access"]
    assert read["roleDefinitionId"].endswith("/4633458b-17de-408a-b874-0445c86b69e6")  # Key Vault Secrets User
    vault = az_dev.named("appstack-lb-kv").properties
    assert vault["properties"]["networkAcls"]["virtualNetworkRules"][0]["id"].endswith("/subnets/snet-agw")


def test_an_existing_certificate_replaces_the_self_signed_one():
    secret = "https://kv-certs.vault.azure.net/secrets/app-example-com"
    plan = azure_plan("dev", [f"loadBalancer.certificateId={secret}"])
    assert plan.of_type(APPGW)[0].properties["sslCertificates"][0]["keyVaultSecretId"] == secret
    assert not plan.of_type("azure-native:resources:AzureCliScript")


def test_prod_gateway_is_waf_v2_with_a_prevention_policy(az_prod):
    p = az_prod.of_type(APPGW)[0].properties
    assert p["sku"] == {"name": "WAF_v2", "tier": "WAF_v2"}
    (waf,) = az_prod.of_type("azure-native:network:WebApplicationFirewallPolicy")
    assert p["firewallPolicy"]["id"].endswith("/" + waf.properties["policyName"])
    assert waf.properties["policySettings"]["mode"] == "Prevention"
    assert waf.properties["policySettings"]["state"] == "Enabled"
    assert {s["ruleSetType"] for s in waf.properties["managedRules"]["managedRuleSets"]} >= {"Microsoft_DefaultRuleSet"}


def test_gateway_logs_go_to_the_workspace(az_dev):
    (diag,) = az_dev.of_type("azure-native:monitor:DiagnosticSetting")
    p = diag.properties
    assert p["workspaceId"] == az_dev.outputs["logSink"]
    assert p["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]


def test_only_the_gateway_and_nat_have_public_ips_standard_sku(az_prod):
    ips = az_prod.of_type("azure-native:network:PublicIPAddress")
    assert sorted(i.name for i in ips) == sorted(
        ["appstack-lb-ip", "appstack-network-nat-ip-z1", "appstack-network-nat-ip-z2", "appstack-network-nat-ip-z3"]
    )
    assert all(i.properties["sku"]["name"] == "Standard" for i in ips)


def test_workspace_retention_per_environment_and_protect_in_prod(az_dev, az_prod):
    (dev_ws,) = az_dev.of_type("azure-native:operationalinsights:Workspace")
    (prod_ws,) = az_prod.of_type("azure-native:operationalinsights:Workspace")
    # The stack files' retention as it is: 30 days meets the pack's non-prod floor for workspaces.
    assert (dev_ws.properties["retentionInDays"], prod_ws.properties["retentionInDays"]) == (30, 365)
    assert prod_ws.properties["features"]["disableLocalAuth"] is True
    assert not dev_ws.protect
    for r in az_prod.resources:
        if r.type in (
            "azure-native:operationalinsights:Workspace",
            VAULT,
            "azure-native:keyvault:Key",
            "azure-native:storage:StorageAccount",
            "azure-native:compute:DiskEncryptionSet",
        ):
            assert r.protect and r.retain_on_delete, r.name


def test_prod_locks_every_vm_and_the_gateway_dev_none(az_dev, az_prod):
    assert not az_dev.of_type(LOCK)
    locks = az_prod.of_type(LOCK)
    assert all(lock.properties["level"] == "CanNotDelete" for lock in locks)
    scopes = {lock.properties["scope"] for lock in locks}
    assert scopes == set(az_prod.outputs["instanceIds"]) | {az_prod.of_type(APPGW)[0].id}


@pytest.mark.parametrize(("plan_name", "cpu", "errors", "latency_ms"), [("dev", 90, 50, 2000), ("prod", 80, 10, 1000)])
def test_alerts_on_every_vm_and_the_gateway_with_environment_thresholds(plan_name, cpu, errors, latency_ms):
    plan = azure_plan(plan_name)
    (group,) = plan.of_type("azure-native:monitor:ActionGroup")
    emails = [r["emailAddress"] for r in group.properties["emailReceivers"]]
    assert emails == (["ops-dev@example.com"] if plan_name == "dev" else ["ops@example.com", "oncall@example.com"])
    criteria = {}
    for alert in plan.of_type(ALERT):
        (c,) = alert.properties["criteria"]["allOf"]
        criteria.setdefault(c["metricName"], []).append((c["operator"], c["threshold"], alert.properties["scopes"]))
        assert alert.properties["actions"] == [{"actionGroupId": group.id}]
        assert alert.properties["windowSize"] == "PT5M"
    vms = len(plan.outputs["instanceIds"])
    assert [c[:2] for c in criteria["Percentage CPU"]] == [("GreaterThan", cpu)] * vms
    assert [c[:2] for c in criteria["VmAvailabilityMetric"]] == [("LessThan", 1)] * vms
    assert criteria["UnhealthyHostCount"][0][:2] == ("GreaterThanOrEqual", 1)
    assert criteria["ResponseStatus"][0][:2] == ("GreaterThanOrEqual", errors)
    assert criteria["FailedRequests"][0][:2] == ("GreaterThanOrEqual", errors)
    assert criteria["BackendLastByteResponseTime"][0][:2] == ("GreaterThan", latency_ms)


def test_cmk_opt_out_drops_the_disk_encryption_set():
    plan = azure_plan("dev", ["azure.customerManagedKeys=false"])
    assert not plan.of_type("azure-native:compute:DiskEncryptionSet")
    disk = plan.of_type(VM)[0].properties["storageProfile"]["osDisk"]["managedDisk"]
    assert "diskEncryptionSet" not in disk


def test_dns_record_only_with_the_zones_resource_group(az_dev):
    assert not az_dev.of_type("azure-native:dns:RecordSet")
    plan = azure_plan("dev", ["azure.dnsZoneResourceGroup=rg-dns"])
    (record,) = plan.of_type("azure-native:dns:RecordSet")
    p = record.properties
    assert (p["zoneName"], p["relativeRecordSetName"], p["recordType"], p["resourceGroupName"]) == (
        "dev.example.com",
        "app",
        "A",
        "rg-dns",
    )
    assert p["targetResource"]["id"].endswith("/publicIPAddresses/pip-appstack-dev-agw")
