"""Migration activities: plan, index, embed a batch, verify, switch; thin over memory/migration."""

from __future__ import annotations

from temporalio import activity

from activities.heartbeat import heartbeating
from activities.migration_models import (
    EmbedBatchInput,
    FenceChangeInput,
    GraphBatchInput,
    GraphBatchResult,
    NextBatchInput,
    PlanInput,
    SwitchInput,
)
from memory.core.metrics import MIGRATION_ROWS_DONE, MIGRATION_ROWS_TOTAL
from memory.embedding.migration import (
    BatchBounds,
    BatchResult,
    MigrationPlan,
    VerifyReport,
)
from memory.runtime import MemoryRuntime


class MigrationActivities:
    def __init__(self, runtime: MemoryRuntime):
        self._rt = runtime

    @activity.defn(name="migration_plan")
    async def plan(self, request: PlanInput) -> MigrationPlan:
        plan = await self._rt.migration.plan(request.tenant_id, request.to_model)
        MIGRATION_ROWS_TOTAL.labels(tenant=plan.tenant_id).set(plan.total_rows)
        MIGRATION_ROWS_DONE.labels(tenant=plan.tenant_id).set(0)
        return plan

    @activity.defn(name="migration_ensure_index")
    async def ensure_index(self, model: str) -> str:
        async with heartbeating(5.0, f"index for {model}"):
            return await self._rt.migration.ensure_index(model)

    @activity.defn(name="migration_next_batch")
    async def next_batch(self, request: NextBatchInput) -> BatchBounds | None:
        return await self._rt.migration.next_batch(request.tenant_id, after_id=request.after_id, size=request.size)

    @activity.defn(name="migration_embed_batch")
    async def embed_batch(self, request: EmbedBatchInput) -> BatchResult:
        async with heartbeating(2.0, f"rows {request.first_id}-{request.last_id}"):
            result = await self._rt.migration.embed_batch(
                request.tenant_id, request.to_model, request.first_id, request.last_id
            )
        # Rows embedded by this attempt only: a retried batch embeds (and counts) nothing.
        MIGRATION_ROWS_DONE.labels(tenant=request.tenant_id).inc(result.embedded)
        return result

    @activity.defn(name="migration_graph_batch")
    async def graph_batch(self, request: GraphBatchInput) -> GraphBatchResult:
        async with heartbeating(2.0, f"graph after {request.after or 'start'}"):
            batch = await self._rt.knowledge.reembed_graph_batch(
                request.tenant_id, request.to_model, after=request.after, limit=request.limit
            )
        return GraphBatchResult(items=batch.entities + batch.facts, last_key=batch.last_key)

    @activity.defn(name="migration_verify")
    async def verify(self, request: PlanInput) -> VerifyReport:
        return await self._rt.migration.verify(request.tenant_id, request.to_model)

    @activity.defn(name="migration_switch")
    async def switch(self, request: SwitchInput) -> bool:
        """Promote the graph's new vectors, then flip the tenant's fence; True if this call flipped it."""
        await self._rt.knowledge.promote_graph(request.tenant_id, request.to_model)
        return await self._rt.migration.switch(request.tenant_id, request.from_model, request.to_model)

    @activity.defn(name="migration_rollback")
    async def rollback(self, request: FenceChangeInput) -> None:
        """Every check first: the graph is re-embedded and promoted only for a rollback that
        goes ahead, before the fence moves (a retry after a crash in between finds the fence
        still to move, and the graph's promote already done)."""
        if not await self._rt.migration.check_rollback(request.tenant_id, request.model):
            return
        await self._rt.knowledge.promote_graph(request.tenant_id, request.model)
        await self._rt.migration.rollback(request.tenant_id, request.model)

    @activity.defn(name="migration_cleanup")
    async def cleanup(self, request: FenceChangeInput) -> int:
        return await self._rt.migration.cleanup(request.tenant_id, request.model)
