"""Forgetting in the stores: survey first, then erase each layer from the survey.

Each erase is idempotent (a rerun finds less, or nothing, and deletes that), so a forget
killed at any point finishes when run again; the counts it reports are the survey's.
Temporal's executions are erased by the activity layer (activities/forget.py), which has
the client; the data key by memory/forget/data_keys.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.archive.files import ArchiveDirectory
from memory.core.schema import forget_runs
from memory.forget.cache import CacheEraser
from memory.forget.models import ForgetAudit, ForgetScope, ForgetSurvey
from memory.forget.postgres import PostgresEraser
from memory.graph.graphiti_store import GraphMemory
from memory.graph.service import group_of


class MemoryEraser:
    def __init__(self, engine: AsyncEngine, graph: GraphMemory, redis_url: str, archives: ArchiveDirectory):
        self._engine = engine
        self.postgres = PostgresEraser(engine)
        self.graph = graph
        self.cache = CacheEraser(redis_url)
        self.archives = archives

    async def survey(self, scope: ForgetScope) -> ForgetSurvey:
        threads = await self.postgres.threads_of(scope)
        if scope.user_id is None:
            groups = await self.postgres.tenant_groups(scope.tenant_id)
        else:
            groups = [group_of(scope.tenant_id, scope.user_id)]
        counts = await self.postgres.count(scope, threads, groups)
        nodes = edges = 0
        for group in groups:
            size = await self.graph.group_size(group)
            nodes, edges = nodes + size.nodes, edges + size.edges
        counts["graph.nodes"], counts["graph.edges"] = nodes, edges
        counts["redis.keys"] = len(await self.cache.keys(scope, threads))
        counts["archive.files"] = len(await asyncio.to_thread(self.archives.holding, scope.tenant_id, scope.user_id))
        return ForgetSurvey(
            scope=scope, threads=threads, graph_groups=groups, counts=counts, surveyed_at=datetime.now(UTC)
        )

    async def erase_graph(self, survey: ForgetSurvey) -> None:
        for group in survey.graph_groups:
            await self.graph.erase_group(group)

    async def erase_cache(self, survey: ForgetSurvey) -> None:
        await self.cache.erase(survey.scope, survey.threads)

    async def erase_stores(self, survey: ForgetSurvey) -> None:
        await self.postgres.erase(survey.scope, survey.threads, survey.graph_groups)
        # Exported and uploaded archives are copies of the same memory.
        await asyncio.to_thread(self.archives.erase, survey.scope.tenant_id, survey.scope.user_id)

    async def record(self, audit: ForgetAudit) -> None:
        """The audit row: who asked, when, the scope and the counts; once per forget."""
        values = dict(
            forget_key=audit.forget_key,
            tenant_id=audit.scope.tenant_id,
            user_id=audit.scope.user_id,
            operator=audit.operator,
            reason=audit.reason,
            counts=audit.counts,
            requested_at=audit.requested_at,
        )
        async with self._engine.begin() as conn:
            await conn.execute(insert(forget_runs).values(**values).on_conflict_do_nothing(index_elements=["forget_key"]))
            await conn.execute(
                update(forget_runs)
                .where(forget_runs.c.forget_key == audit.forget_key, forget_runs.c.finished_at.is_(None))
                .values(finished_at=datetime.now(UTC))
            )

    async def close(self) -> None:
        await self.cache.close()
