"""Ingest one document for a tenant: store it, put its chunks in the recall store, and
queue them as graph episodes, in batches, reporting progress as it goes."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.documents import DocumentActivities
    from activities.graph_models import DecideIngestionInput, DocumentChunksInput
    from contract.ingestion import DocumentProgress, DocumentUpload
    from workflows import graph_steps
    from workflows.options import EMBEDDING_CALL, MEMORY_IO

BATCH_CHUNKS = 16


@workflow.defn
class DocumentIngestionWorkflow:
    def __init__(self) -> None:
        self._progress = DocumentProgress(name="")

    @workflow.query(description="Chunks stored and episodes ingested so far.")
    def progress(self) -> DocumentProgress:
        return self._progress

    @workflow.run
    async def run(self, upload: DocumentUpload) -> DocumentProgress:
        p = self._progress = DocumentProgress(name=upload.name)
        prepared = await workflow.execute_activity_method(
            DocumentActivities.store,
            upload,
            summary=f"documents: store {upload.name} and chunk it",
            **MEMORY_IO,
        )
        p.chunks = prepared.chunks
        batches = [
            (first, min(first + BATCH_CHUNKS, prepared.chunks) - 1) for first in range(0, prepared.chunks, BATCH_CHUNKS)
        ]
        for first, last in batches:
            stored = await workflow.execute_activity_method(
                DocumentActivities.recall_chunks,
                DocumentChunksInput(
                    tenant_id=upload.tenant_id, name=upload.name, sha256=upload.sha256, first_chunk=first, last_chunk=last
                ),
                summary=f"recall: embed and store chunks {first}-{last} of {upload.name}",
                **EMBEDDING_CALL,
            )
            p.chunks_in_recall += len(stored.recall_item_ids)
            self._show()

        decision = await graph_steps.decide(
            DecideIngestionInput(
                tenant_id=upload.tenant_id,
                source="document",
                idempotency_key=f"{upload.tenant_id}/document/{upload.sha256}/ingestion",
                message_chars=prepared.chars,
                length_gate=False,
            )
        )
        if not decision.ingest:
            p.graph_outcome, p.done = decision.gate.value, True
            self._show()
            return p
        for first, last in batches:
            queued = await workflow.execute_activity_method(
                DocumentActivities.queue_episodes,
                DocumentChunksInput(
                    tenant_id=upload.tenant_id, name=upload.name, sha256=upload.sha256, first_chunk=first, last_chunk=last
                ),
                summary=f"graph: queue chunks {first}-{last} of {upload.name} as episodes",
                **MEMORY_IO,
            )
            p.episodes_queued += len(queued.episodes)
            for ticket in queued.episodes:
                report = await graph_steps.ingest(ticket, f"{upload.name} chunk episode")
                if report.status == "ingested":
                    p.episodes_ingested += 1
                else:
                    p.episodes_failed += 1
                self._show()
        p.graph_outcome = "ingested" if not p.episodes_failed else "ingest_failed"
        p.done = True
        graph_steps.mark_outcome(p.graph_outcome, self._line())
        return p

    def _line(self) -> str:
        p = self._progress
        return (
            f"{p.name}: {p.chunks_in_recall}/{p.chunks} chunks in recall, "
            f"{p.episodes_ingested}/{p.chunks} episodes in the graph"
            + (f", {p.episodes_failed} failed" if p.episodes_failed else "")
        )

    def _show(self) -> None:
        workflow.set_current_details(self._line())
