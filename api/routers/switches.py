"""Run-time switches and plans, for a tenant's operators: change one (through
SwitchChangeWorkflow, recorded with the key as operator and the reason given) and read the
history. The switches in force are `GET /v1/switches`. Global switches (the layers' kill
switches) belong to the deployment's operator, not to a tenant's key."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from api.auth import operator_key
from api.errors import ApiError
from api.keys import ApiKey
from api.routers.threads import REQUEST_ID, services
from api.services import ApiServices
from api.workflow_errors import as_api_error
from clients.switch_change import change_switch
from contract.switches import PLAN, SwitchChangeReceipt, SwitchChangeRequest
from memory.core.switches import (
    EffectiveSwitches,
    SwitchChange,
    switch_spec,
    typed_value,
)
from memory.core.tenants import (
    MAX_HISTORY_ROWS,
    Plan,
    PlanChange,
    check_change_note,
    check_plan,
)

router = APIRouter(prefix="/v1", tags=["switches"])

class SwitchSet(BaseModel):
    value: bool | int | str | None = Field(
        description='on/off (or true/false), a whole number, or "default" (or null) to clear the tenant\'s value'
    )
    reason: str = Field(default="", max_length=2_000, description="why: kept in the history")
    request_id: str | None = Field(default=None, pattern=REQUEST_ID, description="a resend changes nothing twice")


class PlanSet(BaseModel):
    plan: Plan
    reason: str = Field(default="", max_length=2_000)
    request_id: str | None = Field(default=None, pattern=REQUEST_ID)


class SwitchChanged(BaseModel):
    change: SwitchChangeReceipt
    switches: EffectiveSwitches


async def _change(api: ApiServices, key: ApiKey, name: str, value, reason: str, request_id: str | None) -> SwitchChanged:
    operator = f"key:{key.key_id}"
    check_change_note(operator, reason)
    request = SwitchChangeRequest(
        tenant_id=key.tenant_id, name=name, value=value, operator=operator, reason=reason,
        request_id=request_id or uuid.uuid4().hex,
    )
    try:
        receipt = await change_switch(api.temporal, request, task_queue=api.task_queue)
    except (WorkflowFailureError, RPCError) as err:
        raise as_api_error(err) from None
    return SwitchChanged(change=receipt, switches=await api.runtime.switches.effective(key.tenant_id))


@router.put("/switches/{name}", response_model=SwitchChanged, summary="Set or clear one of the tenant's switches")
async def set_switch(name: str, body: SwitchSet, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    spec = switch_spec(name)
    if spec.global_only:
        raise ApiError(
            "forbidden", f"{name} is a global switch, for every tenant: the deployment's operator sets it, not a tenant's key"
        )
    return await _change(api, key, name, typed_value(name, body.value), body.reason, body.request_id)


@router.put("/plan", response_model=SwitchChanged, summary="Put the tenant on a plan (its switch defaults)")
async def set_plan(body: PlanSet, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    return await _change(api, key, PLAN, check_plan(body.plan).value, body.reason, body.request_id)


@router.get("/switches/history", response_model=list[SwitchChange], summary="The tenant's switch changes, newest first")
async def switch_history(
    name: str | None = None,
    limit: int = Query(default=50, ge=1, le=MAX_HISTORY_ROWS),
    key: ApiKey = Depends(operator_key),
    api: ApiServices = Depends(services),
):
    return await api.runtime.switches.history(key.tenant_id, name, limit)


@router.get("/plan/history", response_model=list[PlanChange], summary="The tenant's plan changes, newest first")
async def plan_history(
    limit: int = Query(default=50, ge=1, le=MAX_HISTORY_ROWS),
    key: ApiKey = Depends(operator_key),
    api: ApiServices = Depends(services),
):
    return await api.runtime.tenants.plan_history(key.tenant_id, limit)
