"""Procedural memory: how this agent does one type of task, as /skills/<task-type>.md.

Skills live in the document store, so every change is a version with an author. An
operator's word outranks the agent's: reflection after an episode may only add lessons to
skills the agent wrote itself, and a locked skill changes only by an operator's edit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from memory.core.refs import AgentRef
from memory.core.schema import document_versions, documents
from memory.core.tokens import estimate_tokens
from memory.core.validation import InvalidInput
from memory.documents.path_store import DocumentStore, DocumentVersion
from memory.documents.skill_text import (  # noqa: F401  (re-exported: callers find the rules here)
    GENERAL,
    MAX_LESSON_CHARS,
    MAX_SKILL_CHARS,
    REFLECTION_AUTHOR,
    SKILLS_DIR,
    TASK_TYPE,
    check_author,
    check_operator,
    check_task_type,
    check_text,
    is_operator_author,
    keywords,
    lesson_substitutions,
    skill_path,
    task_type_of,
    with_lesson,
)
from memory.prompt.manifest import ContextItem, Layer


class SkillProtected(Exception):
    """Reflection tried to change a skill it may not change; retrying will not help."""


class Skill(BaseModel):
    task_type: str
    path: str
    version_id: int
    version: int
    content: str
    author: str
    locked: bool
    operator_authored: bool
    updated_at: datetime

    def context_item(self) -> ContextItem:
        owner = "operator" if self.operator_authored else "agent"
        return ContextItem(
            layer=Layer.PROCEDURAL,
            source_id=self.version_id,
            source_time=self.updated_at,
            label=f"skill {self.path} v{self.version} ({owner})",
            tokens=estimate_tokens(self.content),
        )


class SkillLibrary:
    def __init__(self, documents: DocumentStore, engine: AsyncEngine):
        self._documents = documents
        self._engine = engine

    async def task_types(self, agent: AgentRef) -> list[str]:
        return sorted((await self._latest_contents(agent)).keys())

    async def classify(self, agent: AgentRef, message: str) -> str:
        """The task type of a message, from the agent's own skills; deterministic, no model.

        A skill's terms are the words of its task type (split on '-') and the keywords its
        first line may declare (`keywords: money back, chargeback`). A term is found when its
        words occur in the message as whole words, in order, ignoring case and simple
        suffixes ('refund' finds 'refunds', 'refunded', 'refunding'). A task type matches
        when more than half of its own words are found, or any of its keywords is; its score
        is the number of terms found. The highest score wins, ties go to the alphabetically
        first type, and "general" is the answer when nothing matches.
        """
        return task_type_of(message, await self._latest_contents(agent))

    async def for_message(self, agent: AgentRef, message: str) -> tuple[str, list[Skill]]:
        """The message's task type (as `classify`) and that type's skill (as `load`), from one
        read of the agent's skills: what a turn loads."""
        skills = await self._latest_skills(agent)
        task_type = task_type_of(message, {t: skill.content for t, skill in skills.items()})
        return task_type, [skills[task_type]] if task_type in skills else []

    async def load(self, agent: AgentRef, task_type: str) -> list[Skill]:
        skill = await self._skill(agent, skill_path(task_type))
        return [skill] if skill else []

    async def write_by_operator(
        self, agent: AgentRef, task_type: str, content: str, *, operator: str, idempotency_key: str, lock: bool = False
    ) -> Skill:
        """Replace the skill with an operator's text. `lock=True` also locks it; False leaves
        the lock as it is, so editing a locked skill does not quietly unlock it."""
        path = skill_path(task_type)
        author = f"operator:{check_operator(operator)}"
        content = check_text("skill", content, MAX_SKILL_CHARS)
        async with self._serialised(agent, path) as conn:
            version = await self._documents.write(
                agent, path, content=content, author=author, reason="operator edit", idempotency_key=idempotency_key
            )
            if lock:
                await _set_lock(conn, agent, path, True)
        return await self._as_skill(agent, version)

    async def append_lesson(
        self, agent: AgentRef, task_type: str, lesson: str, *, author: str, idempotency_key: str
    ) -> Skill:
        """Add a bullet under the skill's "## Lessons" section, creating the skill if need be.
        Refuses (SkillProtected) a locked skill: only an operator's edit changes that."""
        return await self._append(agent, task_type, lesson, author=author, idempotency_key=idempotency_key)

    async def reflect(self, agent: AgentRef, task_type: str, lesson: str, *, idempotency_key: str) -> Skill:
        """The agent's own lesson from an episode. Refuses (SkillProtected) a locked skill and
        one whose latest version an operator wrote: an operator's skill is not the agent's to
        rewrite. A retry with the same key returns the version the first attempt wrote."""
        return await self._append(
            agent, task_type, lesson, author=REFLECTION_AUTHOR, idempotency_key=idempotency_key, by_reflection=True
        )

    async def set_locked(self, agent: AgentRef, task_type: str, locked: bool) -> Skill:
        path = skill_path(task_type)
        async with self._serialised(agent, path) as conn:
            if not await _set_lock(conn, agent, path, locked):
                raise InvalidInput(f"there is no skill {path} to {'lock' if locked else 'unlock'}")
        skill = await self._skill(agent, path)
        assert skill is not None  # a document row is only ever created with its first version
        return skill

    async def _append(
        self,
        agent: AgentRef,
        task_type: str,
        lesson: str,
        *,
        author: str,
        idempotency_key: str,
        by_reflection: bool = False,
    ) -> Skill:
        path = skill_path(task_type)
        check_author(author)
        lesson = " ".join(check_text("lesson", lesson, MAX_LESSON_CHARS).split())
        async with self._serialised(agent, path):
            # A retry must not build on the version its own first attempt wrote, or the
            # lesson would be appended twice; so the key is looked up before anything else.
            done = await self._version_for_key(agent, idempotency_key)
            if done:
                if done.path != path:
                    raise InvalidInput(f"idempotency key {idempotency_key[:80]!r} was already used for {done.path}")
                return await self._as_skill(agent, done)
            current = await self._skill(agent, path)
            if current:
                _check_may_change(current, by_reflection=by_reflection)
            base = current.content if current else f"# {task_type}\n"
            content = with_lesson(base, lesson)
            if current and content == current.content:
                return current  # the skill already teaches this
            if len(content) > MAX_SKILL_CHARS:
                raise InvalidInput(
                    f"skill {path} would exceed {MAX_SKILL_CHARS} characters; an operator should condense it"
                )
            version = await self._documents.write(
                agent,
                path,
                content=content,
                author=author,
                reason="reflection" if by_reflection else "lesson",
                idempotency_key=idempotency_key,
            )
        return await self._as_skill(agent, version)

    @asynccontextmanager
    async def _serialised(self, agent: AgentRef, path: str) -> AsyncIterator[AsyncConnection]:
        # Appending reads a version and writes the next; two appenders on one skill would
        # both build on the same version and the later would drop the earlier's lesson.
        # A transaction-scoped advisory lock per skill makes them take turns.
        async with self._engine.begin() as conn:
            name = f"skill:{agent.tenant_id}/{agent.agent_id}{path}"
            await conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(name, 0))))
            yield conn

    async def _skill(self, agent: AgentRef, path: str) -> Skill | None:
        version = await self._documents.latest(agent, path)
        return await self._as_skill(agent, version) if version else None

    async def _as_skill(self, agent: AgentRef, version: DocumentVersion) -> Skill:
        async with self._engine.connect() as conn:
            locked = await conn.scalar(select(documents.c.locked).where(*_owned(agent, version.path)))
        return Skill(
            task_type=version.path.removeprefix(SKILLS_DIR).removesuffix(".md"),
            path=version.path,
            version_id=version.id,
            version=version.version,
            content=version.content,
            author=version.author,
            locked=bool(locked),
            operator_authored=is_operator_author(version.author),
            updated_at=version.created_at,
        )

    async def _version_for_key(self, agent: AgentRef, idempotency_key: str) -> DocumentVersion | None:
        async with self._engine.connect() as conn:
            version_id = await conn.scalar(
                select(document_versions.c.id)
                .join(documents, documents.c.id == document_versions.c.document_id)
                .where(
                    documents.c.tenant_id == agent.tenant_id,
                    documents.c.agent_id == agent.agent_id,
                    document_versions.c.idempotency_key == idempotency_key,
                )
            )
        return await self._documents.version_by_id(agent, version_id) if version_id else None

    async def _latest_contents(self, agent: AgentRef) -> dict[str, str]:
        """Task type -> content of the latest version, for every skill of the agent."""
        return {task_type: skill.content for task_type, skill in (await self._latest_skills(agent)).items()}

    async def _latest_skills(self, agent: AgentRef) -> dict[str, Skill]:
        """Task type -> latest version, for every skill of the agent, in one query."""
        query = (
            select(
                documents.c.path,
                documents.c.locked,
                document_versions.c.id,
                document_versions.c.version,
                document_versions.c.content,
                document_versions.c.author,
                document_versions.c.created_at,
            )
            .join(document_versions, document_versions.c.document_id == documents.c.id)
            .where(
                documents.c.tenant_id == agent.tenant_id,
                documents.c.agent_id == agent.agent_id,
                documents.c.path.like(f"{SKILLS_DIR}%.md"),
            )
            .order_by(documents.c.path, document_versions.c.version.desc())
            .ext(distinct_on(documents.c.path))
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        skills = {}
        for row in rows:
            task_type = row.path.removeprefix(SKILLS_DIR).removesuffix(".md")
            # Documents that merely sit under /skills/ (nested, odd names) are not skills.
            if TASK_TYPE.match(task_type):
                skills[task_type] = Skill(
                    task_type=task_type,
                    path=row.path,
                    version_id=row.id,
                    version=row.version,
                    content=row.content,
                    author=row.author,
                    locked=bool(row.locked),
                    operator_authored=is_operator_author(row.author),
                    updated_at=row.created_at,
                )
        return skills


def _owned(agent: AgentRef, path: str):
    return (documents.c.tenant_id == agent.tenant_id, documents.c.agent_id == agent.agent_id, documents.c.path == path)


async def _set_lock(conn: AsyncConnection, agent: AgentRef, path: str, locked: bool) -> bool:
    result = await conn.execute(update(documents).where(*_owned(agent, path)).values(locked=locked))
    return result.rowcount > 0


def _check_may_change(skill: Skill, *, by_reflection: bool) -> None:
    if skill.locked:
        raise SkillProtected(f"skill {skill.path} is locked by an operator; only an operator's edit may change it")
    if by_reflection and skill.operator_authored:
        raise SkillProtected(
            f"skill {skill.path} v{skill.version} was written by {skill.author}; "
            "reflection may not change an operator-authored skill"
        )
