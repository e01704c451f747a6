"""One billable model or embedding call, as data: what a read hands to the turn's commit so
the ledger row is written with the turn's other writes instead of on the read path."""

from __future__ import annotations

from pydantic import BaseModel

from memory.llm.base import ModelUsage


class UsageEntry(BaseModel):
    idempotency_key: str
    tenant_id: str
    action: str
    provider: str
    model: str
    usage: ModelUsage
    agent_id: str | None = None
    thread_id: str | None = None
