"""Scheduled retention: transcripts past the horizon are cut to their summaries, and recall
rows nobody has retrieved for long are pruned, except an active tenant's.

A run is named by its run_key and may be attempted more than once (a retried activity).
Every batch commits its deletions together with the per-tenant counts in retention_runs,
so an attempt cut short leaves counts that match what it removed, and the next attempt
carries on from there. A finished run leaves a row for tenant "*" (never a tenant id)
holding the totals; asking for that run_key again returns the stored report and touches
nothing, even if a tenant's active flag has changed since.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, computed_field
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from memory.core.schema import recall_embeddings, recall_items, retention_runs, tenants
from memory.core.validation import InvalidInput
from memory.learning.episodic import truncate_batch
from memory.learning.models import MAX_RETENTION_DAYS, RetentionReport, TenantRetention

# The tenant_id of the row that marks a run finished; check_id never admits it for a tenant.
FINISHED = "*"
# A horizon of a century keeps everything; a longer one is a typo, and its cutoff would fall
# before the first representable date.
MAX_RETENTION_DAYS = 36_500


def cutoff(as_of: datetime, days: int, *, what: str) -> datetime:
    """The moment `days` before `as_of`: rows older than it are past the horizon."""
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"{what} retention days must be between 1 and {MAX_RETENTION_DAYS}, got {days}")
    return as_of - timedelta(days=days)


class TenantRetention(BaseModel):
    tenant_id: str
    episodes_truncated: int = 0
    recall_items_pruned: int = 0
    # The tenant is active and had recall rows past the cutoff, which were kept.
    skipped_active: bool = False


class RetentionReport(BaseModel):
    run_key: str
    episode_cutoff: datetime
    recall_cutoff: datetime
    tenants: list[TenantRetention]

    @computed_field
    @property
    def episodes_truncated(self) -> int:
        return sum(t.episodes_truncated for t in self.tenants)

    @computed_field
    @property
    def recall_items_pruned(self) -> int:
        return sum(t.recall_items_pruned for t in self.tenants)

    @computed_field
    @property
    def tenants_skipped_active(self) -> int:
        return sum(t.skipped_active for t in self.tenants)


def _tenant_is_active():
    return (
        select(tenants.c.tenant_id)
        .where(tenants.c.tenant_id == recall_items.c.tenant_id, tenants.c.active.is_(True))
        .exists()
    )


def _unretrieved_since(cutoff: datetime):
    # Never retrieved counts from when it was written.
    return func.coalesce(recall_items.c.last_retrieved_at, recall_items.c.created_at) < cutoff


class Retention:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def run(
        self,
        run_key: str,
        *,
        episode_cutoff: datetime,
        recall_cutoff: datetime,
        batch_size: int = 1000,
        progress: Callable[[str], None] | None = None,
    ) -> RetentionReport:
        """Run retention once per run_key; a repeat returns the finished run's report.

        The cutoffs belong to the run_key: a caller derives both from the same scheduled
        time, so a retry passes the same ones.
        """
        if not run_key or len(run_key) > retention_runs.c.run_key.type.length:
            raise InvalidInput("run_key must be 1-300 characters")
        if episode_cutoff.tzinfo is None or recall_cutoff.tzinfo is None:
            raise InvalidInput("retention cutoffs must carry a time zone")
        if batch_size < 1:
            raise InvalidInput("batch_size must be at least 1")
        say = progress or (lambda _message: None)

        async with self._engine.connect() as conn:
            finished = await conn.scalar(
                select(retention_runs.c.id).where(
                    retention_runs.c.run_key == run_key, retention_runs.c.tenant_id == FINISHED
                )
            )
        if finished is None:
            await self._truncate_episodes(run_key, episode_cutoff, batch_size, say)
            await self._prune_recall(run_key, recall_cutoff, batch_size, say)
            await self._note_skipped_tenants(run_key, recall_cutoff)

        async with self._engine.begin() as conn:
            if finished is None:
                await self._mark_finished(conn, run_key)
            rows = (
                await conn.execute(
                    select(retention_runs)
                    .where(retention_runs.c.run_key == run_key, retention_runs.c.tenant_id != FINISHED)
                    .order_by(retention_runs.c.tenant_id)
                )
            ).mappings()
            per_tenant = [TenantRetention.model_validate(dict(r)) for r in rows]
        return RetentionReport(
            run_key=run_key, episode_cutoff=episode_cutoff, recall_cutoff=recall_cutoff, tenants=per_tenant
        )

    async def _truncate_episodes(
        self, run_key: str, cutoff: datetime, batch_size: int, say: Callable[[str], None]
    ) -> None:
        after_id, total = 0, 0
        while True:
            async with self._engine.begin() as conn:
                cut = await truncate_batch(conn, cutoff, after_id=after_id, limit=batch_size)
                await _count(conn, run_key, "episodes_truncated", Counter(cut.values()))
            if not cut:
                return
            after_id, total = max(cut), total + len(cut)
            say(f"retention {run_key}: {total} episode transcripts truncated")

    async def _prune_recall(self, run_key: str, cutoff: datetime, batch_size: int, say: Callable[[str], None]) -> None:
        # Walking up the ids keeps each batch from rescanning the active tenants' rows
        # that earlier batches left in place.
        after_id, total = 0, 0
        while True:
            async with self._engine.begin() as conn:
                # Locked, so a search cannot stamp one as retrieved while it is deleted.
                due = (
                    (
                        await conn.execute(
                            select(recall_items.c.id)
                            .where(recall_items.c.id > after_id, _unretrieved_since(cutoff), ~_tenant_is_active())
                            .order_by(recall_items.c.id)
                            .limit(batch_size)
                            .with_for_update(of=recall_items)
                        )
                    )
                    .scalars()
                    .all()
                )
                if not due:
                    return
                # Vectors first: they reference their item.
                await conn.execute(delete(recall_embeddings).where(recall_embeddings.c.item_id.in_(due)))
                pruned = await conn.execute(
                    delete(recall_items).where(recall_items.c.id.in_(due)).returning(recall_items.c.tenant_id)
                )
                counts = Counter(tenant_id for (tenant_id,) in pruned)
                await _count(conn, run_key, "recall_items_pruned", counts)
            after_id, total = max(due), total + counts.total()
            say(f"retention {run_key}: {total} recall items pruned")

    async def _note_skipped_tenants(self, run_key: str, cutoff: datetime) -> None:
        async with self._engine.begin() as conn:
            skipped = (
                (
                    await conn.execute(
                        select(recall_items.c.tenant_id)
                        .distinct()
                        .where(_unretrieved_since(cutoff), _tenant_is_active())
                    )
                )
                .scalars()
                .all()
            )
            if skipped:
                statement = insert(retention_runs).values(
                    [{"run_key": run_key, "tenant_id": t, "skipped_active": True} for t in skipped]
                )
                await conn.execute(
                    statement.on_conflict_do_update(
                        constraint="uq_retention_runs_run_tenant", set_={"skipped_active": True}
                    )
                )

    async def _mark_finished(self, conn: AsyncConnection, run_key: str) -> None:
        totals = (
            await conn.execute(
                select(
                    func.coalesce(func.sum(retention_runs.c.episodes_truncated), 0),
                    func.coalesce(func.sum(retention_runs.c.recall_items_pruned), 0),
                ).where(retention_runs.c.run_key == run_key, retention_runs.c.tenant_id != FINISHED)
            )
        ).one()
        await conn.execute(
            insert(retention_runs)
            .values(
                run_key=run_key,
                tenant_id=FINISHED,
                episodes_truncated=int(totals[0]),
                recall_items_pruned=int(totals[1]),
            )
            .on_conflict_do_nothing(constraint="uq_retention_runs_run_tenant")
        )


async def _count(conn: AsyncConnection, run_key: str, column: str, counts: Counter[str]) -> None:
    """Add a batch's per-tenant counts to the run's rows, in the batch's own transaction."""
    if not counts:
        return
    statement = insert(retention_runs).values(
        [{"run_key": run_key, "tenant_id": tenant_id, column: n} for tenant_id, n in sorted(counts.items())]
    )
    await conn.execute(
        statement.on_conflict_do_update(
            constraint="uq_retention_runs_run_tenant",
            set_={column: retention_runs.c[column] + statement.excluded[column]},
        )
    )
