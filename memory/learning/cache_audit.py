"""The session-cache audit: a sample of served substitutions, kept for an operator's verdict.

A substitution is learned from one failure and one retry, so it can be wrong (the retry
succeeded for another reason) and it is served to the agent as advice. The sample shows
how often such advice holds up; reviewed rows keep who judged them, when and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.schema import session_cache_audit
from memory.core.validation import InvalidInput, check_id
from memory.learning.session_cache import SessionContext, Substitution

Verdict = Literal["approved", "rejected"]
VERDICTS: tuple[str, ...] = ("approved", "rejected")
MAX_REVIEWER_CHARS = 200
MAX_NOTE_CHARS = 2000
MAX_PENDING_ROWS = 1000
MAX_ENTRY_ID = 2**63 - 1  # the id column is a bigint


class AuditEntry(BaseModel):
    id: int
    tenant_id: str
    agent_id: str
    session_id: str
    context_hash: str
    command_key: str
    tried: str
    instead: str
    source: str
    review_status: Literal["pending", "approved", "rejected"]
    reviewer: str | None
    review_note: str | None
    reviewed_at: datetime | None
    created_at: datetime


class CacheAudit:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def write(self, ctx: SessionContext, substitution: Substitution) -> AuditEntry:
        (entry,) = await self.write_many(ctx, [substitution])
        return entry

    async def write_many(self, ctx: SessionContext, substitutions: list[Substitution]) -> list[AuditEntry]:
        """Several samples of one session in one statement: a lookup serves a session's
        substitutions together, and its sample is written together."""
        if not substitutions:
            return []
        rows = [
            {
                "tenant_id": ctx.tenant_id,
                "agent_id": ctx.agent_id,
                "session_id": ctx.session_id,
                "context_hash": ctx.context_hash,
                "command_key": substitution.command_key,
                "tried": substitution.tried,
                "instead": substitution.instead,
                "source": substitution.source,
            }
            for substitution in substitutions
        ]
        table = session_cache_audit
        async with self._engine.begin() as conn:
            written = (await conn.execute(insert(table).values(rows).returning(*table.c))).mappings().all()
        return sorted((AuditEntry.model_validate(dict(row)) for row in written), key=lambda entry: entry.id)

    async def pending(self, tenant_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
        """Entries awaiting a verdict, oldest first: the review queue in the order it filled."""
        if tenant_id is not None:
            check_id("tenant", tenant_id)
        if not 1 <= limit <= MAX_PENDING_ROWS:
            raise InvalidInput(f"limit must be 1-{MAX_PENDING_ROWS}, got {limit}")
        query = select(session_cache_audit).where(session_cache_audit.c.review_status == "pending")
        if tenant_id is not None:
            query = query.where(session_cache_audit.c.tenant_id == tenant_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(session_cache_audit.c.id).limit(limit))).mappings().all()
        return [AuditEntry.model_validate(dict(row)) for row in rows]

    async def entry(self, entry_id: int, *, tenant_id: str) -> AuditEntry | None:
        """One entry of the tenant; None for an entry of another tenant, as for a missing one."""
        table = session_cache_audit
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(select(table).where(table.c.id == entry_id, table.c.tenant_id == tenant_id)))
                .mappings()
                .one_or_none()
            )
        return AuditEntry.model_validate(dict(row)) if row else None

    async def review(
        self, entry_id: int, *, verdict: Verdict, reviewer: str, note: str = "", tenant_id: str | None = None
    ) -> AuditEntry:
        """Record a verdict on a pending entry. A verdict is final: reviewing again is refused
        rather than silently overwriting the first reviewer's judgement. With `tenant_id`, an
        entry of another tenant is answered as missing."""
        if isinstance(entry_id, bool) or not isinstance(entry_id, int) or not 1 <= entry_id <= MAX_ENTRY_ID:
            raise InvalidInput(f"audit entry id must be a positive whole number, got {str(entry_id)[:80]!r}")
        if verdict not in VERDICTS:
            raise InvalidInput(f"unknown verdict {str(verdict)[:80]!r}: use {' or '.join(VERDICTS)}")
        if not isinstance(reviewer, str) or not reviewer.strip():
            raise InvalidInput("a reviewer name is required")
        reviewer = reviewer.strip()
        if len(reviewer) > MAX_REVIEWER_CHARS:
            raise InvalidInput(f"reviewer name is {len(reviewer)} characters; the limit is {MAX_REVIEWER_CHARS}")
        if not isinstance(note, str):
            raise InvalidInput(f"note must be a string, got {type(note).__name__}")
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(f"note is {len(note)} characters; the limit is {MAX_NOTE_CHARS}")
        if "\x00" in reviewer or "\x00" in note:
            raise InvalidInput("reviewer name or note contains a NUL byte")
        table = session_cache_audit
        owned = (table.c.id == entry_id,) if tenant_id is None else (table.c.id == entry_id, table.c.tenant_id == tenant_id)
        async with self._engine.begin() as conn:
            # Conditional on still pending, so two reviewers racing cannot both record a verdict.
            row = (
                await conn.execute(
                    update(table)
                    .where(*owned, table.c.review_status == "pending")
                    .values(review_status=verdict, reviewer=reviewer, review_note=note or None, reviewed_at=func.now())
                    .returning(*table.c)
                )
            ).mappings().one_or_none()
            if row is not None:
                return AuditEntry.model_validate(dict(row))
            done = (
                await conn.execute(select(table.c.review_status, table.c.reviewer).where(*owned))
            ).one_or_none()
        if done is None:
            raise InvalidInput(f"no audit entry {entry_id}")
        raise InvalidInput(f"audit entry {entry_id} was already {done.review_status} by {done.reviewer}")
