"""An operator's erasure of one end user of the key's tenant: a dry run says what would be
erased, the real one erases the user from every layer and returns the counts."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from api.auth import operator_key
from api.keys import ApiKey
from api.routers.threads import REQUEST_ID, services
from api.services import ApiServices
from api.workflow_errors import as_api_error
from clients.forget import forget
from contract.forget import ForgetReport, ForgetRequest
from memory.forget.models import ForgetScope

router = APIRouter(prefix="/v1/users", tags=["users"])


class ForgetUserRequest(BaseModel):
    reason: str = Field(default="", max_length=2_000, description="why (kept in the audit row)")
    request_id: str | None = Field(
        default=None, pattern=REQUEST_ID, description="the same id is the same forget: its report, not a second run"
    )


@router.post(
    "/{user_id}/forget",
    response_model=ForgetReport,
    summary="Erase an end user from every layer (or, with dry_run, say what would be erased)",
)
async def forget_user(
    user_id: str,
    body: ForgetUserRequest,
    dry_run: bool = Query(default=False, description="survey only: erase nothing, record nothing"),
    key: ApiKey = Depends(operator_key),
    api: ApiServices = Depends(services),
) -> ForgetReport:
    request = ForgetRequest(
        scope=ForgetScope(tenant_id=key.tenant_id, user_id=user_id),
        operator=f"key:{key.key_id}",
        reason=body.reason,
        dry_run=dry_run,
        request_id=body.request_id or uuid.uuid4().hex,
    )
    try:
        return await forget(api.temporal, request, task_queue=api.task_queue)
    except (WorkflowFailureError, RPCError) as err:
        raise as_api_error(err) from None
