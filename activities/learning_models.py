"""Typed inputs and outputs of the tool, learning, episodic and skill activities."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from contract.learning import CodifyInput, CodifyResult, CorrectionReceipt
from memory.learning.models import Correction
from memory.tools.models import ToolStatus
from pydantic import BaseModel, Field

from memory.core.refs import AgentRef, ThreadRef
from memory.prompt.assembly import LearnedEntry
from memory.prompt.manifest import ContextItem

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


class CorrectionReceipt(BaseModel):
    correction_id: int
    applies_to_turn: int
    turn_running: bool
    learned_key: str


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
    # updated: a lesson was added; protected: the skill is the operator's or locked.
    status: Literal["updated", "protected"]
    path: str
    lesson: str
    version: int | None = None


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


class RetentionInput(BaseModel):
    run_key: str
    as_of: datetime
    episode_retention_days: int = Field(ge=1)
    recall_retention_days: int = Field(ge=1)

