"""An operator's change of a run-time switch or a tenant's plan: one acknowledged write, with
who and why recorded beside it. In force from the next read of any worker."""

from __future__ import annotations

from temporalio import workflow

from contract.names import SWITCH_CHANGE_WORKFLOW

with workflow.unsafe.imports_passed_through():
    from activities.switches import SwitchActivities
    from contract.switches import SwitchChangeReceipt, SwitchChangeRequest
    from workflows.options import MEMORY_IO


@workflow.defn(name=SWITCH_CHANGE_WORKFLOW)
class SwitchChangeWorkflow:
    @workflow.run
    async def run(self, request: SwitchChangeRequest) -> SwitchChangeReceipt:
        scope = request.tenant_id or "every tenant"
        receipt = await workflow.execute_activity_method(
            SwitchActivities.change,
            request,
            summary=f"switches: {request.name} = {request.value} for {scope} (operator {request.operator})",
            **MEMORY_IO,
        )
        workflow.set_current_details(f"{receipt.name} = {receipt.value} for {scope} by {receipt.operator}.")
        return receipt
