"""What every store holds, as counts: rows per Postgres table, nodes per graph, and the
Redis keys that are not graphs. Two snapshots that compare equal mean nothing was written.

Counting means something only once background work has stopped: `ChildWorkflows` notes the
child workflows a worker's workflows start (a turn's knowledge ingestion, its reflection),
so a test can wait for them before it counts.
"""

from __future__ import annotations

import redis.asyncio as redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import workflow
from temporalio.worker import (
    Interceptor,
    StartChildWorkflowInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

# Its own name: tests.conftest.running_worker registers a recorder of its own under another.
_EXTERN = "store_counts_child_started"


class ChildWorkflows(Interceptor):
    """The ids of every child workflow started by the worker this is installed in."""

    def __init__(self) -> None:
        self.started: set[str] = set()

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[_EXTERN] = self.started.add
        return _Inbound


class _Inbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))


class _Outbound(WorkflowOutboundInterceptor):
    async def start_child_workflow(self, input: StartChildWorkflowInput):
        workflow.extern_functions()[_EXTERN](input.id)
        return await super().start_child_workflow(input)


async def table_rows(engine: AsyncEngine) -> dict[str, int]:
    """Rows in every table of the public schema (the Alembic version table included)."""
    async with engine.connect() as conn:
        tables = (
            await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))
        ).scalars().all()
        return {table: await conn.scalar(text(f'SELECT count(*) FROM "{table}"')) for table in tables}


async def redis_contents(server: redis.Redis) -> tuple[dict[str, int], dict[str, str]]:
    """Nodes in every FalkorDB graph on the server by graph key, and every other key with its
    type, but for FalkorDB's own query telemetry (`telemetry{<graph>}` streams), which the
    server adds by itself some time after a graph is queried."""
    keys = [key async for key in server.scan_iter(count=1000) if not key.startswith("telemetry{")]
    async with server.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.type(key)
        types = dict(zip(keys, await pipe.execute()))
    graphs = sorted(key for key, kind in types.items() if kind == "graphdata")
    async with server.pipeline(transaction=False) as pipe:
        for key in graphs:
            pipe.execute_command("GRAPH.RO_QUERY", key, "MATCH (n) RETURN count(n)")
        replies = await pipe.execute()
    nodes = {key: reply[1][0][0] for key, reply in zip(graphs, replies)}
    return nodes, {key: kind for key, kind in types.items() if kind != "graphdata"}


async def snapshot(engine: AsyncEngine, redis_url: str) -> dict[str, dict]:
    server = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        nodes, others = await redis_contents(server)
    finally:
        await server.aclose()
    return {"postgres rows": await table_rows(engine), "graph nodes": nodes, "other redis keys": others}


def changes(before: dict[str, dict], after: dict[str, dict]) -> dict[str, dict]:
    """What differs between two snapshots, as (before, after) per table, graph or key."""
    diff = {}
    for part, old in before.items():
        new = after[part]
        moved = {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
        if moved:
            diff[part] = moved
    return diff
