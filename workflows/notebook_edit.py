"""An operator's edit of an agent's notebook: written as a new version, then ingested into
the graph so that facts it contradicts are invalidated there too.

The notebook is authoritative whatever the graph says: it is always in the prompt, above
the extracted facts. Ingesting it only keeps the graph from contradicting it.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.graph import KnowledgeActivities
    from activities.graph_models import (
        DecideIngestionInput,
        NotebookEpisodeInput,
        NotebookWriteInput,
    )
    from activities.notebook import NotebookActivities
    from contract.ingestion import IngestionResult, NotebookEdit, NotebookEditResult
    from workflows import graph_steps
    from workflows.options import MEMORY_IO


@workflow.defn
class NotebookEditWorkflow:
    @workflow.run
    async def run(self, edit: NotebookEdit) -> NotebookEditResult:
        agent = edit.agent
        written = await workflow.execute_activity_method(
            NotebookActivities.write,
            NotebookWriteInput(
                agent=agent, content=edit.content, operator=edit.operator, reason=edit.reason, request_id=edit.request_id
            ),
            summary=f"notebook: write /notebook.md for agent {agent.agent_id} (operator {edit.operator})",
            **MEMORY_IO,
        )
        decision = await graph_steps.decide(
            DecideIngestionInput(
                tenant_id=agent.tenant_id,
                source="notebook",
                idempotency_key=f"{agent.tenant_id}/{agent.agent_id}/notebook/v{written.version}/ingestion",
                agent_id=agent.agent_id,
                message_chars=len(edit.content),
                length_gate=False,
            )
        )
        if not decision.ingest:
            return NotebookEditResult(
                version=written.version, ingestion=IngestionResult(outcome=decision.gate.value, detail=decision.detail)
            )
        ticket = await workflow.execute_activity_method(
            KnowledgeActivities.queue_notebook,
            NotebookEpisodeInput(agent=agent, version_id=written.version_id),
            summary=f"graph: queue notebook v{written.version} as an authoritative episode",
            **MEMORY_IO,
        )
        report = await graph_steps.ingest(ticket, f"notebook v{written.version}")
        outcome = "ingested" if report.status == "ingested" else "ingest_failed"
        detail = (
            f"notebook v{written.version}: {report.edges} facts, {report.invalidated} contradicted facts invalidated."
            if report.status == "ingested"
            else f"notebook v{written.version} is saved; graphiti failed on it: {report.error}"
        )
        graph_steps.mark_outcome(outcome, detail)
        return NotebookEditResult(
            version=written.version,
            ingestion=IngestionResult(outcome=outcome, detail=detail, episodes=1, invalidated=report.invalidated),
        )
