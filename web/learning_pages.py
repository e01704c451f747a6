"""What an agent learned in its live sessions (the session-learning cache, with codify
buttons) and the audit sample of cache hits (approve or reject). Codify and verdicts run as
their workflows, through the same code the API routes use."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.errors import ApiError
from api.keys import Scope
from api.operator_changes import review_audit
from api.routers.operations import CodifyRequest, codify
from memory.core.validation import check_id
from memory.learning.session_cache import SessionContext
from web.agent_pages import known_agent
from web.app import guarded
from web.render import back, html
from web.session import check_csrf, signed_in

router = APIRouter(prefix="/web", include_in_schema=False)
MAX_SESSIONS = 50
MAX_AUDIT_ROWS = 100


@router.get("/agents/{agent_id}/learning", response_class=HTMLResponse)
@guarded
async def learning(request: Request, agent_id: str) -> Response:
    session, key = await signed_in(request)
    api = request.app.state.services
    ref = await known_agent(request, key, agent_id)
    cache = api.runtime.session_cache
    sessions = []
    for session_id in await cache.live_sessions(key.tenant_id, agent_id, limit=MAX_SESSIONS):
        ctx = SessionContext(tenant_id=key.tenant_id, agent_id=agent_id, session_id=session_id)
        entries = await cache.entries(ctx)
        if entries:
            sessions.append((session_id, entries))
    pending = [e for e in await api.runtime.cache_audit.pending(key.tenant_id, MAX_AUDIT_ROWS) if e.agent_id == agent_id]
    task_types = await api.runtime.skills.task_types(ref)
    return html(
        request,
        "learning.html",
        session,
        key,
        agent=agent_id,
        sessions=sessions,
        pending=pending,
        task_types=task_types or ["general"],
        operator=key.scope.allows(Scope.OPERATOR),
    )


@router.post("/agents/{agent_id}/codify")
@guarded
async def codify_entry(
    request: Request,
    agent_id: str,
    session_id: str = Form(max_length=200),
    command: str = Form(max_length=2_000),
    target: str = Form(default="skill"),
    task_type: str = Form(default="general", max_length=63),
    csrf: str = Form(default=""),
) -> Response:
    session, key = await signed_in(request, Scope.OPERATOR)
    check_csrf(request, session, csrf)
    await known_agent(request, key, agent_id)
    if target not in ("skill", "notebook"):
        raise ApiError("invalid_input", "codify into a skill or the notebook")
    body = CodifyRequest(
        session_id=session_id, command=command, target=target, task_type=task_type if target == "skill" else None
    )
    done = await codify(agent_id, body, key=key, api=request.app.state.services)
    return back(f"/web/agents/{agent_id}/learning", f"Codified into {done.path} v{done.version}: use {done.instead} instead of {done.tried}.")


@router.post("/audit/{entry_id}/{verdict}")
@guarded
async def audit_verdict(
    request: Request, entry_id: int, verdict: str, agent: str = Form(default=""), csrf: str = Form(default="")
) -> Response:
    session, key = await signed_in(request, Scope.OPERATOR)
    check_csrf(request, session, csrf)
    if verdict not in ("approve", "reject"):
        raise ApiError("not_found", f"no verdict {verdict[:40]}")
    if await api_entry(request, key.tenant_id, entry_id) is None:
        raise ApiError("not_found", f"no audit entry {entry_id}")
    done = await review_audit(request.app.state.services, key, entry_id, "approved" if verdict == "approve" else "rejected")
    target = f"/web/agents/{check_id('agent', agent)}/learning" if agent else "/web/"
    return back(target, f"Audit entry {done.entry_id} {done.verdict}.")


async def api_entry(request: Request, tenant_id: str, entry_id: int):
    return await request.app.state.services.runtime.cache_audit.entry(entry_id, tenant_id=tenant_id)
