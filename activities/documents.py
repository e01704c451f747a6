"""Document activities: store a tenant's document once, then send its chunks down both
ingestion paths in batches (recall store now, graph queue for ordered ingestion)."""

from __future__ import annotations

from temporalio import activity

from activities.graph_models import (
    DocumentChunksInput,
    DocumentChunksStored,
    DocumentPrepared,
    EpisodeTicket,
)
from contract.ingestion import DocumentUpload
from memory.core.switches import SwitchableLayer
from memory.core.validation import InvalidInput, check_id
from memory.runtime import MemoryRuntime


class DocumentActivities:
    def __init__(self, runtime: MemoryRuntime):
        self._rt = runtime

    @activity.defn(name="document_store")
    async def store(self, upload: DocumentUpload) -> DocumentPrepared:
        check_id("tenant", upload.tenant_id)
        if not await self._rt.switches.layer_on(upload.tenant_id, SwitchableLayer.DOCUMENTS):
            raise InvalidInput(
                f"{upload.name}: the documents layer is switched off (layer.documents.enabled); nothing was stored"
            )
        stored = await self._rt.library.store(upload.tenant_id, upload.name, upload.sha256, upload.text)
        return DocumentPrepared(chunks=stored.chunks, chars=stored.chars)

    @activity.defn(name="document_recall_chunks")
    async def recall_chunks(self, request: DocumentChunksInput) -> DocumentChunksStored:
        """Embed and store a batch of chunks in the recall store."""
        stored, chunks = await self._rt.library.chunks(request.tenant_id, request.sha256, request.first_chunk, request.last_chunk)
        ids = await self._rt.recall.remember_document_chunks(
            request.tenant_id, stored.name, stored.sha256, [(c.index, c.text) for c in chunks]
        )
        return DocumentChunksStored(recall_item_ids=ids, episodes=[])

    @activity.defn(name="document_queue_episodes")
    async def queue_episodes(self, request: DocumentChunksInput) -> DocumentChunksStored:
        """Queue a batch of chunks as graph episodes, in chunk order."""
        stored, chunks = await self._rt.library.chunks(request.tenant_id, request.sha256, request.first_chunk, request.last_chunk)
        tickets = []
        for chunk in chunks:
            queued = await self._rt.knowledge.enqueue_document_chunk(
                request.tenant_id, stored.name, stored.sha256, chunk.index, chunk.text, chunk.heading, stored.created_at
            )
            tickets.append(EpisodeTicket(episode_id=queued.id, group_id=queued.group_id, episode_uuid=queued.episode_uuid))
        return DocumentChunksStored(recall_item_ids=[], episodes=tickets)
