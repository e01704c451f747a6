"""Looking for marker strings everywhere memory can be: every Postgres table (episode
transcripts decompressed), every Redis key (graph contents included), and the history of
every Temporal workflow started since a point in time."""

from __future__ import annotations

import zlib
from datetime import datetime

import redis.asyncio as redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client


async def postgres_hits(engine: AsyncEngine, markers: list[str]) -> set[tuple[str, str]]:
    found = set()
    async with engine.connect() as conn:
        tables = (
            await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        ).scalars().all()
        for table in tables:
            for marker in markers:
                hit = await conn.scalar(
                    text(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :pattern'), {"pattern": f"%{marker}%"}
                )
                if hit:
                    found.add((table, marker))
        for blob in (await conn.execute(text("SELECT transcript FROM episodes WHERE transcript IS NOT NULL"))).scalars():
            transcript = zlib.decompress(blob).decode()
            found |= {("episodes.transcript", m) for m in markers if m in transcript}
    return found


async def redis_hits(redis_url: str, markers: list[str]) -> set[tuple[str, str]]:
    server = redis.Redis.from_url(redis_url, decode_responses=True)
    found = set()
    try:
        async for key in server.scan_iter(count=1000):
            kind = await server.type(key)
            if kind == "graphdata":
                nodes = await server.execute_command("GRAPH.RO_QUERY", key, "MATCH (n) RETURN properties(n)")
                edges = await server.execute_command("GRAPH.RO_QUERY", key, "MATCH ()-[r]->() RETURN properties(r)")
                content = f"{nodes}{edges}"
            elif kind == "hash":
                content = str(await server.hgetall(key))
            elif kind == "string":
                content = str(await server.get(key))
            elif kind == "stream":
                content = str(await server.xrange(key))
            else:
                content = ""
            found |= {(key, m) for m in markers if m in content or m in key}
    finally:
        await server.aclose()
    return found


async def temporal_hits(client: Client, markers: list[str], since: datetime) -> set[tuple[str, str]]:
    found = set()
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    async for execution in client.list_workflows(f"StartTime >= '{stamp}'"):
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        # The events as the server holds them: payloads are raw bytes in there (base64 in JSON).
        raw = b"".join(event.SerializeToString() for event in history.events)
        found |= {(execution.id, m) for m in markers if m.encode() in raw}
    return found
