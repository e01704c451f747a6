"""Inputs and outputs of the learning workflows a client starts: corrections, codify, retention."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from memory.core.refs import AgentRef
from memory.learning.models import MAX_RETENTION_DAYS, GrowthPolicy, RetentionReport


class CorrectionReceipt(BaseModel):
    correction_id: int
    applies_to_turn: int
    turn_running: bool
    learned_key: str


class CodifyInput(BaseModel):
    agent: AgentRef
    project: str = "default"
    session_id: str
    command: str = Field(min_length=1, max_length=2_000)
    target: Literal["skill", "notebook"]
    task_type: str | None = None
    operator: str
    request_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")


class CodifyResult(BaseModel):
    target: str
    path: str
    version: int
    tried: str
    instead: str


def codify_id(request: CodifyInput) -> str:
    return f"codify/{request.agent.tenant_id}/{request.agent.agent_id}/{request.request_id}"


RETENTION_SCHEDULE_ID = "retention"


class RetentionPolicy(BaseModel):
    episode_retention_days: int = Field(default=90, ge=1, le=MAX_RETENTION_DAYS)
    recall_retention_days: int = Field(default=180, ge=1, le=MAX_RETENTION_DAYS)
    growth: GrowthPolicy = GrowthPolicy()


def describe(report: RetentionReport) -> str:
    lines = [f"**Retention {report.run_key}**"]
    for row in report.tenants:
        others = "".join(f", {n} {what}" for what, n in sorted(row.pruned.items()))
        if row.skipped_active:
            lines.append(f"- {row.tenant_id}: active, recall kept; {row.episodes_truncated} transcripts truncated{others}")
        else:
            lines.append(
                f"- {row.tenant_id}: {row.episodes_truncated} transcripts truncated, {row.recall_items_pruned} recall rows "
                f"pruned{others}"
            )
    return "\n".join(lines) if report.tenants else lines[0] + "\n\nNothing to remove."


class LessonReviewInput(BaseModel):
    agent: AgentRef
    lesson_id: int = Field(ge=1)
    verdict: Literal["approve", "reject"]
    reviewer: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
    note: str = Field(default="", max_length=2_000)


class LessonReviewed(BaseModel):
    lesson_id: int
    status: Literal["pending", "approved", "rejected"]
    path: str
    lesson: str
    # The skill version the approved lesson is in.
    version: int | None = None


def lesson_review_id(request: LessonReviewInput) -> str:
    return f"lesson-review/{request.agent.tenant_id}/{request.agent.agent_id}/{request.lesson_id}"
