"""The HTTP API: versioned under /v1, OpenAPI at /openapi.json, docs at /docs."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.errors import ERROR_RESPONSES
from api.limits import BodySizeLimit
from api.routers import (
    agents,
    archive,
    memory,
    operations,
    skills,
    switches,
    threads,
    users,
)
from api.services import ApiServices
from web.app import install as install_web_pages

DESCRIPTION = """The front door of the agent memory runtime. Every change runs as a Temporal
workflow; reads come from the memory stores. Authenticate with a tenant's API key
(`Authorization: Bearer amk_...`); the key decides the tenant and what it may do
(read, write, operator). Errors are JSON: `{"error": {"code", "message", "field"}}`."""


def create_app(services: ApiServices) -> FastAPI:
    app = FastAPI(title="Agent memory runtime", version="1.0", description=DESCRIPTION, responses=ERROR_RESPONSES)
    app.state.services = services
    errors.install(app)
    for module in (threads, memory, operations, switches, skills, users, agents, archive):
        app.include_router(module.router)
    install_web_pages(app)

    @app.get("/v1/health", tags=["health"], summary="Whether the API is up (no key needed)")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(BodySizeLimit, max_bytes=services.settings.max_request_bytes)
    return app
