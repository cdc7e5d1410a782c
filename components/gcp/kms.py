"""Customer-managed Cloud KMS keys shared by the GCP parts (VM disks, log bucket)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_gcp.kms as kms
import pulumi_gcp.organizations as organizations

from .names import physical

#: 90 days, the longest rotation period CIS GCP 1.10 and the policy pack accept.
ROTATION_PERIOD = "7776000s"
#: 30 days between "destroy" and the key material being gone, so a mistaken destroy can be
#: undone (restore the version). Cloud KMS's default; a key may be given a custom duration at
#: creation, and an org policy can only raise the minimum (cloud.google.com/kms/docs/destroy-restore).
DESTROY_SCHEDULED_DURATION = "2592000s"
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def client_config(parent: pulumi.Resource) -> pulumi.Output[organizations.GetClientConfigResult]:
    """Project and region of the provider `parent` runs under (the stack's explicit provider)."""
    return organizations.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=parent))


def customer_key(
    name: str,
    base_name: str,
    part: str,
    location: pulumi.Input[str],
    protect: bool,
    labels: Mapping[str, str],
    parent: pulumi.Resource,
) -> kms.CryptoKey:
    """A key ring ``<base>-<part>`` in `location` with one rotating key, children ``{name}-key*``.

    Cloud KMS never deletes key rings or keys (destroy only removes them from the state and
    destroys the key versions), so their names carry the stack: a second stack never collides,
    and re-creating a destroyed stack of the same name means importing its ring and key first
    (README, "Deploying on Google Cloud").
    """
    opts = pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect)
    ring = kms.KeyRing(
        f"{name}-keyring",
        name=physical(base_name, part),
        location=location,
        opts=opts,
    )
    return kms.CryptoKey(
        f"{name}-key",
        name=physical(base_name, part),
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        rotation_period=ROTATION_PERIOD,
        destroy_scheduled_duration=DESTROY_SCHEDULED_DURATION,
        labels=dict(labels),
        opts=opts,
    )
