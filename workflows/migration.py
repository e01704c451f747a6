"""Re-embed one tenant's memory with a new embedding model, then move its fence.

Every query keeps using the tenant's current model until the very end: new vectors are
written beside the old ones (recall store) or into shadow properties (graph), checked,
and only then does one compare-and-set switch the fence. Old vectors stay until an
explicit cleanup, so a rollback is one command.

Batches are acknowledged activities keyed by their bounds; the workflow keeps only a
watermark, so a worker killed mid-batch resumes at the last acknowledged batch. It
continues as new every `batches_per_run` batches. A provider outage that outlasts the
retries pauses the migration with its reason instead of failing it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.migration import MigrationActivities
    from activities.migration_models import (
        EmbedBatchInput,
        GraphBatchInput,
        NextBatchInput,
        PlanInput,
        SwitchInput,
    )
    from contract.migration import (
        MigrationProgress,
        MigrationRequest,
        MigrationResult,
        MigrationStart,
        MigrationState,
    )
    from contract.search_attributes import MIGRATION_STATE
    from workflows.options import MEMORY_IO

# Embedding batches: a few retries with backoff, then the workflow pauses itself.
EMBED_BATCH = dict(
    start_to_close_timeout=timedelta(minutes=5),
    # Short, so a batch on a dead worker is retried elsewhere within seconds.
    heartbeat_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=5
    ),
)
INDEX_BUILD = dict(start_to_close_timeout=timedelta(hours=2), heartbeat_timeout=timedelta(seconds=30))
GRAPH_BATCH_SIZE = 100
_TRANSIENT = {"EmbeddingUnavailable", "ModelUnavailable", "GraphUnavailable"}


class _Cancelled(Exception):
    pass


@workflow.defn
class EmbeddingMigrationWorkflow:
    @workflow.init
    def __init__(self, start: MigrationStart) -> None:
        self._request: MigrationRequest = start.request
        self._state: MigrationState = start.state.model_copy()
        self._paused = False
        self._pause_reason = ""
        self._cancel_requested = False
        self._batches_this_run = 0

    @workflow.signal(description="Pause after the batch in progress.")
    def pause(self, reason: str = "paused by an operator") -> None:
        self._paused, self._pause_reason = True, reason

    @workflow.signal(description="Resume a paused migration.")
    def resume(self) -> None:
        self._paused, self._pause_reason = False, ""

    @workflow.signal(description="Stop without switching; vectors written so far stay until cleanup.")
    def cancel(self) -> None:
        self._cancel_requested = True

    @workflow.query(description="Rows done and total, rate, ETA, and whether it is paused.")
    def progress(self) -> MigrationProgress:
        s, elapsed = self._state, self._elapsed()
        rate = s.rows_done / elapsed if elapsed > 0 and s.rows_done else 0.0
        remaining = max(s.total_rows - s.rows_done, 0)
        return MigrationProgress(
            tenant_id=self._request.tenant_id,
            from_model=s.from_model,
            to_model=self._request.to_model,
            phase=s.phase,
            rows_done=s.rows_done,
            total_rows=s.total_rows,
            graph_done=s.graph_done,
            rows_per_second=round(rate, 2),
            eta_seconds=round(remaining / rate, 1) if rate else None,
            paused=self._paused,
            pause_reason=self._pause_reason,
        )

    @workflow.run
    async def run(self, start: MigrationStart) -> MigrationResult:
        try:
            return await self._migrate()
        except _Cancelled:
            self._state.phase = "cancelled"
            self._mark("cancelled", "Cancelled: the fence was not moved; new vectors stay until cleanup.")
            return self._result("cancelled", "cancelled before the switch; the tenant stays on its model")

    async def _migrate(self) -> MigrationResult:
        s, r = self._state, self._request
        if s.phase == "planning":
            plan = await workflow.execute_activity_method(
                MigrationActivities.plan,
                PlanInput(tenant_id=r.tenant_id, to_model=r.to_model),
                summary=f"migration: plan {r.tenant_id} -> {r.to_model}",
                **MEMORY_IO,
            )
            s.from_model, s.total_rows = plan.from_model, plan.total_rows
            s.started_at_epoch = workflow.now().timestamp()
            s.phase = "indexing"
        self._mark("running", self._line())
        if s.phase == "indexing":
            await workflow.execute_activity_method(
                MigrationActivities.ensure_index, r.to_model, summary=f"recall: build the index for {r.to_model}", **INDEX_BUILD
            )
            s.phase = "recall"
        while s.phase != "switching":
            if s.phase == "recall":
                await self._recall_batches()
            if s.phase == "graph":
                await self._graph_batches()
            if s.phase == "verifying":
                await self._verify()
        switched = await workflow.execute_activity_method(
            MigrationActivities.switch,
            SwitchInput(tenant_id=r.tenant_id, from_model=s.from_model, to_model=r.to_model),
            summary=f"fence: switch {r.tenant_id} from {s.from_model} to {r.to_model}",
            **MEMORY_IO,
        )
        # Exchanges stored between the check and the switch carry the old model only.
        s.phase = "recall"
        await self._recall_batches(then="done")
        s.phase = "done"
        detail = (
            f"switched {r.tenant_id} from {s.from_model} to {r.to_model}: {s.total_rows} rows, "
            f"{s.graph_done} graph items; old vectors kept until cleanup"
            + ("" if switched else " (the fence had already been switched by an earlier attempt)")
        )
        self._mark("switched", detail)
        return self._result("switched", detail)

    async def _recall_batches(self, then: str = "graph") -> None:
        s, r = self._state, self._request
        while True:
            await self._checkpoint()
            bounds = await workflow.execute_activity_method(
                MigrationActivities.next_batch,
                NextBatchInput(tenant_id=r.tenant_id, after_id=s.after_id, size=r.batch_size),
                summary=f"recall: next {r.batch_size} rows after id {s.after_id}",
                **MEMORY_IO,
            )
            if bounds is None:
                s.phase = then
                return
            result = await self._embed(bounds.first_id, bounds.last_id)
            if result is None:
                continue  # paused on an outage and resumed: the same batch again
            s.after_id = bounds.last_id
            s.rows_done = min(s.total_rows, s.rows_done + result.embedded + result.already_present)
            s.batches += 1
            self._batches_this_run += 1
            workflow.set_current_details(self._line())
            self._maybe_continue_as_new()

    async def _embed(self, first_id: int, last_id: int):
        r = self._request
        try:
            return await workflow.execute_activity_method(
                MigrationActivities.embed_batch,
                EmbedBatchInput(tenant_id=r.tenant_id, to_model=r.to_model, first_id=first_id, last_id=last_id),
                summary=f"recall: embed rows {first_id}-{last_id} with {r.to_model}",
                **EMBED_BATCH,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in _TRANSIENT:
                self.pause(f"paused itself: the embedding provider kept failing ({cause.message})")
                return None
            raise

    async def _graph_batches(self) -> None:
        s, r = self._state, self._request
        while True:
            await self._checkpoint()
            batch = await workflow.execute_activity_method(
                MigrationActivities.graph_batch,
                GraphBatchInput(tenant_id=r.tenant_id, to_model=r.to_model, after=s.graph_after, limit=GRAPH_BATCH_SIZE),
                summary=f"graph: re-embed entities and facts after {s.graph_after or 'the start'}",
                **EMBED_BATCH,
            )
            s.graph_done += batch.items
            if batch.last_key is None:
                s.graph_after, s.phase = "", "verifying"
                return
            s.graph_after = batch.last_key
            self._batches_this_run += 1
            workflow.set_current_details(self._line())
            self._maybe_continue_as_new()

    async def _verify(self) -> None:
        s, r = self._state, self._request
        self._mark("verifying", self._line())
        report = await workflow.execute_activity_method(
            MigrationActivities.verify,
            PlanInput(tenant_id=r.tenant_id, to_model=r.to_model),
            summary=f"recall: verify counts and a sample of {r.to_model} vectors",
            **MEMORY_IO,
        )
        if report.ok:
            s.total_rows = report.total
            s.phase = "switching"
            return
        if report.missing:
            # Rows written while the migration ran: one more pass embeds only those.
            s.total_rows, s.after_id, s.phase = report.total, 0, "recall"
            return
        raise ApplicationError(
            f"verification failed: re-computed {r.to_model} vectors differ from the stored ones "
            f"(max distance {report.max_distance:.4f}); the fence was not moved",
            type="MigrationVerificationFailed",
            non_retryable=True,
        )

    async def _checkpoint(self) -> None:
        if self._cancel_requested:
            raise _Cancelled()
        if self._paused:
            self._mark("paused", f"Paused: {self._pause_reason}. {self._line()}")
            await workflow.wait_condition(lambda: not self._paused or self._cancel_requested)
            if self._cancel_requested:
                raise _Cancelled()
            self._mark("running", self._line())

    def _maybe_continue_as_new(self) -> None:
        if self._batches_this_run >= self._request.batches_per_run or workflow.info().is_continue_as_new_suggested():
            workflow.continue_as_new(MigrationStart(request=self._request, state=self._state))

    def _mark(self, state: str, details: str) -> None:
        workflow.upsert_search_attributes([MIGRATION_STATE.value_set(state)])
        workflow.set_current_details(details)

    def _elapsed(self) -> float:
        return workflow.now().timestamp() - self._state.started_at_epoch if self._state.started_at_epoch else 0.0

    def _line(self) -> str:
        p = self.progress()
        eta = f", ETA {p.eta_seconds:.0f} s" if p.eta_seconds is not None else ""
        return (
            f"**Migration {p.from_model} -> {p.to_model}** ({p.phase}): {p.rows_done}/{p.total_rows} rows, "
            f"{p.graph_done} graph items, {p.rows_per_second} rows/s{eta}"
        )

    def _result(self, outcome: str, detail: str) -> MigrationResult:
        s = self._state
        return MigrationResult(
            tenant_id=self._request.tenant_id,
            from_model=s.from_model,
            to_model=self._request.to_model,
            outcome=outcome,
            rows=s.rows_done,
            graph_items=s.graph_done,
            detail=detail,
        )
