"""Follow a sent message's turn through the conversation workflow's progress query, as named
events: what the HTTP API streams and what `agent-memory chat --stream` shows when it talks to
Temporal directly. Nothing is read from the stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from temporalio.client import Client, WorkflowUpdateHandle
from temporalio.service import RPCError

from clients.conversation import turn_progress
from contract.conversation import TurnProgress, TurnResult
from memory.core.refs import ThreadRef

POLL_SECONDS = 0.2


def new_events(seen: TurnProgress | None, now: TurnProgress) -> list[tuple[str, dict[str, Any]]]:
    """What happened between two readings of the progress: a poll may miss a stage, never a step."""
    before = seen or TurnProgress(turn=now.turn)
    out: list[tuple[str, dict[str, Any]]] = []
    if not before.layers and now.layers:
        out.append(("read", {"turn": now.turn, "layers": [layer.model_dump() for layer in now.layers]}))
    return out + [(step.kind, {"turn": now.turn, "call": step.detail}) for step in now.steps[len(before.steps):]]


async def follow_turn(
    client: Client, thread: ThreadRef, handle: WorkflowUpdateHandle[TurnResult], request_id: str
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """accepted, read, model_call and tool events, then reply (the TurnResult as JSON). A failed
    turn raises the update's error after the events seen so far."""
    yield "accepted", {"request_id": request_id}
    result = asyncio.ensure_future(handle.result())
    seen: TurnProgress | None = None
    try:
        while True:
            done = result.done()
            try:
                now = await turn_progress(client, thread)
            except RPCError:
                now = None  # between a run's continue-as-new and its successor: ask again
            if now is not None and now.request_id == request_id and now != seen:
                for item in new_events(seen, now):
                    yield item
                seen = now
            if done:
                break
            await asyncio.wait({result}, timeout=POLL_SECONDS)
        yield "reply", result.result().model_dump(mode="json")
    finally:
        result.cancel()
