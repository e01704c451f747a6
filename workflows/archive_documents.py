"""An imported document's way into memory after it is stored: the same activities, batches
and ingestion gates as DocumentIngestionWorkflow, so its chunks are embedded under the
target tenant's fence and its graph episodes pass the gates like any upload's."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.documents import DocumentActivities
    from activities.graph import KnowledgeActivities
    from activities.graph_models import (
        DecideIngestionInput,
        DocumentChunksInput,
        NotebookEpisodeInput,
    )
    from contract.archive import ImportProgress
    from memory.archive.models import NotebookWritten, StoredArchiveDocument
    from memory.core.refs import AgentRef
    from workflows import graph_steps
    from workflows.documents import BATCH_CHUNKS
    from workflows.options import EMBEDDING_CALL, MEMORY_IO


async def ingest_stored_document(tenant_id: str, doc: StoredArchiveDocument, p: ImportProgress) -> None:
    batches = [(first, min(first + BATCH_CHUNKS, doc.chunks) - 1) for first in range(0, doc.chunks, BATCH_CHUNKS)]

    def chunks(first: int, last: int) -> DocumentChunksInput:
        return DocumentChunksInput(tenant_id=tenant_id, name=doc.name, sha256=doc.sha256, first_chunk=first, last_chunk=last)

    for first, last in batches:
        stored = await workflow.execute_activity_method(
            DocumentActivities.recall_chunks,
            chunks(first, last),
            summary=f"recall: embed and store chunks {first}-{last} of {doc.name}",
            **EMBEDDING_CALL,
        )
        p.chunks_in_recall += len(stored.recall_item_ids)
    decision = await workflow.execute_activity_method(
        KnowledgeActivities.decide,
        DecideIngestionInput(
            tenant_id=tenant_id,
            source="document",
            idempotency_key=f"{tenant_id}/document/{doc.sha256}/ingestion",
            message_chars=doc.chars,
            length_gate=False,
        ),
        summary="graph: evaluate ingestion gates (document)",
        **MEMORY_IO,
    )
    if not decision.ingest:
        return
    for first, last in batches:
        queued = await workflow.execute_activity_method(
            DocumentActivities.queue_episodes,
            chunks(first, last),
            summary=f"graph: queue chunks {first}-{last} of {doc.name} as episodes",
            **MEMORY_IO,
        )
        for ticket in queued.episodes:
            report = await graph_steps.ingest(ticket, f"{doc.name} chunk episode")
            if report.status == "ingested":
                p.episodes_ingested += 1
            else:
                p.episodes_failed += 1


async def ingest_notebook(agent: AgentRef, notebook: NotebookWritten, p: ImportProgress) -> None:
    """The imported notebook's newest version into the graph, as an operator's edit goes
    (NotebookEditWorkflow): so the graph does not contradict what the agent holds authoritative."""
    decision = await workflow.execute_activity_method(
        KnowledgeActivities.decide,
        DecideIngestionInput(
            tenant_id=agent.tenant_id,
            source="notebook",
            idempotency_key=f"{agent.tenant_id}/{agent.agent_id}/notebook/v{notebook.version}/ingestion",
            agent_id=agent.agent_id,
            message_chars=notebook.chars,
            length_gate=False,
        ),
        summary="graph: evaluate ingestion gates (notebook)",
        **MEMORY_IO,
    )
    if not decision.ingest:
        return
    ticket = await workflow.execute_activity_method(
        KnowledgeActivities.queue_notebook,
        NotebookEpisodeInput(agent=agent, version_id=notebook.version_id),
        summary=f"graph: queue notebook v{notebook.version} as an authoritative episode",
        **MEMORY_IO,
    )
    report = await graph_steps.ingest(ticket, f"notebook v{notebook.version}")
    if report.status == "ingested":
        p.episodes_ingested += 1
    else:
        p.episodes_failed += 1
