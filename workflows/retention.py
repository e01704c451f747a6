"""Retention, run by a Temporal Schedule: episode transcripts past the horizon are cut to
their summaries, recall rows nobody retrieved for N days are pruned (active tenants keep
theirs), and the tables every turn grows lose rows past their own horizons. The report says
what was removed, per tenant."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from contract.names import RETENTION_WORKFLOW

with workflow.unsafe.imports_passed_through():
    # Passed through: one class of each model, inside the sandbox and out (the activities see the same).
    from activities.learning_models import RetentionInput
    from activities.retention import RetentionActivities
    from contract.learning import RetentionPolicy, describe
    from memory.learning.models import RetentionReport


@workflow.defn(name=RETENTION_WORKFLOW)
class RetentionWorkflow:
    @workflow.run
    async def run(self, policy: RetentionPolicy) -> RetentionReport:
        report = await workflow.execute_activity_method(
            RetentionActivities.retention,
            RetentionInput(
                run_key=workflow.info().workflow_id,
                as_of=workflow.now(),
                episode_retention_days=policy.episode_retention_days,
                recall_retention_days=policy.recall_retention_days,
                growth=policy.growth,
            ),
            summary=(
                f"retention: truncate episodes older than {policy.episode_retention_days} d, prune recall rows "
                f"unretrieved for {policy.recall_retention_days} d"
            ),
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)),
        )
        workflow.set_current_details(describe(report))
        return report


