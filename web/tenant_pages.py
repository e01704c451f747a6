"""The tenant's pages: the overview (plan, switches and their history, embedding model and
migrations, usage over time, gate savings, agents) and search across layers."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from api.keys import Scope
from api.routers.memory import search as api_search
from contract.migration import MigrationProgress, migration_id
from contract.names import EMBEDDING_MIGRATION_WORKFLOW, PROGRESS_QUERY
from memory.core.switches import GLOBAL
from memory.core.validation import check_id
from web.app import guarded
from web.charts import usage_chart
from web.render import PAGE_SIZE, Paging, html, page_number
from web.session import signed_in

router = APIRouter(prefix="/web", include_in_schema=False)
MAX_PAST_MIGRATIONS = 10
SWITCH_HISTORY_ROWS = 50


async def _migrations(request: Request, tenant_id: str) -> tuple[MigrationProgress | None, list[dict]]:
    """The running migration's progress and the last runs, from Temporal (the migration's
    state lives in its workflow)."""
    temporal = request.app.state.services.temporal
    running = None
    try:
        running = await temporal.get_workflow_handle(migration_id(tenant_id)).query(
            PROGRESS_QUERY, result_type=MigrationProgress
        )
    except (RPCError, WorkflowQueryFailedError):  # no run yet
        running = None
    past = []
    query = f'WorkflowType = "{EMBEDDING_MIGRATION_WORKFLOW}" AND WorkflowId = "{migration_id(tenant_id)}"'
    try:
        async for run in temporal.list_workflows(query, limit=MAX_PAST_MIGRATIONS):
            past.append({"run_id": run.run_id, "status": run.status.name.lower() if run.status else "", "start": run.start_time, "close": run.close_time})
    except RPCError:
        past = []
    return running, past


@router.get("/", response_class=HTMLResponse)
@guarded
async def overview(request: Request) -> Response:
    session, key = await signed_in(request)
    api = request.app.state.services
    web = request.app.state.web
    tenant = key.tenant_id
    agents = await web.queries.agents(tenant)
    paging = Paging(page_number(request.query_params.get("page")), PAGE_SIZE, len(agents))
    context: dict = {
        "plan": await api.runtime.tenants.plan(tenant),
        "embedding_model": await api.runtime.tenants.known_embedding_model(tenant) or api.runtime.settings.embedding_model,
        "agents": agents[paging.offset : paging.offset + paging.size],
        "paging": paging,
        "operator": key.scope.allows(Scope.OPERATOR),
    }
    if context["operator"]:
        switches, history, global_history, usage, by_day, savings, migrations = await asyncio.gather(
            api.runtime.switches.effective(tenant),
            api.runtime.switches.history(tenant, limit=SWITCH_HISTORY_ROWS),
            api.runtime.switches.history(GLOBAL, limit=SWITCH_HISTORY_ROWS),
            api.runtime.ledger.report(tenant),
            web.queries.usage_by_day(tenant),
            web.queries.gate_savings(tenant),
            _migrations(request, tenant),
        )
        context.update(
            switches=switches,
            # The kill switches are global: their flips matter to every tenant's operator.
            switch_history=sorted([*history, *global_history], key=lambda c: c.created_at, reverse=True)[
                :SWITCH_HISTORY_ROWS
            ],
            usage=usage,
            chart=usage_chart(by_day),
            savings=savings,
            migration=migrations[0],
            past_migrations=migrations[1],
        )
    return html(request, "overview.html", session, key, **context)


@router.get("/search", response_class=HTMLResponse)
@guarded
async def search(request: Request) -> Response:
    session, key = await signed_in(request)
    api = request.app.state.services
    agents = await request.app.state.web.queries.agents(key.tenant_id)
    q = (request.query_params.get("q") or "").strip()[:2000]
    agent = request.query_params.get("agent") or (agents[0] if agents else "")
    result = None
    if q and agent:
        check_id("agent", agent)
        result = await api_search(
            agent, q=q, layers=["notebook", "recall", "graph", "episodes"], key=key, api=api
        )
    return html(request, "search.html", session, key, agents=agents, agent=agent, q=q, result=result)
