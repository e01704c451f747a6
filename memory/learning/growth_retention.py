"""Retention for the tables that would otherwise only grow, as part of a retention run.

Every turn adds rows to turn_requests, turns, tool_calls and usage_ledger; every ingestion
to ingestion_decisions and graph_episodes; every sampled cache hit to session_cache_audit;
every command a scratch directory; every notebook note a full-text version. Any user can
drive all of these, so each has a horizon (GrowthHorizons) after which rows are removed in
batches, each batch committed with its per-tenant count in retention_runs.pruned, so a
retried run neither double-counts nor misses a row.

Removing a row also removes what it guaranteed: a resend of a message whose turn_requests
row is gone runs the message again, so that horizon is the documented resend window.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Integer, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from memory.core.schema import (
    document_versions,
    documents,
    graph_episodes,
    ingestion_decisions,
    retention_runs,
    session_cache_audit,
    tool_calls,
    turn_requests,
    turns,
    usage_ledger,
)
from memory.learning.models import GrowthHorizons

# What a compacted version holds instead of its text; its row (author, reason, time) stays.
COMPACTED = "(compacted by retention: the text of this version is no longer kept)"


@dataclass(frozen=True)
class _Growing:
    table: Table
    # The moment a row's age counts from, and which rows may go at all.
    age: Callable[[], object]
    removable: Callable[[], list]


_GROWING = {
    # A turn still running keeps its row: the thread is waiting for its answer.
    "turn_requests": _Growing(
        turn_requests,
        lambda: func.coalesce(turn_requests.c.finished_at, turn_requests.c.created_at),
        lambda: [turn_requests.c.status != "running"],
    ),
    "turns": _Growing(turns, lambda: turns.c.created_at, lambda: []),
    "tool_calls": _Growing(tool_calls, lambda: tool_calls.c.created_at, lambda: []),
    "usage_ledger": _Growing(usage_ledger, lambda: usage_ledger.c.created_at, lambda: []),
    "ingestion_decisions": _Growing(ingestion_decisions, lambda: ingestion_decisions.c.created_at, lambda: []),
    "session_cache_audit": _Growing(session_cache_audit, lambda: session_cache_audit.c.created_at, lambda: []),
    # A queued episode keeps its row until the graph has taken it.
    "graph_episodes": _Growing(
        graph_episodes,
        lambda: func.coalesce(graph_episodes.c.ingested_at, graph_episodes.c.created_at),
        lambda: [graph_episodes.c.status != "pending"],
    ),
}


class GrowthRetention:
    def __init__(self, engine: AsyncEngine, *, scratch_root: Path | None = None):
        self._engine = engine
        self._scratch_root = scratch_root

    async def run(
        self, run_key: str, horizons: GrowthHorizons, *, batch_size: int, say: Callable[[str], None]
    ) -> None:
        for name, growing in _GROWING.items():
            cutoff = getattr(horizons, name)
            if cutoff is not None:
                await self._prune(run_key, name, growing, cutoff, batch_size, say)
        if horizons.document_versions_kept is not None:
            await self._compact_versions(run_key, horizons.document_versions_kept, batch_size, say)
        if horizons.scratch_directories is not None and self._scratch_root is not None:
            removed = await asyncio.to_thread(_remove_idle_scratch, self._scratch_root, horizons.scratch_directories)
            async with self._engine.begin() as conn:
                await count_pruned(conn, run_key, "scratch_directories", removed)
            say(f"retention {run_key}: {removed.total()} idle scratch directories removed")

    async def _prune(
        self, run_key: str, name: str, growing: _Growing, cutoff: datetime, batch_size: int, say: Callable[[str], None]
    ) -> None:
        table, total = growing.table, 0
        while True:
            async with self._engine.begin() as conn:
                due = (
                    select(table.c.id)
                    .where(growing.age() < cutoff, *growing.removable())
                    .order_by(table.c.id)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
                removed = await conn.execute(delete(table).where(table.c.id.in_(due)).returning(table.c.tenant_id))
                counts = Counter(tenant_id for (tenant_id,) in removed)
                await count_pruned(conn, run_key, name, counts)
            if not counts:
                return
            total += counts.total()
            say(f"retention {run_key}: {total} {name} rows removed")

    async def _compact_versions(self, run_key: str, kept: int, batch_size: int, say: Callable[[str], None]) -> None:
        # Compacted versions are always a document's oldest, so leaving them out of the
        # ranking still ranks the rest from the newest.
        ranked = (
            select(
                document_versions.c.id,
                documents.c.tenant_id,
                func.row_number()
                .over(partition_by=document_versions.c.document_id, order_by=document_versions.c.version.desc())
                .label("rank"),
            )
            .join(documents, documents.c.id == document_versions.c.document_id)
            .where(document_versions.c.content != COMPACTED)
            .subquery()
        )
        total = 0
        while True:
            async with self._engine.begin() as conn:
                due = (
                    await conn.execute(
                        select(ranked.c.id, ranked.c.tenant_id).where(ranked.c.rank > kept).order_by(ranked.c.id).limit(batch_size)
                    )
                ).all()
                if not due:
                    return
                await conn.execute(
                    update(document_versions)
                    .where(document_versions.c.id.in_([row.id for row in due]))
                    .values(content=COMPACTED)
                )
                counts = Counter(row.tenant_id for row in due)
                await count_pruned(conn, run_key, "document_versions_compacted", counts)
            total += counts.total()
            say(f"retention {run_key}: {total} document versions compacted")


async def count_pruned(conn: AsyncConnection, run_key: str, what: str, counts: Counter[str]) -> None:
    """Add a batch's per-tenant counts to retention_runs.pruned[what], in the batch's transaction."""
    for tenant_id, n in sorted(counts.items()):
        statement = insert(retention_runs).values(run_key=run_key, tenant_id=tenant_id, pruned={what: n})
        before = func.coalesce(retention_runs.c.pruned[what].astext.cast(Integer), 0)
        await conn.execute(
            statement.on_conflict_do_update(
                constraint="uq_retention_runs_run_tenant",
                set_={"pruned": retention_runs.c.pruned.op("||")(func.jsonb_build_object(what, before + n))},
            )
        )


def _remove_idle_scratch(root: Path, cutoff: datetime) -> Counter[str]:
    """Remove each tenant/agent/thread scratch directory nothing in which changed since the
    cutoff; counts per tenant. Symbolic links are removed as links, never followed."""
    removed: Counter[str] = Counter()
    if not root.is_dir():
        return removed
    limit = cutoff.timestamp()
    for tenant in _subdirs(root):
        for agent in _subdirs(tenant):
            for thread in _subdirs(agent):
                if _newest_change(thread) < limit:
                    shutil.rmtree(thread, ignore_errors=True)
                    removed[tenant.name] += 1
    return removed


def _subdirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink())


def _newest_change(directory: Path) -> float:
    newest = directory.lstat().st_mtime
    for parent, dirs, files in os.walk(directory, followlinks=False):
        for name in (*dirs, *files):
            try:
                newest = max(newest, os.lstat(os.path.join(parent, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest
