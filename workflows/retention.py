"""Retention, run by a Temporal Schedule: episode transcripts past the horizon are cut to
their summaries, and recall rows nobody retrieved for N days are pruned (active tenants
keep theirs). The report says what was removed, per tenant."""

from __future__ import annotations

from datetime import timedelta

from contract.learning import RETENTION_SCHEDULE_ID, RetentionPolicy, describe
from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from memory.learning.models import MAX_RETENTION_DAYS, RetentionReport

    from activities.learning import LearningActivities
    from activities.learning_models import RetentionInput

RETENTION_SCHEDULE_ID = "retention"


class RetentionPolicy(BaseModel):
    episode_retention_days: int = Field(default=90, ge=1, le=MAX_RETENTION_DAYS)
    recall_retention_days: int = Field(default=180, ge=1, le=MAX_RETENTION_DAYS)


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self, policy: RetentionPolicy) -> RetentionReport:
        report = await workflow.execute_activity_method(
            LearningActivities.retention,
            RetentionInput(
                run_key=workflow.info().workflow_id,
                as_of=workflow.now(),
                episode_retention_days=policy.episode_retention_days,
                recall_retention_days=policy.recall_retention_days,
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


def describe(report: RetentionReport) -> str:
    lines = [f"**Retention {report.run_key}**"]
    for row in report.tenants:
        if row.skipped_active:
            lines.append(f"- {row.tenant_id}: active, recall kept; {row.episodes_truncated} transcripts truncated")
        else:
            lines.append(
                f"- {row.tenant_id}: {row.episodes_truncated} transcripts truncated, {row.recall_items_pruned} recall rows pruned"
            )
    return "\n".join(lines) if report.tenants else lines[0] + "\n\nNothing to remove."
