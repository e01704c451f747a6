"""Moving a graph's vectors to another embedding model on a real FalkorDB: shadow, promote, roll back."""

from __future__ import annotations

import pytest
from falkordb import FalkorDB

from memory.graph import GraphMemory, GraphModelChanged, GraphUnavailable
from tests.graph.test_graph_memory import episode, new_group

OLD = "offline/hashed-ngrams/256"
NEW = "offline/hashed-ngrams/384"


def stored(falkordb_port: int, group_id: str, query: str) -> list[list]:
    """Read by the database itself rather than through the code under test."""
    db = FalkorDB(host="127.0.0.1", port=falkordb_port)
    try:
        return db.select_graph(group_id).query(query).result_set
    finally:
        db.connection.close()


def live_dimensions(falkordb_port: int, group_id: str) -> set[int]:
    rows = stored(falkordb_port, group_id, "MATCH (n:Entity) RETURN n.name_embedding")
    rows += stored(falkordb_port, group_id, "MATCH ()-[e:RELATES_TO]->() RETURN e.fact_embedding")
    return {len(row[0]) for row in rows}


def shadows(falkordb_port: int, group_id: str) -> list[list]:
    return stored(
        falkordb_port,
        group_id,
        "MATCH (s:GraphEmbedding) RETURN s.model, s.key, s.text, s.embedding ORDER BY s.model, s.key",
    )


async def full_pass(graph: GraphMemory, group: str, model: str, limit: int = 2) -> tuple[int, int]:
    after, entities, facts = "", 0, 0
    while True:
        batch = await graph.reembed_batch(group, model, after=after, limit=limit)
        entities, facts = entities + batch.entities, facts + batch.facts
        if batch.last_key is None:
            return entities, facts
        after = batch.last_key


async def seeded(graph: GraphMemory) -> str:
    group = new_group()
    await graph.ingest(episode(group, "turn-1", "Dana Smith works at Acme Corp."))
    await graph.ingest(episode(group, "turn-2", "Lee Park works at Globex.", days=1))
    return group


async def test_reembedding_fills_shadows_in_batches_without_touching_live_vectors(graph, falkordb_port):
    group = await seeded(graph)
    assert await graph.reembed_progress(group, NEW) == (0, 6)

    first = await graph.reembed_batch(group, NEW, limit=2)
    assert (first.entities, first.facts) == (2, 0)
    assert first.last_key is not None and first.last_key.startswith("entity:")
    assert [(call.kind, call.model) for call in first.calls] == [("embedding", NEW)]
    assert await graph.reembed_progress(group, NEW) == (2, 6)

    rest = await full_pass(graph, group, NEW)
    assert rest == (2, 2)
    assert await graph.reembed_progress(group, NEW) == (6, 6)
    assert live_dimensions(falkordb_port, group) == {256}

    before = shadows(falkordb_port, group)
    assert len(before) == 6 and {len(row[3]) for row in before} == {384}
    repeated = await graph.reembed_batch(group, NEW, limit=2)
    assert (repeated.entities, repeated.facts, repeated.last_key, repeated.calls) == (0, 0, None, [])
    assert shadows(falkordb_port, group) == before

    # Until the move, search embeds with the model of the live vectors.
    result = await graph.search(group, "Where does Dana Smith work?")
    assert any("Acme Corp" in fact.fact for fact in result.facts)
    assert await graph.graph_model(group) is None


async def test_promote_makes_the_new_vectors_live_and_can_roll_back(graph, falkordb_port):
    group = await seeded(graph)
    before = [fact.uuid for fact in (await graph.search(group, "Where does Dana Smith work?")).facts]
    assert before
    await full_pass(graph, group, NEW)

    assert await graph.promote(group, NEW) == 6
    assert await graph.graph_model(group) == NEW
    assert live_dimensions(falkordb_port, group) == {384}
    after = await graph.search(group, "Where does Dana Smith work?", embedding_model=NEW)
    assert [fact.uuid for fact in after.facts] == before
    assert {call.model for call in after.calls if call.kind == "embedding"} == {NEW}
    # A retried promote changes nothing.
    assert await graph.promote(group, NEW) == 0

    # Ingestion with the new model lands in the new geometry.
    await graph.ingest(episode(group, "turn-3", "Kim Lo works at Initech.", days=2), embedding_model=NEW)
    assert live_dimensions(falkordb_port, group) == {384}

    # Rollback needs the newcomers' vectors of the old model too.
    with pytest.raises(ValueError, match="Initech|Kim Lo"):
        await graph.promote(group, OLD)
    await full_pass(graph, group, OLD)
    assert await graph.promote(group, OLD) == 9
    assert await graph.graph_model(group) == OLD
    assert live_dimensions(falkordb_port, group) == {256}
    rolled_back = await graph.search(group, "Where does Dana Smith work?", embedding_model=OLD)
    assert [fact.uuid for fact in rolled_back.facts] == before

    assert await graph.drop_shadows(group, NEW) == 9
    with pytest.raises(ValueError, match="missing"):
        await graph.promote(group, NEW)


async def test_promote_refuses_while_a_newcomer_lacks_a_vector(graph, falkordb_port):
    group = await seeded(graph)
    await full_pass(graph, group, NEW)
    # Ingested during the migration: live vectors of the current model only.
    await graph.ingest(episode(group, "turn-3", "Kim Lo works at Initech.", days=2))
    assert await graph.reembed_progress(group, NEW) == (6, 9)

    with pytest.raises(ValueError, match=r"2 entity vector\(s\).*1 fact vector\(s\)"):
        await graph.promote(group, NEW)
    assert await graph.graph_model(group) is None
    assert live_dimensions(falkordb_port, group) == {256}

    # The final pass, from the start again, picks up the newcomers only.
    assert await full_pass(graph, group, NEW) == (2, 1)
    assert await full_pass(graph, group, NEW) == (0, 0)
    assert await graph.promote(group, NEW) == 9
    assert live_dimensions(falkordb_port, group) == {384}


async def test_a_renamed_fact_counts_as_missing_again(graph, falkordb_port):
    group = await seeded(graph)
    await full_pass(graph, group, NEW)
    stored(falkordb_port, group, "MATCH ()-[e:RELATES_TO]->() WITH e ORDER BY e.uuid LIMIT 1 SET e.fact = 'changed'")
    assert await graph.reembed_progress(group, NEW) == (5, 6)
    assert await full_pass(graph, group, NEW) == (0, 1)
    assert len(shadows(falkordb_port, group)) == 6


async def test_a_model_nobody_serves_is_refused(graph):
    group = await seeded(graph)
    with pytest.raises(Exception, match="not an offline model"):
        await graph.reembed_batch(group, "voyage/voyage-3.5/1024")
    with pytest.raises(ValueError):
        await graph.reembed_batch(group, NEW, after="bogus:key")


async def test_between_the_graph_switch_and_the_fence_switch_queries_use_the_graphs_model(graph, falkordb_port):
    group = await seeded(graph)
    await full_pass(graph, group, NEW)
    await graph.promote(group, NEW)
    # The tenant's fence still names OLD: a migration moves it in a later step.
    found = await graph.search(group, "Where does Dana Smith work?", embedding_model=OLD)
    assert any("Acme Corp" in fact.fact for fact in found.facts)
    assert {call.model for call in found.calls if call.kind == "embedding"} == {NEW}

    await graph.ingest(episode(group, "turn-3", "Kim Lo works at Initech.", days=2), embedding_model=OLD)
    assert live_dimensions(falkordb_port, group) == {384}


async def test_a_search_racing_a_promote_elsewhere_fails_as_retryable(graph, falkordb_port):
    group = await seeded(graph)
    await full_pass(graph, group, NEW)
    await graph.promote(group, NEW)
    # What a worker sees that read the model just before another one promoted the group.
    stored(falkordb_port, group, f"MATCH (f:EmbeddingFence) SET f.model = '{OLD}'")

    with pytest.raises(GraphModelChanged, match="dimension mismatch"):
        await graph.search(group, "Where does Dana Smith work?")
    assert isinstance(GraphModelChanged("x"), GraphUnavailable)


async def test_promote_stamps_a_graph_with_nothing_in_it(graph):
    group = new_group()
    await graph.ingest(episode(group, "turn-1", "Hello there."))
    assert await graph.promote(group, NEW) == 0
    assert await graph.graph_model(group) == NEW
