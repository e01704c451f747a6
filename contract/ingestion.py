"""Typed inputs and outputs of the ingestion workflows."""

from __future__ import annotations

from pydantic import BaseModel, Field

from memory.core.refs import AgentRef, ThreadRef


def exchange_ingestion_id(thread: ThreadRef, turn: int) -> str:
    return f"ingest/{thread.tenant_id}/{thread.agent_id}/{thread.thread_id}/turn-{turn}"


def notebook_edit_id(agent: AgentRef, request_id: str) -> str:
    return f"notebook/{agent.tenant_id}/{agent.agent_id}/{request_id}"


def document_ingestion_id(tenant_id: str, sha256: str) -> str:
    return f"document/{tenant_id}/{sha256[:16]}"


class ExchangeIngestion(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    user_message_id: int
    # None when the turn failed before the agent answered.
    assistant_message_id: int | None
    message_chars: int = Field(ge=0)
    turn_failed: bool = False
    delegated: bool = False
    outcome: str = "succeeded"
    tools_used: list[str] = []
    task_type: str = "general"


class IngestionResult(BaseModel):
    # The gate that decided, or "ingested" / "ingest_failed" when the graph was reached.
    outcome: str
    detail: str
    episodes: int = 0
    invalidated: int = 0


class NotebookEdit(BaseModel):
    agent: AgentRef
    content: str = Field(min_length=1, max_length=64_000)
    operator: str = Field(min_length=1, max_length=200)
    reason: str = ""
    request_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")


class NotebookEditResult(BaseModel):
    version: int
    ingestion: IngestionResult


class DocumentProgress(BaseModel):
    name: str
    chunks: int = 0
    chunks_in_recall: int = 0
    episodes_queued: int = 0
    episodes_ingested: int = 0
    episodes_failed: int = 0
    graph_outcome: str = "pending"
    done: bool = False
