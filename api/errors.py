"""Errors as the API answers them: a JSON body with a stable code, a message for people and,
for refused input, the field. Clients branch on the code; the message may change."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from memory.core.validation import InvalidInput

_log = logging.getLogger("api")

# code -> HTTP status. The codes are part of the API: never rename one.
CODES: dict[str, int] = {
    "invalid_input": 422,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "no_running_conversation": 409,
    "request_too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "context_window_exceeded": 422,
    "turn_failed": 502,
    "workflow_failed": 502,
    "temporal_unavailable": 503,
    "method_not_allowed": 405,
    "internal_error": 500,
    # An agent definition refused, nothing saved (api/routers/agents.py).
    "unknown_provider": 422,
    "instructions_empty": 422,
    "instructions_too_long": 422,
    "tool_name_conflict": 422,
    "mcp_server_unreachable": 422,
    "mcp_tool_invalid": 422,
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, code: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers


def error_response(code: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field))
    return JSONResponse(body.model_dump(exclude_none=True), status_code=CODES[code], headers=headers)


def _first_problem(errors: list[dict[str, Any]]) -> tuple[str | None, str]:
    first = errors[0]
    # FastAPI prefixes where the value came from (body, query, path); keep the field's own path.
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return (".".join(loc) or None), message


# Every answer that is not a success carries this shape; listed in the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (401, "no key, or an unknown or revoked one (unauthenticated)"),
        (403, "the key's scope does not allow this (forbidden)"),
        (413, "the request body is over the size limit (request_too_large)"),
        (422, "refused input; nothing was changed (invalid_input)"),
        (429, "the key's rate limit is spent; see Retry-After (rate_limited)"),
    )
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return error_response(err.code, err.message, field=err.field, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
        field, message = _first_problem(list(err.errors()))
        return error_response("invalid_input", message, field=field)

    @app.exception_handler(ValidationError)
    async def _invalid_model(request: Request, err: ValidationError) -> JSONResponse:
        field, message = _first_problem(list(err.errors()))
        return error_response("invalid_input", message, field=field)

    @app.exception_handler(InvalidInput)
    async def _invalid_input(request: Request, err: InvalidInput) -> JSONResponse:
        return error_response("invalid_input", str(err))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response("internal_error", "the server failed on this request; it is logged")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "invalid_input")
        return error_response(code, str(err.detail))
