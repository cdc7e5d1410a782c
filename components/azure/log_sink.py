"""Azure log sink: a Log Analytics workspace, the VMs' data collection rule, the flow-log store."""

from __future__ import annotations

import pulumi
import pulumi_azure_native.monitor as monitor
import pulumi_azure_native.operationalinsights as operationalinsights
import pulumi_azure_native.storage as storage

from ..bootstrap.cloud_init import APP_LOG
from ..config.profiles import AZURE_WORKSPACE_RETENTION_DAYS
from ..interfaces import LogSinkArgs
from .names import AzureNames, app_of

#: Custom table of the app's log file (the `_CL` suffix is Azure's rule for custom tables).
APP_TABLE = "AppstackApp_CL"
APP_STREAM = f"Custom-{APP_TABLE}"
#: Syslog facilities collected: system (daemon, kern, syslog, user, cron) and auth (auth, authpriv).
SYSLOG_FACILITIES = ("auth", "authpriv", "cron", "daemon", "kern", "syslog", "user")
#: Levels collected: Info and above (Debug is noise in a log sink kept for a year).
SYSLOG_LEVELS = ("Info", "Notice", "Warning", "Error", "Critical", "Alert", "Emergency")
#: Guest counters: CPU, memory and disk, as the AWS agent collects memory and disk. The Linux
#: agent's object names (`Processor`, `Memory`, `Logical Disk`, written `Object(*)\Counter`, as
#: Microsoft's Linux DCR samples list them): `Processor Information` is a Windows object, and a
#: Linux agent collects nothing for a counter it does not have.
PERF_COUNTERS = (
    "Processor(*)\\% Processor Time",
    "Memory(*)\\% Used Memory",
    "Memory(*)\\Available MBytes Memory",
    "Logical Disk(*)\\% Used Space",
    "Logical Disk(*)\\Free Megabytes",
)
#: Shortest workspace retention: what a PerGB2018 workspace accepts (a dev stack's 7 days rise to
#: it). The policy pack's floor (logging-retention-floor) is 30 days outside prod and 90 in prod,
#: and a prod stack's config cannot go below 365.
MIN_WORKSPACE_RETENTION = AZURE_WORKSPACE_RETENTION_DAYS[0]


class LogSink(pulumi.ComponentResource):
    """Log Analytics workspace (retention per environment), a data collection rule for syslog
    (incl. auth), performance counters and the app log, and the storage account VNet flow logs
    need (Azure writes flow logs to storage; traffic analytics brings them into the workspace).

    Outputs: `log_sink` (workspace ID), `key_id` (the workspace ID too: Log Analytics encrypts
    with Microsoft-managed keys unless linked to a dedicated cluster, a 100 GB/day commitment, so
    diagnostic settings get the workspace where AWS parts get the key),
    `log_groups` (stream → destination: the workspace, and the flow-log storage account for
    `flow`), `data_collection_rule_id`, `workspace_customer_id`.
    """

    log_sink: pulumi.Output[str]
    key_id: pulumi.Output[str]
    log_groups: dict[str, pulumi.Output[str]]
    data_collection_rule_id: pulumi.Output[str]
    workspace_customer_id: pulumi.Output[str]

    def __init__(self, name: str, args: LogSinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:azure:LogSink", name, None, opts)
        names = AzureNames(app_of(name, "logs"))
        rg = args.scope
        assert rg is not None, "the Azure log sink needs the resource group (args.scope)"
        tags = dict(args.tags)
        # Logs outlive a `pulumi destroy` in prod (as AWS keeps log groups and buckets).
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)

        workspace = operationalinsights.Workspace(
            f"{name}-workspace",
            workspace_name=names.of("log"),
            resource_group_name=rg,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=max(args.retention_days, MIN_WORKSPACE_RETENTION),
            features=operationalinsights.WorkspaceFeaturesArgs(
                # Entra ID only: no shared workspace keys that could ingest or read from anywhere.
                disable_local_auth=True,
                # Readers need rights on the resources whose logs they read, not just the workspace.
                enable_log_access_using_only_resource_permissions=True,
            ),
            tags=tags,
            opts=keep,
        )
        table = operationalinsights.Table(
            f"{name}-app-table",
            table_name=APP_TABLE,
            workspace_name=workspace.name,
            resource_group_name=rg,
            plan="Analytics",
            retention_in_days=max(args.retention_days, MIN_WORKSPACE_RETENTION),
            schema=operationalinsights.SchemaArgs(
                name=APP_TABLE,
                columns=[
                    operationalinsights.ColumnArgs(name="TimeGenerated", type="dateTime"),
                    operationalinsights.ColumnArgs(name="RawData", type="string"),
                    operationalinsights.ColumnArgs(name="FilePath", type="string"),
                    operationalinsights.ColumnArgs(name="Computer", type="string"),
                ],
            ),
            opts=keep,
        )
        destination = "workspace"
        rule = monitor.DataCollectionRule(
            f"{name}-dcr",
            data_collection_rule_name=names.of("dcr"),
            resource_group_name=rg,
            kind="Linux",
            description="appstack VMs: syslog (incl. auth), performance counters and the app log",
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                syslog=[
                    monitor.SyslogDataSourceArgs(
                        name="syslog",
                        streams=["Microsoft-Syslog"],
                        facility_names=list(SYSLOG_FACILITIES),
                        log_levels=list(SYSLOG_LEVELS),
                    )
                ],
                performance_counters=[
                    monitor.PerfCounterDataSourceArgs(
                        name="perf",
                        streams=["Microsoft-Perf"],
                        sampling_frequency_in_seconds=60,
                        counter_specifiers=list(PERF_COUNTERS),
                    )
                ],
                log_files=[
                    monitor.LogFilesDataSourceArgs(
                        name="app",
                        streams=[APP_STREAM],
                        file_patterns=[APP_LOG],
                        format="text",
                        settings=monitor.LogFilesDataSourceSettingsArgs(
                            text=monitor.LogFileSettingsTextArgs(record_start_timestamp_format="ISO 8601"),
                        ),
                    )
                ],
            ),
            stream_declarations={
                APP_STREAM: monitor.StreamDeclarationArgs(
                    columns=[
                        monitor.ColumnDefinitionArgs(name="TimeGenerated", type="datetime"),
                        monitor.ColumnDefinitionArgs(name="RawData", type="string"),
                        monitor.ColumnDefinitionArgs(name="FilePath", type="string"),
                        monitor.ColumnDefinitionArgs(name="Computer", type="string"),
                    ]
                )
            },
            destinations=monitor.DataCollectionRuleDestinationsArgs(
                log_analytics=[
                    monitor.LogAnalyticsDestinationArgs(name=destination, workspace_resource_id=workspace.id)
                ]
            ),
            data_flows=[
                monitor.DataFlowArgs(streams=["Microsoft-Syslog", "Microsoft-Perf"], destinations=[destination]),
                monitor.DataFlowArgs(
                    streams=[APP_STREAM],
                    destinations=[destination],
                    transform_kql="source",
                    output_stream=APP_STREAM,
                ),
            ],
            tags=tags,
            # The custom table must exist before a rule may send to it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[table]),
        )
        flow_store = storage.StorageAccount(
            f"{name}-flow-store",
            account_name=names.storage("fl"),
            resource_group_name=rg,
            kind="StorageV2",
            # Zone-redundant: flow logs are audit evidence and must survive a zone outage.
            sku=storage.SkuArgs(name="Standard_ZRS"),
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            # Only Azure's trusted services (Network Watcher writes flow logs as one) get in.
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY, bypass="AzureServices"
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                retain_on_delete=args.protect,
                # Traffic analytics validates the workspace when the flow log is created.
                depends_on=[workspace],
            ),
        )

        self.log_sink = workspace.id
        # No key: Log Analytics encrypts with Microsoft-managed keys unless linked to a dedicated
        # cluster. The parts that write to the sink (gateway diagnostics) get the workspace here.
        self.key_id = workspace.id
        self.data_collection_rule_id = rule.id
        self.workspace_customer_id = workspace.customer_id
        self.log_groups = dict.fromkeys(args.streams, workspace.id)
        # VNet flow logs go to storage first (Azure's requirement), then into the workspace.
        self.log_groups["flow"] = flow_store.id
        self.register_outputs(
            {
                "log_sink": self.log_sink,
                "data_collection_rule_id": self.data_collection_rule_id,
                "log_groups": self.log_groups,
            }
        )
