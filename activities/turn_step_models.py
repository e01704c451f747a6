"""Input and output of the turn's two coarse steps: every layer read at once before the model
call, and every write after it at once. Database-free: the workflow imports these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from activities.learning_models import Learned, SessionRef, SkillsLoaded
from activities.turn_models import ConversationLoaded, MessageRef
from contract.conversation import TurnResult
from memory.core.refs import ThreadRef
from memory.core.usage_entry import UsageEntry
from memory.llm.base import ModelUsage
from memory.prompt.manifest import ContextItem


class TurnReadInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    query: str
    # The new user message: it goes last in the prompt, not in the conversation tail.
    user_message_id: int
    session: SessionRef
    # Which layers the thread's workflow version reads (older runs read fewer).
    graph: bool = True
    learning: bool = True


class LayerRead(BaseModel):
    """What one layer answered: shown in the turn's details, traced and timed per layer."""

    layer: str
    items: int
    ms: float


class TurnRead(BaseModel):
    notebook: list[ContextItem] = []
    skills: SkillsLoaded | None = None
    graph: list[ContextItem] = []
    recall: list[ContextItem] = []
    episodes: list[ContextItem] = []
    conversation: ConversationLoaded
    learned: Learned | None = None
    layers: list[LayerRead] = []
    # Calls the reads made (the query embeddings), billed by the turn's commit.
    billing: list[UsageEntry] = []

    def manifest(self) -> list[ContextItem]:
        """The prompt's order of layers: the same as every earlier version of the turn."""
        skills = self.skills.items if self.skills else []
        return [*self.notebook, *skills, *self.graph, *self.recall, *self.episodes, *self.conversation.items]


class TurnCommitInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    user_message_id: int
    reply: str
    manifest: list[ContextItem]
    usage: ModelUsage
    request_id: str | None = None
    # The caller's result, all but the reply's message id, which the commit fills in.
    result: TurnResult
    billing: list[UsageEntry] = []
    # The user message as stored, and when: the recall exchange is written from these rather
    # than read back. Absent (a run from before they were sent): read back.
    user_text: str | None = None
    user_sent_at: datetime | None = None


class TurnCommitted(BaseModel):
    assistant: MessageRef
    recall_item_id: int
    result: dict[str, Any]
