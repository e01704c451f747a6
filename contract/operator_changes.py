"""Inputs and outputs of an operator's changes to skills and of a verdict on a sampled
session-cache hit: each runs as a workflow of its own, whose id makes a resend meet the first
answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from memory.core.refs import AgentRef

REQUEST_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,100}$"


class SkillChange(BaseModel):
    agent: AgentRef
    task_type: str = Field(min_length=1, max_length=63)
    action: Literal["edit", "lock", "unlock"]
    # The whole new text, for an edit only.
    content: str | None = Field(default=None, max_length=20_000)
    # Locks the skill with the edit (an edit alone leaves the lock as it is).
    lock: bool = False
    operator: str
    request_id: str = Field(pattern=REQUEST_ID_PATTERN)


class SkillChanged(BaseModel):
    task_type: str
    path: str
    version: int
    locked: bool
    author: str
    updated_at: datetime


def skill_change_id(change: SkillChange) -> str:
    return f"skill/{change.agent.tenant_id}/{change.agent.agent_id}/{change.task_type}/{change.request_id}"


class AuditVerdict(BaseModel):
    tenant_id: str
    entry_id: int = Field(ge=1)
    verdict: Literal["approved", "rejected"]
    reviewer: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=2_000)


class AuditReviewed(BaseModel):
    entry_id: int
    verdict: str
    reviewer: str
    tried: str
    instead: str


def audit_review_id(verdict: AuditVerdict) -> str:
    # One verdict per entry: a second reviewer's request meets the first one's workflow.
    return f"cache-audit/{verdict.tenant_id}/{verdict.entry_id}"
