"""Concern `deletion-protection` (policy names `deletion-...`): D1-D2: deletion protection on load balancers and VMs in production.

All rules here apply only to production stacks (knob ``prodStacks``, stack-name globs).

- AWS: ``enableDeletionProtection`` on ALB/NLB, ``disableApiTermination`` on instances and on
  launch templates (the instances an auto scaling group launches from them).
- GCP: ``deletionProtection`` on instances; forwarding rules (the load balancer's front end)
  carry the provider's ``deletionPolicy = "PREVENT"`` (pulumi-gcp v9+), which makes a delete fail.
- Azure has no deletion flag on these resources: a management lock (``CanNotDelete`` or
  ``ReadOnly``) on the resource, its resource group or the subscription is required (stack rule).

VM groups (property names checked against pulumi-aws 7.51, pulumi-gcp 10.2, azure-native 3.29):

- AWS launch template ``disableApiTermination`` is judged like an instance's: it stops a
  TerminateInstances from the console or CLI. Auto Scaling ignores it (AWS documents that scale-in,
  health replacement and instance refresh still terminate), so it never gets in the group's way.
  The auto scaling group itself: AWS has added group deletion protection to its API, but
  ``aws:autoscaling/group:Group`` in pulumi-aws 7.51 has no input for it (only ``forceDelete``,
  a provider switch), so there is nothing to set or judge yet. Launch configurations have no
  termination flag at all.
- GCP instance templates (``instanceTemplate``, ``regionInstanceTemplate``) have no
  ``deletionProtection`` (the API's instance properties lack it; a managed instance group
  deletes its own VMs to heal, roll and scale in). The group manager's
  ``deletionPolicy`` only makes the provider refuse a delete (like ``protect``, the console and
  API can still delete the group), so it is not required here.
- Azure scale sets have no deletion flag. A CanNotDelete lock applies to a resource and what
  lies under it, so on a scale set it gets in the way of the VM deletes that scale-in and
  automatic repairs make: the lock rule does not require one on scale sets.

Pulumi's ``protect`` resource option is not part of a resource's properties, so this pack cannot
see it: it does not count as deletion protection here (it also only guards against Pulumi, not
against the console or the cloud API).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..framework import PROD_STACKS_KNOB, Context, Props, Rule, StackResource, StackRule, is_prod, truthy
from ..shapes import UNKNOWN, arm_name, arm_names, get, peek, show, text, unmatched
from ..tokens import (
    AWS_ALB,
    AWS_INSTANCE,
    AWS_LAUNCH_TEMPLATE,
    AWS_LB,
    AZ_APPGW,
    AZ_LB,
    AZ_VM,
    GCP_FORWARDING_RULE,
    GCP_GLOBAL_FORWARDING_RULE,
    GCP_INSTANCE,
    GCP_INSTANCE_FROM_MACHINE_IMAGE,
    GCP_INSTANCE_FROM_TEMPLATE,
)

AZ_LOCK_RESOURCE = "azure-native:authorization:ManagementLockAtResourceLevel"
AZ_LOCK_SCOPE = "azure-native:authorization:ManagementLockByScope"
AZ_LOCK_GROUP = "azure-native:authorization:ManagementLockAtResourceGroupLevel"
AZ_LOCK_SUBSCRIPTION = "azure-native:authorization:ManagementLockAtSubscriptionLevel"
AZ_LOCKS = (AZ_LOCK_RESOURCE, AZ_LOCK_SCOPE, AZ_LOCK_GROUP, AZ_LOCK_SUBSCRIPTION)

#: Azure resources that need a lock in production: type -> (name property, ARM collection). Scale
#: sets are left out on purpose: a lock would block their own scale-in and repair deletes.
AZ_LOCKED_TYPES = {
    AZ_APPGW: ("applicationGatewayName", "applicationGateways"),
    AZ_LB: ("loadBalancerName", "loadBalancers"),
    AZ_VM: ("vmName", "virtualMachines"),
}


def check_lb_deletion_protection(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not is_prod(ctx):
        return
    if resource_type in (AWS_LB, AWS_ALB):
        value = get(props, "enableDeletionProtection")
        if not truthy(value):
            shown = "not set (false)" if value is None else show(value)
            yield f"enableDeletionProtection is {shown} on a production load balancer; set it to true"
    elif resource_type in (GCP_GLOBAL_FORWARDING_RULE, GCP_FORWARDING_RULE):
        value = get(props, "deletionPolicy")
        if text(value) != "prevent":
            shown = "not set (DELETE)" if value is None else show(value)
            yield f'deletionPolicy is {shown} on a production forwarding rule; set it to "PREVENT"'


def check_vm_deletion_protection(resource_type: str, props: Props, ctx: Context) -> Iterator[str]:
    if not is_prod(ctx):
        return
    key = "disableApiTermination" if resource_type in (AWS_INSTANCE, AWS_LAUNCH_TEMPLATE) else "deletionProtection"
    what = "launch template (its instances)" if resource_type == AWS_LAUNCH_TEMPLATE else "VM"
    value = get(props, key)
    if not truthy(value):
        shown = "not set (false)" if value is None else show(value)
        yield f"{key} is {shown} on a production {what}; set it to true"


def _lock_level_ok(props: Props) -> bool:
    level = peek(props, "level")
    return level is UNKNOWN or text(level) in ("cannotdelete", "readonly")


def _lock_ref(res: StackResource) -> Any:
    """What a lock points at, as an ARM-id-like string, or UNKNOWN.

    ``scope``/``resourceName`` are required inputs but not outputs: a stack rule on `up` sees
    outputs, where they are absent, so absent counts as unknown (matched by count).
    """
    p = res.props
    if res.type == AZ_LOCK_SCOPE:
        scope = peek(p, "scope")
        return UNKNOWN if scope is None else scope
    if res.type == AZ_LOCK_RESOURCE:
        name, rtype = peek(p, "resourceName"), peek(p, "resourceType")
        if isinstance(name, str) and isinstance(rtype, str):
            return f"/{rtype}/{name}"
        return UNKNOWN
    return None


def check_azure_locks(resources: Sequence[StackResource], ctx: Context) -> Iterator[tuple[str, Any]]:
    if not is_prod(ctx):
        return
    locks = [r for r in resources if r.type in AZ_LOCKS and _lock_level_ok(r.props)]
    # A subscription or resource-group lock covers everything in it. Resource group names of the
    # targets are usually outputs of the group resource, so a group lock is trusted to cover the
    # stack (a stack normally deploys into one resource group).
    if any(lock.type in (AZ_LOCK_SUBSCRIPTION, AZ_LOCK_GROUP) for lock in locks):
        return
    refs = [_lock_ref(lock) for lock in locks]
    # A scope lock on a resource group or subscription id (no /providers/ segment) covers all.
    if any(
        isinstance(ref, str) and ref.lower().startswith("/subscriptions/") and "/providers/" not in ref.lower()
        for ref in refs
    ):
        return
    targets = []
    for r in resources:
        if r.type in AZ_LOCKED_TYPES:
            name_key, collection = AZ_LOCKED_TYPES[r.type]
            name = arm_name(r.props, name_key)
            targets.append((r, f"{collection}/{name}" if isinstance(name, str) else None))
    collections = [c.lower() for _, c in AZ_LOCKED_TYPES.values()]
    for res in unmatched(
        targets,
        refs,
        lambda ref, key: arm_names(ref, *key.split("/", 1)),
        lambda ref: any(f"/{c}/" in ref.lower() for c in collections),
    ):
        collection = AZ_LOCKED_TYPES[res.type][1]
        yield (
            f"production {collection[:-1]} '{res.name}' has no CanNotDelete/ReadOnly management lock "
            "(ManagementLockAtResourceLevel, ManagementLockByScope on it or its resource group); add one",
            res.urn,
        )


RULES: list[Rule | StackRule] = [
    Rule(
        name="deletion-lb-protection",
        description="Production load balancers must be protected from deletion (AWS enableDeletionProtection, GCP forwarding rule deletionPolicy PREVENT).",
        concern="deletion-protection",
        clouds=("aws", "gcp"),
        resource_types=(AWS_LB, AWS_ALB, GCP_GLOBAL_FORWARDING_RULE, GCP_FORWARDING_RULE),
        check=check_lb_deletion_protection,
        knobs={"prodStacks": PROD_STACKS_KNOB},
        catalogue=("D1",),
        peers=("CKV_AWS_150", "nag:ELBDeletionProtectionEnabled", "AWSGuard:elb-deletion-protection-enabled"),
    ),
    Rule(
        name="deletion-vm-protection",
        description="Production VMs and AWS launch templates must be protected from deletion (AWS disableApiTermination, GCP deletionProtection).",
        concern="deletion-protection",
        clouds=("aws", "gcp"),
        # InstanceFromMachineImage is a third way to create a GCE VM and takes deletionProtection
        # like the others. Spot instance requests are left out: AWS refuses termination
        # protection on Spot Instances.
        resource_types=(
            AWS_INSTANCE,
            AWS_LAUNCH_TEMPLATE,
            GCP_INSTANCE,
            GCP_INSTANCE_FROM_TEMPLATE,
            GCP_INSTANCE_FROM_MACHINE_IMAGE,
        ),
        check=check_vm_deletion_protection,
        knobs={"prodStacks": PROD_STACKS_KNOB},
        catalogue=("D2",),
        peers=("AwsSolutions-EC29",),
    ),
    StackRule(
        name="deletion-azure-resource-lock",
        description="Production Azure application gateways, load balancers and VMs must be covered by a CanNotDelete or ReadOnly management lock.",
        concern="deletion-protection",
        clouds=("azure",),
        check=check_azure_locks,
        knobs={"prodStacks": PROD_STACKS_KNOB},
        catalogue=("D1", "D2"),
    ),
]
