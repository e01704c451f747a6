"""An agent's pages: notebook (versions, diff, edit), skills (versions, edit, lock), threads,
recall items; and the tenant's documents with their chunks. Every change is the API's own
route, so it runs as the same workflow with the key recorded as the operator."""

from __future__ import annotations

import difflib

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.errors import ApiError
from api.keys import ApiKey, Scope
from api.operator_changes import change_skill
from api.routers.memory import NotebookReplace, put_notebook
from memory.core.refs import AgentRef
from memory.core.validation import check_id
from memory.documents.notebook import NOTEBOOK_PATH
from memory.documents.skills import check_task_type, skill_path
from web.app import guarded
from web.render import PAGE_SIZE, Paging, back, html, page_number
from web.session import check_csrf, signed_in

router = APIRouter(prefix="/web", include_in_schema=False)
CHUNKS_PER_PAGE = 20


async def known_agent(request: Request, key: ApiKey, agent_id: str) -> AgentRef:
    """The agent of the key's tenant; an id it does not have is not found, whoever has it."""
    check_id("agent", agent_id)
    if not await request.app.state.web.queries.agent_exists(key.tenant_id, agent_id):
        raise ApiError("not_found", f"no agent {agent_id}")
    return AgentRef(tenant_id=key.tenant_id, agent_id=agent_id)


def _diff(old: str, new: str, old_label: str, new_label: str) -> list[tuple[str, str]]:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm="")
    kinds = {"+": "added", "-": "removed", "@": "hunk"}
    return [(kinds.get(line[:1], "same"), line) for line in lines]


def _version_number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 9 else None


@router.get("/agents/{agent_id}", response_class=HTMLResponse)
@guarded
async def agent(request: Request, agent_id: str) -> Response:
    session, key = await signed_in(request)
    api = request.app.state.services
    ref = await known_agent(request, key, agent_id)
    history = await api.runtime.documents.history(ref, NOTEBOOK_PATH)
    newest_first = sorted(history, key=lambda v: v.version, reverse=True)
    paging = Paging(page_number(request.query_params.get("page")), PAGE_SIZE, len(newest_first))
    by_number = {v.version: v for v in history}
    a, b = _version_number(request.query_params.get("a")), _version_number(request.query_params.get("b"))
    diff = None
    if a in by_number and b in by_number:
        diff = _diff(by_number[a].content, by_number[b].content, f"notebook v{a}", f"notebook v{b}")
    skills = []
    for task_type in await api.runtime.skills.task_types(ref):
        skills.extend(await api.runtime.skills.load(ref, task_type))
    return html(
        request,
        "agent.html",
        session,
        key,
        agent=ref.agent_id,
        latest=newest_first[0] if newest_first else None,
        versions=newest_first[paging.offset : paging.offset + paging.size],
        paging=paging,
        diff=diff,
        a=a,
        b=b,
        skills=skills,
        can_write=key.scope.allows(Scope.WRITE),
        operator=key.scope.allows(Scope.OPERATOR),
    )


@router.post("/agents/{agent_id}/notebook")
@guarded
async def edit_notebook(
    request: Request,
    agent_id: str,
    content: str = Form(default="", max_length=64_000),
    reason: str = Form(default="", max_length=500),
    csrf: str = Form(default=""),
) -> Response:
    session, key = await signed_in(request, Scope.WRITE)
    check_csrf(request, session, csrf)
    await known_agent(request, key, agent_id)
    if not content.strip():
        raise ApiError("invalid_input", "the notebook text is empty")
    result = await put_notebook(
        agent_id, NotebookReplace(content=content, reason=reason or "web edit"), key=key, api=request.app.state.services
    )
    notice = f"Saved notebook v{result.version}. Graph: {result.ingestion.outcome}. {result.ingestion.detail}"
    return back(f"/web/agents/{agent_id}", notice)


@router.get("/agents/{agent_id}/skills/{task_type}", response_class=HTMLResponse)
@guarded
async def skill(request: Request, agent_id: str, task_type: str) -> Response:
    session, key = await signed_in(request)
    api = request.app.state.services
    ref = await known_agent(request, key, agent_id)
    loaded = await api.runtime.skills.load(ref, check_task_type(task_type))
    if not loaded:
        raise ApiError("not_found", f"agent {agent_id} has no skill {task_type}")
    history = sorted(await api.runtime.documents.history(ref, skill_path(task_type)), key=lambda v: v.version, reverse=True)
    paging = Paging(page_number(request.query_params.get("page")), PAGE_SIZE, len(history))
    return html(
        request,
        "skill.html",
        session,
        key,
        agent=agent_id,
        skill=loaded[0],
        versions=history[paging.offset : paging.offset + paging.size],
        paging=paging,
        operator=key.scope.allows(Scope.OPERATOR),
    )


@router.post("/agents/{agent_id}/skills/{task_type}/{action}")
@guarded
async def skill_change(
    request: Request,
    agent_id: str,
    task_type: str,
    action: str,
    content: str = Form(default="", max_length=20_000),
    csrf: str = Form(default=""),
) -> Response:
    session, key = await signed_in(request, Scope.OPERATOR)
    check_csrf(request, session, csrf)
    if action not in ("edit", "lock", "unlock"):
        raise ApiError("not_found", f"no skill action {action[:40]}")
    ref = await known_agent(request, key, agent_id)
    done = await change_skill(request.app.state.services, key, ref, task_type, action, content=content if action == "edit" else None)
    state = "locked" if done.locked else "unlocked"
    return back(f"/web/agents/{agent_id}/skills/{task_type}", f"{done.path} v{done.version} is {state} ({action} by {key.key_id}).")


@router.get("/agents/{agent_id}/threads", response_class=HTMLResponse)
@guarded
async def threads(request: Request, agent_id: str) -> Response:
    session, key = await signed_in(request)
    await known_agent(request, key, agent_id)
    page = page_number(request.query_params.get("page"))
    rows, total = await request.app.state.web.queries.threads(
        key.tenant_id, agent_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return html(request, "threads.html", session, key, agent=agent_id, threads=rows, paging=Paging(page, PAGE_SIZE, total))


@router.get("/agents/{agent_id}/recall", response_class=HTMLResponse)
@guarded
async def recall(request: Request, agent_id: str) -> Response:
    session, key = await signed_in(request)
    await known_agent(request, key, agent_id)
    before = _version_number(request.query_params.get("before"))
    rows, total = await request.app.state.web.queries.recall_page(key.tenant_id, agent_id, before=before, limit=PAGE_SIZE)
    next_before = rows[-1].id if len(rows) == PAGE_SIZE else None
    return html(request, "recall.html", session, key, agent=agent_id, items=rows, total=total, next_before=next_before, first=before is None)


@router.get("/documents", response_class=HTMLResponse)
@guarded
async def documents(request: Request) -> Response:
    session, key = await signed_in(request)
    page = page_number(request.query_params.get("page"))
    rows, total = await request.app.state.web.queries.documents(key.tenant_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return html(request, "documents.html", session, key, documents=rows, paging=Paging(page, PAGE_SIZE, total))


@router.get("/documents/{document_id}", response_class=HTMLResponse)
@guarded
async def document(request: Request, document_id: int) -> Response:
    session, key = await signed_in(request)
    found = await request.app.state.web.queries.document(key.tenant_id, document_id)
    if found is None:
        raise ApiError("not_found", f"no document {document_id}")
    paging = Paging(page_number(request.query_params.get("page")), CHUNKS_PER_PAGE, found.chunks)
    chunks = []
    if found.chunks:
        last = min(found.chunks, paging.offset + paging.size) - 1
        _, chunks = await request.app.state.services.runtime.library.chunks(key.tenant_id, found.sha256, paging.offset, last)
    return html(request, "document.html", session, key, document=found, chunks=chunks, paging=paging)
