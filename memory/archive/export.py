"""Read an agent's memory out of the stores, one page of archive records at a time.

Pages go kind by kind in RECORD_KINDS order, each kind in row-id order, so versions of one
document come out in the order they were written and an import replays them in that order.
"""

from __future__ import annotations

import zlib

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.archive.models import ExportCursor
from memory.archive.records import (
    MEMORY_KINDS,
    RECORD_KINDS,
    AgentVersionRecord,
    DocumentRecord,
    DocumentVersionRecord,
    EpisodeRecordLine,
    MessageRecord,
    RecallItemRecord,
    SkillLockRecord,
    line_of,
)
from memory.archive.users import thread_user, user_condition, user_of
from memory.core.refs import AgentRef
from memory.core.schema import (
    agent_definitions,
    document_versions,
    documents,
    episodes,
    ingested_documents,
    messages,
    recall_items,
)
from memory.documents.skills import SKILLS_DIR

# A page of records is written to its own part file; only its counts cross Temporal. Bounded
# by rows and by characters so one activity stays short even with large documents.
PAGE_ROWS = 500
PAGE_CHARS = 4_000_000
DOCUMENTS_PER_QUERY = 20


class ExportPage(BaseModel):
    lines: list[str]
    counts: dict[str, int]
    # None once every kind is read.
    next: ExportCursor | None


class ArchiveSource:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def page(
        self, agent: AgentRef, cursor: ExportCursor, *, memories: bool, user_id: str | None = None
    ) -> ExportPage:
        kinds = [k for k in RECORD_KINDS if memories or k not in MEMORY_KINDS]
        lines: list[str] = []
        counts: dict[str, int] = {}
        chars = 0
        kind, after = cursor.kind, cursor.after_id
        while kind is not None and len(lines) < PAGE_ROWS and chars < PAGE_CHARS:
            # Documents are whole texts (up to a million characters each): fewer per query.
            want = min(PAGE_ROWS - len(lines), DOCUMENTS_PER_QUERY if kind == "document" else PAGE_ROWS)
            rows = await self._rows(agent, kind, after, want, user_id)
            for row_id, record in rows:
                line = line_of(record)
                lines.append(line)
                counts[kind] = counts.get(kind, 0) + 1
                chars += len(line)
                after = row_id
                if chars >= PAGE_CHARS:
                    break
            if len(rows) < want and chars < PAGE_CHARS:
                position = kinds.index(kind) + 1
                kind, after = (kinds[position], 0) if position < len(kinds) else (None, 0)
        return ExportPage(lines=lines, counts=counts, next=ExportCursor(kind=kind, after_id=after) if kind else None)

    async def _rows(self, agent: AgentRef, kind: str, after: int, limit: int, user_id: str | None) -> list[tuple[int, object]]:
        query, build = _QUERIES[kind](agent, user_id)
        id_column = query.selected_columns["row_id"].element
        query = query.where(id_column > after).order_by(id_column).limit(limit)
        async with self._engine.connect() as conn:
            return [(row["row_id"], build(row)) for row in (await conn.execute(query)).mappings()]


def _agent_versions(agent: AgentRef, user_id: str | None):
    c = agent_definitions.c
    query = select(c.id.label("row_id"), c.version, c.spec, c.mcp_tools, c.author, c.note, c.created_at).where(
        c.tenant_id == agent.tenant_id, c.agent_id == agent.agent_id
    )
    return query, lambda r: AgentVersionRecord(
        kind="agent_version", id=f"agent_version:{r['row_id']}", version=r["version"], spec=r["spec"],
        mcp_tools=r["mcp_tools"], author=r["author"], note=r["note"], created_at=r["created_at"],
    )


def _document_versions(agent: AgentRef, user_id: str | None):
    v, d = document_versions.c, documents.c
    query = (
        select(v.id.label("row_id"), d.path, v.version, v.content, v.author, v.reason, v.created_at)
        .join(documents, d.id == v.document_id)
        .where(d.tenant_id == agent.tenant_id, d.agent_id == agent.agent_id)
    )
    return query, lambda r: DocumentVersionRecord(
        kind="document_version", id=f"document_version:{r['row_id']}", path=r["path"], version=r["version"],
        content=r["content"], author=r["author"], reason=r["reason"], created_at=r["created_at"],
    )


def _skill_locks(agent: AgentRef, user_id: str | None):
    d = documents.c
    query = select(d.id.label("row_id"), d.path).where(
        d.tenant_id == agent.tenant_id, d.agent_id == agent.agent_id, d.locked.is_(True), d.path.startswith(SKILLS_DIR)
    )
    return query, lambda r: SkillLockRecord(kind="skill_lock", id=f"skill_lock:{r['row_id']}", path=r["path"])


def _documents(agent: AgentRef, user_id: str | None):
    c = ingested_documents.c
    # Uploaded documents are the tenant's, shared by all its agents: they travel with each agent.
    query = select(c.id.label("row_id"), c.name, c.sha256, c.content, c.created_at).where(c.tenant_id == agent.tenant_id)
    return query, lambda r: DocumentRecord(
        kind="document", id=f"document:{r['row_id']}", name=r["name"], sha256=r["sha256"], text=r["content"],
        created_at=r["created_at"],
    )


def _messages(agent: AgentRef, user_id: str | None):
    c = messages.c
    query = select(*[col for col in messages.c if col.name != "user_id"], c.id.label("row_id"), thread_user(messages)).where(
        c.tenant_id == agent.tenant_id, c.agent_id == agent.agent_id, *user_condition(messages, user_id)
    )
    return query, lambda r: MessageRecord(
        kind="message", id=f"message:{r['row_id']}", thread_id=r["thread_id"], user_id=user_of(r), turn=r["turn"],
        role=r["role"], content=r["content"], created_at=r["created_at"],
    )


def _recall_items(agent: AgentRef, user_id: str | None):
    c = recall_items.c
    # Document chunks are made again by the document's ingestion; exchanges and imported turns
    # are exported as text, never with their vectors.
    query = select(*[col for col in recall_items.c if col.name != "user_id"], c.id.label("row_id"), thread_user(recall_items)).where(
        c.tenant_id == agent.tenant_id,
        c.agent_id == agent.agent_id,
        c.source_type != "document",
        *user_condition(recall_items, user_id),
    )
    return query, lambda r: RecallItemRecord(
        kind="recall_item", id=f"recall_item:{r['row_id']}", thread_id=r["thread_id"], user_id=user_of(r),
        text=r["text"], occurred_at=r["occurred_at"],
    )


def _episodes(agent: AgentRef, user_id: str | None):
    c = episodes.c
    query = select(*[col for col in episodes.c if col.name != "user_id"], c.id.label("row_id"), thread_user(episodes)).where(
        c.tenant_id == agent.tenant_id, c.agent_id == agent.agent_id, *user_condition(episodes, user_id)
    )
    return query, lambda r: EpisodeRecordLine(
        kind="episode", id=f"episode:{r['row_id']}", thread_id=r["thread_id"], user_id=user_of(r), turn=r["turn"],
        occurred_at=r["occurred_at"], task_type=r["task_type"], outcome=r["outcome"], tools_used=r["tools_used"],
        summary=r["summary"],
        transcript=zlib.decompress(r["transcript"]).decode("utf-8") if r["transcript"] is not None else None,
    )


_QUERIES = {
    "agent_version": _agent_versions,
    "document_version": _document_versions,
    "skill_lock": _skill_locks,
    "document": _documents,
    "message": _messages,
    "recall_item": _recall_items,
    "episode": _episodes,
}
