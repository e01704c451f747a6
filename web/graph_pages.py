"""The knowledge graph (picture and table, invalidated facts kept as history, each fact with
the episode it came from) and a thread (its turns, each with its manifest, tokens, tools,
corrections, and a link to the workflow in the Temporal UI)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.errors import ApiError
from contract.conversation import conversation_workflow_id
from memory.core.refs import ThreadRef
from memory.core.validation import check_id
from web.agent_pages import known_agent
from web.app import guarded
from web.graph_view import graph_svg
from web.render import PAGE_SIZE, Paging, html, page_number
from web.session import signed_in

router = APIRouter(prefix="/web", include_in_schema=False)
TURNS_PER_PAGE = 10
STATES = ("all", "current", "invalid")


@router.get("/graph", response_class=HTMLResponse)
@guarded
async def graph(request: Request) -> Response:
    session, key = await signed_in(request)
    api = request.app.state.services
    entity = (request.query_params.get("entity") or "").strip()[:200]
    state = request.query_params.get("state") or "all"
    state = state if state in STATES else "all"
    now = datetime.now(UTC)
    page_no = page_number(request.query_params.get("page"))
    found = await api.runtime.knowledge.fact_page(
        key.tenant_id, entity=entity, state=state, now=now, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    paging = Paging(page_no, PAGE_SIZE, found.matching)
    page = found.facts
    episodes = sorted({uuid for fact in page for uuid in fact.episodes})
    sources = await api.runtime.knowledge.queue.descriptions(key.tenant_id, episodes)
    return html(
        request,
        "graph.html",
        session,
        key,
        facts=page,
        picture=graph_svg(page, now),
        sources=sources,
        paging=paging,
        entity=entity,
        state=state,
        states=STATES,
        now=now,
        total=found.total,
        current=found.current,
    )


@router.get("/agents/{agent_id}/threads/{thread_id}", response_class=HTMLResponse)
@guarded
async def thread(request: Request, agent_id: str, thread_id: str) -> Response:
    session, key = await signed_in(request)
    api = request.app.state.services
    web = request.app.state.web
    await known_agent(request, key, agent_id)
    check_id("thread", thread_id)
    page = page_number(request.query_params.get("page"))
    numbers, total = await web.queries.thread_turns(
        key.tenant_id, agent_id, thread_id, offset=(page - 1) * TURNS_PER_PAGE, limit=TURNS_PER_PAGE
    )
    if not total:
        raise ApiError("not_found", f"agent {agent_id} has no thread {thread_id}")
    ref = ThreadRef(tenant_id=key.tenant_id, agent_id=agent_id, thread_id=thread_id)
    turns = await asyncio.gather(*(_turn(api.runtime, ref, n) for n in numbers))
    workflow_id = conversation_workflow_id(ref)
    ui = web.settings.temporal_ui_url.rstrip("/")
    temporal_link = f"{ui}/namespaces/{quote(api.temporal.namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"
    return html(
        request,
        "thread.html",
        session,
        key,
        agent=agent_id,
        thread=thread_id,
        turns=turns,
        paging=Paging(page, TURNS_PER_PAGE, total),
        temporal_link=temporal_link,
        workflow_id=workflow_id,
    )


async def _turn(runtime, ref: ThreadRef, number: int) -> dict:
    record, tools, corrections = await asyncio.gather(
        runtime.turns.get(ref, number), runtime.tool_log.for_turn(ref, number), runtime.corrections.for_turn(ref, number)
    )
    ids = [i for i in (record.user_message_id, record.assistant_message_id) if i] if record else []
    messages = {m.id: m for m in await runtime.conversation.messages_by_id(ref, ids)} if ids else {}
    return {
        "number": number,
        "record": record,
        "user": messages.get(record.user_message_id) if record else None,
        "reply": messages.get(record.assistant_message_id) if record else None,
        "tools": tools,
        "corrections": corrections,
    }
