"""One-step changes to a tenant's embedding fence after a migration: roll back to the old
model (its vectors are still there), or clean up a model's vectors for good."""

from __future__ import annotations

from temporalio import workflow

from contract.names import EMBEDDING_FENCE_WORKFLOW

with workflow.unsafe.imports_passed_through():
    # Passed through: one class of each model, inside the sandbox and out (the activities see the same).
    from activities.migration import MigrationActivities
    from activities.migration_models import FenceChangeInput
    from contract.migration import FenceChange
    from workflows.options import MEMORY_IO


@workflow.defn(name=EMBEDDING_FENCE_WORKFLOW)
class EmbeddingFenceWorkflow:
    @workflow.run
    async def run(self, change: FenceChange) -> str:
        request = FenceChangeInput(tenant_id=change.tenant_id, model=change.model)
        if change.action == "rollback":
            await workflow.execute_activity_method(
                MigrationActivities.rollback,
                request,
                summary=f"fence: roll {change.tenant_id} back to {change.model}",
                **MEMORY_IO,
            )
            return f"tenant {change.tenant_id} is back on {change.model}"
        deleted = await workflow.execute_activity_method(
            MigrationActivities.cleanup,
            request,
            summary=f"recall: delete {change.model} vectors of {change.tenant_id}",
            **MEMORY_IO,
        )
        return f"deleted {deleted} {change.model} vectors of tenant {change.tenant_id}"
