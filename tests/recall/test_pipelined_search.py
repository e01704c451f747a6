"""The recall search's statements go to Postgres as one batch, on a pooled connection that
SQLAlchemy does not see using: a connection the server closed must fail that one search
and never go back to the pool."""

from __future__ import annotations

import psycopg
import pytest

from memory.core.db import create_engine
from memory.core.refs import AgentRef
from memory.recall.fenced_search import driver_sql, pipelined_reads, read_pipelined
from memory.recall.search import FusionSettings
from memory.recall.store import RecallStore

MODEL = "offline/hashed-ngrams/256"


def test_named_parameters_become_psycopg_ones_and_casts_stay():
    sql = "SELECT CAST(:query AS vector(4)), x::text, 'a%b' FROM t WHERE id = :id_1"
    assert driver_sql(sql) == "SELECT CAST(%(query)s AS vector(4)), x::text, 'a%%b' FROM t WHERE id = %(id_1)s"


async def test_a_search_on_a_connection_the_server_closed_fails_once_then_the_pool_heals(database_url):
    engine = create_engine(database_url, pool_size=1)
    store = RecallStore(engine)
    agent = AgentRef(tenant_id="pipelined", agent_id="a")

    async def search():
        return await store.hybrid_search(
            agent, query="refund order", query_embedding=[0.5] * 256, embedding_model=MODEL, limit=3,
            min_score=-1.0, fusion=FusionSettings(), stamp_retrieved=False,
        )

    try:
        assert await search() == []
        [[row]] = await read_pipelined(engine, [("SELECT pg_backend_pid() AS pid", {})])
        async with await psycopg.AsyncConnection.connect(database_url.replace("+psycopg", ""), autocommit=True) as admin:
            await admin.execute("SELECT pg_terminate_backend(%s)", (row["pid"],))

        with pytest.raises(psycopg.OperationalError):
            await search()
        # The closed connection was dropped, not pooled: the next search (a retry) answers.
        assert await search() == []
        [[again]] = await read_pipelined(engine, [("SELECT pg_backend_pid() AS pid", {})])
        assert again["pid"] != row["pid"]
    finally:
        await engine.dispose()


async def test_a_hybrid_search_reads_its_chosen_items_in_the_transaction_its_legs_ran_in(database_url):
    """The legs rank ids; the items are read after fusion, in a second batch on the same
    connection and in the same transaction: one checkout per search, one commit."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with pipelined_reads(engine) as read:
            [[first]] = await read([("SELECT txid_current() AS tx, pg_backend_pid() AS pid", {})])
            [[second]] = await read([("SELECT txid_current() AS tx, pg_backend_pid() AS pid", {})])
        assert second == first
        [[after]] = await read_pipelined(engine, [("SELECT txid_current() AS tx", {})])
        assert after["tx"] != first["tx"]  # committed at the block's end
    finally:
        await engine.dispose()
