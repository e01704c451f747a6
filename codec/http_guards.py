"""What stands between a caller and the codec: CORS for the UI's origin, the bearer token
checked from the headers alone, and a request body read with a size limit and a deadline.

The guards are plain ASGI middleware, so each one decides before anything inside it runs,
and none of them reads a body it is about to refuse.
"""

from __future__ import annotations

import asyncio
import hmac
from http import HTTPStatus
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A refused caller's body is read (so it sees our answer, not a reset) only up to this size;
# a larger or unannounced body is left unread and the connection closed after the answer.
DRAIN_REFUSED_BYTES = 64 * 1024


class HTTPRefusal(Exception):
    """A request answered with an error status and {"error": message}."""

    def __init__(self, status: HTTPStatus, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.close = close


def json_reply(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    # Decoded payloads are memory content: no cache along the way may keep them.
    return JSONResponse(body, status_code=status, headers={**(headers or {}), "Cache-Control": "no-store"})


def refusal_reply(refusal: HTTPRefusal) -> JSONResponse:
    return json_reply(refusal.status, {"error": str(refusal)}, {"Connection": "close"} if refusal.close else None)


class UiOriginCors:
    """Grants CORS to the Temporal UI's origin only, and answers preflights itself."""

    def __init__(self, app: ASGIApp, ui_origin: str) -> None:
        self.app = app
        self.grant = {
            "Access-Control-Allow-Origin": ui_origin,
            "Vary": "Origin",
            # The UI may send cookies ("include cross-origin credentials"); harmless otherwise.
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Namespace",
            "Access-Control-Max-Age": "600",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Not a browser, or a page we do not serve: no CORS grant.
        granted = Headers(scope=scope).get("origin") == self.grant["Access-Control-Allow-Origin"]
        if scope["method"] == "OPTIONS":
            # A preflight carries no Authorization header by design, so it is answered
            # openly; only the CORS headers decide whether the browser goes on.
            await Response(status_code=HTTPStatus.NO_CONTENT, headers=self.grant if granted else None)(
                scope, receive, send
            )
            return
        if not granted:
            await self.app(scope, receive, send)
            return

        async def send_with_grant(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(self.grant)
            await send(message)

        await self.app(scope, receive, send_with_grant)


class BearerTokenGuard:
    """Refuses with 401, from the headers alone, a request without `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._authorised(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        await json_reply(
            HTTPStatus.UNAUTHORIZED,
            {"error": "missing or wrong bearer token"},
            {"WWW-Authenticate": 'Bearer realm="codec"'},
        )(scope, receive, send)

    def _authorised(self, headers: Headers) -> bool:
        if self.token is None:
            return True
        scheme, _, presented = headers.get("authorization", "").partition(" ")
        # Compare bytes in constant time so response timing says nothing about the token.
        matches = hmac.compare_digest(presented.strip().encode(), self.token.encode())
        return scheme.lower() == "bearer" and matches


class CloseOnUnreadBody:
    """Settles a request answered before its body was read (a refusal).

    A small announced body is read and dropped first, so the caller sees the answer rather
    than a connection reset; any other body is never read: the answer says
    `Connection: close` and the server hangs up after it. Without this the server would
    keep reading the refused body to reuse the connection, for as long as the caller sends.
    """

    def __init__(self, app: ASGIApp, read_timeout: float) -> None:
        self.app = app
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        body_done = "transfer-encoding" not in headers and declared in (None, "0")

        async def tracking_receive() -> Message:
            nonlocal body_done
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_done = True
            return message

        async def settling_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not body_done:
                response_headers = MutableHeaders(scope=message)
                if "close" not in response_headers.get("connection", "").lower():
                    if not (declared is not None and declared.isdigit() and int(declared) <= DRAIN_REFUSED_BYTES
                            and await self._drained(tracking_receive)):
                        response_headers["Connection"] = "close"
            await send(message)

        await self.app(scope, tracking_receive, settling_send)

    async def _drained(self, receive: Receive) -> bool:
        try:
            async with asyncio.timeout(self.read_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect" or not message.get("more_body", False):
                        return True
        except TimeoutError:
            return False


async def read_bounded_body(request: Request, *, max_bytes: int, timeout: float) -> bytes:
    """The request body, refused with 413 the moment it is known to exceed max_bytes (at once
    when Content-Length says so, else as soon as the bytes received pass it) and with 408
    when it has not fully arrived `timeout` seconds after we started reading."""
    declared = request.headers.get("content-length")
    if declared is not None and int(declared) > max_bytes:
        # h11 has already refused a Content-Length that is not a byte count.
        raise HTTPRefusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                          f"the body is {declared} bytes; the limit is {max_bytes}", close=True)
    chunks: list[bytes] = []
    received = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                received += len(chunk)
                if received > max_bytes:
                    raise HTTPRefusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                      f"the body passed the limit of {max_bytes} bytes", close=True)
                chunks.append(chunk)
    except TimeoutError:
        raise HTTPRefusal(HTTPStatus.REQUEST_TIMEOUT,
                          f"the body did not arrive within {timeout:g} s", close=True) from None
    return b"".join(chunks)
