"""Conversation layer: an append-only message log and a rolling summary per thread.

Summarising only ever adds a summary row that covers older messages; it never updates
or deletes a message, so a bad summary can be superseded and nothing is lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from memory.conversation import turn_requests
from memory.conversation.thread_users import ThreadUsers
from memory.core.insert_once import insert_once
from memory.core.refs import ThreadRef
from memory.core.schema import conversation_summaries, messages
from memory.core.tokens import estimate_tokens

Role = Literal["user", "assistant"]


class StoredMessage(BaseModel):
    id: int
    turn: int
    role: Role
    content: str
    token_estimate: int
    created_at: datetime


class StoredSummary(BaseModel):
    id: int
    covers_through_message_id: int
    content: str
    token_estimate: int
    created_at: datetime


class ThreadContext(BaseModel):
    """What the conversation layer contributes to a turn: latest summary plus live tail."""

    summary: StoredSummary | None
    tail: list[StoredMessage]

    @property
    def tail_tokens(self) -> int:
        return sum(m.token_estimate for m in self.tail)


class RequestedMessage(BaseModel):
    """The user message a request stored, and the earlier turn's outcome if it was a resend."""

    message: StoredMessage
    earlier: turn_requests.EarlierTurn | None = None


class ConversationStore:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine
        # Which end user each thread belongs to.
        self.users = ThreadUsers(engine)

    async def append(self, thread: ThreadRef, turn: int, role: Role, content: str) -> StoredMessage:
        """Append once: a retry with the same (thread, turn, role) returns the stored row."""
        async with self._engine.begin() as conn:
            return await _append(conn, thread, turn, role, content)

    async def append_request(self, thread: ThreadRef, turn: int, request_id: str, content: str) -> RequestedMessage:
        """Append the user message that request_id sent, unless an earlier turn claimed that
        request id: then nothing is written, and that turn's message and outcome come back."""
        async with self._engine.begin() as conn:
            earlier = await turn_requests.claim(conn, thread, request_id, turn)
            if earlier is None:
                return RequestedMessage(message=await _append(conn, thread, turn, "user", content))
            key = f"{thread.key}/turn/{earlier.turn}/user"
            row = (await conn.execute(select(messages).where(messages.c.idempotency_key == key))).mappings().one()
            return RequestedMessage(message=StoredMessage.model_validate(dict(row)), earlier=earlier)

    async def last_turn(self, thread: ThreadRef) -> int:
        async with self._engine.connect() as conn:
            value = await conn.scalar(select(func.max(messages.c.turn)).where(*_owned_by(thread)))
        return int(value or 0)

    async def context(self, thread: ThreadRef) -> ThreadContext:
        async with self._engine.connect() as conn:
            summary_row = (
                (
                    await conn.execute(
                        select(conversation_summaries)
                        .where(*_summary_owned_by(thread))
                        .order_by(conversation_summaries.c.id.desc())
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
            summary = StoredSummary.model_validate(dict(summary_row)) if summary_row else None
            covered = summary.covers_through_message_id if summary else 0
            rows = (
                await conn.execute(
                    select(messages).where(*_owned_by(thread), messages.c.id > covered).order_by(messages.c.id)
                )
            ).mappings()
            tail = [StoredMessage.model_validate(dict(r)) for r in rows]
        return ThreadContext(summary=summary, tail=tail)

    async def messages_by_id(self, thread: ThreadRef, ids: list[int]) -> list[StoredMessage]:
        if not ids:
            return []
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(messages).where(*_owned_by(thread), messages.c.id.in_(ids)).order_by(messages.c.id)
                )
            ).mappings()
            return [StoredMessage.model_validate(dict(r)) for r in rows]

    async def summary_by_id(self, thread: ThreadRef, summary_id: int) -> StoredSummary | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(conversation_summaries).where(
                            *_summary_owned_by(thread), conversation_summaries.c.id == summary_id
                        )
                    )
                )
                .mappings()
                .first()
            )
        return StoredSummary.model_validate(dict(row)) if row else None

    async def add_summary(self, thread: ThreadRef, covers_through_message_id: int, content: str) -> StoredSummary:
        """Record a summary once per coverage point, so a retried summariser adds one row."""
        key = f"{thread.key}/summary/through/{covers_through_message_id}"
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(conversation_summaries)
                .values(
                    tenant_id=thread.tenant_id,
                    agent_id=thread.agent_id,
                    thread_id=thread.thread_id,
                    covers_through_message_id=covers_through_message_id,
                    content=content,
                    token_estimate=estimate_tokens(content),
                    idempotency_key=key,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = (
                (
                    await conn.execute(
                        select(conversation_summaries).where(conversation_summaries.c.idempotency_key == key)
                    )
                )
                .mappings()
                .one()
            )
        return StoredSummary.model_validate(dict(row))


def _owned_by(thread: ThreadRef) -> tuple:
    return (
        messages.c.tenant_id == thread.tenant_id,
        messages.c.agent_id == thread.agent_id,
        messages.c.thread_id == thread.thread_id,
    )


def _summary_owned_by(thread: ThreadRef) -> tuple:
    return (
        conversation_summaries.c.tenant_id == thread.tenant_id,
        conversation_summaries.c.agent_id == thread.agent_id,
        conversation_summaries.c.thread_id == thread.thread_id,
    )


async def _append(conn: AsyncConnection, thread: ThreadRef, turn: int, role: Role, content: str) -> StoredMessage:
    key = f"{thread.key}/turn/{turn}/{role}"
    statement = insert(messages).values(
        tenant_id=thread.tenant_id,
        agent_id=thread.agent_id,
        thread_id=thread.thread_id,
        turn=turn,
        role=role,
        content=content,
        token_estimate=estimate_tokens(content),
        idempotency_key=key,
    )
    row = await insert_once(conn, statement, messages.c.idempotency_key, key, *messages.c)
    return StoredMessage.model_validate(dict(row))
