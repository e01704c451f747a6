"""The ingestion gates decide in a fixed order, and say why in words."""

from __future__ import annotations

import uuid

import pytest

from memory.core.switches import (
    GRAPH_EXTRACTION,
    EffectiveSwitches,
    SwitchBoard,
    layer_switch,
)
from memory.graph.gates import Gate, IngestionFacts, decide


def switches(
    *, plan: str = "standard", graph: bool | None = None, graph_layer: bool = True, min_chars: int = 80
) -> EffectiveSwitches:
    graph_on = plan != "trial" if graph is None else graph
    source = f"plan default ({plan})" if graph is None else "tenant"
    layers = {"graph": graph_layer, "recall": True, "documents": True, "notebook": True, "conversation_summary": True}
    return EffectiveSwitches(
        tenant_id="acme",
        plan=plan,
        graph_extraction=graph_on,
        graph_extraction_source=source,
        ingest_min_chars=min_chars,
        layers=layers,
        sources={GRAPH_EXTRACTION: source},
    )


def facts(chars: int = 500, *, failed: bool = False, delegated: bool = False) -> IngestionFacts:
    return IngestionFacts(message_chars=chars, turn_failed=failed, delegated=delegated)


@pytest.mark.parametrize(
    ("case", "switched", "seen", "gate"),
    [
        ("an ordinary exchange", switches(), facts(), Gate.INGEST),
        ("trial tenant", switches(plan="trial"), facts(), Gate.TENANT_SWITCH),
        ("tenant switched off", switches(graph=False), facts(), Gate.TENANT_SWITCH),
        ("trial tenant switched on", switches(plan="trial", graph=True), facts(), Gate.INGEST),
        ("graph layer killed", switches(graph_layer=False), facts(), Gate.LAYER_SWITCH),
        ("short message", switches(), facts(12), Gate.TOO_SHORT),
        ("exactly the threshold", switches(), facts(80), Gate.INGEST),
        ("failed turn", switches(), facts(failed=True), Gate.TURN_FAILED),
        ("delegated conversation", switches(), facts(delegated=True), Gate.DELEGATED),
        # Precedence: the first gate that applies decides.
        ("short message from a trial tenant", switches(plan="trial"), facts(12), Gate.TENANT_SWITCH),
        ("trial tenant, layer killed", switches(plan="trial", graph_layer=False), facts(), Gate.TENANT_SWITCH),
        ("short message while the layer is killed", switches(graph_layer=False), facts(12), Gate.LAYER_SWITCH),
        ("short failed turn", switches(), facts(12, failed=True), Gate.TOO_SHORT),
        ("failed delegated turn", switches(), facts(failed=True, delegated=True), Gate.TURN_FAILED),
        ("threshold lowered to zero", switches(min_chars=0), facts(0), Gate.INGEST),
    ],
)
def test_each_gate_decides_in_order(case, switched, seen, gate):
    decision = decide(switched, seen)
    assert decision.gate == gate, case
    assert decision.ingest is (gate == Gate.INGEST)


def test_every_decision_says_why_in_words():
    assert decide(switches(plan="trial"), facts()).detail == (
        "graph extraction is off for tenant acme, by default on the trial plan"
    )
    assert decide(switches(graph=False), facts()).detail == (
        "graph extraction is off for tenant acme, by the tenant's own switch"
    )
    assert decide(switches(graph_layer=False), facts()).detail == "the graph layer is switched off for every tenant"
    assert decide(switches(), facts(12)).detail == "message of 12 chars is below the 80-char threshold"
    assert decide(switches(), facts(failed=True)).detail == "the turn failed, so there is no exchange to learn from"
    assert "agent-to-agent" in decide(switches(), facts(delegated=True)).detail
    assert decide(switches(), facts(500)).detail == "message of 500 chars passed every gate (threshold 80 chars)"


async def test_gates_read_switches_flipped_at_run_time(runtime):
    tenant = f"g-{uuid.uuid4().hex[:10]}"
    board = SwitchBoard(runtime.engine)
    await runtime.tenants.set_plan(tenant, "trial")
    assert decide(await board.effective(tenant), facts()).gate == Gate.TENANT_SWITCH

    await board.set(GRAPH_EXTRACTION, True, tenant_id=tenant, operator="alice")
    assert decide(await board.effective(tenant), facts()).gate == Gate.INGEST

    await board.set("ingest_min_chars", 1000, tenant_id=tenant, operator="alice")
    decision = decide(await board.effective(tenant), facts(500))
    assert (decision.gate, decision.detail) == (Gate.TOO_SHORT, "message of 500 chars is below the 1000-char threshold")

    await board.set(layer_switch("graph"), False, tenant_id=None, operator="alice", reason="incident")
    try:
        assert decide(await board.effective(tenant), facts(500)).gate == Gate.LAYER_SWITCH
    finally:
        await board.clear(layer_switch("graph"), tenant_id=None, operator="alice")



def test_deliberate_input_skips_only_the_length_gate():
    short_note = IngestionFacts(message_chars=12, turn_failed=False, delegated=False, length_gate=False)
    assert decide(switches(), short_note).gate == Gate.INGEST
    assert decide(switches(plan="trial"), short_note).gate == Gate.TENANT_SWITCH
