"""The fenced vector search, and how a search's statements reach Postgres in one round trip.

A turn's recall read is a handful of statements (the per-transaction search settings, the
vector leg, the lexical leg) whose parameters are all known up front. Sent one by one, each
costs a network round trip and the BEGIN and COMMIT two more; on a small machine those waits
and the client's own work per statement cost more than the search itself. Here they go out
together in psycopg's pipeline mode: BEGIN, the settings, every leg, COMMIT, then one sync.

A hybrid search's legs return ids and scores only. The texts and the rest of each item are
read once the legs are fused, for the few items that made it (a second batch on the same
connection and transaction): a turn's legs bring up to 200 candidates, and reading and
decoding every one's text cost more than the extra round trip.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.recall.hnsw import model_literal

# Per transaction, never per pooled session: other users of the connection see the defaults.
# Iterative scan: the tenant filter must not starve the index scan of rows, so the scan goes
# on past ef_search candidates until LIMIT is met. ef_search is the candidate list per scan.
SEARCH_SETTINGS_SQL = (
    "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
    " set_config('hnsw.ef_search', :ef_search, true)"
)


@functools.lru_cache(maxsize=128)
def search_sql(embedding_model: str, *, with_items: bool = True) -> str:
    """The fenced search for one model, as the planner can match it to the model's index.

    The model is a literal, and the distance uses the same cast expression as the index.
    The nearest rows are taken in a materialized CTE and sorted again, because an iterative
    index scan in relaxed order may return them slightly out of order. The CTE carries only
    ids and distances: the texts are read for the rows that made the cut, not for every
    row of the tenant an exact scan looks at. with_items=False returns the ids and scores
    alone, for a hybrid search's leg: it reads the items (DETAILS_SQL) once the legs are
    fused, for the few it returns, not for each leg's hundred candidates.
    """
    literal, dimension = model_literal(embedding_model)
    return f"""
    WITH nearest AS MATERIALIZED (
        SELECT e.item_id, e.embedding::vector({dimension}) <=> CAST(:query AS vector({dimension})) AS distance
        FROM recall_embeddings e
        JOIN recall_items i ON i.id = e.item_id
        WHERE e.tenant_id = :tenant_id
          AND e.embedding_model = {literal}
          AND i.tenant_id = :tenant_id
          AND (
            (i.source_type = 'exchange' AND i.agent_id = :agent_id AND i.thread_id <> :exclude_thread_id
           AND (i.user_id IS NULL OR i.user_id = :user_id))
            OR i.source_type = 'document'
          )
        ORDER BY distance
        LIMIT :limit
    )
    SELECT {_ITEM_COLUMNS if with_items else "n.item_id AS id"}, 1 - n.distance AS score
    FROM nearest n
    {"JOIN recall_items i ON i.id = n.item_id" if with_items else ""}
    ORDER BY n.distance
    """


_ITEM_COLUMNS = (
    "i.id, i.tenant_id, i.agent_id, i.thread_id, i.source_type, i.source_name, i.chunk_index, i.text, "
    "i.created_at, i.occurred_at"
)


# The items a search returns, once its legs have chosen them; the tenant is checked again.
DETAILS_SQL = f"SELECT {_ITEM_COLUMNS} FROM recall_items i WHERE i.tenant_id = :tenant_id AND i.id = ANY(:ids)"


def vector_text(vector: Sequence[float]) -> str:
    """A vector as pgvector's text input, the form the search casts from."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


# Each search's SQL is one of a few texts per model: translated once, not per query.
@functools.lru_cache(maxsize=256)
def driver_sql(sql: str) -> str:
    """SQL written with SQLAlchemy's :name parameters, in psycopg's %(name)s form (casts such
    as ::vector stay as they are)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


Rows = list[dict[str, Any]]
Statement = tuple[str, dict[str, Any]]


async def read_pipelined(engine: AsyncEngine, statements: Sequence[Statement]) -> list[Rows]:
    """Each statement's rows, all run in one read transaction sent as one batch, COMMIT
    included: one round trip."""
    async with _pooled_driver(engine) as driver:
        async with driver.pipeline(), driver.transaction():
            cursors = await _send(driver, statements)
        return await _rows(cursors)


@contextlib.asynccontextmanager
async def pipelined_reads(engine: AsyncEngine) -> AsyncIterator[Callable[[Sequence[Statement]], Awaitable[list[Rows]]]]:
    """A read transaction on one pooled connection, in which each call runs a batch of
    statements in one round trip and returns each statement's rows (the COMMIT at the end
    is one more)."""
    async with _pooled_driver(engine) as driver:
        async with driver.pipeline() as pipeline, driver.transaction():

            async def read(statements: Sequence[Statement]) -> list[Rows]:
                cursors = await _send(driver, statements)
                await pipeline.sync()  # the batch goes out and every result comes back
                return await _rows(cursors)

            yield read


@contextlib.asynccontextmanager
async def _pooled_driver(engine: AsyncEngine) -> AsyncIterator[psycopg.AsyncConnection]:
    """The psycopg connection under one of the engine's pooled connections: SQLAlchemy's
    execute has no pipeline mode. Transactions on it are psycopg's own, and SQLAlchemy sees
    none. A connection the server closed fails its first statement; the pool's rollback on
    its return then fails too and SQLAlchemy drops it, so a retry takes a fresh one."""
    async with engine.connect() as conn:
        yield (await conn.get_raw_connection()).driver_connection


async def _send(driver: psycopg.AsyncConnection, statements: Sequence[Statement]) -> list[psycopg.AsyncCursor]:
    """Queue each statement, unprepared.

    Statements run unprepared: psycopg would prepare a statement it has seen five times, and
    Postgres may then settle on a generic plan that knows nothing of the tenant's row count
    (for a tenant of 1k rows beside a larger one it took 23-76 ms where
    the tenant's own plan scans its rows exactly in ~4 ms: bench/recall_plans.py).
    """
    cursors = []
    for sql, params in statements:
        cursor = driver.cursor(row_factory=dict_row)
        await cursor.execute(driver_sql(sql), params, prepare=False)
        cursors.append(cursor)
    return cursors


async def _rows(cursors: list[psycopg.AsyncCursor]) -> list[Rows]:
    return [await cursor.fetchall() if cursor.description else [] for cursor in cursors]
