"""Typed inputs and outputs of the activities: references and small deltas only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from memory.agents.models import AnsweringAgent
from memory.conversation.models import EarlierTurn
from memory.core.refs import AgentRef, ThreadRef
from memory.core.usage_entry import UsageEntry
from memory.llm.base import ModelUsage, ToolCall, ToolResult
from memory.prompt.assembly import CorrectionEntry, LearnedEntry
from memory.prompt.manifest import ContextItem


class AppendMessageInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    role: Literal["user", "assistant"]
    content: str
    # The id the user message was sent with: a resend of it stores nothing and gets back
    # the turn that id started first.
    request_id: str | None = None


class MessageRef(BaseModel):
    id: int
    tokens: int
    created_at: datetime
    # Set when the request was sent before and an earlier turn took it: that turn's
    # outcome, and the message is that turn's.
    earlier: EarlierTurn | None = None


class LoadConversationInput(BaseModel):
    thread: ThreadRef
    # The new user message: it goes last in the prompt, not in the tail.
    exclude_message_id: int


class ConversationLoaded(BaseModel):
    items: list[ContextItem]
    tail_tokens: int


class SummariseInput(BaseModel):
    thread: ThreadRef
    trigger_tokens: int = Field(ge=0)
    keep_tail_messages: int = Field(ge=1)
    force: bool = False


class SummariseResult(BaseModel):
    summary_id: int | None
    folded_messages: int


class RecallSearchInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    query: str


class RecallWriteInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    user_message_id: int
    assistant_message_id: int


class RecallExchangeInput(BaseModel):
    """An exchange whose two messages the caller has in hand, as stored."""

    thread: ThreadRef
    turn: int = Field(ge=1)
    user_text: str
    assistant_text: str
    # When the user asked: when the exchange happened.
    asked_at: datetime


class NotebookReadInput(BaseModel):
    agent: AgentRef


class NotebookEditInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    call_id: str
    note: str
    author: str


class NotebookToolResult(BaseModel):
    version_id: int
    version: int


class GenerateInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    # Model calls within one turn: 0 first, then one more after each round of tool calls.
    iteration: int = Field(ge=0)
    attempt_label: str = "first"
    manifest: list[ContextItem]
    user_message_id: int
    tools_enabled: bool = True
    tool_calls: list[ToolCall] = []
    tool_results: list[ToolResult] = []
    # What this session learned, whether the previous model call saw the same set, and
    # the operator corrections that apply to this turn.
    learned: list[LearnedEntry] = []
    learned_unchanged: bool = False
    corrections: list[CorrectionEntry] = []
    # Answer as the thread's agent, as defined by its operator (when it is): its current
    # version on a turn's first call, then the version that call used, for the whole turn.
    use_agent: bool = False
    agent_version: int | None = None


class GenerateOutput(BaseModel):
    text: str
    tool_calls: list[ToolCall]
    usage: ModelUsage
    provider: str
    model: str
    # The defined agent's version and tools; None for an agent never defined.
    agent: AnsweringAgent | None = None


class TurnRecordInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    status: Literal["completed", "failed"]
    user_message_id: int | None
    assistant_message_id: int | None
    manifest: list[ContextItem]
    usage: ModelUsage
    # The request that started the turn, and what a resend of it gets: the result the
    # caller got back (as JSON), or the error the turn failed with.
    request_id: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    agent_version: int | None = None
    # Calls the turn's reads made (query embeddings), billed with the record.
    billing: list[UsageEntry] = []
