"""Start a forget and wait for its report. The same request id is the same forget: asking
again returns the first run's report instead of erasing twice."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contract.forget import ForgetReport, ForgetRequest, forget_workflow_id
from contract.names import FORGET_WORKFLOW, TASK_QUEUE


async def forget(client: Client, request: ForgetRequest, *, task_queue: str = TASK_QUEUE) -> ForgetReport:
    try:
        return await _start(client, request, task_queue)
    except WorkflowAlreadyStartedError:
        # Ran and finished under this id before: its report, not a second forget.
        return await client.get_workflow_handle(forget_workflow_id(request), result_type=ForgetReport).result()


async def _start(client: Client, request: ForgetRequest, task_queue: str) -> ForgetReport:
    return await client.execute_workflow(
        FORGET_WORKFLOW,
        request,
        id=forget_workflow_id(request),
        task_queue=task_queue,
        result_type=ForgetReport,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A finished forget is not run again under its id: its report stands.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        static_summary=f"Forget {request.scope.label}{' (dry run)' if request.dry_run else ''}",
    )
