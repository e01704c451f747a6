"""Operator changes the API routes and the web pages share: a skill edit, lock or unlock, and a
verdict on a sampled session-cache hit. Each runs as its workflow; the key decides the tenant
and is recorded as the operator."""

from __future__ import annotations

import uuid

from api.errors import ApiError
from api.keys import ApiKey
from api.services import ApiServices
from api.workflow_errors import run_workflow
from contract.names import CACHE_AUDIT_REVIEW_WORKFLOW, SKILL_CHANGE_WORKFLOW
from contract.operator_changes import (
    AuditReviewed,
    AuditVerdict,
    SkillChange,
    SkillChanged,
    audit_review_id,
    skill_change_id,
)
from memory.core.refs import AgentRef
from memory.core.validation import InvalidInput, check_storable
from memory.documents.skills import MAX_SKILL_CHARS, check_task_type


def operator_of(key: ApiKey) -> str:
    """The key as an operator name where one must be a plain id (a skill's author is
    `operator:<name>`, codify's `agent:codify:<name>`), so `key-<id>` rather than `key:<id>`."""
    return f"key-{key.key_id}"


async def change_skill(
    api: ApiServices,
    key: ApiKey,
    agent: AgentRef,
    task_type: str,
    action: str,
    *,
    content: str | None = None,
    lock: bool = False,
    request_id: str | None = None,
) -> SkillChanged:
    check_task_type(task_type)
    if action == "edit":
        if content is None or not content.strip():
            raise InvalidInput("the skill's new text is empty")
        if len(content) > MAX_SKILL_CHARS:
            raise InvalidInput(f"the skill is {len(content)} characters; the limit is {MAX_SKILL_CHARS}")
        check_storable("content", content)
    change = SkillChange(
        agent=agent,
        task_type=task_type,
        action=action,
        content=content if action == "edit" else None,
        lock=lock,
        operator=operator_of(key),
        request_id=request_id or uuid.uuid4().hex,
    )
    return await run_workflow(
        api,
        SKILL_CHANGE_WORKFLOW,
        change,
        id=skill_change_id(change),
        summary=f"Skill {action} of /skills/{task_type}.md by key {key.key_id} for agent {agent.agent_id}",
        result_type=SkillChanged,
    )


async def review_audit(api: ApiServices, key: ApiKey, entry_id: int, verdict: str, note: str = "") -> AuditReviewed:
    check_storable("note", note)
    # Another tenant's entry is answered as missing, before any workflow starts.
    if await api.runtime.cache_audit.entry(entry_id, tenant_id=key.tenant_id) is None:
        raise ApiError("not_found", f"no audit entry {entry_id}")
    request = AuditVerdict(
        tenant_id=key.tenant_id, entry_id=entry_id, verdict=verdict, reviewer=f"key:{key.key_id}", note=note
    )
    return await run_workflow(
        api,
        CACHE_AUDIT_REVIEW_WORKFLOW,
        request,
        id=audit_review_id(request),
        summary=f"Audit entry {entry_id} {verdict} by key {key.key_id}",
        result_type=AuditReviewed,
    )
