"""Documents a tenant feeds in: stored once by content, chunked deterministically, and sent
down both ingestion paths (recall store and knowledge graph) chunk by chunk."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.schema import ingested_documents
from memory.core.validation import InvalidInput, check_storable
from memory.documents.chunking import Chunk, check_document_text, chunk_document


class StoredDocument(BaseModel):
    id: int
    tenant_id: str
    name: str
    sha256: str
    chars: int
    chunks: int
    created_at: datetime


class DocumentLibrary:
    def __init__(self, engine: AsyncEngine, *, chunk_chars: int = 1500, overlap_chars: int = 150):
        self._engine = engine
        self._chunk_chars = chunk_chars
        self._overlap_chars = overlap_chars

    async def store(self, tenant_id: str, name: str, sha256: str, content: str) -> StoredDocument:
        """Store once per (tenant, content): uploading the same file again changes nothing."""
        check_storable("the document name", name)
        if not content.strip():
            raise InvalidInput(f"document {name!r} has no text")
        check_document_text(name, content)
        # The digest is the document's identity here: text stored under another text's digest
        # would make that text's later upload look 'already stored' and vanish.
        actual = hashlib.sha256(content.encode("utf-8")).hexdigest()
        if sha256 != actual:
            raise InvalidInput(
                f"document {name!r}: the sha256 sent with it ({str(sha256)[:64]}) is not the sha256 of its "
                f"UTF-8 text ({actual}); nothing was stored"
            )
        chunks = self.chunk(content)
        key = f"{tenant_id}/document/{sha256}"
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(ingested_documents)
                .values(
                    tenant_id=tenant_id,
                    name=name,
                    sha256=sha256,
                    content=content,
                    chars=len(content),
                    chunks=len(chunks),
                    idempotency_key=key,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
        stored = await self._find(tenant_id, sha256)
        assert stored is not None
        return stored

    async def chunks(self, tenant_id: str, sha256: str, first: int, last: int) -> tuple[StoredDocument, list[Chunk]]:
        stored = await self._find(tenant_id, sha256)
        if stored is None:
            raise LookupError(f"document {sha256[:12]} of tenant {tenant_id} is not stored")
        async with self._engine.connect() as conn:
            content = await conn.scalar(select(ingested_documents.c.content).where(ingested_documents.c.id == stored.id))
        return stored, [c for c in self.chunk(content) if first <= c.index <= last]

    def chunk(self, content: str) -> list[Chunk]:
        return chunk_document(content, max_chars=self._chunk_chars, overlap_chars=self._overlap_chars)

    async def _find(self, tenant_id: str, sha256: str) -> StoredDocument | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        _columns().where(
                            ingested_documents.c.tenant_id == tenant_id, ingested_documents.c.sha256 == sha256
                        )
                    )
                )
                .mappings()
                .first()
            )
        return StoredDocument.model_validate(dict(row)) if row else None


def _columns():
    c = ingested_documents.c
    return select(c.id, c.tenant_id, c.name, c.sha256, c.chars, c.chunks, c.created_at)
