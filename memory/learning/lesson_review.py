"""Lessons reflection proposes, held until an operator approves or rejects them.

Reflection reads the turn's tool log and an operator's corrections, both of which an
attacker can influence (a command's output is whatever the command printed). So what
reflection concludes is a proposal: it reaches the agent's skill, and with it every later
prompt of that task type, only when an operator approves it. A verdict is final.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.refs import AgentRef, ThreadRef
from memory.core.schema import skill_lessons
from memory.core.validation import InvalidInput, check_id
from memory.documents.skills import MAX_LESSON_CHARS, SkillLibrary, check_task_type

MAX_LISTED = 500
Status = Literal["pending", "approved", "rejected"]


class ProposedLesson(BaseModel):
    id: int
    tenant_id: str
    agent_id: str
    task_type: str
    lesson: str
    thread_id: str
    turn: int
    episode_id: int
    status: Status
    reviewer: str | None = None
    review_note: str | None = None
    reviewed_at: datetime | None = None
    document_version_id: int | None = None
    created_at: datetime

    @property
    def path(self) -> str:
        return f"/skills/{self.task_type}.md"


class LessonNotPending(InvalidInput):
    """The lesson does not exist for this agent, or already has its verdict."""


class LessonReview:
    def __init__(self, engine: AsyncEngine, skills: SkillLibrary):
        self._engine = engine
        self._skills = skills

    async def propose(
        self, thread: ThreadRef, turn: int, episode_id: int, task_type: str, lesson: str, *, idempotency_key: str
    ) -> ProposedLesson:
        """Hold a lesson for review; a retry with the same key returns the first proposal."""
        check_task_type(task_type)
        lesson = " ".join(lesson.split())
        if not lesson:
            raise InvalidInput("a proposed lesson is empty")
        lesson = lesson[:MAX_LESSON_CHARS]
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(skill_lessons)
                .values(
                    tenant_id=thread.tenant_id,
                    agent_id=thread.agent_id,
                    task_type=task_type,
                    lesson=lesson,
                    thread_id=thread.thread_id,
                    turn=turn,
                    episode_id=episode_id,
                    idempotency_key=idempotency_key,
                )
                .on_conflict_do_nothing(index_elements=[skill_lessons.c.idempotency_key])
            )
            row = (
                (await conn.execute(select(skill_lessons).where(skill_lessons.c.idempotency_key == idempotency_key)))
                .mappings()
                .one()
            )
        return ProposedLesson.model_validate(dict(row))

    async def listed(
        self, *, tenant_id: str | None = None, agent_id: str | None = None, status: Status = "pending", limit: int = 50
    ) -> list[ProposedLesson]:
        if not 1 <= limit <= MAX_LISTED:
            raise InvalidInput(f"limit must be between 1 and {MAX_LISTED}, got {limit}")
        query = select(skill_lessons).where(skill_lessons.c.status == status)
        if tenant_id is not None:
            query = query.where(skill_lessons.c.tenant_id == check_id("tenant", tenant_id))
        if agent_id is not None:
            query = query.where(skill_lessons.c.agent_id == check_id("agent", agent_id))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(skill_lessons.c.id).limit(limit))).mappings()
            return [ProposedLesson.model_validate(dict(r)) for r in rows]

    async def approve(self, agent: AgentRef, lesson_id: int, *, reviewer: str, note: str = "") -> ProposedLesson:
        """Write the lesson into the agent's own skill, then record the verdict. Refuses
        (SkillProtected) a skill an operator wrote or locked: the operator edits that one."""
        check_id("reviewer", reviewer)
        proposed = await self._pending(agent, lesson_id, retrying="approved", reviewer=reviewer)
        if proposed.status == "approved":
            return proposed
        skill = await self._skills.reflect(
            agent, proposed.task_type, proposed.lesson, idempotency_key=f"skill-lesson/{proposed.id}"
        )
        return await self._decide(agent, lesson_id, "approved", reviewer, note, skill.version_id)

    async def reject(self, agent: AgentRef, lesson_id: int, *, reviewer: str, note: str = "") -> ProposedLesson:
        check_id("reviewer", reviewer)
        proposed = await self._pending(agent, lesson_id, retrying="rejected", reviewer=reviewer)
        if proposed.status == "rejected":
            return proposed
        return await self._decide(agent, lesson_id, "rejected", reviewer, note, None)

    async def _pending(
        self, agent: AgentRef, lesson_id: int, *, retrying: Status | None = None, reviewer: str | None = None
    ) -> ProposedLesson:
        """The lesson, while it waits for its verdict; or, for a retried review, the verdict
        the same reviewer already gave."""
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(skill_lessons).where(
                            skill_lessons.c.id == lesson_id,
                            skill_lessons.c.tenant_id == agent.tenant_id,
                            skill_lessons.c.agent_id == agent.agent_id,
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise LessonNotPending(f"agent {agent.agent_id} of tenant {agent.tenant_id} has no proposed lesson {lesson_id}")
        proposed = ProposedLesson.model_validate(dict(row))
        if proposed.status == retrying and proposed.reviewer == reviewer:
            return proposed
        if proposed.status != "pending":
            raise LessonNotPending(f"lesson {lesson_id} was already {proposed.status} by {proposed.reviewer}")
        return proposed

    async def _decide(
        self, agent: AgentRef, lesson_id: int, status: Status, reviewer: str, note: str, version_id: int | None
    ) -> ProposedLesson:
        async with self._engine.begin() as conn:
            row = (
                (
                    await conn.execute(
                        update(skill_lessons)
                        .where(
                            skill_lessons.c.id == lesson_id,
                            skill_lessons.c.tenant_id == agent.tenant_id,
                            skill_lessons.c.agent_id == agent.agent_id,
                            skill_lessons.c.status == "pending",
                        )
                        .values(
                            status=status,
                            reviewer=reviewer,
                            review_note=note[:2_000] or None,
                            reviewed_at=func.now(),
                            document_version_id=version_id,
                        )
                        .returning(skill_lessons)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            # A concurrent review got there first; an approval's skill write is idempotent by lesson id.
            return await self._pending(agent, lesson_id, retrying=status, reviewer=reviewer)
        return ProposedLesson.model_validate(dict(row))
