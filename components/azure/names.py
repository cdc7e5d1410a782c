"""Azure names: every physical name within Azure's length and character rules.

Names start with the stack's *base* ``<app>-<stack>`` (at most `BASE_LIMIT` characters) so two
stacks of one app (``dev``, ``dev-alice``) coexist in one subscription. Key Vault and storage
account names are global across Azure and short (3–24): they carry a stable 8-hex suffix hashed
from project, stack and app — inputs that do not depend on the subscription, so a name never
changes when the same stack moves between subscriptions (and a vault's name, which stays reserved
while it is soft-deleted, is predictable for recovery).
"""

from __future__ import annotations

import re

import pulumi

from ..naming import bounded_name, digest, stack_id

#: Longest ``<app>-<stack>``; the longest name built on it (a VM NIC, 80 allowed) stays in limits.
BASE_LIMIT = 40
#: Key Vault: 3-24 characters, a-z 0-9 and single hyphens, starting with a letter.
VAULT_LIMIT = 24
#: Storage account: 3-24 characters, lowercase letters and digits only.
STORAGE_LIMIT = 24
#: Linux VM names; the computer (host) name is the same string.
VM_LIMIT = 64
#: Resource group, VNet, NSG, NAT gateway, public IP, NIC, gateway: 64-90; 64 is safe for all.
GENERIC_LIMIT = 64
#: Action group short name (shown in SMS and e-mail subjects).
SHORT_NAME_LIMIT = 12

VAULT_RE = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$")
STORAGE_RE = re.compile(r"^[a-z0-9]{3,24}$")
GENERIC_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*[a-zA-Z0-9_]$")


def _clean(value: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", value.lower())).strip("-")


def app_of(component: str, part: str) -> str:
    """The app name from a part's component name (``<app>-<part>``, the composition's contract)."""
    return component.removesuffix(f"-{part}")


class AzureNames:
    """The physical names of one stack's Azure resources."""

    def __init__(self, app: str, stack: str | None = None, project: str | None = None) -> None:
        self.app = _clean(app)
        self.stack = _clean(stack_id(stack)) or "stack"
        self.project = project if project is not None else pulumi.get_project()
        self.base = bounded_name(self.app, self.stack, limit=BASE_LIMIT)
        #: Stable, subscription-independent suffix of the globally unique names.
        self.suffix = digest(self.project, self.stack, self.app, length=8)

    def of(self, kind: str, *parts: str, limit: int = GENERIC_LIMIT) -> str:
        """``<kind>-<base>[-<parts>]`` within `limit`, unique per distinct input."""
        return bounded_name(kind, self.base, *parts, limit=limit)

    def vault(self, kind: str) -> str:
        """Key Vault name: ``kv<kind>-<app>-<suffix>``, at most 24 characters, globally unique."""
        head = f"kv{kind}-"
        room = VAULT_LIMIT - len(head) - 1 - len(self.suffix)
        return f"{head}{self.app[:room].rstrip('-')}-{self.suffix}"

    def storage(self, kind: str) -> str:
        """Storage account name: ``st<kind><app><suffix>``, lowercase alphanumerics, at most 24."""
        head = f"st{kind}"
        room = STORAGE_LIMIT - len(head) - len(self.suffix)
        return f"{head}{self.app.replace('-', '')[:room]}{self.suffix}"

    def vm(self, index: int) -> str:
        """VM (and Linux host) name of the VM at `index`, at most 64 characters."""
        return bounded_name("vm", self.base, str(index), limit=VM_LIMIT)

    def short(self) -> str:
        """Action group short name: at most 12 characters."""
        return self.app.replace("-", "")[:SHORT_NAME_LIMIT]
