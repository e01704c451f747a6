"""Templates and the small things every page needs: the signed-in key, its CSRF token, paging,
and answers for errors (an HTML page, never the API's JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.keys import ApiKey
from web.session import WebSession, csrf_token

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
PAGE_SIZE = 25


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


templates.env.filters["when"] = _when


@dataclass(frozen=True)
class Paging:
    page: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), 100_000)


def html(request: Request, template: str, session: WebSession, key: ApiKey, status: int = 200, **context: Any) -> HTMLResponse:
    web = request.app.state.web
    return templates.TemplateResponse(
        request,
        template,
        {
            "key": key,
            "csrf": csrf_token(web.settings.session_secret, session),
            "notice": request.query_params.get("notice", "")[:300],
            **context,
        },
        status_code=status,
    )


def problem(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "problem.html", {"title": title, "detail": detail, "key": None}, status_code=status
    )


def back(url: str, notice: str) -> RedirectResponse:
    from urllib.parse import urlencode

    joiner = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{joiner}{urlencode({'notice': notice[:300]})}", status_code=303)
