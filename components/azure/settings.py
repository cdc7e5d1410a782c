"""What the Azure parts need beyond the cloud-neutral args, passed as the args' `extras`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from .names import AzureNames

#: Key of the settings in `Foundation.extras` and in the parts' `extras`.
KEY = "azure"
#: Admin user of every VM. Not `root` or `admin` (Azure rejects both); keys only.
ADMIN_USER = "azureuser"


@dataclass(frozen=True)
class AzureSettings:
    """Azure-only settings of one stack, from `appstack:azure` and the foundation."""

    location: str
    names: AzureNames
    admin_ssh_public_key: str
    customer_managed_keys: bool
    encryption_at_host: bool
    tenant_id: pulumi.Input[str]
    """Tenant of the deploying identity: the Key Vault's tenant."""
    subscription_id: pulumi.Input[str]
    """Subscription the stack deploys to (ARM IDs of resources referenced by name)."""
    network_watcher_resource_group: str
    network_watcher_name: str
    dns_zone_resource_group: str | None
    retention_days: int
    network_cidr: str
    zones: tuple[str, ...]
    """Availability zones used ("1" to "3"): VMs round-robin, the gateway and its IP span them."""
    """The VNet's range: the firewall admits the gateway subnet carved from it."""
    """Log sink retention, for the flow-log storage account's lifecycle rule."""
    admin_cidrs: tuple[str, ...] = ()
    """Admin networks: the only public addresses the Key Vault accepts (besides Azure services)."""


def settings_of(extras: Mapping[str, Any]) -> AzureSettings:
    """The Azure settings in a part's `extras`; a clear error when a part is built without them."""
    found = extras.get(KEY)
    if not isinstance(found, AzureSettings):
        raise TypeError(
            f"extras[{KEY!r}] is {type(found).__name__}; build Azure parts through components.azure.CLOUD "
            "(its foundation puts AzureSettings there)"
        )
    return found
