"""Codify: the one act that moves a session-learned substitution into long-term memory.

An operator names a live cache entry and where it goes: the skill of a task type, or
the agent's notebook. The entry must still be live (an expired one is refused, and
nothing is written); the operator is recorded with the write.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.refs import AgentRef
from memory.core.schema import codifications
from memory.core.validation import InvalidInput, check_id
from memory.documents.notebook import Notebook
from memory.documents.skills import SkillLibrary
from memory.learning.session_cache import SessionCache, SessionContext


class Codified(BaseModel):
    target: Literal["skill", "notebook"]
    path: str
    version: int
    tried: str
    instead: str


class Codifier:
    def __init__(self, engine: AsyncEngine, cache: SessionCache, skills: SkillLibrary, notebook: Notebook):
        self._engine = engine
        self._cache = cache
        self._skills = skills
        self._notebook = notebook

    async def codify(
        self,
        ctx: SessionContext,
        command: str,
        *,
        target: Literal["skill", "notebook"],
        task_type: str | None,
        operator: str,
        idempotency_key: str,
    ) -> Codified:
        check_id("operator", operator)
        if target == "skill" and not task_type:
            raise InvalidInput("codifying into a skill needs its task type")
        entry = await self._cache.get(ctx, command)
        lesson = f"Use `{entry.instead}` instead of `{entry.tried}`."
        agent = AgentRef(tenant_id=ctx.tenant_id, agent_id=ctx.agent_id)
        if target == "skill":
            written = await self._skills.append_lesson(
                agent, task_type, lesson, author=f"agent:codify:{operator}", idempotency_key=idempotency_key
            )
            path, version, version_id = written.path, written.version, written.version_id
        else:
            note = await self._notebook.append_note(
                agent, lesson, author=f"operator:{operator}", idempotency_key=idempotency_key
            )
            path, version, version_id = note.path, note.version, note.id
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(codifications)
                .values(
                    tenant_id=ctx.tenant_id,
                    agent_id=ctx.agent_id,
                    session_id=ctx.session_id,
                    command_key=entry.command_key,
                    tried=entry.tried,
                    instead=entry.instead,
                    target=target,
                    path=path,
                    document_version_id=version_id,
                    operator=operator,
                    idempotency_key=idempotency_key,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
        return Codified(target=target, path=path, version=version, tried=entry.tried, instead=entry.instead)
