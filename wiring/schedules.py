"""The Temporal Schedules the runtime relies on, created if missing and otherwise left as
the operator may have changed them."""

from __future__ import annotations

from datetime import timedelta

from contract.learning import RETENTION_SCHEDULE_ID, RetentionPolicy
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from workflows.retention import RetentionWorkflow


async def ensure_retention_schedule(
    client: Client,
    *,
    task_queue: str,
    every: timedelta,
    policy: RetentionPolicy,
    schedule_id: str = RETENTION_SCHEDULE_ID,
) -> bool:
    """Create the retention schedule; False when it exists already (left untouched)."""
    try:
        await client.create_schedule(
            schedule_id,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    RetentionWorkflow.run,
                    policy,
                    id=f"{schedule_id}/run",
                    task_queue=task_queue,
                    static_summary="Retention: truncate old episode transcripts, prune unretrieved recall rows",
                ),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
                # One run at a time: a slow run is never overlapped by the next.
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )
    except ScheduleAlreadyRunningError:
        return False
    return True
