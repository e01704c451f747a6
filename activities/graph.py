"""Knowledge-graph activities: gates, queueing, ordered ingestion and entity-anchored search."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from activities.graph_models import (
    DecideIngestionInput,
    EpisodeTicket,
    ExchangeEpisodeInput,
    GraphIngestInput,
    GraphIngestReport,
    GraphSearchInput,
    NotebookEpisodeInput,
)
from activities.heartbeat import heartbeating, heartbeats
from activities.tracing import traced
from memory.core.metrics import INGESTION_DECISIONS
from memory.core.tokens import estimate_tokens
from memory.core.usage_entry import UsageEntry
from memory.graph import GraphSearchResult
from memory.graph.episode_queue import QueuedEpisode
from memory.graph.gates import GateDecision, IngestionFacts
from memory.prompt.manifest import ContextItem, Layer

if TYPE_CHECKING:  # services are handed in; importing them is the worker's business
    from memory.documents.path_store import DocumentStore
    from memory.graph.service import KnowledgeGraph
    from memory.learning.episodic import EpisodicMemory


def _ticket(queued: QueuedEpisode) -> EpisodeTicket:
    return EpisodeTicket(episode_id=queued.id, group_id=queued.group_id, episode_uuid=queued.episode_uuid)


class KnowledgeActivities:
    def __init__(self, *, documents: DocumentStore, episodic: EpisodicMemory, knowledge: KnowledgeGraph) -> None:
        self._documents = documents
        self._episodic = episodic
        self._knowledge = knowledge

    @activity.defn(name="ingestion_decide")
    async def decide(self, request: DecideIngestionInput) -> GateDecision:
        decision = await self._knowledge.decide(
            IngestionFacts(
                message_chars=request.message_chars,
                turn_failed=request.turn_failed,
                delegated=request.delegated,
                length_gate=request.length_gate,
            ),
            idempotency_key=request.idempotency_key,
            tenant_id=request.tenant_id,
            source=request.source,
            agent_id=request.agent_id,
            thread_id=request.thread_id,
            turn=request.turn,
        )
        INGESTION_DECISIONS.labels(gate="ingest" if decision.ingest else decision.gate.value).inc()
        return decision

    @activity.defn(name="graph_queue_exchange")
    async def queue_exchange(self, request: ExchangeEpisodeInput) -> EpisodeTicket:
        summary = None
        if request.episode_id is not None:
            [episode] = await self._episodic.by_id(request.thread.agent, [request.episode_id])
            summary = episode.summary
        queued = await self._knowledge.enqueue_exchange(
            request.thread, request.turn, request.user_message_id, request.assistant_message_id, summary=summary
        )
        return _ticket(queued)

    @activity.defn(name="graph_queue_notebook")
    async def queue_notebook(self, request: NotebookEpisodeInput) -> EpisodeTicket:
        version = await self._documents.version_by_id(request.agent, request.version_id)
        if version is None:
            raise LookupError(
                f"notebook version {request.version_id} of agent {request.agent.agent_id} is not in the store"
            )
        queued = await self._knowledge.enqueue_notebook(request.agent, version.version, version.content, version.created_at)
        return _ticket(queued)

    @activity.defn(name="graph_ingest")
    @traced("graph", "ingest")
    async def ingest(self, request: GraphIngestInput) -> GraphIngestReport:
        queued = await self._knowledge.queue.get(request.episode_id)
        async with heartbeating(5.0, f"episode {queued.id}"):
            done = await self._knowledge.ingest_through(queued)
        result = done.result or {}
        return GraphIngestReport(
            episode_id=done.id,
            episode_uuid=done.episode_uuid,
            status=done.status,
            entities=result.get("entities", 0),
            edges=result.get("edges", 0),
            invalidated=result.get("invalidated", 0),
            error=done.error,
        )

    @activity.defn(name="graph_search")
    @heartbeats
    @traced("graph", "search")
    async def search(self, request: GraphSearchInput) -> list[ContextItem]:
        result = await self._knowledge.search(request.thread, request.turn, request.query)
        return await self._items(request, result)

    @traced("graph", "search")
    async def search_for_turn(self, request: GraphSearchInput) -> tuple[list[ContextItem], list[UsageEntry]]:
        """The turn's own search, which only reads: its calls come back to be billed with the
        turn's writes."""
        result, billing = await self._knowledge.search_unbilled(request.thread, request.turn, request.query)
        return await self._items(request, result), billing

    async def _items(self, request: GraphSearchInput, result: GraphSearchResult) -> list[ContextItem]:
        origins = await self._knowledge.queue.descriptions(
            request.thread.tenant_id, [u for f in result.facts for u in f.episodes[:1]]
        )
        return [
            ContextItem(
                layer=Layer.GRAPH,
                source_key=fact.uuid,
                source_time=fact.created_at,
                valid_at=fact.valid_at,
                source_episode=origins.get(fact.episodes[0], fact.episodes[0]) if fact.episodes else None,
                label=f"{fact.source_entity} {fact.relation} {fact.target_entity}",
                score=round(fact.score, 4) if fact.score is not None else None,
                tokens=estimate_tokens(fact.fact),
            )
            for fact in result.facts
        ]
