"""The location policy: how long after a place was observed a post may publish it."""

from __future__ import annotations

from fastapi import APIRouter

from parley.api.deps import CallerDep, NodeDep
from parley.api.schemas.location import LocationPolicyIn, LocationPolicyOut

router = APIRouter(tags=["trust and safety"])


@router.get("/admin/policies/location")
async def location_policy(caller: CallerDep, node: NodeDep) -> LocationPolicyOut:
    return LocationPolicyOut.of(await node.location.policy_for(caller))


@router.put("/admin/policies/location")
async def set_location_policy(
    body: LocationPolicyIn, caller: CallerDep, node: NodeDep
) -> LocationPolicyOut:
    """Set the policy for every account, moderators' and the owner's included; audited and shown
    on `/status`."""
    policy = await node.location.set_policy(caller, body.delay_seconds, body.rule, body.reason)
    return LocationPolicyOut.of(policy)
