"""An operator's changes to an agent's skills: replace the text, lock, unlock; and the verdicts
on sampled session-cache hits. Each change runs as a workflow."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.auth import operator_key
from api.keys import ApiKey
from api.operator_changes import change_skill, review_audit
from api.routers.threads import REQUEST_ID, services
from api.services import ApiServices
from contract.operator_changes import AuditReviewed, SkillChanged
from memory.core.refs import AgentRef
from memory.documents.skills import MAX_SKILL_CHARS
from memory.learning.cache_audit import AuditEntry

router = APIRouter(prefix="/v1", tags=["skills"])


class SkillEdit(BaseModel):
    content: str = Field(min_length=1, max_length=MAX_SKILL_CHARS)
    lock: bool = Field(default=False, description="lock the skill too; an edit alone leaves the lock as it is")
    request_id: str | None = Field(default=None, pattern=REQUEST_ID)


class AuditReview(BaseModel):
    note: str = Field(default="", max_length=2_000)


@router.put(
    "/agents/{agent_id}/skills/{task_type}", response_model=SkillChanged, summary="Replace a skill with an operator's text"
)
async def edit_skill(
    agent_id: str, task_type: str, body: SkillEdit, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)
):
    agent = AgentRef(tenant_id=key.tenant_id, agent_id=agent_id)
    return await change_skill(api, key, agent, task_type, "edit", content=body.content, lock=body.lock, request_id=body.request_id)


@router.post(
    "/agents/{agent_id}/skills/{task_type}/{action}",
    response_model=SkillChanged,
    summary="Lock a skill (only an operator's edit changes it) or unlock it",
)
async def lock_skill(
    agent_id: str,
    task_type: str,
    action: Literal["lock", "unlock"],
    key: ApiKey = Depends(operator_key),
    api: ApiServices = Depends(services),
):
    return await change_skill(api, key, AgentRef(tenant_id=key.tenant_id, agent_id=agent_id), task_type, action)


@router.get("/cache-audit", response_model=list[AuditEntry], summary="Sampled session-cache hits awaiting a verdict")
async def pending_audit(
    limit: int = Query(default=50, ge=1, le=500), key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)
):
    return await api.runtime.cache_audit.pending(key.tenant_id, limit)


@router.post(
    "/cache-audit/{entry_id}/{verdict}", response_model=AuditReviewed, summary="Approve or reject a sampled cache hit"
)
async def review(
    entry_id: int,
    verdict: Literal["approve", "reject"],
    body: AuditReview | None = None,
    key: ApiKey = Depends(operator_key),
    api: ApiServices = Depends(services),
):
    note = body.note if body else ""
    return await review_audit(api, key, entry_id, "approved" if verdict == "approve" else "rejected", note)
