"""Codify: an operator promotes one learned substitution from a session's cache into a
skill or the notebook. The only path from the session cache to long-term memory."""

from __future__ import annotations

from temporalio import workflow

from contract.names import CODIFY_WORKFLOW

with workflow.unsafe.imports_passed_through():
    from activities.codify import CodifyActivities
    from contract.learning import CodifyInput, CodifyResult
    from workflows.options import MEMORY_IO


@workflow.defn(name=CODIFY_WORKFLOW)
class CodifyWorkflow:
    @workflow.run
    async def run(self, request: CodifyInput) -> CodifyResult:
        where = f"skill {request.task_type}" if request.target == "skill" else "the notebook"
        result = await workflow.execute_activity_method(
            CodifyActivities.codify,
            request,
            summary=f"codify: {request.operator} promotes a learned substitution into {where}",
            **MEMORY_IO,
        )
        workflow.set_current_details(
            f"**{result.path} v{result.version}** by {request.operator}: use `{result.instead}` instead of `{result.tried}`."
        )
        return result
