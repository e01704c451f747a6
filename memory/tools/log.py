"""The audit trail of the agent's tool calls: what it ran, with which arguments, and how it went.

Scratch notes are working memory and never reach this log (nor any other store).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.refs import ThreadRef
from memory.core.schema import tool_calls
from memory.tools.models import ToolStatus

MAX_LOGGED_OUTPUT_CHARS = 4_000


class LoggedToolCall(BaseModel):
    turn: int
    call_id: str
    tool: str
    arguments: dict[str, Any]
    status: ToolStatus
    output: str
    created_at: datetime


class ToolLog:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def record(
        self,
        thread: ThreadRef,
        *,
        turn: int,
        call_id: str,
        tool: str,
        arguments: dict[str, Any],
        status: ToolStatus,
        output: str,
    ) -> tuple[ToolStatus, str]:
        """Once per call: a retried activity finds the row its first attempt wrote. Returns the
        status and output the log holds for the call: an earlier write's, if there was one."""
        key = f"{thread.key}/turn/{turn}/tool/{call_id}"
        async with self._engine.begin() as conn:
            inserted = await conn.execute(
                insert(tool_calls)
                .values(
                    tenant_id=thread.tenant_id,
                    agent_id=thread.agent_id,
                    thread_id=thread.thread_id,
                    turn=turn,
                    call_id=call_id,
                    tool=tool,
                    arguments=arguments,
                    status=status.value,
                    output=output[:MAX_LOGGED_OUTPUT_CHARS],
                    idempotency_key=key,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(tool_calls.c.id)
            )
            if inserted.first() is not None:
                return status, output[:MAX_LOGGED_OUTPUT_CHARS]
            earlier = (
                await conn.execute(select(tool_calls.c.status, tool_calls.c.output).where(tool_calls.c.idempotency_key == key))
            ).one()
        return ToolStatus(earlier.status), earlier.output

    async def for_turn(self, thread: ThreadRef, turn: int) -> list[LoggedToolCall]:
        query = (
            select(tool_calls)
            .where(
                tool_calls.c.tenant_id == thread.tenant_id,
                tool_calls.c.agent_id == thread.agent_id,
                tool_calls.c.thread_id == thread.thread_id,
                tool_calls.c.turn == turn,
            )
            .order_by(tool_calls.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [LoggedToolCall.model_validate(dict(row)) for row in rows]
