"""Turn records: what each turn's model saw (the manifest) and what it cost, kept for audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.conversation import turn_requests
from memory.core.refs import ThreadRef
from memory.core.schema import turns
from memory.llm.base import ModelUsage
from memory.prompt.manifest import ContextItem


class TurnRecord(BaseModel):
    turn: int
    status: str
    user_message_id: int | None
    assistant_message_id: int | None
    manifest: list[ContextItem]
    usage: ModelUsage
    created_at: datetime
    agent_version: int | None = None


class TurnLog:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def record(
        self,
        thread: ThreadRef,
        *,
        turn: int,
        status: str,
        user_message_id: int | None,
        assistant_message_id: int | None,
        manifest: list[ContextItem],
        usage: ModelUsage,
        request_id: str | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        agent_version: int | None = None,
    ) -> None:
        """Record the turn, and with it how the request that started it ended (result: what
        the caller got back; error: why the turn failed), for a resend of that request."""
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(turns)
                .values(
                    tenant_id=thread.tenant_id,
                    agent_id=thread.agent_id,
                    thread_id=thread.thread_id,
                    turn=turn,
                    status=status,
                    user_message_id=user_message_id,
                    assistant_message_id=assistant_message_id,
                    manifest=[item.model_dump(mode="json") for item in manifest],
                    usage=usage.model_dump(),
                    idempotency_key=f"{thread.key}/turn/{turn}/record",
                    agent_version=agent_version,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            if request_id is not None:
                await turn_requests.settle(
                    conn, thread, request_id, turn=turn, status=status, result=result, error=error
                )

    async def get(self, thread: ThreadRef, turn: int) -> TurnRecord | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(turns).where(turns.c.idempotency_key == f"{thread.key}/turn/{turn}/record")
                    )
                )
                .mappings()
                .first()
            )
        return TurnRecord.model_validate(dict(row)) if row else None
