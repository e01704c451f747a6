"""Start-up checks: fail with a message that names the missing service and its variable."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from memory.core.config import Settings
from memory.core.db import create_engine


class ServiceUnavailable(RuntimeError):
    pass


async def check_database(settings: Settings) -> None:
    if not settings.database_url:
        raise ServiceUnavailable(
            "DATABASE_URL is not set: it names the Postgres (with pgvector) database of the memory stores, "
            "e.g. postgresql+psycopg://user:password@host:5432/agent_memory. "
            "Or run `python worker.py --dev` to start the embedded stack."
        )
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with asyncio.timeout(10):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as err:
        raise ServiceUnavailable(f"cannot reach Postgres at DATABASE_URL: {type(err).__name__}: {err}") from None
    finally:
        await engine.dispose()


async def check_redis_url(name: str, url: str | None) -> None:
    """Ping a Redis-protocol server (Redis, FalkorDB); the session cache needs one."""
    if not url:
        raise ServiceUnavailable(f"{name} is not set: it names the Redis server of the session-learning cache")
    if not url.startswith(("redis://", "rediss://", "falkor://")):
        raise ServiceUnavailable(f"{name}={url} is not a redis:// or rediss:// address")
    import redis.asyncio as redis

    client = redis.from_url(url.replace("falkor://", "redis://", 1), socket_connect_timeout=5)
    try:
        await client.ping()
    except Exception as err:
        raise ServiceUnavailable(f"cannot reach the server at {name}={url}: {type(err).__name__}: {err}") from None
    finally:
        await client.aclose()


async def check_graph(settings: Settings) -> None:
    """The knowledge graph's database: FalkorDB (falkor://) or Neo4j (bolt://, neo4j://)."""
    url = settings.graph_url
    if not url:
        raise ServiceUnavailable(
            "GRAPH_URL is not set: it names the knowledge graph's database, "
            "falkor://host:6379 (FalkorDB) or bolt://host:7687 (Neo4j, with NEO4J_USER and NEO4J_PASSWORD). "
            "Or run `python worker.py --dev` to start the embedded stack."
        )
    scheme, _, rest = url.partition("://")
    if scheme == "falkor":
        await check_redis_url("GRAPH_URL", url)
        return
    if scheme not in ("bolt", "neo4j", "bolt+s", "neo4j+s"):
        raise ServiceUnavailable(f"GRAPH_URL={url} has an unknown scheme: use falkor://, bolt:// or neo4j://")
    host, _, port = rest.split("/")[0].rpartition("@")[2].partition(":")
    try:
        async with asyncio.timeout(5):
            _, writer = await asyncio.open_connection(host, int(port or 7687))
            writer.close()
            await writer.wait_closed()
    except Exception as err:
        raise ServiceUnavailable(f"cannot reach the graph database at GRAPH_URL={url}: {type(err).__name__}: {err}") from None
