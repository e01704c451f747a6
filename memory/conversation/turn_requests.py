"""Request ids of user messages, kept per thread with the outcome of the turn each started.

Temporal forgets an update id when the thread's run continues as new or closes; this
table does not, so a message resent with its request id gets its first turn's outcome
in any later run. The claim is written with the user message and the outcome with the
turn record, each in that write's own transaction.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from memory.conversation.models import EarlierTurn, Status
from memory.core.refs import ThreadRef
from memory.core.schema import turn_requests

Status = Literal["running", "completed", "failed"]


class EarlierTurn(BaseModel):
    """The turn a request id was first sent with. "running" means it never finished: its
    run ended mid-turn, or its failure could not be recorded."""

    turn: int
    status: Status
    result: dict[str, Any] | None = None
    error: str | None = None


def _request(thread: ThreadRef, request_id: str) -> list:
    return [
        turn_requests.c.tenant_id == thread.tenant_id,
        turn_requests.c.agent_id == thread.agent_id,
        turn_requests.c.thread_id == thread.thread_id,
        turn_requests.c.request_id == request_id,
    ]


async def claim(conn: AsyncConnection, thread: ThreadRef, request_id: str, turn: int) -> EarlierTurn | None:
    """Claim request_id for turn; None when it is this turn's (a retried claim is too), else the
    turn that claimed it first."""
    await conn.execute(
        insert(turn_requests)
        .values(
            tenant_id=thread.tenant_id,
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            request_id=request_id,
            turn=turn,
        )
        .on_conflict_do_nothing(constraint="uq_turn_requests_request")
    )
    row = (await conn.execute(select(turn_requests).where(*_request(thread, request_id)))).mappings().one()
    return None if row["turn"] == turn else EarlierTurn.model_validate(dict(row))


async def settle(
    conn: AsyncConnection,
    thread: ThreadRef,
    request_id: str,
    *,
    turn: int,
    status: Status,
    result: dict[str, Any] | None,
    error: str | None,
) -> None:
    """Keep how the request's turn ended. Only the claiming turn can settle it."""
    await conn.execute(
        update(turn_requests)
        .where(*_request(thread, request_id), turn_requests.c.turn == turn)
        .values(status=status, result=result, error=error, finished_at=func.now())
    )
