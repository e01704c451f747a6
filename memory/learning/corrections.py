"""Human corrections of a running conversation: "you tried X, do Y instead", kept for audit.

A correction also enters the session-learning cache (the caller's job), so the rest of
the session uses it; only an explicit codify act carries it further.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.refs import ThreadRef
from memory.core.schema import corrections
from memory.core.validation import InvalidInput, check_id
from memory.learning.models import MAX_CORRECTION_CHARS, Correction

MAX_CORRECTION_CHARS = 2_000


def _text(kind: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"a correction needs what was {kind}: it is empty")
    if len(value) > MAX_CORRECTION_CHARS:
        raise InvalidInput(f"the correction's '{kind}' is {len(value)} characters; the limit is {MAX_CORRECTION_CHARS}")
    if "\x00" in value:
        raise InvalidInput(f"the correction's '{kind}' contains a NUL byte")
    return value


class Correction(BaseModel):
    """What the agent tried, what to do instead, and who said so."""

    tried: str
    instead: str
    operator: str = Field(description="who corrects: an operator id")

    @field_validator("tried")
    @classmethod
    def _tried(cls, value: str) -> str:
        return _text("tried", value)

    @field_validator("instead")
    @classmethod
    def _instead(cls, value: str) -> str:
        return _text("instead", value)

    @field_validator("operator")
    @classmethod
    def _operator(cls, value: str) -> str:
        return check_id("operator", value)


class StoredCorrection(BaseModel):
    id: int
    turn: int
    tried: str
    instead: str
    operator: str
    created_at: datetime


class CorrectionLog:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def record(self, thread: ThreadRef, turn: int, correction: Correction, *, idempotency_key: str) -> StoredCorrection:
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(corrections)
                .values(
                    tenant_id=thread.tenant_id,
                    agent_id=thread.agent_id,
                    thread_id=thread.thread_id,
                    turn=turn,
                    tried=correction.tried,
                    instead=correction.instead,
                    operator=correction.operator,
                    idempotency_key=idempotency_key,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = (
                (await conn.execute(select(corrections).where(corrections.c.idempotency_key == idempotency_key)))
                .mappings()
                .one()
            )
        return StoredCorrection.model_validate(dict(row))

    async def for_turn(self, thread: ThreadRef, turn: int) -> list[StoredCorrection]:
        query = (
            select(corrections)
            .where(
                corrections.c.tenant_id == thread.tenant_id,
                corrections.c.agent_id == thread.agent_id,
                corrections.c.thread_id == thread.thread_id,
                corrections.c.turn == turn,
            )
            .order_by(corrections.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [StoredCorrection.model_validate(dict(row)) for row in rows]
