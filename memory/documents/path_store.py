"""Path-routed, versioned document store (the notebook, later skills).

Every write adds a version; nothing is overwritten, so an operator can always see who
changed what and roll back.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.refs import AgentRef
from memory.core.schema import document_versions, documents
from memory.core.validation import InvalidInput, check_storable

MAX_PATH_CHARS = 256
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def normalise_path(path: str) -> str:
    """Confine a document path: absolute, '/'-separated, no '..', no NUL, bounded length."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidInput(f"document path {str(path)[:80]!r} must start with '/'")
    if "\x00" in path:
        raise InvalidInput("document path contains a NUL byte")
    if len(path) > MAX_PATH_CHARS:
        raise InvalidInput(f"document path is longer than {MAX_PATH_CHARS} characters")
    segments = [s for s in path.split("/") if s]
    if not segments:
        raise InvalidInput("document path names no document")
    for segment in segments:
        if segment in (".", "..") or not _SEGMENT.match(segment):
            raise InvalidInput(f"document path segment {segment[:80]!r} is not allowed")
    return "/" + "/".join(segments)


class DocumentVersion(BaseModel):
    id: int
    path: str
    version: int
    content: str
    author: str
    reason: str
    created_at: datetime


class DocumentStore:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def latest(self, agent: AgentRef, path: str) -> DocumentVersion | None:
        history = await self._versions(agent, normalise_path(path), latest_only=True)
        return history[0] if history else None

    async def history(self, agent: AgentRef, path: str) -> list[DocumentVersion]:
        return await self._versions(agent, normalise_path(path), latest_only=False)

    async def version_by_id(self, agent: AgentRef, version_id: int) -> DocumentVersion | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        _versions_query(agent).where(document_versions.c.id == version_id)
                    )
                )
                .mappings()
                .first()
            )
        return DocumentVersion.model_validate(dict(row)) if row else None

    async def write(
        self, agent: AgentRef, path: str, *, content: str, author: str, reason: str, idempotency_key: str
    ) -> DocumentVersion:
        """Add a new version once per idempotency key."""
        path = normalise_path(path)
        check_storable(f"the text of {path}", content)
        check_storable(f"the author of {path}", author)
        check_storable(f"the reason for editing {path}", reason)
        async with self._engine.begin() as conn:
            existing = (
                (await conn.execute(_versions_query(agent).where(document_versions.c.idempotency_key == idempotency_key)))
                .mappings()
                .first()
            )
            if existing:
                return DocumentVersion.model_validate(dict(existing))
            await conn.execute(
                insert(documents)
                .values(tenant_id=agent.tenant_id, agent_id=agent.agent_id, path=path)
                .on_conflict_do_nothing(constraint="uq_documents_owner_path")
            )
            # Row lock serialises concurrent editors of one document, so versions never collide.
            document_id = await conn.scalar(
                select(documents.c.id)
                .where(
                    documents.c.tenant_id == agent.tenant_id,
                    documents.c.agent_id == agent.agent_id,
                    documents.c.path == path,
                )
                .with_for_update()
            )
            current = await conn.scalar(
                select(func.max(document_versions.c.version)).where(document_versions.c.document_id == document_id)
            )
            await conn.execute(
                insert(document_versions).values(
                    document_id=document_id,
                    version=(current or 0) + 1,
                    content=content,
                    author=author,
                    reason=reason,
                    idempotency_key=idempotency_key,
                )
            )
            row = (
                (await conn.execute(_versions_query(agent).where(document_versions.c.idempotency_key == idempotency_key)))
                .mappings()
                .one()
            )
        return DocumentVersion.model_validate(dict(row))

    async def _versions(self, agent: AgentRef, path: str, *, latest_only: bool) -> list[DocumentVersion]:
        query = _versions_query(agent).where(documents.c.path == path).order_by(document_versions.c.version.desc())
        if latest_only:
            query = query.limit(1)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings()
            return [DocumentVersion.model_validate(dict(r)) for r in rows]


def _versions_query(agent: AgentRef):
    return (
        select(
            document_versions.c.id,
            documents.c.path,
            document_versions.c.version,
            document_versions.c.content,
            document_versions.c.author,
            document_versions.c.reason,
            document_versions.c.created_at,
        )
        .join(documents, documents.c.id == document_versions.c.document_id)
        .where(documents.c.tenant_id == agent.tenant_id, documents.c.agent_id == agent.agent_id)
    )
