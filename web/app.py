"""The web pages inside the API's app: static files, sign-in and sign-out, and the page
routers. `install(app)` is the one call `api/app.py` makes."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.errors import CODES, ApiError
from memory.core.validation import InvalidInput
from web.queries import WebQueries
from web.render import HERE, problem, templates
from web.session import COOKIE, BadCsrf, Forbidden, NotSignedIn, issue
from web.settings import WebSettings

router = APIRouter(prefix="/web", include_in_schema=False)


@dataclass
class WebState:
    settings: WebSettings
    queries: WebQueries


def guarded(page: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Answers a page's errors as HTML: no session sends the browser to sign in; the API's
    errors and refused input become a page with their status and message."""

    @functools.wraps(page)
    async def run(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return await page(request, *args, **kwargs)
        except NotSignedIn:
            return RedirectResponse("/web/login", status_code=303)
        except Forbidden as err:
            return problem(request, 403, "Not allowed", str(err))
        except BadCsrf:
            return problem(request, 403, "Form expired", "The form's token does not match this session: reload the page and try again.")
        except ApiError as err:
            return problem(request, CODES.get(err.code, 500), err.code.replace("_", " ").capitalize(), err.message)
        except InvalidInput as err:
            return problem(request, 422, "Refused", str(err))

    return run


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"key": None, "error": ""})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, api_key: str = Form(default="", max_length=300)) -> Response:
    services = request.app.state.services
    key = await services.keys.authenticate(api_key.strip())
    if key is None:
        return templates.TemplateResponse(
            request, "login.html", {"key": None, "error": "That key is unknown or revoked."}, status_code=401
        )
    web: WebState = request.app.state.web
    response = RedirectResponse("/web/", status_code=303)
    response.set_cookie(
        COOKIE,
        issue(web.settings.session_secret, key, web.settings.session_hours),
        max_age=int(web.settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/web",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    # No CSRF check needed to sign out: the worst a forged sign-out does is sign a person out.
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(COOKIE, path="/web")
    return response


def install(app: FastAPI, settings: WebSettings | None = None) -> None:
    from web import agent_pages, graph_pages, learning_pages, tenant_pages

    services = app.state.services
    app.state.web = WebState(settings=settings or WebSettings.from_env(), queries=WebQueries(services.runtime.engine))
    app.mount("/web/static", StaticFiles(directory=str(HERE / "static")), name="web-static")
    app.include_router(router)
    for module in (tenant_pages, agent_pages, learning_pages, graph_pages):
        app.include_router(module.router)
