"""The knowledge-graph layer as operations: decide, queue, ingest in order, search, bill.

One graph group per tenant, holding the agent-wide knowledge (notebooks, documents,
conversations of threads without a user), and one per tenant and end user, holding what
that user's conversations taught: a user's thread searches both, no other user's.
Every model, embedding and rerank call made for the graph
is written to the usage ledger under its own action, apart from the agent's calls.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Awaitable, Callable

from memory.conversation.store import ConversationStore
from memory.core.read_once import once
from memory.core.refs import AgentRef, ThreadRef
from memory.core.switches import SwitchableLayer, SwitchBoard
from memory.core.usage import Action, Owner, UsageLedger
from memory.core.usage_entry import UsageEntry
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


def _usage_entry(key: str, thread: ThreadRef, call: GraphCall) -> UsageEntry:
    return UsageEntry(
        idempotency_key=key,
        tenant_id=thread.tenant_id,
        agent_id=thread.agent_id,
        thread_id=thread.thread_id,
        action=_ACTION_BY_KIND[call.kind].value,
        provider=call.provider,
        model=call.model,
        usage=ModelUsage(input_tokens=call.input_tokens, output_tokens=call.output_tokens),
    )


def group_of(tenant_id: str, user_id: str | None = None) -> str:
    """A tenant's graph group (its own FalkorDB graph, or its own partition in Neo4j), or,
    given a user, that user's group. A user's group is named by a hash of tenant and user:
    any readable join of the two could equal another tenant's id, and ids are capped at 64."""
    if user_id is None:
        return tenant_id
    digest = hashlib.sha256(f"{tenant_id}\x00{user_id}".encode("utf-8")).hexdigest()[:40]
    return f"user-{digest}"


def groups_of(tenant_id: str, user_id: str | None) -> list[str]:
    """The groups a thread reads: the user's own first, then the tenant's shared one."""
    return [group_of(tenant_id, user_id), tenant_id] if user_id else [tenant_id]


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
        query_model: Callable[[str], Awaitable[str]] | None = None,
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
        # The fence a search embeds its query with, when a cached one will do (see search_unbilled).
        self._query_model = query_model or current_model

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
            group_id=group_of(thread.tenant_id, thread.user_id),
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
        result = await self._search(thread, turn, query, self._current_model)
        await self._bill(self._search_key(thread, turn), thread, result.calls)
        return result

    async def search_unbilled(self, thread: ThreadRef, turn: int, query: str) -> tuple[GraphSearchResult, list[UsageEntry]]:
        """The turn's own search, reading only: the fence from the worker's cache (the graph
        embeds with the model stamped on it anyway; the fence only names a group's first
        model) and the search's calls handed back as usage entries for the turn's commit."""
        result = await self._search(thread, turn, query, self._query_model)
        key = self._search_key(thread, turn)
        return result, [_usage_entry(f"{key}/call/{index}", thread, call) for index, call in enumerate(result.calls)]

    @staticmethod
    def _search_key(thread: ThreadRef, turn: int) -> str:
        return f"{thread.key}/turn/{turn}/graph_search"

    async def _search(
        self, thread: ThreadRef, turn: int, query: str, fence: Callable[[str], Awaitable[str]] | None
    ) -> GraphSearchResult:
        if not await self.switches.layer_on(thread.tenant_id, SwitchableLayer.GRAPH):
            return GraphSearchResult(facts=[], anchors=[], short_circuited=True, calls=[])
        embedding_model = await fence(thread.tenant_id) if fence is not None else None
        results = []
        for group in groups_of(thread.tenant_id, thread.user_id):
            try:
                results.append(
                    await self.graph.search(group, query, limit=self._search_limit, embedding_model=embedding_model)
                )
            except GraphUnavailable as err:
                # The reply must not wait on the graph: answer without this group's facts this turn
                # (the other group's still count).
                _log.warning("graph search of %s skipped for %s turn %d: %s", group, thread.key, turn, err)
        if not results:
            return GraphSearchResult(facts=[], anchors=[], short_circuited=True, calls=[])
        return _merged(results, self._search_limit)

    async def reembed_graph_batch(
        self, tenant_id: str, to_model: str, *, after: str, limit: int, sweep: str = "first"
    ) -> ReembedBatch:
        """Embed a batch of the tenant's entities and facts with to_model, beside the live vectors:
        the shared group's first, then each user's group's. `after` is the tenant group's own key
        (as before users had groups), or `<user group>|<key>` within a user's group."""
        groups = await self._migrated_groups(tenant_id)
        group, _, inner = after.rpartition("|") if "|" in after else (tenant_id, "", after)
        batch = await self.graph.reembed_batch(group, to_model, after=inner, limit=limit)
        key = f"{tenant_id}/migration/{to_model}/graph/{sweep}/{after or 'start'}"
        await self._bill(key, tenant_id, batch.calls)
        if batch.last_key is not None:
            last = batch.last_key if group == tenant_id else f"{group}|{batch.last_key}"
        else:
            later = groups[groups.index(group) + 1 :] if group in groups else []
            last = f"{later[0]}|" if later else None
        return batch.model_copy(update={"last_key": last})

    async def _migrated_groups(self, tenant_id: str) -> list[str]:
        """The tenant's shared group, then its users' groups."""
        return [tenant_id, *(g for g in await self.queue.groups(tenant_id) if g != tenant_id)]

    async def promote_graph(self, tenant_id: str, to_model: str) -> int:
        """Make to_model's vectors the live ones, first catching up with what was ingested meanwhile."""
        groups = await self._migrated_groups(tenant_id)
        if all([await self.graph.graph_model(group) == to_model for group in groups]):
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
        return sum([await self.graph.promote(group, to_model) for group in groups])

    async def all_facts(self, tenant_id: str) -> list[GraphFact]:
        """Every fact of the tenant's graph, invalidated ones included (memory/recall/superseded.py);
        read once per read_once scope, where recall and episodic memory both ask."""
        return await once(("graph facts", tenant_id), lambda: self.graph.facts(group_of(tenant_id), include_invalid=True))

    async def fact_page(
        self, tenant_id: str, *, entity: str, state: str, now: datetime, offset: int, limit: int
    ) -> FactPage:
        return await self.graph.fact_page(
            group_of(tenant_id), entity=entity, state=state, now=now, offset=offset, limit=limit
        )

    async def facts_by_uuid(self, tenant_id: str, uuids: list[str], user_id: str | None = None) -> list[GraphFact]:
        """The facts a thread was shown, from the groups that thread reads (never another user's)."""
        found: list[GraphFact] = []
        for group in groups_of(tenant_id, user_id) if uuids else []:
            found.extend(await self.graph.facts_by_uuid(group, uuids))
        return found

    async def _model_of(self, tenant_id: str) -> str | None:
        return await self._current_model(tenant_id) if self._current_model is not None else None

    async def _bill(self, key: str, owner: Owner, calls: list[GraphCall]) -> None:
        # Ingestion and migration bill each call as it is made (their keys make a retry free).
        for index, call in enumerate(calls):
            usage = ModelUsage(input_tokens=call.input_tokens, output_tokens=call.output_tokens)
            action = _ACTION_BY_KIND[call.kind]
            await self._ledger.record(f"{key}/call/{index}", owner, action, provider=call.provider, model=call.model, usage=usage)


def _merged(results: list[GraphSearchResult], limit: int) -> GraphSearchResult:
    """One answer from the user's group and the shared one: the user's facts first, at most limit."""
    if len(results) == 1:
        return results[0]
    facts = [fact for result in results for fact in result.facts][:limit]
    anchors = list(dict.fromkeys(anchor for result in results for anchor in result.anchors))
    return GraphSearchResult(
        facts=facts,
        anchors=anchors,
        short_circuited=all(result.short_circuited for result in results),
        calls=[call for result in results for call in result.calls],
    )
