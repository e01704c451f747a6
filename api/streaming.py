"""A turn as server-sent events: the API sends the message, then follows the turn through
the conversation workflow's progress query until the reply arrives. Nothing is read from
the stores; a client that goes away leaves the turn running to its end, as any turn does.

Events, in order: `accepted` (the workflow took the message), `read` (the layers that
answered), `model_call` and `tool` (each call, in the order made), then `reply` (the turn
result with its manifest) or `error` (`{"code", "message"}`, the codes of the JSON errors)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateHandle
from temporalio.service import RPCError

from api.workflow_errors import as_api_error
from clients.turn_stream import follow_turn
from contract.conversation import TurnResult
from memory.core.refs import ThreadRef


def event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def turn_events(
    client: Client, thread: ThreadRef, handle: WorkflowUpdateHandle[TurnResult], request_id: str
) -> AsyncIterator[str]:
    try:
        async for name, data in follow_turn(client, thread, handle, request_id):
            yield event(name, data)
    except (WorkflowUpdateFailedError, RPCError) as err:
        failure = as_api_error(err, failed_code="turn_failed")
        yield event("error", {"code": failure.code, "message": failure.message})
