"""The codec protocol as an ASGI app: POST .../decode and .../encode.

Both take and return {"payloads": [...]}, each payload in Temporal's protobuf JSON. Only the
last path segment picks the operation, as the protocol says, so the app can be mounted
under any prefix (one per namespace, behind a proxy...).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from google.protobuf import json_format
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload

from codec.aes_gcm import EncryptionCodec, PayloadDecryptionError
from codec.http_guards import (
    BearerTokenGuard,
    CloseOnUnreadBody,
    HTTPRefusal,
    UiOriginCors,
    json_reply,
    read_bounded_body,
    refusal_reply,
)

_BODY_SHAPE = 'the body must be JSON of the form {"payloads": [...]} with each payload in Temporal\'s protobuf JSON'
_OPERATIONS = "POST to .../decode or .../encode"


class PayloadsBody(BaseModel):
    """The codec protocol's request and response body."""

    payloads: list[dict[str, Any]]


def codec_app(
    codec: EncryptionCodec,
    token: str | None,
    ui_origin: str,
    *,
    max_body_bytes: int,
    read_timeout: float,
) -> Starlette:
    """The codec endpoint behind its guards: CORS, then the token (None: anyone), then the
    operation, and only then the body, at most max_body_bytes within read_timeout seconds."""

    async def convert(request: Request) -> Response:
        try:
            if request.method != "POST":
                raise HTTPRefusal(HTTPStatus.METHOD_NOT_ALLOWED, _OPERATIONS)
            operation = request.url.path.rstrip("/").rsplit("/", 1)[-1]
            if operation not in ("decode", "encode"):
                raise HTTPRefusal(HTTPStatus.NOT_FOUND, _OPERATIONS)
            payloads = _parse_payloads(
                await read_bounded_body(request, max_bytes=max_body_bytes, timeout=read_timeout)
            )
            result = await (codec.decode if operation == "decode" else codec.encode)(payloads)
        except ClientDisconnect:
            return Response(status_code=HTTPStatus.BAD_REQUEST)  # nobody is left to read it
        except HTTPRefusal as refusal:
            response = refusal_reply(refusal)
            if refusal.status == HTTPStatus.METHOD_NOT_ALLOWED:
                response.headers["Allow"] = "POST, OPTIONS"
            return response
        except PayloadDecryptionError as err:
            return json_reply(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(err)})
        body = PayloadsBody(payloads=[json_format.MessageToDict(p) for p in result])
        return json_reply(HTTPStatus.OK, body.model_dump())

    return Starlette(
        # Every method reaches `convert`, so a wrong one gets the same JSON error as the rest.
        routes=[Route("/{path:path}", convert, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])],
        middleware=[
            Middleware(UiOriginCors, ui_origin=ui_origin),
            Middleware(CloseOnUnreadBody, read_timeout=read_timeout),
            Middleware(BearerTokenGuard, token=token),
        ],
    )


def _parse_payloads(raw: bytes) -> list[Payload]:
    try:
        body = PayloadsBody.model_validate_json(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in err.errors(include_input=False)
        )
        raise HTTPRefusal(HTTPStatus.BAD_REQUEST, f"{_BODY_SHAPE} ({problems})") from None
    payloads = []
    for index, entry in enumerate(body.payloads):
        try:
            payloads.append(json_format.ParseDict(entry, Payload()))
        except json_format.ParseError as err:
            raise HTTPRefusal(HTTPStatus.BAD_REQUEST, f"{_BODY_SHAPE} (payloads.{index}: {err})") from None
    return payloads
