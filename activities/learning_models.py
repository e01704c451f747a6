"""Typed inputs and outputs of the tool, learning, episodic and skill activities."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from memory.core.refs import ThreadRef
from memory.learning.models import Correction, GrowthPolicy
from memory.prompt.assembly import LearnedEntry
from memory.prompt.manifest import ContextItem
from memory.tools.models import ToolStatus

Outcome = Literal["succeeded", "failed", "corrected"]


class SessionRef(BaseModel):
    """A session of work: one thread, in a project context of its agent."""

    thread: ThreadRef
    project: str = "default"


class ToolInput(BaseModel):
    session: SessionRef
    turn: int = Field(ge=1)
    call_id: str
    arguments: dict[str, Any]


class ToolOutput(BaseModel):
    content: str
    status: ToolStatus
    # Not run because this session already learned what to use instead.
    learned_hit: bool = False


class ToolFailureRecord(BaseModel):
    """A call that never reached its tool (refused arguments) or was cut off (timeout)."""

    session: SessionRef
    turn: int = Field(ge=1)
    call_id: str
    tool: str
    arguments: dict[str, Any]
    status: ToolStatus
    output: str


class LearnInput(BaseModel):
    session: SessionRef
    tried: str
    instead: str
    tool: str


class CorrectionInput(BaseModel):
    session: SessionRef
    turn: int = Field(ge=1)
    correction: Correction
    request_id: str


class SkillsLoadInput(BaseModel):
    thread: ThreadRef
    message: str


class SkillsLoaded(BaseModel):
    task_type: str
    items: list[ContextItem]


class EpisodicSearchInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    query: str


class Learned(BaseModel):
    entries: list[LearnedEntry]


class EpisodeInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    user_message_id: int
    assistant_message_id: int | None
    outcome: Outcome
    tools_used: list[str] = []
    task_type: str = "general"


class EpisodeStored(BaseModel):
    # None when the episodic layer is switched off.
    episode_id: int | None
    outcome: Outcome
    task_type: str


class ReflectInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    episode_id: int


class ReflectionResult(BaseModel):
    # pending: the lesson waits for an operator's approval (lesson_id). Recorded histories
    # also hold updated (a lesson was added) and protected (the skill is the operator's).
    status: Literal["pending", "updated", "protected"]
    path: str
    lesson: str
    version: int | None = None
    lesson_id: int | None = None


class RetentionInput(BaseModel):
    run_key: str
    as_of: datetime
    episode_retention_days: int = Field(ge=1)
    recall_retention_days: int = Field(ge=1)
    # None (a run scheduled before these horizons existed) leaves the growing tables alone.
    growth: GrowthPolicy | None = None

