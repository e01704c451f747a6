"""Recall that finds what matters: the semantic default, hybrid search, source times,
superseded items, and the fence, on real Postgres (and FalkorDB for the graph)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from memory.core.refs import ThreadRef
from memory.core.tenants import TenantRegistry
from memory.core.usage import UsageLedger
from memory.core.validation import InvalidInput
from memory.embedding.registry import build_embedder
from memory.graph import GraphEpisode, episode_uuid
from memory.graph.service import group_of
from memory.prompt.assembly import ContextSources, RecalledEntry, assemble
from memory.prompt.manifest import ContextItem, Layer
from memory.recall.search import FusionSettings, RetrievalMode, fuse
from memory.recall.service import EmbedderPool, ImportedTurn, RecallMemory
from memory.recall.store import RecallStore
from memory.recall.superseded import mark_superseded

HASHED = "offline/hashed-ngrams/256"
SEMANTIC = "wordllama/l2-supercat/256"
JUNE = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def new_thread(thread_id: str = "imported") -> ThreadRef:
    return ThreadRef(tenant_id=f"t-{uuid.uuid4().hex[:10]}", agent_id="support", thread_id=thread_id)


def recall_memory(runtime, settings, model: str, mode: RetrievalMode = RetrievalMode.HYBRID, **kw) -> RecallMemory:
    """Recall for tenants that start on `model`, through the same classes the runtime wires."""
    return RecallMemory(
        RecallStore(runtime.engine),
        TenantRegistry(runtime.engine, model),
        EmbedderPool(lambda model_id: build_embedder(model_id, settings)),
        UsageLedger(runtime.engine),
        top_k=kw.pop("top_k", 3),
        min_score=kw.pop("min_score", 0.2),
        fusion=FusionSettings(mode=mode, **kw),
    )


async def remember(memory: RecallMemory, thread: ThreadRef, texts: list[str], start: datetime = JUNE) -> list[int]:
    turns = [
        ImportedTurn(key=f"turn-{n}", text=text, occurred_at=start + timedelta(days=n)) for n, text in enumerate(texts)
    ]
    return await memory.remember_turns(thread, turns)


NOTES = [
    "My sister adopted a puppy last weekend.",
    "The quarterly report is due on Friday.",
    "We repainted the kitchen walls blue.",
    "The server restarted after the kernel update.",
    "Dinner reservations are at eight tonight.",
    "I bought a new laptop for the office.",
]


@pytest.mark.parametrize(("model", "finds_it"), [(SEMANTIC, True), (HASHED, False)])
async def test_a_paraphrase_is_recalled_by_meaning_only_with_the_semantic_embedder(runtime, settings, model, finds_it):
    memory = recall_memory(runtime, settings, model, RetrievalMode.VECTOR)
    thread = new_thread()
    await remember(memory, thread, NOTES)

    hits = await memory.recall(thread.agent, "Did anyone in the family get a new pet?", request_key="q1")

    assert (NOTES[0] in [h.text for h in hits[:1]]) is finds_it, [(h.text, h.score) for h in hits]


ORDERS = ["Refund approved for 88231-B after the courier lost the parcel in transit."] + [
    f"What is the status of order {n}? The order was packed and is waiting for pickup."
    for n in ("1120", "4471", "5532", "9083", "2210", "7781", "3391", "6604")
]


async def test_hybrid_search_finds_an_order_number_the_vector_ranks_low(runtime, settings):
    thread = new_thread()
    vector_only = recall_memory(runtime, settings, SEMANTIC, RetrievalMode.VECTOR)
    await remember(vector_only, thread, ORDERS)
    question = "What is the status of order 88231-B?"

    by_vector = await vector_only.recall(thread.agent, question, request_key="v", k=3)
    hybrid = await recall_memory(runtime, settings, SEMANTIC).recall(thread.agent, question, request_key="h", k=3)

    assert ORDERS[0] not in [h.text for h in by_vector]
    assert hybrid[0].text == ORDERS[0]
    assert hybrid[0].found_by in ("lexical", "both")
    assert 0 < hybrid[0].score <= 1


async def test_imported_turns_keep_the_time_they_happened_and_are_billed(runtime, settings):
    memory = recall_memory(runtime, settings, SEMANTIC)
    thread = new_thread()
    await remember(memory, thread, ["We moved the standup to 9:30 on Mondays."], start=JUNE)

    [hit] = await memory.recall(thread.agent, "when is the standup", request_key="q", k=1)

    assert hit.occurred_at == JUNE
    assert hit.created_at > JUNE
    billed = await UsageLedger(runtime.engine).totals_by_action(thread.tenant_id)
    assert billed["recall_embed_write"] > 0 and billed["recall_embed_query"] > 0


async def test_a_call_picks_its_own_k_and_score_floor_and_bad_values_are_refused(runtime, settings):
    memory = recall_memory(runtime, settings, SEMANTIC, RetrievalMode.VECTOR, top_k=1, min_score=-1.0)
    thread = new_thread()
    await remember(memory, thread, NOTES)

    assert len(await memory.recall(thread.agent, "kitchen paint", request_key="a")) == 1
    assert len(await memory.recall(thread.agent, "kitchen paint", request_key="b", k=5)) == 5
    assert await memory.recall(thread.agent, "kitchen paint", request_key="c", k=5, min_score=0.99) == []
    with pytest.raises(InvalidInput):
        await memory.recall(thread.agent, "kitchen paint", request_key="d", k=0)
    with pytest.raises(InvalidInput):
        await memory.recall(thread.agent, "kitchen paint", request_key="e", min_score=2.0)


async def test_the_fence_holds_for_both_legs_of_hybrid_search(runtime, settings):
    memory = recall_memory(runtime, settings, SEMANTIC, min_score=-1.0)
    mine = new_thread()
    # The tenant is on the semantic model; rows it holds only in the old model (a
    # migration not yet run) are invisible to the vector leg and to the words alike.
    assert await memory._tenants.current_embedding_model(mine.tenant_id) == SEMANTIC
    old = build_embedder(HASHED, settings)
    [old_vector] = await old.embed(["invoice 4471 was paid twice"], purpose="document")
    await memory.store.write(
        mine, idempotency_key=f"{mine.key}/old", text_="invoice 4471 was paid twice", embedding=old_vector, embedding_model=HASHED
    )
    assert await memory.recall(mine.agent, "invoice 4471 paid twice", request_key="q1") == []

    await remember(memory, mine, ["invoice 4471 was refunded on Tuesday"])
    theirs = ThreadRef(tenant_id=f"t-{uuid.uuid4().hex[:10]}", agent_id="support", thread_id="imported")
    other_agent = mine.model_copy(update={"agent_id": "sales"})
    await remember(memory, theirs, ["invoice 4471 of another tenant"])
    await remember(memory, other_agent, ["invoice 4471 of another agent"])

    hits = await memory.recall(mine.agent, "invoice 4471 paid twice", request_key="q2", k=10)

    assert [h.text for h in hits] == ["invoice 4471 was refunded on Tuesday"]
    assert hits[0].found_by == "both"


async def test_a_recalled_fact_the_graph_has_since_replaced_is_labelled(runtime, settings):
    memory = recall_memory(runtime, settings, HASHED, min_score=-1.0)
    thread = new_thread()
    group = group_of(thread.tenant_id)
    for days, key, body in ((0, "t1", "Alice works at Globex."), (30, "t2", "Alice works at Initech.")):
        await runtime.knowledge.graph.ingest(
            GraphEpisode(
                uuid=episode_uuid(f"{group}/{key}"),
                group_id=group,
                name=key,
                body=body,
                source="conversation",
                source_description=f"thread t1 {key}",
                reference_time=JUNE + timedelta(days=days),
            ),
            embedding_model=HASHED,
        )
    await remember(memory, thread, ["user: Alice works at Globex.\nassistant: noted", "Alice likes green tea."])
    hits = await memory.recall(thread.agent, "Where does Alice work?", request_key="q", k=2)
    items = [
        ContextItem(layer=Layer.RECALL, source_id=h.id, source_time=h.occurred_at, label=h.provenance) for h in hits
    ]

    labelled = await mark_superseded(runtime.knowledge, thread.tenant_id, [(i, h.text) for i, h in zip(items, hits)], JUNE + timedelta(days=60))

    by_text = {h.text: item.superseded_by for h, item in zip(hits, labelled)}
    assert by_text["user: Alice works at Globex.\nassistant: noted"] == "older than the current fact: Alice works at Initech."
    assert by_text["Alice likes green tea."] is None
    prompt = assemble(
        ContextSources(
            user_message="where does Alice work?",
            recalled=[
                RecalledEntry(id=h.id, source=h.provenance, created_at=h.occurred_at, text=h.text, superseded=by_text[h.text])
                for h in hits
            ],
        )
    ).system[1].text
    assert "SUPERSEDED, older than the current fact: Alice works at Initech." in prompt


def test_crowded_cosines_do_not_outvote_the_words_a_question_hinges_on():
    # A static embedder's nearest turns sit close together; the one turn that names the
    # question's rare words is far ahead in BM25 and not among the vector's candidates.
    vector = [{"id": 1, "score": 0.75}, {"id": 2, "score": 0.74}, {"id": 3, "score": 0.73}, {"id": 4, "score": 0.70}]
    lexical = [{"id": 5, "rank": 9.0}, {"id": 1, "rank": 1.5}]

    fused = fuse(vector, lexical, FusionSettings(), limit=3)

    assert [f.row["id"] for f in fused] == [5, 1, 2]
    assert [f.found_by for f in fused] == ["lexical", "both", "vector"]
