"""Typed inputs and outputs of the knowledge-graph and document activities."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from contract.ingestion import DocumentUpload
from memory.core.refs import AgentRef, ThreadRef

Source = Literal["conversation", "notebook", "document"]


class DecideIngestionInput(BaseModel):
    tenant_id: str
    source: Source
    # One decision per request: a retried activity returns the decision first recorded.
    idempotency_key: str
    agent_id: str | None = None
    thread_id: str | None = None
    turn: int | None = None
    message_chars: int = Field(ge=0)
    turn_failed: bool = False
    delegated: bool = False
    # Operator notebook edits and documents are deliberate: no length gate for them.
    length_gate: bool = True


class ExchangeEpisodeInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    user_message_id: int
    assistant_message_id: int
    # The stored episode of this exchange: its summary is what extraction sees.
    episode_id: int | None = None


class NotebookEpisodeInput(BaseModel):
    agent: AgentRef
    version_id: int


class EpisodeTicket(BaseModel):
    episode_id: int
    group_id: str
    episode_uuid: str


class GraphIngestInput(BaseModel):
    episode_id: int


class GraphIngestReport(BaseModel):
    episode_id: int
    episode_uuid: str
    status: Literal["pending", "ingested", "failed"]
    entities: int = 0
    edges: int = 0
    invalidated: int = 0
    error: str | None = None


class GraphSearchInput(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    query: str


class NotebookWriteInput(BaseModel):
    agent: AgentRef
    content: str
    operator: str
    reason: str = ""
    request_id: str


class NotebookWritten(BaseModel):
    version_id: int
    version: int
    created_at: datetime


class DocumentUpload(BaseModel):
    """A document already decoded to text by the client; the workflow re-checks and chunks it."""

    tenant_id: str
    name: str = Field(min_length=1, max_length=200)
    text: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class DocumentChunksInput(BaseModel):
    tenant_id: str
    name: str
    sha256: str
    first_chunk: int = Field(ge=0)
    last_chunk: int = Field(ge=0)


class DocumentPrepared(BaseModel):
    chunks: int
    chars: int


class DocumentChunksStored(BaseModel):
    recall_item_ids: list[int]
    episodes: list[EpisodeTicket]
