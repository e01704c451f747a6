"""The knowledge graph of each tenant, on graphiti.

graphiti does the temporal work: extraction, entity and fact resolution, and
invalidation of facts a newer episode contradicts, which stay in the graph as
history. This class adds what a durable runtime needs around it: one graph (and one
graphiti instance) per group, ingestion that a retry cannot duplicate, a search that
costs nothing when the query names nothing the graph knows, and an account of every
model, embedding and rerank call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from graphiti_core.driver.driver import GraphDriver
from graphiti_core.graphiti import AddEpisodeResults, Graphiti
from graphiti_core.nodes import EpisodeType, EpisodicNode
from graphiti_core.search.search_config import (
    EdgeReranker,
    EdgeSearchConfig,
    EdgeSearchMethod,
    SearchConfig,
)
from graphiti_core.search.search_filters import (
    ComparisonOperator,
    DateFilter,
    SearchFilters,
)
from graphiti_core.search.search_utils import RELEVANT_SCHEMA_LIMIT
from graphiti_core.utils.datetime_utils import utc_now

from memory.core.validation import check_id
from memory.graph import group_erasure, queries
from memory.graph.browse import FactPage, fact_page
from memory.graph.clients import GraphClients, GraphClientsFactory
from memory.graph.connection import backend_for
from memory.graph.entity_matcher import EntityMatcher
from memory.graph.errors import GraphIngestFailed, graph_errors
from memory.graph.group_erasure import GroupSize
from memory.graph.model_move import GraphModelMove
from memory.graph.models import (
    GraphEpisode,
    GraphFact,
    GraphSearchResult,
    IngestOutcome,
)
from memory.graph.queries import EpisodeState
from memory.graph.recording import capture

MAX_SEARCH_LIMIT = 50

# Superseded facts never compete for a place in the results.
_NOT_EXPIRED = SearchFilters(expired_at=[[DateFilter(comparison_operator=ComparisonOperator.is_null)]])


class _Graphiti(Graphiti):
    def _capture_initialization_telemetry(self) -> None:
        # graphiti reports each construction to a third-party analytics service; a
        # memory runtime holding tenants' data sends nothing anywhere it was not told to.
        pass


@dataclass
class _Group:
    ready: asyncio.Lock = field(default_factory=asyncio.Lock)
    # One episode at a time per group: graphiti resolves each against the graph as
    # the previous one left it, and two at once would each miss the other's entities.
    ingesting: asyncio.Lock = field(default_factory=asyncio.Lock)
    # One instance per embedding model the group has been served with.
    graphiti: dict[str, Graphiti] = field(default_factory=dict)
    shadow_index: bool = False


class GraphMemory(GraphModelMove):
    def __init__(
        self,
        graph_url: str,
        clients: GraphClientsFactory,
        *,
        neo4j_user: str | None = None,
        neo4j_password: str | None = None,
        connect_timeout_seconds: float = 5.0,
        query_timeout_seconds: float = 60.0,
    ) -> None:
        self._backend = backend_for(
            graph_url,
            neo4j_user=neo4j_user,
            neo4j_password=neo4j_password,
            connect_timeout_seconds=connect_timeout_seconds,
            query_timeout_seconds=query_timeout_seconds,
        )
        self._factory = clients
        self._default_model = clients.embedding_model
        self._clients: dict[str, GraphClients] = {self._default_model: clients.build()}
        self._groups: dict[str, _Group] = {}
        self._matchers: dict[str, EntityMatcher] = {}

    async def ingest(self, episode: GraphEpisode, *, embedding_model: str | None = None) -> IngestOutcome:
        """Add one episode. An episode whose uuid the graph already holds is not added again.

        New entities and facts are embedded with the model of the group's live vectors:
        see _live_model (embedding_model is the tenant's fence, for a group never moved).
        During a move to another model they get no vector of the new one: see reembed_batch.
        """
        group_id = check_id("group", episode.group_id)
        group = self._group(group_id)
        async with graph_errors("ingest", ingest=True):
            # Under the lock promote takes, so the model cannot change before the episode is in.
            async with group.ingesting:
                graphiti = await self._graphiti(group_id, await self._live_model(group_id, embedding_model))
                state = await queries.episode_state(graphiti.driver, group_id, episode.uuid)
                if state is EpisodeState.DONE:
                    return IngestOutcome(
                        episode_uuid=episode.uuid, already_present=True, entities=0, edges=0, invalidated=0, calls=[]
                    )
                if state is EpisodeState.FOREIGN:
                    raise GraphIngestFailed(f"episode {episode.uuid} already belongs to another group")
                with capture("document") as calls:
                    result = await self._add(graphiti, episode, state)
                await queries.mark_episode_done(graphiti.driver, group_id, episode.uuid)
                self._matchers.pop(group_id, None)  # new entities, or renamed ones
        own = [edge for edge in result.edges if episode.uuid in edge.episodes]
        # add_episode returns the older facts it invalidated alongside its own.
        invalidated = [
            edge
            for edge in result.edges
            if episode.uuid not in edge.episodes and (edge.invalid_at is not None or edge.expired_at is not None)
        ]
        return IngestOutcome(
            episode_uuid=episode.uuid,
            already_present=False,
            entities=len(result.nodes),
            edges=len(own),
            invalidated=len(invalidated),
            calls=calls,
        )

    async def search(
        self, group_id: str, query: str, *, limit: int = 5, embedding_model: str | None = None
    ) -> GraphSearchResult:
        """Current facts near the entities the query names; free when it names none the group knows.

        The query is embedded with the model of the group's live vectors: see
        _live_model (embedding_model is the tenant's fence, for a group never moved).
        """
        check_id("group", group_id)
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_SEARCH_LIMIT}, not {limit}")
        with capture("query") as calls:
            async with graph_errors("search"):
                graphiti = await self._graphiti(group_id, await self._live_model(group_id, embedding_model))
                matcher = await self._matcher(graphiti.driver, group_id)
                # CPU work, off the event loop: other tenants' activities keep running.
                anchors = await asyncio.to_thread(matcher.anchors, query)
                if not anchors:
                    return GraphSearchResult(facts=[], anchors=[], short_circuited=True, calls=calls)
                results = await graphiti.search_(
                    query,
                    config=_search_config(limit),
                    group_ids=[group_id],
                    center_node_uuid=anchors[0][0],
                    bfs_origin_node_uuids=[uuid for uuid, _ in anchors],
                    search_filter=_NOT_EXPIRED,
                )
                scores = dict(zip((edge.uuid for edge in results.edges), results.edge_reranker_scores))
                found = {fact.uuid: fact for fact in await queries.facts(graphiti.driver, group_id, list(scores))}
        now = utc_now()
        facts = [
            found[uuid].model_copy(update={"score": score})
            for uuid, score in scores.items()
            if uuid in found and found[uuid].is_current(now)
        ]
        names = list(dict.fromkeys(name for _, name in anchors))
        return GraphSearchResult(facts=facts[:limit], anchors=names, short_circuited=False, calls=calls)

    async def _matcher(self, driver: GraphDriver, group_id: str) -> EntityMatcher:
        """The group's cached matcher, rebuilt (in a thread) when its entity count changed,
        as ingestion on any worker changes it."""
        count = await queries.entity_count(driver, group_id)
        cached = self._matchers.get(group_id)
        if cached is None or cached.size != count:
            entities = await queries.entities(driver, group_id)
            cached = await asyncio.to_thread(EntityMatcher, entities)
            self._matchers[group_id] = cached
        return cached

    async def facts(self, group_id: str, *, include_invalid: bool = True) -> list[GraphFact]:
        """Every fact of the group, oldest first; with include_invalid, the superseded ones too."""
        check_id("group", group_id)
        async with graph_errors("facts"):
            graphiti = await self._graphiti(group_id)
            facts = await queries.facts(graphiti.driver, group_id)
        if include_invalid:
            return facts
        now = utc_now()
        return [fact for fact in facts if fact.is_current(now)]

    async def fact_page(self, group_id: str, **filters) -> FactPage:
        """One page of the group's facts for a person to read (memory/graph/browse.py)."""
        check_id("group", group_id)
        async with graph_errors("fact_page"):
            graphiti = await self._graphiti(group_id)
            return await fact_page(graphiti.driver, group_id, **filters)

    async def facts_by_uuid(self, group_id: str, uuids: list[str]) -> list[GraphFact]:
        """The group's facts with these uuids, in the order asked; unknown uuids are left out."""
        check_id("group", group_id)
        if not uuids:
            return []
        async with graph_errors("facts_by_uuid"):
            graphiti = await self._graphiti(group_id)
            found = {fact.uuid: fact for fact in await queries.facts(graphiti.driver, group_id, list(uuids))}
        return [found[uuid] for uuid in dict.fromkeys(uuids) if uuid in found]

    async def entity_names(self, group_id: str) -> list[str]:
        check_id("group", group_id)
        async with graph_errors("entity_names"):
            graphiti = await self._graphiti(group_id)
            entities = await queries.entities(graphiti.driver, group_id)
        return sorted({name for _, name in entities})

    async def close(self) -> None:
        self._groups.clear()
        await self._backend.close()

    async def _add(self, graphiti: Graphiti, episode: GraphEpisode, state: EpisodeState) -> AddEpisodeResults:
        driver = graphiti.driver
        description = f"{episode.source}: {episode.source_description}"
        # Chosen before the episode is saved, so it is never its own context.
        previous = await graphiti.retrieve_episodes(
            episode.reference_time,
            last_n=RELEVANT_SCHEMA_LIMIT,
            group_ids=[episode.group_id],
            source=EpisodeType.text,
            driver=driver,
        )
        if state is EpisodeState.ABSENT:
            # add_episode mints a random uuid for a new episode, and given a uuid it
            # reprocesses a stored one; so the episode is stored first, under ours.
            await EpisodicNode(
                uuid=episode.uuid,
                name=episode.name,
                group_id=episode.group_id,
                labels=[],
                source=EpisodeType.text,
                content=episode.body,
                source_description=description,
                created_at=utc_now(),
                valid_at=episode.reference_time,
            ).save(driver)
        return await graphiti.add_episode(
            name=episode.name,
            episode_body=episode.body,
            source_description=description,
            reference_time=episode.reference_time,
            source=EpisodeType.text,
            group_id=episode.group_id,
            uuid=episode.uuid,
            previous_episode_uuids=[ep.uuid for ep in previous if ep.uuid != episode.uuid],
        )

    async def _live_model(self, group_id: str, fence: str | None) -> str:
        """The model of the group's live vectors, which every query and new vector must use.

        promote stamps it in the statement that swaps the vectors, so it is right at every
        moment, including between a migration's two switches (the graph's, then the tenant
        fence's, in separate databases): reading the tenant's fence instead would embed with
        the other model's dimension in that window. A group never moved has no stamp; its
        vectors are the tenant fence's model (fence), or the default one.
        """
        stamped = await queries.fence_model((await self._graphiti(group_id)).driver, group_id)
        return stamped or fence or self._default_model

    async def group_size(self, group_id: str) -> GroupSize:
        """How many nodes and edges the group holds (what erasing it would remove)."""
        check_id("group", group_id)
        async with graph_errors("group_size"):
            return await group_erasure.group_size((await self._graphiti(group_id)).driver, group_id)

    async def erase_group(self, group_id: str) -> None:
        """Delete the whole group, and forget this process's handles on it."""
        check_id("group", group_id)
        async with graph_errors("erase_group"):
            await group_erasure.erase_group((await self._graphiti(group_id)).driver, group_id)
        self._groups.pop(group_id, None)
        self._matchers.pop(group_id, None)

    def _group(self, group_id: str) -> _Group:
        return self._groups.setdefault(group_id, _Group())

    async def _graphiti(self, group_id: str, model: str | None = None) -> Graphiti:
        model = model or self._default_model
        group = self._group(group_id)
        async with group.ready:
            graphiti = group.graphiti.get(model)
            if graphiti is None:
                clients = self._clients.get(model)
                if clients is None:
                    clients = self._clients[model] = self._factory.build(model)
                driver = await self._backend.driver(group_id)
                graphiti = group.graphiti[model] = _Graphiti(
                    graph_driver=driver,
                    llm_client=clients.llm,
                    embedder=clients.embedder,
                    cross_encoder=clients.reranker,
                )
            return graphiti

    async def _driver(self, group_id: str) -> GraphDriver:
        driver = (await self._graphiti(group_id)).driver
        group = self._group(group_id)
        if not group.shadow_index:
            await queries.ensure_shadow_index(driver)
            group.shadow_index = True
        return driver


def _search_config(limit: int) -> SearchConfig:
    # Candidates from keywords, vectors and the anchors' neighbourhood, ranked together
    # by the reranker; twice the limit, since facts that ended are dropped afterwards.
    return SearchConfig(
        edge_config=EdgeSearchConfig(
            search_methods=[EdgeSearchMethod.bm25, EdgeSearchMethod.cosine_similarity, EdgeSearchMethod.bfs],
            reranker=EdgeReranker.cross_encoder,
        ),
        limit=2 * limit,
    )
