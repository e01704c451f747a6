"""The recall store's per-model HNSW indexes: one partial index per embedding model, whose
predicate names the model as a literal so the fenced search can use it."""

from __future__ import annotations

import asyncio
import hashlib
import re

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.validation import InvalidInput
from memory.embedding.base import EmbeddingModelId

# HNSW indexes vectors of up to this many dimensions (pgvector's limit for the vector type).
HNSW_MAX_DIMENSIONS = 2000


def model_literal(embedding_model: str) -> tuple[str, int]:
    """The model id as a SQL string literal, and its dimension.

    The fenced search names the model as a literal, not a bound parameter: only then can
    the planner prove that the model's partial index covers the query (a generic plan of
    a prepared statement knows nothing of a parameter's value). The id is validated
    against the restricted id grammar first; quotes are doubled all the same.
    """
    parsed = EmbeddingModelId.parse(embedding_model)
    return "'" + embedding_model.replace("'", "''") + "'", parsed.dimension


def index_name(embedding_model: str) -> str:
    """ix_recall_hnsw_<slug>_<short hash>: readable, unique per model, within 63 characters."""
    slug = re.sub(r"[^a-z0-9]+", "_", embedding_model.lower()).strip("_")[:39]
    digest = hashlib.blake2b(embedding_model.encode("utf-8"), digest_size=4).hexdigest()
    return f"ix_recall_hnsw_{slug}_{digest}"


class HnswSettings(BaseModel, frozen=True):
    """The approximate index's shape (m, ef_construction: read when an index is built; an
    existing index keeps the shape it was built with) and its query-time candidate list."""

    # A denser graph than pgvector's default (ef_construction 64): better recall per
    # candidate at query time, paid once at build time.
    m: int = Field(default=16, ge=2, le=100)
    ef_construction: int = Field(default=128, ge=4, le=1000)
    # pgvector's default (40) found about two thirds of the true top 10 at 100,000 rows in
    # the benchmark; a wider list buys recall for a few milliseconds.
    ef_search: int = Field(default=100, ge=1, le=1000)


DEFAULT_HNSW = HnswSettings()


def index_sql(embedding_model: str, hnsw: HnswSettings = DEFAULT_HNSW) -> str:
    literal, dimension = model_literal(embedding_model)
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index_name(embedding_model)} ON recall_embeddings "
        f"USING hnsw ((embedding::vector({dimension})) vector_cosine_ops) "
        f"WITH (m = {hnsw.m}, ef_construction = {hnsw.ef_construction}) "
        f"WHERE embedding_model = {literal}"
    )


async def ensure_index(engine: AsyncEngine, embedding_model: str, hnsw: HnswSettings = DEFAULT_HNSW) -> str:
    """Create the model's partial HNSW index if it is missing; returns its name.

    The untyped column holds vectors of several dimensions; the cast to the model's
    dimension is what makes the model's rows indexable. An index a failed concurrent
    build left invalid is dropped and built again.
    """
    _, dimension = model_literal(embedding_model)
    if dimension > HNSW_MAX_DIMENSIONS:
        raise InvalidInput(
            f"embedding model {embedding_model} has {dimension} dimensions; "
            f"the recall index supports at most {HNSW_MAX_DIMENSIONS}"
        )
    name = index_name(embedding_model)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        # Two first writes (or two workers) building the same index concurrently deadlock:
        # one builds under a session lock while the other waits, then finds it valid. The
        # wait polls: a statement blocked on the lock would hold a snapshot that the
        # concurrent build itself waits for.
        while not await conn.scalar(text("SELECT pg_try_advisory_lock(hashtext(:name))"), {"name": name}):
            await asyncio.sleep(0.2)
        try:
            await _build_index(conn, embedding_model, name, hnsw)
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name})
    return name


async def _build_index(conn, embedding_model: str, name: str, hnsw: HnswSettings) -> None:
    valid = await conn.scalar(
        text(
            "SELECT x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
            "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace"
        ),
        {"name": name},
    )
    if valid is False:
        await conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
    if valid is not True:
        await conn.execute(text(index_sql(embedding_model, hnsw)))
