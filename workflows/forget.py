"""Forget one end user of a tenant, or a whole tenant, in every layer.

Survey first (what each layer holds of the scope, recorded in this history), then erase
layer by layer from that survey: Temporal executions (so no turn of the user is left running
to write more), the graph, the session cache, the Postgres stores; last the audit row. Every
step is idempotent, so a worker killed anywhere leaves the next one to finish, and the
report's counts are the survey's: the same however often a step ran. A dry run surveys only.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig

from contract.names import FORGET_WORKFLOW

with workflow.unsafe.imports_passed_through():
    from activities.forget import ForgetActivities
    from contract.forget import ForgetReport, ForgetRequest
    from memory.forget.models import ForgetAudit

# Every step heartbeats (a tenant's deletes can run for minutes): a worker that dies mid-step
# is given up on within the heartbeat timeout, and the step runs again elsewhere.
FORGET_STEP = ActivityConfig(
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)


@workflow.defn(name=FORGET_WORKFLOW)
class ForgetWorkflow:
    @workflow.run
    async def run(self, request: ForgetRequest) -> ForgetReport:
        scope = request.scope
        survey = await workflow.execute_activity_method(
            ForgetActivities.survey, scope, summary=f"forget: survey {scope.label}", **FORGET_STEP
        )
        if not request.dry_run:
            steps = (
                (ForgetActivities.erase_executions, "terminate and delete workflow executions"),
                (ForgetActivities.erase_graph, "erase graph groups"),
                (ForgetActivities.erase_cache, "erase session-cache keys"),
                (ForgetActivities.erase_stores, "erase Postgres rows"),
            )
            for step, what in steps:
                await workflow.execute_activity_method(step, survey, summary=f"forget: {what}", **FORGET_STEP)
            await workflow.execute_activity_method(
                ForgetActivities.record,
                ForgetAudit(
                    forget_key=workflow.info().workflow_id,
                    scope=scope,
                    operator=request.operator,
                    reason=request.reason,
                    counts=survey.counts,
                    requested_at=workflow.info().start_time,
                ),
                summary="forget: audit row",
                **FORGET_STEP,
            )
        erased = sum(survey.counts.values())
        workflow.set_current_details(
            f"{'Would erase' if request.dry_run else 'Erased'} {erased} items of {scope.label}."
        )
        return ForgetReport(
            scope=scope, dry_run=request.dry_run, counts=survey.counts, forget_key=workflow.info().workflow_id
        )
