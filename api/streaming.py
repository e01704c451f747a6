"""A turn as server-sent events: the API sends the message, then follows the turn through
the conversation workflow's progress query until the reply arrives. Nothing is read from
the stores; a client that goes away leaves the turn running to its end, as any turn does.

Events, in order: `accepted` (the workflow took the message), `read` (the layers that
answered), `model_call` (each call), `tool` (each tool call), then `reply` (the turn result
with its manifest) or `error` (`{"code", "message"}`, the codes of the JSON errors)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateHandle
from temporalio.service import RPCError

from api.workflow_errors import as_api_error
from clients.conversation import turn_progress
from contract.conversation import TurnProgress, TurnResult
from memory.core.refs import ThreadRef

POLL_SECONDS = 0.2


def event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def new_events(seen: TurnProgress | None, now: TurnProgress) -> list[str]:
    """What happened between two readings of the progress: a poll may miss a stage, never a step."""
    before = seen or TurnProgress(turn=now.turn)
    out = []
    if not before.layers and now.layers:
        out.append(event("read", {"turn": now.turn, "layers": [layer.model_dump() for layer in now.layers]}))
    return out + [event(step.kind, {"turn": now.turn, "call": step.detail}) for step in now.steps[len(before.steps):]]


async def turn_events(
    client: Client, thread: ThreadRef, handle: WorkflowUpdateHandle[TurnResult], request_id: str
) -> AsyncIterator[str]:
    yield event("accepted", {"request_id": request_id})
    result = asyncio.ensure_future(handle.result())
    seen: TurnProgress | None = None
    try:
        while True:
            done = result.done()
            try:
                now = await turn_progress(client, thread)
            except RPCError:
                now = None  # the run is between continue-as-new and its successor: ask again
            if now is not None and now.request_id == request_id and now != seen:
                for chunk in new_events(seen, now):
                    yield chunk
                seen = now
            if done:
                break
            await asyncio.wait({result}, timeout=POLL_SECONDS)
        try:
            yield event("reply", result.result().model_dump(mode="json"))
        except (WorkflowUpdateFailedError, RPCError) as err:
            failure = as_api_error(err, failed_code="turn_failed")
            yield event("error", {"code": failure.code, "message": failure.message})
    finally:
        result.cancel()
