"""Change a switch or a tenant's plan through SwitchChangeWorkflow; a resent request id gets
the first change's receipt and changes nothing again."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contract.names import SWITCH_CHANGE_WORKFLOW, TASK_QUEUE
from contract.switches import SwitchChangeReceipt, SwitchChangeRequest, switch_change_id


async def change_switch(client: Client, request: SwitchChangeRequest, *, task_queue: str = TASK_QUEUE) -> SwitchChangeReceipt:
    workflow_id = switch_change_id(request.tenant_id, request.request_id)
    scope = f"tenant {request.tenant_id}" if request.tenant_id else "every tenant"
    try:
        return await client.execute_workflow(
            SWITCH_CHANGE_WORKFLOW,
            request,
            id=workflow_id,
            task_queue=task_queue,
            result_type=SwitchChangeReceipt,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"Switch change: {request.name} for {scope} by {request.operator}",
        )
    except WorkflowAlreadyStartedError:
        return await client.get_workflow_handle(workflow_id, result_type=SwitchChangeReceipt).result()
