"""Codify: an operator promotes one learned substitution from a session's cache into a
skill or the notebook. The only path from the session cache to long-term memory."""

from __future__ import annotations

from contract.learning import codify_id
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract.learning import CodifyInput, CodifyResult

    from activities.learning import LearningActivities
    from workflows.options import MEMORY_IO


def codify_id(request: CodifyInput) -> str:
    return f"codify/{request.agent.tenant_id}/{request.agent.agent_id}/{request.request_id}"


@workflow.defn
class CodifyWorkflow:
    @workflow.run
    async def run(self, request: CodifyInput) -> CodifyResult:
        where = f"skill {request.task_type}" if request.target == "skill" else "the notebook"
        result = await workflow.execute_activity_method(
            LearningActivities.codify,
            request,
            summary=f"codify: {request.operator} promotes a learned substitution into {where}",
            **MEMORY_IO,
        )
        workflow.set_current_details(
            f"**{result.path} v{result.version}** by {request.operator}: use `{result.instead}` instead of `{result.tried}`."
        )
        return result
