"""The ingestion gates: whether an exchange goes into the knowledge graph, and which gate said so.

A pure function of the switches in force and the facts of the exchange, so a decision can be
recorded with its reason and replayed in tests. The order is the order of precedence: an
operator's switches come first, so a switched-off tenant is reported as switched off, not as
having sent a short message.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from memory.core.switches import EffectiveSwitches, SwitchableLayer


class Gate(StrEnum):
    TENANT_SWITCH = "tenant_switch_off"
    LAYER_SWITCH = "layer_switch_off"
    TOO_SHORT = "below_length_threshold"
    TURN_FAILED = "turn_failed"
    DELEGATED = "delegated_conversation"
    INGEST = "ingest"


class IngestionFacts(BaseModel):
    message_chars: int = Field(ge=0)
    turn_failed: bool
    # Agent-to-agent conversations repeat what their parent conversation already holds.
    delegated: bool
    # Off for deliberate input (an operator's notebook edit, a document): short is not noise there.
    length_gate: bool = True


class GateDecision(BaseModel):
    gate: Gate
    ingest: bool
    detail: str
    # Below the length threshold, whichever gate decided: the exchange's episode is the
    # message itself, with no model-written summary (memory.learning.episode_recording).
    short_message: bool = False


def _skip(gate: Gate, detail: str) -> GateDecision:
    return GateDecision(gate=gate, ingest=False, detail=detail)


def _because(switches: EffectiveSwitches) -> str:
    source = switches.graph_extraction_source
    if source == "tenant":
        return "by the tenant's own switch"
    if source == "global":
        return "by the global switch"
    return f"by default on the {switches.plan} plan"


def decide(switches: EffectiveSwitches, facts: IngestionFacts) -> GateDecision:
    decision = _decide(switches, facts)
    return decision.model_copy(update={"short_message": facts.message_chars < switches.ingest_min_chars})


def _decide(switches: EffectiveSwitches, facts: IngestionFacts) -> GateDecision:
    if not switches.graph_extraction:
        return _skip(
            Gate.TENANT_SWITCH,
            f"graph extraction is off for tenant {switches.tenant_id}, {_because(switches)}",
        )
    if not switches.layers.get(SwitchableLayer.GRAPH.value, True):
        return _skip(Gate.LAYER_SWITCH, "the graph layer is switched off for every tenant")
    threshold = switches.ingest_min_chars
    if facts.length_gate and facts.message_chars < threshold:
        return _skip(
            Gate.TOO_SHORT, f"message of {facts.message_chars} chars is below the {threshold}-char threshold"
        )
    if facts.turn_failed:
        return _skip(Gate.TURN_FAILED, "the turn failed, so there is no exchange to learn from")
    if facts.delegated:
        return _skip(Gate.DELEGATED, "agent-to-agent conversation: its parent conversation is ingested instead")
    return GateDecision(
        gate=Gate.INGEST,
        ingest=True,
        detail=f"message of {facts.message_chars} chars passed every gate (threshold {threshold} chars)",
    )
