"""GCP log sink: a CMEK-encrypted log bucket with per-environment retention and a project sink."""

from __future__ import annotations

import pulumi
import pulumi_gcp.kms as kms
import pulumi_gcp.logging as logging

from ..interfaces import LogSinkArgs
from .kms import ENCRYPTER_DECRYPTER, client_config, customer_key
from .names import app_of, base, labels, physical

#: Log IDs Google writes for the network (URL-encoded ``/``, as in a ``logName``).
FLOW_LOG = "compute.googleapis.com%2Fvpc_flows"
FIREWALL_LOG = "compute.googleapis.com%2Ffirewall"
NAT_LOG = "compute.googleapis.com%2Fnat_flows"


def agent_log_id(base_name: str, stream: str) -> str:
    """The log ID the Ops Agent writes `stream` (system, auth, app) under: ``<base>-<stream>``."""
    return f"{base_name}-{stream}"


def sink_filter(project: str, base_name: str, streams: list[str]) -> str:
    """This stack's logs only: its VMs' agent logs, its subnet's flow and firewall logs, its NAT
    and its load balancer's request logs, all selected by the ``<base>-`` name prefix."""
    agent = " OR ".join(f'"projects/{project}/logs/{agent_log_id(base_name, s)}"' for s in streams if s != "flow")
    prefix = f'"^{base_name}-"'
    return " OR ".join(
        [
            f"logName=({agent})",
            f'(resource.type="gce_subnetwork" AND resource.labels.subnetwork_name=~{prefix})',
            f'(resource.type="nat_gateway" AND resource.labels.gateway_name=~{prefix})',
            f'(resource.type="http_load_balancer" AND resource.labels.forwarding_rule_name=~{prefix})',
        ]
    )


class LogSink(pulumi.ComponentResource):
    """A regional log bucket, CMEK-encrypted with a rotating key, and a sink routing to it.

    The bucket keeps logs `retention_days` and is locked in prod (`protect`: its retention can
    then never be shortened nor the bucket deleted before its logs expire). The sink routes the
    VMs' agent logs (system, auth, app), the subnet's flow and firewall logs, Cloud NAT's logs
    and the load balancer's request logs (with Cloud Armor verdicts) into it.
    Outputs: `log_sink` (bucket resource name), `key_id` (key ID), `log_groups` (stream → log ID).
    """

    log_sink: pulumi.Output[str]
    key_id: pulumi.Output[str]
    log_groups: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: LogSinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("appstack:gcp:LogSink", name, None, opts)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        gcp_labels = labels(args.tags)
        base_name = base(app_of(name, "logs"))
        client = client_config(self)
        project, region = client.project, client.region
        key = customer_key(name, base_name, "logs", region, args.protect, gcp_labels, self)
        # Cloud Logging encrypts with the project's own logging service account, which must be
        # able to use the key before the bucket is created with it.
        cmek = logging.get_project_cmek_settings_output(project=project, opts=pulumi.InvokeOutputOptions(parent=self))
        grant = kms.CryptoKeyIAMMember(
            f"{name}-key-logging",
            crypto_key_id=key.id,
            role=ENCRYPTER_DECRYPTER,
            member=cmek.service_account_id.apply(lambda sa: f"serviceAccount:{sa}"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        bucket_id = physical(base_name, "logs")
        bucket = logging.ProjectBucketConfig(
            f"{name}-bucket",
            project=project,
            location=region,
            bucket_id=bucket_id,
            description=f"appstack logs of {base_name}",
            retention_days=args.retention_days,
            # Locked: retention can never be shortened nor the bucket deleted early (audit
            # evidence). Irreversible, so only where the stack protects its stateful resources.
            locked=args.protect,
            cmek_settings=logging.ProjectBucketConfigCmekSettingsArgs(kms_key_name=key.id),
            opts=pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(depends_on=[grant])),
        )
        streams = list(args.streams)
        sink = logging.ProjectSink(
            f"{name}-sink",
            project=project,
            name=physical(base_name, "logs"),
            description=f"routes {base_name}'s VM, network and load balancer logs to its log bucket",
            destination=pulumi.Output.concat("logging.googleapis.com/", bucket.id),
            filter=project.apply(lambda p: sink_filter(p, base_name, streams)),
            # A log bucket in the sink's own project needs no writer identity and no grant
            # (LogSink.writerIdentity in the Logging API reference); true is the API's default.
            unique_writer_identity=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.log_groups = {
            stream: pulumi.Output.from_input(FLOW_LOG if stream == "flow" else agent_log_id(base_name, stream))
            for stream in streams
        }
        # The sink is registered by now: the VMs (which depend on `log_sink`) go first on destroy.
        self.log_sink = pulumi.Output.all(bucket.id, sink.id).apply(lambda v: str(v[0]))
        self.key_id = key.id
        self.register_outputs({"log_sink": self.log_sink, "key_id": self.key_id, "log_groups": self.log_groups})
