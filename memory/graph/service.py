"""The knowledge-graph layer as operations: decide, queue, ingest in order, search, bill.

One graph group per tenant. Every model, embedding and rerank call made for the graph
is written to the usage ledger under its own action, apart from the agent's calls.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Awaitable, Callable

from memory.conversation.store import ConversationStore
from memory.core.refs import AgentRef, ThreadRef
from memory.core.switches import SwitchableLayer, SwitchBoard
from memory.core.usage import Action, Owner, UsageLedger
from memory.graph import (
    GraphCall,
    GraphFact,
    GraphMemory,
    GraphSearchResult,
    GraphUnavailable,
    IngestOutcome,
    ReembedBatch,
)
from memory.graph.browse import FactPage
from memory.graph.episode_queue import EpisodeQueue, QueuedEpisode
from memory.graph.episode_sources import (
    document_episode_body,
    notebook_episode_body,
    summarise_exchange,
)
from memory.graph.gates import GateDecision, IngestionFacts, decide
from memory.graph.ingestion_log import IngestionLog
from memory.llm.base import LLMClient, ModelUsage

_log = logging.getLogger(__name__)

# Ingestion may keep adding entities while a migration finishes; give up on catching up after this.
_MAX_CATCH_UP_PASSES = 5

_ACTION_BY_KIND = {"llm": Action.GRAPH_EXTRACTION, "embedding": Action.GRAPH_EMBED, "rerank": Action.GRAPH_RERANK}


def group_of(tenant_id: str) -> str:
    """A tenant's graph group: its own FalkorDB graph, or its own partition in Neo4j."""
    return tenant_id


class KnowledgeGraph:
    def __init__(
        self,
        graph: GraphMemory,
        queue: EpisodeQueue,
        switches: SwitchBoard,
        decisions: IngestionLog,
        conversation: ConversationStore,
        llm: LLMClient,
        ledger: UsageLedger,
        *,
        search_limit: int = 5,
        current_model: Callable[[str], Awaitable[str]] | None = None,
    ):
        self.graph = graph
        self.queue = queue
        self.switches = switches
        self.decisions = decisions
        self._conversation = conversation
        self._llm = llm
        self._ledger = ledger
        self._search_limit = search_limit
        # The tenant's embedding model now (its fence); without it the graph's default.
        self._current_model = current_model

    async def decide(
        self,
        facts: IngestionFacts,
        *,
        idempotency_key: str,
        tenant_id: str,
        source: str,
        agent_id: str | None = None,
        thread_id: str | None = None,
        turn: int | None = None,
    ) -> GateDecision:
        """Evaluate the gates against the switches in force now, and record which one decided."""
        decision = decide(await self.switches.effective(tenant_id), facts)
        return await self.decisions.record(
            decision,
            idempotency_key=idempotency_key,
            tenant_id=tenant_id,
            source=source,
            agent_id=agent_id,
            thread_id=thread_id,
            turn=turn,
        )

    async def enqueue_exchange(
        self,
        thread: ThreadRef,
        turn: int,
        user_message_id: int,
        assistant_message_id: int,
        *,
        summary: str | None = None,
    ) -> QueuedEpisode:
        """Queue the exchange's summary as an episode. Given the episodic layer's summary, it
        is reused; otherwise (threads from before episodic memory) the exchange is summarised here."""
        key = f"{thread.key}/turn/{turn}/graph_episode"
        if (queued := await self.queue.find(key)) is not None:
            return queued  # summarised and queued by an earlier attempt: no second model call
        messages = await self._conversation.messages_by_id(thread, [user_message_id, assistant_message_id])
        by_role = {m.role: m for m in messages}
        if set(by_role) != {"user", "assistant"}:
            raise LookupError(f"turn {turn} of {thread.key} has no stored user/assistant pair")
        if summary is None:
            response = await summarise_exchange(self._llm, by_role["user"].content, by_role["assistant"].content)
            await self._ledger.record_response(f"{key}/summary", thread, Action.EPISODE_SUMMARY, response)
            summary = response.text
        return await self.queue.enqueue(
            tenant_id=thread.tenant_id,
            group_id=group_of(thread.tenant_id),
            idempotency_key=key,
            source="conversation",
            source_description=f"conversation: thread {thread.thread_id} of agent {thread.agent_id}, turn {turn}",
            name=f"{thread.agent_id}/{thread.thread_id} turn {turn}",
            body=summary,
            reference_time=by_role["user"].created_at,
        )

    async def enqueue_notebook(self, agent: AgentRef, version: int, content: str, written_at: datetime) -> QueuedEpisode:
        return await self.queue.enqueue(
            tenant_id=agent.tenant_id,
            group_id=group_of(agent.tenant_id),
            idempotency_key=f"{agent.tenant_id}/{agent.agent_id}/notebook/v{version}/graph_episode",
            source="notebook",
            source_description=f"notebook: /notebook.md v{version} of agent {agent.agent_id} (authoritative)",
            name=f"{agent.agent_id} notebook v{version}",
            body=notebook_episode_body(content),
            reference_time=written_at,
        )

    async def enqueue_document_chunk(
        self, tenant_id: str, name: str, sha256: str, index: int, text: str, heading: str | None, ingested_at: datetime
    ) -> QueuedEpisode:
        return await self.queue.enqueue(
            tenant_id=tenant_id,
            group_id=group_of(tenant_id),
            idempotency_key=f"{tenant_id}/document/{sha256}/chunk/{index}/graph_episode",
            source="document",
            source_description=f"document: {name} chunk {index}",
            name=f"{name} #{index}",
            body=document_episode_body(name, text, heading),
            reference_time=ingested_at,
        )

    async def ingest_through(self, episode: QueuedEpisode) -> QueuedEpisode:
        """Ingest the group's queue up to this episode, in order; return this episode's final state."""

        async def ingest(queued: QueuedEpisode) -> IngestOutcome:
            outcome = await self.graph.ingest(
                queued.as_graph_episode(), embedding_model=await self._model_of(queued.tenant_id)
            )
            await self._bill(f"{queued.idempotency_key}/ingest", queued.tenant_id, outcome.calls)
            return outcome

        return await self.queue.drain_through(episode.group_id, episode.id, ingest)

    async def search(self, thread: ThreadRef, turn: int, query: str) -> GraphSearchResult:
        if not await self.switches.layer_on(thread.tenant_id, SwitchableLayer.GRAPH):
            return GraphSearchResult(facts=[], anchors=[], short_circuited=True, calls=[])
        try:
            result = await self.graph.search(
                group_of(thread.tenant_id),
                query,
                limit=self._search_limit,
                embedding_model=await self._model_of(thread.tenant_id),
            )
        except GraphUnavailable as err:
            # The reply must not wait on the graph: answer without its facts this turn.
            _log.warning("graph search skipped for %s turn %d: %s", thread.key, turn, err)
            return GraphSearchResult(facts=[], anchors=[], short_circuited=True, calls=[])
        await self._bill(f"{thread.key}/turn/{turn}/graph_search", thread, result.calls)
        return result

    async def reembed_graph_batch(
        self, tenant_id: str, to_model: str, *, after: str, limit: int, sweep: str = "first"
    ) -> ReembedBatch:
        """Embed a batch of the tenant's entities and facts with to_model, beside the live vectors."""
        batch = await self.graph.reembed_batch(group_of(tenant_id), to_model, after=after, limit=limit)
        key = f"{tenant_id}/migration/{to_model}/graph/{sweep}/{after or 'start'}"
        await self._bill(key, tenant_id, batch.calls)
        return batch

    async def promote_graph(self, tenant_id: str, to_model: str) -> int:
        """Make to_model's vectors the live ones, first catching up with what was ingested meanwhile."""
        group = group_of(tenant_id)
        if await self.graph.graph_model(group) == to_model:
            return 0
        for sweep in range(_MAX_CATCH_UP_PASSES):
            after, embedded = "", 0
            while True:
                batch = await self.reembed_graph_batch(
                    tenant_id, to_model, after=after, limit=100, sweep=f"catch-up-{sweep}"
                )
                embedded += batch.entities + batch.facts
                if batch.last_key is None:
                    break
                after = batch.last_key
            if not embedded:
                break
        return await self.graph.promote(group, to_model)

    async def all_facts(self, tenant_id: str) -> list[GraphFact]:
        """Every fact of the tenant's graph, invalidated ones included (memory/recall/superseded.py)."""
        return await self.graph.facts(group_of(tenant_id), include_invalid=True)

    async def fact_page(
        self, tenant_id: str, *, entity: str, state: str, now: datetime, offset: int, limit: int
    ) -> FactPage:
        return await self.graph.fact_page(
            group_of(tenant_id), entity=entity, state=state, now=now, offset=offset, limit=limit
        )

    async def facts_by_uuid(self, tenant_id: str, uuids: list[str]) -> list[GraphFact]:
        return await self.graph.facts_by_uuid(group_of(tenant_id), uuids) if uuids else []

    async def _model_of(self, tenant_id: str) -> str | None:
        return await self._current_model(tenant_id) if self._current_model is not None else None

    async def _bill(self, key: str, owner: Owner, calls: list[GraphCall]) -> None:
        for index, call in enumerate(calls):
            usage = ModelUsage(input_tokens=call.input_tokens, output_tokens=call.output_tokens)
            action = _ACTION_BY_KIND[call.kind]
            await self._ledger.record(f"{key}/call/{index}", owner, action, provider=call.provider, model=call.model, usage=usage)
