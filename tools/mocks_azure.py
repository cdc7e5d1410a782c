"""Offline-plan mocks of azure-native resources and functions (plugged in by tools.mocks.CLOUD_MOCKS).

Resources get realistic ARM IDs (``/subscriptions/<SUBSCRIPTION>/resourceGroups/...``) built from
their name inputs, and the computed outputs the Azure parts read (principal IDs of identities,
key URIs, the workspace's customer ID, public IP addresses). `STATES` keeps every resource's
state (inputs + outputs) by URN-less (type, name), so a test can judge a plan "as an up": with
outputs, as the engine hands them to stack policies after an update.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pulumi

#: The all-zero subscription and tenant: never a real one.
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT = "00000000-0000-0000-0000-000000000001"
CLIENT = "00000000-0000-0000-0000-000000000002"

#: type token -> (ARM provider namespace, path under it with {input} placeholders).
ARM: dict[str, tuple[str, str]] = {
    "azure-native:network:VirtualNetwork": ("Microsoft.Network", "virtualNetworks/{virtualNetworkName}"),
    "azure-native:network:Subnet": ("Microsoft.Network", "virtualNetworks/{virtualNetworkName}/subnets/{subnetName}"),
    "azure-native:network:NetworkSecurityGroup": (
        "Microsoft.Network",
        "networkSecurityGroups/{networkSecurityGroupName}",
    ),
    "azure-native:network:SecurityRule": (
        "Microsoft.Network",
        "networkSecurityGroups/{networkSecurityGroupName}/securityRules/{securityRuleName}",
    ),
    "azure-native:network:NatGateway": ("Microsoft.Network", "natGateways/{natGatewayName}"),
    "azure-native:network:PublicIPAddress": ("Microsoft.Network", "publicIPAddresses/{publicIpAddressName}"),
    "azure-native:network:NetworkInterface": ("Microsoft.Network", "networkInterfaces/{networkInterfaceName}"),
    "azure-native:network:FlowLog": (
        "Microsoft.Network",
        "networkWatchers/{networkWatcherName}/flowLogs/{flowLogName}",
    ),
    "azure-native:network:ApplicationGateway": ("Microsoft.Network", "applicationGateways/{applicationGatewayName}"),
    "azure-native:network:WebApplicationFirewallPolicy": (
        "Microsoft.Network",
        "ApplicationGatewayWebApplicationFirewallPolicies/{policyName}",
    ),
    "azure-native:compute:VirtualMachine": ("Microsoft.Compute", "virtualMachines/{vmName}"),
    "azure-native:compute:VirtualMachineExtension": (
        "Microsoft.Compute",
        "virtualMachines/{vmName}/extensions/{vmExtensionName}",
    ),
    "azure-native:compute:DiskEncryptionSet": ("Microsoft.Compute", "diskEncryptionSets/{diskEncryptionSetName}"),
    "azure-native:compute:VirtualMachineScaleSet": ("Microsoft.Compute", "virtualMachineScaleSets/{vmScaleSetName}"),
    "azure-native:monitor:AutoscaleSetting": ("Microsoft.Insights", "autoscalesettings/{autoscaleSettingName}"),
    "azure-native:keyvault:Vault": ("Microsoft.KeyVault", "vaults/{vaultName}"),
    "azure-native:keyvault:Key": ("Microsoft.KeyVault", "vaults/{vaultName}/keys/{keyName}"),
    "azure-native:managedidentity:UserAssignedIdentity": (
        "Microsoft.ManagedIdentity",
        "userAssignedIdentities/{resourceName}",
    ),
    "azure-native:operationalinsights:Workspace": ("Microsoft.OperationalInsights", "workspaces/{workspaceName}"),
    "azure-native:operationalinsights:Table": (
        "Microsoft.OperationalInsights",
        "workspaces/{workspaceName}/tables/{tableName}",
    ),
    "azure-native:monitor:DataCollectionRule": ("Microsoft.Insights", "dataCollectionRules/{dataCollectionRuleName}"),
    "azure-native:monitor:ActionGroup": ("Microsoft.Insights", "actionGroups/{actionGroupName}"),
    "azure-native:monitor:MetricAlert": ("Microsoft.Insights", "metricAlerts/{ruleName}"),
    "azure-native:storage:StorageAccount": ("Microsoft.Storage", "storageAccounts/{accountName}"),
    "azure-native:resources:AzureCliScript": ("Microsoft.Resources", "deploymentScripts/{scriptName}"),
    "azure-native:dns:RecordSet": ("Microsoft.Network", "dnszones/{zoneName}/{recordType}/{relativeRecordSetName}"),
}

#: Extension resources: ID = <scope input>/providers/<namespace>/<collection>/<name input>.
EXTENSIONS: dict[str, tuple[str, str, str, str]] = {
    "azure-native:authorization:RoleAssignment": (
        "scope",
        "Microsoft.Authorization",
        "roleAssignments",
        "roleAssignmentName",
    ),
    "azure-native:monitor:DataCollectionRuleAssociation": (
        "resourceUri",
        "Microsoft.Insights",
        "dataCollectionRuleAssociations",
        "associationName",
    ),
    "azure-native:monitor:DiagnosticSetting": ("resourceUri", "Microsoft.Insights", "diagnosticSettings", "name"),
    "azure-native:authorization:ManagementLockByScope": ("scope", "Microsoft.Authorization", "locks", "lockName"),
}

#: (type, name) -> the state the mocks returned: inputs plus computed outputs.
STATES: dict[tuple[str, str], dict[str, Any]] = {}


def _hex(seed: str, n: int) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:n]


def _guid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def _group(inputs: dict[str, Any]) -> str:
    return str(inputs.get("resourceGroupName") or "rg-unknown")


def arm_id(token: str, name: str, inputs: dict[str, Any]) -> str:
    """The ARM ID Azure would give the resource."""
    base = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{_group(inputs)}"
    if token == "azure-native:resources:ResourceGroup":
        return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{inputs.get('resourceGroupName', name)}"
    if token in EXTENSIONS:
        scope_key, namespace, collection, name_key = EXTENSIONS[token]
        return f"{inputs.get(scope_key)}/providers/{namespace}/{collection}/{inputs.get(name_key, name)}"
    if token in ARM:
        namespace, path = ARM[token]
        values = {k: str(v) for k, v in inputs.items() if isinstance(v, (str, int))}
        try:
            return f"{base}/providers/{namespace}/{path.format(**values)}"
        except KeyError:
            pass
    service = token.split(":")[1] if token.count(":") >= 2 else "unknown"
    return f"{base}/providers/Microsoft.{service.capitalize()}/{token.rsplit(':', 1)[-1]}s/{name}"


def new_resource(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
    """ID and state of an azure-native resource: its inputs plus the outputs the program reads."""
    token, name, inputs = args.typ, args.name, dict(args.inputs)
    rid = arm_id(token, name, inputs)
    short = rid.rsplit("/", 1)[-1]
    out: dict[str, Any] = {"id": rid, "name": short, "type": token.rsplit(":", 1)[-1]}
    if token == "azure-native:managedidentity:UserAssignedIdentity":
        out.update(principalId=_guid("principal" + rid), clientId=_guid("client" + rid), tenantId=TENANT)
    elif token in ("azure-native:compute:VirtualMachine", "azure-native:compute:DiskEncryptionSet"):
        identity = dict(inputs.get("identity") or {})
        identity.update(principalId=_guid("principal" + rid), tenantId=TENANT)
        out["identity"] = identity
        if token == "azure-native:compute:VirtualMachine":
            out["vmId"] = _guid("vm" + rid)
    elif token == "azure-native:keyvault:Vault":
        props = dict(inputs.get("properties") or {})
        props["vaultUri"] = f"https://{short}.vault.azure.net/"
        out["properties"] = props
    elif token == "azure-native:keyvault:Key":
        vault, key = inputs.get("vaultName"), inputs.get("keyName", name)
        uri = f"https://{vault}.vault.azure.net/keys/{key}"
        out.update(keyUri=uri, keyUriWithVersion=f"{uri}/{_hex(rid, 32)}")
    elif token == "azure-native:operationalinsights:Workspace":
        out["customerId"] = _guid("workspace" + rid)
    elif token == "azure-native:network:PublicIPAddress":
        # Documentation range (RFC 5737): never a real address.
        out["ipAddress"] = f"203.0.113.{int(_hex(rid, 2), 16) % 250 + 2}"
    elif token == "azure-native:resources:ResourceGroup":
        out["name"] = inputs.get("resourceGroupName", name)
    state = {**inputs, **out}
    identity = state.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # Inputs list the identities' IDs; Azure answers with a map of ID -> principal and client.
        state["identity"] = {
            **identity,
            "userAssignedIdentities": {
                i: {"principalId": _guid("principal" + i), "clientId": _guid("client" + i)}
                for i in identity["userAssignedIdentities"]
            },
        }
    STATES[(token, name)] = state
    return rid, state


def call(args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
    """Provider functions the Azure parts call."""
    if args.token == "azure-native:authorization:getClientConfig":
        return {"clientId": CLIENT, "objectId": CLIENT, "subscriptionId": SUBSCRIPTION, "tenantId": TENANT}, []
    raise NotImplementedError(
        f"the offline plan has no mock for provider function {args.token}; add one in tools/mocks_azure.py"
    )
