"""Steps the ingestion workflows share: ask the gates, ingest an episode, say what happened."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.graph import KnowledgeActivities
    from activities.graph_models import (
        DecideIngestionInput,
        EpisodeTicket,
        GraphIngestInput,
        GraphIngestReport,
    )
    from contract.search_attributes import INGESTION_OUTCOME
    from memory.graph.gates import GateDecision
    from workflows.options import GRAPH_INGEST, LOCAL_STORE_WRITE, MEMORY_IO


async def decide(request: DecideIngestionInput, *, local: bool = False) -> GateDecision:
    """Evaluate the gates; local=True runs the evaluation inside the workflow task (it reads
    the switches and records the decision once by key, so re-running it whole is safe)."""
    summary = f"graph: evaluate ingestion gates ({request.source})"
    if local:
        decision = await workflow.execute_local_activity_method(
            KnowledgeActivities.decide, request, summary=summary, **LOCAL_STORE_WRITE
        )
    else:
        decision = await workflow.execute_activity_method(KnowledgeActivities.decide, request, summary=summary, **MEMORY_IO)
    mark_outcome(decision.gate.value if not decision.ingest else "ingesting", decision.detail)
    return decision


async def ingest(ticket: EpisodeTicket, what: str) -> GraphIngestReport:
    return await workflow.execute_activity_method(
        KnowledgeActivities.ingest,
        GraphIngestInput(episode_id=ticket.episode_id),
        summary=f"graph: ingest {what} through graphiti (episode {ticket.episode_id}, in group order)",
        **GRAPH_INGEST,
    )


def mark_outcome(outcome: str, detail: str) -> None:
    """The outcome as a search attribute (for filtering) and in words (for reading)."""
    workflow.upsert_search_attributes([INGESTION_OUTCOME.value_set(outcome)])
    workflow.set_current_details(f"**Ingestion: {outcome}**\n\n{detail}")
