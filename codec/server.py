"""A codec server: lets the Temporal UI (and CLI) show decrypted payloads to an operator.

    CODEC_SERVER_TOKEN=... PAYLOAD_ENCRYPTION_KEYS=... uv run python -m codec.server --port 8081
    temporal server start-dev --ui-codec-endpoint http://localhost:8081

POST .../decode and .../encode take and return {"payloads": [...]}, each payload in
protobuf JSON. Every request must carry `Authorization: Bearer <CODEC_SERVER_TOKEN>`;
without a token the server refuses to start unless given --insecure-no-auth. Browsers
reach it only from the configured UI origin (CORS).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import os
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payload

from codec.aes_gcm import EncryptionCodec, PayloadDecryptionError
from codec.keys import KEYS_VARIABLE, KeyConfigError, KeyRing

TOKEN_VARIABLE = "CODEC_SERVER_TOKEN"
DEFAULT_PORT = 8081
DEFAULT_UI_ORIGIN = "http://localhost:8233"
# Temporal caps a payload at a few MiB; a batch well past that is a mistake or an attack.
MAX_BODY_BYTES = 16 * 1024 * 1024
# A caller that stalls is dropped after this long, and at most this many connections are
# served at once (the rest are closed at once): stalled or slow callers cannot pile up threads.
REQUEST_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 32
# A refused caller's body is read (so it sees our 401, not a reset) only up to this size.
_DRAIN_REFUSED_BYTES = 64 * 1024
_BODY_SHAPE = 'the body must be JSON of the form {"payloads": [...]} with each payload in Temporal\'s protobuf JSON'


class MissingTokenError(ValueError):
    """The server would accept anyone: refused unless explicitly asked for."""


class PayloadsBody(BaseModel):
    """The codec protocol's request and response body."""

    payloads: list[dict[str, Any]]


class CodecServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        codec: EncryptionCodec,
        token: str | None,
        ui_origin: str,
        *,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,
        max_connections: int = MAX_CONNECTIONS,
    ):
        super().__init__(address, _CodecHandler)
        self.codec = codec
        self.token = token
        self.ui_origin = ui_origin
        self.request_timeout = request_timeout
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # full: refuse rather than queue a thread
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    @property
    def port(self) -> int:
        return self.server_address[1]


class _BadRequest(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class _CodecHandler(BaseHTTPRequestHandler):
    server: CodecServer

    def setup(self) -> None:
        # The socket timeout: a request line, header or body that stalls ends the connection.
        self.timeout = self.server.request_timeout
        super().setup()

    def do_OPTIONS(self) -> None:
        # Preflight carries no Authorization header by design, so it is answered openly;
        # only the CORS headers decide whether the browser goes on.
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors_headers()
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        try:
            # The token first: nobody without it makes us read (or hold) a body.
            if not self._authorised():
                self._refuse_unauthorised()
                return
            raw = self._read_body()
            # The protocol says to look only at the last path segment, so the server can be
            # mounted under any prefix (one per namespace, behind a proxy...).
            operation = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            if operation not in ("decode", "encode"):
                raise _BadRequest(HTTPStatus.NOT_FOUND, "POST to .../decode or .../encode")
            codec = self.server.codec
            convert = codec.decode if operation == "decode" else codec.encode
            result = asyncio.run(convert(_parse_payloads(raw)))
        except _BadRequest as err:
            self._reply(err.status, {"error": str(err)})
            return
        except PayloadDecryptionError as err:
            self._reply(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(err)})
            return
        body = PayloadsBody(payloads=[json_format.MessageToDict(p) for p in result])
        self._reply(HTTPStatus.OK, body.model_dump())

    def do_GET(self) -> None:
        self._reply(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "POST to .../decode or .../encode"},
                    extra_headers={"Allow": "POST, OPTIONS"})

    def _refuse_unauthorised(self) -> None:
        # A small body is read so the client sees the 401 rather than a reset; a large one
        # is not read at all and the connection is closed.
        length = self.headers.get("Content-Length", "")
        if length.isdigit() and int(length) <= _DRAIN_REFUSED_BYTES:
            self.rfile.read(int(length))
        else:
            self.close_connection = True
        self._reply(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"},
                    extra_headers={"WWW-Authenticate": 'Bearer realm="codec"'})

    def _authorised(self) -> bool:
        expected = self.server.token
        if expected is None:
            return True
        scheme, _, presented = self.headers.get("Authorization", "").partition(" ")
        # Compare bytes in constant time so response timing says nothing about the token.
        matches = hmac.compare_digest(presented.strip().encode(), expected.encode())
        return scheme.lower() == "bearer" and matches

    def _read_body(self) -> bytes:
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise _BadRequest(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0:
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "Content-Length is not a byte count")
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                              f"the body is {length} bytes; the limit is {MAX_BODY_BYTES}")
        return self.rfile.read(length)

    def _cors_headers(self) -> None:
        origin = self.headers.get("Origin")
        if origin is None or origin != self.server.ui_origin:
            return  # not a browser, or a page we do not serve: no CORS grant
        self.send_header("Access-Control-Allow-Origin", origin)
        self.send_header("Vary", "Origin")
        # The UI may send cookies ("include cross-origin credentials"); harmless otherwise.
        self.send_header("Access-Control-Allow-Credentials", "true")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
        self.send_header("Access-Control-Max-Age", "600")

    def _reply(self, status: HTTPStatus, body: dict[str, Any], extra_headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self._cors_headers()
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        # Decoded payloads are memory content: no cache along the way may keep them.
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)


def _parse_payloads(raw: bytes) -> list[Payload]:
    try:
        body = PayloadsBody.model_validate_json(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in err.errors(include_input=False)
        )
        raise _BadRequest(HTTPStatus.BAD_REQUEST, f"{_BODY_SHAPE} ({problems})") from None
    payloads = []
    for index, entry in enumerate(body.payloads):
        try:
            payloads.append(json_format.ParseDict(entry, Payload()))
        except json_format.ParseError as err:
            raise _BadRequest(HTTPStatus.BAD_REQUEST, f"{_BODY_SHAPE} (payloads.{index}: {err})") from None
    return payloads


def serve(
    keyring: KeyRing,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    ui_origin: str = DEFAULT_UI_ORIGIN,
    *,
    host: str = "127.0.0.1",
    insecure_no_auth: bool = False,
    request_timeout: float = REQUEST_TIMEOUT_SECONDS,
    max_connections: int = MAX_CONNECTIONS,
) -> CodecServer:
    """A codec server bound to host:port (0 picks a free port), not yet serving: call
    `serve_forever()` (in a thread, in tests) and `shutdown()` / `server_close()` to stop.
    Raises MissingTokenError without a token unless insecure_no_auth is set."""
    if not token:
        if not insecure_no_auth:
            raise MissingTokenError(
                f"no {TOKEN_VARIABLE}: anyone who can reach the server could read every payload;"
                " set a token, or pass --insecure-no-auth for a local experiment"
            )
        token = None
    return CodecServer(
        (host, port),
        EncryptionCodec(keyring),
        token,
        ui_origin,
        request_timeout=request_timeout,
        max_connections=max_connections,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codec.server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 in a container)")
    parser.add_argument("--ui-origin", default=DEFAULT_UI_ORIGIN,
                        help=f"the Temporal UI's origin, allowed by CORS (default {DEFAULT_UI_ORIGIN})")
    parser.add_argument("--insecure-no-auth", action="store_true",
                        help=f"start without {TOKEN_VARIABLE}: every caller can decrypt")
    args = parser.parse_args(argv)

    try:
        keyring = KeyRing.from_env()
        if keyring is None:
            raise KeyConfigError(f"{KEYS_VARIABLE} is not set: there is nothing to decrypt with")
        server = serve(keyring, args.port, os.environ.get(TOKEN_VARIABLE) or None, args.ui_origin,
                       host=args.host, insecure_no_auth=args.insecure_no_auth)
    except (KeyConfigError, MissingTokenError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    auth = "bearer token required" if server.token else "NO AUTHENTICATION"
    print(f"codec server on http://{args.host}:{server.port} for UI origin {args.ui_origin};"
          f" keys {', '.join(keyring.key_ids)}; {auth}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
