"""The knowledge graph on a real FalkorDB, with the offline extractor and embedder."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from falkordb import FalkorDB
from graphiti_core.prompts import prompt_library
from graphiti_core.prompts.dedupe_edges import EdgeDuplicate
from graphiti_core.prompts.extract_nodes import ExtractedEntities, SummarizedEntities
from graphiti_core.prompts.models import Message

from memory.core.config import Settings
from memory.embedding.offline import OfflineEmbedder
from memory.graph import (
    GraphClientsFactory,
    GraphEpisode,
    GraphMemory,
    GraphUnavailable,
    episode_uuid,
)
from memory.graph.anthropic_llm import RecordedAnthropicClient
from memory.graph.offline_llm import OfflineGraphLLM
from memory.graph.recording import capture

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)


def new_group() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def episode(group_id: str, key: str, body: str, *, days: int = 0, source: str = "conversation") -> GraphEpisode:
    return GraphEpisode(
        uuid=episode_uuid(f"{group_id}/{key}"),
        group_id=group_id,
        name=key,
        body=body,
        source=source,
        source_description=f"thread t1 {key}",
        reference_time=MONDAY + timedelta(days=days),
    )


def graph_counts(falkordb_port: int, group_id: str) -> dict[str, int]:
    """What is stored, counted by the database itself rather than through the code under test."""
    db = FalkorDB(host="127.0.0.1", port=falkordb_port)
    graph = db.select_graph(group_id)
    counts = {}
    for label, query in {
        "episodes": "MATCH (e:Episodic) RETURN count(e)",
        "entities": "MATCH (n:Entity) RETURN count(n)",
        "facts": "MATCH ()-[e:RELATES_TO]->() RETURN count(e)",
    }.items():
        counts[label] = graph.query(query).result_set[0][0]
    db.connection.close()
    return counts


async def test_a_contradiction_is_kept_as_history_not_deleted(graph):
    group = new_group()
    await graph.ingest(episode(group, "turn-1", "Dana Smith works at Acme Corp."))
    moved = await graph.ingest(episode(group, "turn-2", "Dana Smith moved to Globex.", days=30))

    assert moved.invalidated == 1
    history = {fact.target_entity: fact for fact in await graph.facts(group, include_invalid=True)}
    assert history["Acme Corp"].invalid_at == MONDAY + timedelta(days=30)
    assert history["Acme Corp"].expired_at is not None
    assert history["Globex"].invalid_at is None
    current = await graph.facts(group, include_invalid=False)
    assert [fact.target_entity for fact in current] == ["Globex"]

    found = await graph.search(group, "Where does Dana Smith work?")
    assert found.anchors == ["Dana Smith"]
    assert [fact.fact for fact in found.facts] == ["Dana Smith works at Globex."]
    assert found.facts[0].episodes == [moved.episode_uuid]

    # A manifest that kept only the uuid gets the same fact back.
    hydrated = await graph.facts_by_uuid(group, [found.facts[0].uuid, "no-such-fact"])
    assert [fact.fact for fact in hydrated] == ["Dana Smith works at Globex."]


async def test_a_retried_episode_duplicates_nothing(graph, falkordb_port):
    group = new_group()
    turn = episode(group, "turn-1", "User: My name is Lee Park.\nUser: I work at Initech and I use Postgres.")
    first = await graph.ingest(turn)
    before = graph_counts(falkordb_port, group)

    retried = await graph.ingest(turn)

    assert first.already_present is False and first.edges == 2
    assert retried.already_present is True
    assert retried.calls == []
    assert graph_counts(falkordb_port, group) == before == {"episodes": 1, "entities": 3, "facts": 2}


class DiesBeforeExtractingFacts(OfflineGraphLLM):
    """A worker lost mid-ingest: the episode is stored, its facts never are."""

    async def generate_response(self, messages, response_model=None, *args, prompt_name=None, **kwargs):
        if prompt_name == "extract_edges.edge":
            raise RuntimeError("worker lost")
        return await super().generate_response(messages, response_model, *args, prompt_name=prompt_name, **kwargs)


async def test_a_retry_finishes_an_ingest_that_died_half_way(graph, graph_url, falkordb_port):
    group = new_group()
    turn = episode(group, "turn-1", "Kim Lee's company is called Hooli. Hooli is based in Palo Alto.")
    dying = GraphMemory(graph_url, GraphClientsFactory(DiesBeforeExtractingFacts(), OfflineEmbedder(256)))
    with pytest.raises(RuntimeError, match="worker lost"):
        await dying.ingest(turn)
    await dying.close()
    assert graph_counts(falkordb_port, group) == {"episodes": 1, "entities": 0, "facts": 0}

    retried = await graph.ingest(turn)

    assert retried.already_present is False
    facts = {fact.fact for fact in await graph.facts(group)}
    assert facts == {"Kim Lee works at Hooli.", "Hooli is based in Palo Alto."}
    assert graph_counts(falkordb_port, group) == {"episodes": 1, "entities": 3, "facts": 2}


async def test_search_on_a_cold_group_makes_no_calls(graph):
    found = await graph.search(new_group(), "Where does Dana Smith work?")

    assert found.short_circuited is True
    assert found.facts == [] and found.anchors == []
    assert found.calls == []


async def test_a_query_naming_no_known_entity_makes_no_calls(graph):
    group = new_group()
    await graph.ingest(episode(group, "turn-1", "Dana Smith works at Acme Corp."))

    found = await graph.search(group, "What is the capital of France? Ask Dana.")

    assert found.short_circuited is True
    assert found.calls == []
    anchored = await graph.search(group, "what about acme corp?")
    assert anchored.short_circuited is False
    assert anchored.anchors == ["Acme Corp"]
    assert sorted(call.kind for call in anchored.calls) == ["embedding", "rerank"]


async def test_concurrent_tenants_stay_in_their_own_graphs(graph):
    alpha, beta = new_group(), new_group()
    episodes = [episode(alpha, f"a{i}", f"Ann{i} Lee works at Alpha{i} Corp.", days=i) for i in range(6)]
    episodes += [episode(beta, f"b{i}", f"Bob{i} Kim uses Beta{i}.", days=i) for i in range(6)]

    outcomes = await asyncio.gather(*(graph.ingest(item) for item in episodes))

    assert all(outcome.edges == 1 for outcome in outcomes)
    alpha_names = await graph.entity_names(alpha)
    beta_names = await graph.entity_names(beta)
    assert alpha_names == sorted([f"Ann{i} Lee" for i in range(6)] + [f"Alpha{i} Corp" for i in range(6)])
    assert beta_names == sorted([f"Bob{i} Kim" for i in range(6)] + [f"Beta{i}" for i in range(6)])
    assert {fact.relation for fact in await graph.facts(alpha)} == {"WORKS_AT"}
    assert {fact.relation for fact in await graph.facts(beta)} == {"USES"}
    # Each outcome carries its own calls, not its neighbours'.
    for outcome in outcomes:
        extracted = [call for call in outcome.calls if call.purpose == "extract_nodes.extract_text"]
        assert len(extracted) == 1


async def test_ingest_reports_every_model_and_embedding_call(graph):
    outcome = await graph.ingest(episode(new_group(), "doc-1", "Acme Corp is based in Berlin.", source="document"))

    llm = [call for call in outcome.calls if call.kind == "llm"]
    embeddings = [call for call in outcome.calls if call.kind == "embedding"]
    assert {call.purpose for call in llm} >= {"extract_nodes.extract_text", "extract_edges.edge"}
    assert all(call.provider == "offline" and call.model == "rule-based-extractor" for call in llm)
    assert all(call.input_tokens > 0 and call.output_tokens > 0 for call in llm)
    assert embeddings and all(call.input_tokens > 0 for call in embeddings)
    assert {(call.provider, call.model) for call in embeddings} == {("offline", "offline/hashed-ngrams/256")}


async def test_an_unreachable_graph_raises_graph_unavailable_promptly():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        unused_port = sock.getsockname()[1]
    memory = GraphMemory(f"falkor://127.0.0.1:{unused_port}", GraphClientsFactory.offline(), connect_timeout_seconds=1)
    started = time.monotonic()

    with pytest.raises(GraphUnavailable):
        await memory.ingest(episode(new_group(), "turn-1", "Dana Smith works at Acme Corp."))
    with pytest.raises(GraphUnavailable):
        await memory.search(new_group(), "Dana Smith")

    assert time.monotonic() - started < 5
    await memory.close()


def test_an_unknown_graph_url_scheme_is_refused():
    with pytest.raises(ValueError, match="falkor://"):
        GraphMemory("postgresql://localhost/graph", GraphClientsFactory.offline())


async def test_the_offline_extractor_answers_graphitis_own_prompts():
    """Built with the installed graphiti's templates, so a renamed section shows up here."""
    llm = OfflineGraphLLM()
    body = "User: My name is Dana Smith.\nUser: I work at Acme Corp. Acme Corp uses Postgres."

    async def ask(prompt, context, response_model, name):
        return await llm.generate_response(prompt(context), response_model, prompt_name=name)

    with capture("document") as calls:
        # The prompt's worked examples name Jordan, Lockheed Martin and more; none may leak in.
        entities = await ask(
            prompt_library.extract_nodes.extract_text,
            {"entity_types": [], "episode_content": body, "custom_extraction_instructions": ""},
            ExtractedEntities,
            "extract_nodes.extract_text",
        )
        resolution = await ask(
            prompt_library.dedupe_edges.resolve_edge,
            {
                "existing_edges": [{"idx": 0, "fact": "Dana Smith works at Acme Corp."}],
                "edge_invalidation_candidates": [
                    {"idx": 1, "fact": "Dana Smith works at Initech."},
                    {"idx": 2, "fact": "Dana Smith uses Vim."},
                ],
                "new_edge": "Dana Smith works at Acme Corp.",
            },
            EdgeDuplicate,
            "dedupe_edges.resolve_edge",
        )
        summaries = await ask(
            prompt_library.extract_nodes.extract_summaries_batch,
            {
                "entities": [{"name": "Postgres", "summary": "", "entity_types": ["Entity"], "attributes": {}}],
                "episode_content": body,
                "previous_episodes": [],
            },
            SummarizedEntities,
            "extract_nodes.extract_summaries_batch",
        )

    assert [entity["name"] for entity in entities["extracted_entities"]] == ["Dana Smith", "Acme Corp", "Postgres"]
    assert resolution == {"duplicate_facts": [0], "contradicted_facts": [1]}
    assert summaries["summaries"] == [{"name": "Postgres", "summary": "Acme Corp uses Postgres."}]
    assert len(calls) == 3


async def test_claude_usage_is_recorded_per_request():
    usage = SimpleNamespace(input_tokens=120, output_tokens=30)
    tool_use = SimpleNamespace(type="tool_use", input={"extracted_entities": [{"name": "Dana Smith", "entity_type_id": 0}]})
    reply = SimpleNamespace(usage=usage, content=[tool_use])

    async def create(**_params):
        return reply

    settings = Settings(anthropic_api_key="sk-test", anthropic_model="claude-test")
    llm = GraphClientsFactory.from_settings(settings).build().llm
    assert isinstance(llm, RecordedAnthropicClient)
    llm.client = SimpleNamespace(messages=SimpleNamespace(create=create))
    with capture("document") as calls:
        await llm.generate_response(
            [Message(role="system", content="s"), Message(role="user", content="u")],
            ExtractedEntities,
            prompt_name="extract_nodes.extract_text",
        )

    assert [(c.kind, c.purpose, c.provider, c.model, c.input_tokens, c.output_tokens) for c in calls] == [
        ("llm", "extract_nodes.extract_text", "anthropic", "claude-test", 120, 30)
    ]
    assert isinstance(GraphClientsFactory.from_settings(Settings()).build().llm, OfflineGraphLLM)


@pytest.mark.skipif(not os.environ.get("NEO4J_URL"), reason="set NEO4J_URL (and NEO4J_USER, NEO4J_PASSWORD) to run")
async def test_neo4j_keeps_contradictions_as_history_too():
    memory = GraphMemory(
        os.environ["NEO4J_URL"],
        GraphClientsFactory.offline(),
        neo4j_user=os.environ.get("NEO4J_USER"),
        neo4j_password=os.environ.get("NEO4J_PASSWORD"),
    )
    group = new_group()
    try:
        await memory.ingest(episode(group, "turn-1", "Dana Smith works at Acme Corp."))
        await memory.ingest(episode(group, "turn-2", "Dana Smith moved to Globex.", days=30))
        found = await memory.search(group, "Where does Dana Smith work?")
        assert [fact.target_entity for fact in found.facts] == ["Globex"]
        assert len(await memory.facts(group, include_invalid=True)) == 2
        assert await memory.entity_names(new_group()) == []
    finally:
        await memory.close()
