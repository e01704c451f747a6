"""Typed inputs and outputs of the conversation workflow."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from contract.ingestion import ExchangeIngestion
from memory.core.refs import ThreadRef
from memory.core.validation import MAX_STORED_MESSAGE_CHARS, check_id
from memory.llm.base import ModelUsage
from memory.prompt.assembly import CorrectionEntry
from memory.prompt.manifest import ContextItem

# Below this a thread would be summarised (a billed model call) on almost every turn.
MIN_SUMMARY_TRIGGER_TOKENS = 100


def conversation_workflow_id(thread: ThreadRef) -> str:
    return f"conversation/{thread.tenant_id}/{thread.agent_id}/{thread.thread_id}"


class ConversationLimits(BaseModel):
    """A thread's limits, chosen by its client and refused at the edge when they make no
    sense; the worker's settings cap them again (MAX_TOOL_ITERATIONS in the model activity)."""

    max_message_chars: int = Field(default=32_000, ge=1, le=MAX_STORED_MESSAGE_CHARS)
    # The live tail of a thread is folded into its summary above this many tokens,
    # keeping the newest messages verbatim.
    summary_trigger_tokens: int = Field(default=3_000, ge=MIN_SUMMARY_TRIGGER_TOKENS)
    summary_keep_tail_messages: int = Field(default=6, ge=0, le=1_000)
    max_tool_iterations: int = Field(default=4, ge=0, le=50)
    # A command the agent runs is cut off after this long and recorded as timed out.
    tool_timeout_seconds: float = Field(default=30.0, gt=0, le=3_600, allow_inf_nan=False)
    # Continue-as-new after this many turns even if the server has not suggested it.
    max_turns_per_run: int = Field(default=200, ge=1, le=10_000)
    # A thread with no message for this long closes; its next message starts a new run.
    idle_timeout_hours: float = Field(default=24 * 7, gt=0, le=24 * 366, allow_inf_nan=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ConversationLimits":
        """Limits for new threads from MAX_MESSAGE_CHARS, SUMMARY_TRIGGER_TOKENS and so on."""
        env = os.environ if environ is None else environ
        return cls.model_validate({name: env[name.upper()] for name in cls.model_fields if env.get(name.upper())})


def thread_limits(
    limits: ConversationLimits, set_by_caller: list[str] | None, agent_limits: Mapping[str, Any] | None
) -> ConversationLimits:
    """The limits a thread runs under: those its caller set explicitly win, then the agent's
    definition, then the runtime's defaults. A thread started before callers said which limits
    they set (set_by_caller None) counts those that differ from the defaults as set."""
    if not agent_limits:
        return limits
    if set_by_caller is None:
        default = ConversationLimits()
        set_by_caller = [name for name in ConversationLimits.model_fields if getattr(limits, name) != getattr(default, name)]
    chosen = {**agent_limits, **{name: getattr(limits, name) for name in set_by_caller}}
    try:
        return ConversationLimits.model_validate(chosen)
    except ValidationError:
        # Saved limits were checked against these bounds; should a bound tighten later, the
        # thread keeps its own limits rather than stop.
        return limits


class ConversationStart(BaseModel):
    thread: ThreadRef
    limits: ConversationLimits = Field(default_factory=ConversationLimits)
    # The limits the caller set itself (they win over the agent's definition); None for a
    # thread started before this was sent.
    limits_set: list[str] | None = None
    # The limits of the agent version that answered last: carried over a continue-as-new so
    # the run's idle timeout and turn count follow the agent from its first moment.
    agent_limits: dict[str, Any] | None = None
    # Set when continuing as new: the turn counter carries over, no need to ask the store.
    last_turn: int | None = None
    # Knowledge ingestions the previous run asked for but did not see started.
    pending_ingestions: list[ExchangeIngestion] = []
    # The project this thread works in: with tenant and agent, the context that what a
    # session learns is keyed by.
    project: str = Field(default="default", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:/-]+$")
    # Operator corrections received but not yet applied to a model call.
    pending_corrections: list[CorrectionEntry] = []


class UserMessage(BaseModel):
    text: str
    # Marks a conversation between agents: the ingestion gates keep it out of the graph.
    delegated: bool = False
    # The end user the message is from; it must be the thread's user (None: an agent-wide thread).
    user_id: str | None = None

    @field_validator("user_id")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else check_id("user", value)


class TurnResult(BaseModel):
    reply: str
    workflow_id: str
    turn: int
    manifest: list[ContextItem]
    usage: ModelUsage
    provider: str
    model: str
    tools_used: list[str] = []
    # What each call was asked to do, e.g. "run_command: ls -a" (empty in results recorded before it existed).
    tool_calls: list[str] = []
    user_message_id: int
    assistant_message_id: int
    task_type: str = "general"
    # succeeded, failed (a command failed and nothing recovered it) or corrected
    outcome: str = "succeeded"
    corrections_applied: int = 0
    # The version of the agent's definition that answered; None for an agent never defined.
    agent_version: int | None = None


class LayerAnswer(BaseModel):
    """One memory layer's read in a running turn: how many items it gave, how fast."""

    layer: str
    items: int
    ms: float


class TurnStep(BaseModel):
    """A step of a running turn after its reads, in the order it happened."""

    # model_call (detail: its number in the turn) or tool (detail: what the call was asked).
    kind: str
    detail: str


class TurnProgress(BaseModel):
    """How far the thread's current (or last) turn got, as the turn progress query answers it:
    what a streaming client shows while the turn runs."""

    turn: int
    # The update id of the message: a streaming client follows its own turn by it.
    request_id: str | None = None
    # idle (no turn in this run yet), accepted (user message stored), read (every layer
    # answered), model_call, tool (a tool ran), done, failed.
    stage: str = "accepted"
    layers: list[LayerAnswer] = []
    steps: list[TurnStep] = []
    # Once done: the turn's answer, so a client without the API can show its manifest.
    result: TurnResult | None = None
