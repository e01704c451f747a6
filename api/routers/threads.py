"""A thread's turns: send a message (the turn runs in the thread's conversation workflow),
read a turn's manifest and usage, correct the agent in a running turn."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.auth import read_key, write_key
from api.errors import ApiError
from api.keys import ApiKey
from api.services import ApiServices
from api.streaming import turn_events
from api.workflow_errors import as_api_error
from clients.conversation import (
    NoRunningConversation,
    correct,
    send_message,
    start_message,
)
from contract.conversation import TurnResult, UserMessage
from contract.learning import CorrectionReceipt
from memory.core.refs import ThreadRef
from memory.core.validation import ID_PATTERN, check_message, check_storable
from memory.learning.models import Correction
from memory.llm.base import ModelUsage
from memory.prompt.manifest import ContextItem

router = APIRouter(prefix="/v1/agents/{agent_id}/threads/{thread_id}", tags=["threads"])

REQUEST_ID = r"^[A-Za-z0-9_.:-]{1,100}$"


class SendMessage(BaseModel):
    text: str = Field(min_length=1, description="the user's message")
    request_id: str | None = Field(
        default=None, pattern=REQUEST_ID, description="resending with the same id returns the first turn's answer"
    )
    delegated: bool = Field(default=False, description="the sender is another agent: kept out of the graph")
    project: str = Field(default="default", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:/-]+$")
    user_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN.pattern,
        description="the end user the agent serves in this thread: fixed by the thread's first message, "
        "and what is private to that user stays theirs",
    )


class TurnView(BaseModel):
    turn: int
    status: str
    manifest: list[ContextItem]
    usage: ModelUsage
    created_at: datetime


class CorrectionRequest(BaseModel):
    tried: str
    instead: str
    request_id: str | None = Field(default=None, pattern=REQUEST_ID)


def services(request: Request) -> ApiServices:
    return request.app.state.services


def thread_of(key: ApiKey, agent_id: str, thread_id: str) -> ThreadRef:
    return ThreadRef(tenant_id=key.tenant_id, agent_id=agent_id, thread_id=thread_id)


STREAM_RESPONSE = {
    "description": "With `?stream=true` or `Accept: text/event-stream`: the turn's progress as server-sent "
    "events (accepted, read, model_call, tool), then `reply` (this route's JSON answer) or `error`.",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


@router.post(
    "/messages",
    response_model=TurnResult,
    summary="Send a message and get the agent's reply",
    responses={200: STREAM_RESPONSE},
)
async def post_message(
    agent_id: str,
    thread_id: str,
    body: SendMessage,
    request: Request,
    stream: bool = Query(default=False, description="send progress events while the turn runs"),
    key: ApiKey = Depends(write_key),
    api: ApiServices = Depends(services),
):
    thread = thread_of(key, agent_id, thread_id)
    check_message(body.text, max_chars=api.limits.max_message_chars)
    check_storable("text", body.text)
    if stream or "text/event-stream" in request.headers.get("accept", ""):
        return await _stream(api, thread, body)
    try:
        return await send_message(
            api.temporal,
            thread,
            UserMessage(text=body.text, delegated=body.delegated, user_id=body.user_id),
            task_queue=api.task_queue,
            limits=api.limits,
            request_id=body.request_id,
            project=body.project,
        )
    except (WorkflowUpdateFailedError, RPCError) as err:
        raise as_api_error(err, failed_code="turn_failed") from None


async def _stream(api: ApiServices, thread: ThreadRef, body: SendMessage) -> StreamingResponse:
    request_id = body.request_id or uuid.uuid4().hex
    try:
        handle = await start_message(
            api.temporal,
            thread,
            UserMessage(text=body.text, delegated=body.delegated, user_id=body.user_id),
            request_id=request_id,
            task_queue=api.task_queue,
            limits=api.limits,
            project=body.project,
        )
    except (WorkflowUpdateFailedError, RPCError) as err:
        raise as_api_error(err, failed_code="turn_failed") from None
    return StreamingResponse(
        turn_events(api.temporal, thread, handle, request_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/turns/{turn}", response_model=TurnView, summary="A turn's manifest (what the agent was shown) and usage")
async def get_turn(
    agent_id: str, thread_id: str, turn: int, key: ApiKey = Depends(read_key), api: ApiServices = Depends(services)
) -> TurnView:
    thread = thread_of(key, agent_id, thread_id)
    record = await api.runtime.turns.get(thread, turn) if turn >= 1 else None
    if record is None:
        raise ApiError("not_found", f"thread {thread_id} of agent {agent_id} has no turn {turn}")
    return TurnView(**record.model_dump(include=set(TurnView.model_fields)))


@router.post("/corrections", response_model=CorrectionReceipt, summary="Correct the agent in the thread's running task")
async def post_correction(
    agent_id: str,
    thread_id: str,
    body: CorrectionRequest,
    key: ApiKey = Depends(write_key),
    api: ApiServices = Depends(services),
) -> CorrectionReceipt:
    thread = thread_of(key, agent_id, thread_id)
    correction = Correction(tried=body.tried, instead=body.instead, operator=f"key:{key.key_id}")
    try:
        return await correct(api.temporal, thread, correction, request_id=body.request_id)
    except NoRunningConversation as err:
        raise ApiError("no_running_conversation", str(err)) from None
    except (WorkflowUpdateFailedError, RPCError) as err:
        raise as_api_error(err) from None
