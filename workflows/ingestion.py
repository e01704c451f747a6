"""Knowledge ingestion of one exchange, started by the conversation after each turn.

It never delays the reply and outlives the conversation's run (the parent abandons it
on continue-as-new). The gates are evaluated in a fixed order, and the one that decided
is recorded, counted and shown as the IngestionOutcome search attribute.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.knowledge import KnowledgeActivities
    from activities.knowledge_models import DecideIngestionInput, ExchangeEpisodeInput
    from workflows import graph_steps
    from workflows.ingestion_models import ExchangeIngestion, IngestionResult
    from workflows.options import MODEL_CALL


@workflow.defn
class KnowledgeIngestionWorkflow:
    @workflow.run
    async def run(self, request: ExchangeIngestion) -> IngestionResult:
        thread = request.thread
        decision = await graph_steps.decide(
            DecideIngestionInput(
                tenant_id=thread.tenant_id,
                source="conversation",
                idempotency_key=f"{thread.key}/turn/{request.turn}/ingestion",
                agent_id=thread.agent_id,
                thread_id=thread.thread_id,
                turn=request.turn,
                message_chars=request.message_chars,
                turn_failed=request.turn_failed,
                delegated=request.delegated,
            )
        )
        if not decision.ingest:
            return IngestionResult(outcome=decision.gate.value, detail=decision.detail)
        assert request.assistant_message_id is not None, "the turn-failed gate stops failed turns"
        ticket = await workflow.execute_activity_method(
            KnowledgeActivities.queue_exchange,
            ExchangeEpisodeInput(
                thread=thread,
                turn=request.turn,
                user_message_id=request.user_message_id,
                assistant_message_id=request.assistant_message_id,
            ),
            summary=f"graph: summarise the exchange of turn {request.turn} and queue it as an episode",
            **MODEL_CALL,
        )
        report = await graph_steps.ingest(ticket, f"turn {request.turn}")
        if report.status == "ingested":
            outcome = "ingested"
            detail = f"{report.entities} entities, {report.edges} facts, {report.invalidated} older facts invalidated."
        else:
            # The exchange itself is safe in the conversation store; only extraction failed.
            outcome, detail = "ingest_failed", f"graphiti failed on this episode: {report.error}"
        graph_steps.mark_outcome(outcome, detail)
        return IngestionResult(
            outcome=outcome, detail=detail, episodes=1, invalidated=report.invalidated
        )
