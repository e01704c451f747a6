"""A turn's layers share one read of the tenant's switches, and a flip is in force from the next turn."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import event

from activities.learning_models import SessionRef
from activities.registry import TurnActivitySet
from activities.turn_step_models import TurnReadInput
from memory.core.read_once import once, read_once
from memory.core.refs import ThreadRef
from memory.core.switches import SwitchableLayer, layer_switch


def switch_reads(runtime) -> list[str]:
    """Every switch read the runtime's engine makes from now on."""
    seen: list[str] = []

    @event.listens_for(runtime.engine.sync_engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, *_):
        if "switch_settings" in statement:
            seen.append(statement)

    return seen


async def test_a_turns_reads_ask_for_the_switches_once(runtime):
    thread = ThreadRef(tenant_id=f"ro-{uuid.uuid4().hex[:8]}", agent_id="support", thread_id="t1")
    read = TurnActivitySet.wire(runtime).read
    request = TurnReadInput(
        thread=thread, turn=1, query="How do refunds work?", user_message_id=0, session=SessionRef(thread=thread)
    )
    seen = switch_reads(runtime)

    result = await read.read(request)

    # Notebook, recall, graph, skills and episodic each check their layer's switch.
    assert {layer.layer for layer in result.layers} >= {"notebook", "recall", "graph", "skills", "episodic"}
    assert len(seen) == 1


async def test_a_switch_flipped_between_turns_is_in_force_from_the_next_turn(runtime):
    tenant = f"ro-{uuid.uuid4().hex[:8]}"
    switches = runtime.switches
    name = layer_switch(SwitchableLayer.RECALL)
    try:
        with read_once():
            assert await switches.layer_on(tenant, SwitchableLayer.RECALL)
            await switches.set(name, False, tenant_id=None, operator="ops", reason="incident")
            # Within the turn the first read stands: its layers agree with each other.
            assert await switches.layer_on(tenant, SwitchableLayer.RECALL)
        with read_once():
            assert not await switches.layer_on(tenant, SwitchableLayer.RECALL)
        # Outside a turn every call reads afresh, as before.
        assert not await switches.layer_on(tenant, SwitchableLayer.RECALL)
    finally:
        await switches.clear(name, tenant_id=None, operator="ops")


async def test_concurrent_askers_share_one_read_and_a_failed_read_is_not_kept():
    calls = 0

    async def read() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise ConnectionError("database went away")
        return calls

    with read_once():
        outcomes = await asyncio.gather(*(once("k", read) for _ in range(5)), return_exceptions=True)
    assert calls == 1 and all(isinstance(o, ConnectionError) for o in outcomes)
    # The next unit of work (a retried attempt) reads again.
    with read_once():
        assert await once("k", read) == 2
