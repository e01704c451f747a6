"""The graph's ingestion queue, in Postgres: one group's episodes go into the graph one at
a time, in the order they were queued, whichever worker picks them up.

A caller queues its episode (once per idempotency key), then drains the group's queue up
to and including it. Draining holds a transaction-level Postgres advisory lock on the
group, so two workers never ingest into one group at once; the lock ends with its
transaction, so a worker that dies or is cancelled mid-episode releases it. An episode queued earlier but still waiting (its own caller
is backing off) is ingested first by whoever drains next: order beats ownership.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Awaitable, Callable

from pydantic import BaseModel
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.schema import graph_episodes
from memory.graph import GraphEpisode, GraphIngestFailed, IngestOutcome, episode_uuid

PENDING, INGESTED, FAILED = "pending", "ingested", "failed"


class QueuedEpisode(BaseModel):
    id: int
    tenant_id: str
    group_id: str
    episode_uuid: str
    source: str
    source_description: str
    name: str
    body: str
    reference_time: datetime
    status: str
    error: str | None
    result: dict[str, Any] | None
    idempotency_key: str

    def as_graph_episode(self) -> GraphEpisode:
        return GraphEpisode(
            uuid=self.episode_uuid,
            group_id=self.group_id,
            name=self.name,
            body=self.body,
            source=self.source,
            source_description=self.source_description,
            reference_time=self.reference_time,
        )


Ingest = Callable[[QueuedEpisode], Awaitable[IngestOutcome]]


class EpisodeQueue:
    def __init__(self, engine: AsyncEngine, *, lock_poll_seconds: float = 0.2):
        self._engine = engine
        self._lock_poll_seconds = lock_poll_seconds

    async def groups(self, tenant_id: str) -> list[str]:
        """Every group the tenant ever queued an episode for, sorted (its users' groups among them)."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(graph_episodes.c.group_id).where(graph_episodes.c.tenant_id == tenant_id).distinct()
            )
            return sorted(group for (group,) in rows)

    async def find(self, idempotency_key: str) -> QueuedEpisode | None:
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(select(graph_episodes).where(graph_episodes.c.idempotency_key == idempotency_key)))
                .mappings()
                .first()
            )
        return QueuedEpisode.model_validate(dict(row)) if row else None

    async def get(self, episode_id: int) -> QueuedEpisode:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(graph_episodes).where(graph_episodes.c.id == episode_id))).mappings().one()
        return QueuedEpisode.model_validate(dict(row))

    async def enqueue(
        self,
        *,
        tenant_id: str,
        group_id: str,
        idempotency_key: str,
        source: str,
        source_description: str,
        name: str,
        body: str,
        reference_time: datetime,
    ) -> QueuedEpisode:
        """Queue once per key; the episode's graph uuid is derived from the key."""
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(graph_episodes)
                .values(
                    tenant_id=tenant_id,
                    group_id=group_id,
                    episode_uuid=episode_uuid(idempotency_key),
                    source=source,
                    source_description=source_description,
                    name=name[:300],
                    body=body,
                    reference_time=reference_time,
                    idempotency_key=idempotency_key,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
        found = await self.find(idempotency_key)
        assert found is not None
        return found

    async def drain_through(self, group_id: str, episode_id: int, ingest: Ingest) -> QueuedEpisode:
        """Ingest the group's pending episodes up to episode_id, oldest first; return that episode.

        A GraphIngestFailed marks its episode failed (recorded, not retried) and the queue
        moves on; any other error leaves the episode pending for the next attempt.
        """
        async with self._engine.connect() as lock_conn:
            lock = text("SELECT pg_try_advisory_xact_lock(hashtext(:g))")
            while not await lock_conn.scalar(lock, {"g": _lock_key(group_id)}):
                await lock_conn.rollback()
                await asyncio.sleep(self._lock_poll_seconds)
            while (next_episode := await self._next_pending(group_id, episode_id)) is not None:
                try:
                    outcome = await ingest(next_episode)
                except GraphIngestFailed as err:
                    await self._finish(next_episode.id, FAILED, error=str(err))
                else:
                    await self._finish(
                        next_episode.id, INGESTED, result=outcome.model_dump(mode="json", exclude={"calls"})
                    )
            # Leaving the block rolls the lock's transaction back, which releases the lock.
        return await self.get(episode_id)

    async def descriptions(self, tenant_id: str, uuids: list[str]) -> dict[str, str]:
        """Episode uuid -> where it came from, for provenance in the manifest."""
        if not uuids:
            return {}
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(graph_episodes.c.episode_uuid, graph_episodes.c.source_description).where(
                    graph_episodes.c.tenant_id == tenant_id, graph_episodes.c.episode_uuid.in_(uuids)
                )
            )
            return {uuid: description for uuid, description in rows}

    async def counts(self, tenant_id: str) -> dict[str, int]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(graph_episodes.c.status, func.count())
                .where(graph_episodes.c.tenant_id == tenant_id)
                .group_by(graph_episodes.c.status)
            )
            return {status: count for status, count in rows}

    async def _next_pending(self, group_id: str, through_id: int) -> QueuedEpisode | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(graph_episodes)
                        .where(
                            graph_episodes.c.group_id == group_id,
                            graph_episodes.c.status == PENDING,
                            graph_episodes.c.id <= through_id,
                        )
                        .order_by(graph_episodes.c.id)
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
        return QueuedEpisode.model_validate(dict(row)) if row else None

    async def _finish(self, episode_id: int, status: str, *, error: str | None = None, result: dict | None = None) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(graph_episodes)
                .where(graph_episodes.c.id == episode_id, graph_episodes.c.status == PENDING)
                .values(status=status, error=error, result=result, ingested_at=func.now())
            )


def _lock_key(group_id: str) -> str:
    return f"graph-group:{group_id}"
