"""A codec server: lets the Temporal UI (and CLI) show decrypted payloads to an operator.

    CODEC_SERVER_TOKEN=... PAYLOAD_ENCRYPTION_KEYS=... uv run python -m codec.server --port 8081
    temporal server start-dev --ui-codec-endpoint http://localhost:8081

POST .../decode and .../encode take and return {"payloads": [...]}, each payload in
protobuf JSON. Every request must carry `Authorization: Bearer <CODEC_SERVER_TOKEN>`;
without a token the server refuses to start unless given --insecure-no-auth. Browsers
reach it only from the configured UI origin (CORS).

It runs on uvicorn (asyncio): the token is checked from the headers before any body is
read, a body is limited in size and time, a request head must arrive within the timeout,
and beyond the connection limit callers are answered 503.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
import threading

import uvicorn

from codec.aes_gcm import EncryptionCodec
from codec.app import codec_app
from codec.data_keys import DataKeys
from codec.head_deadline import with_head_deadline
from codec.keys import KEYS_VARIABLE, KeyConfigError, KeyRing

TOKEN_VARIABLE = "CODEC_SERVER_TOKEN"
DEFAULT_PORT = 8081
DEFAULT_UI_ORIGIN = "http://localhost:8233"
# Temporal caps a payload at a few MiB; a batch well past that is a mistake or an attack.
MAX_BODY_BYTES = 16 * 1024 * 1024
# A request whose head or body has not arrived this long after it started is dropped, and an
# idle keep-alive connection is closed after it; beyond MAX_CONNECTIONS open connections a
# request is answered 503: stalled or slow callers cannot pile up.
REQUEST_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 32


class MissingTokenError(ValueError):
    """The server would accept anyone: refused unless explicitly asked for."""


class CodecServer:
    """The codec app on uvicorn, bound to its port from construction on (so port 0 can be
    read at once); `serve_forever()` serves until `shutdown()` from another thread, or a
    signal in the main thread."""

    def __init__(
        self,
        address: tuple[str, int],
        codec: EncryptionCodec,
        token: str | None,
        ui_origin: str,
        *,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,
        max_connections: int = MAX_CONNECTIONS,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.token = token
        app = codec_app(codec, token, ui_origin, max_body_bytes=max_body_bytes, read_timeout=request_timeout)
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._socket = socket.create_server(address, family=family)
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                http=with_head_deadline(request_timeout),
                timeout_keep_alive=int(max(1, request_timeout)),
                # uvicorn counts the connection asking among the open ones: one more than
                # max_connections lets exactly that many be served.
                limit_concurrency=max_connections + 1,
                timeout_graceful_shutdown=int(max(1, request_timeout)),
                lifespan="off",
                server_header=False,
                log_config=None,  # a library must not reconfigure its host's logging
            )
        )
        self._serving = threading.Event()
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        return self._socket.getsockname()[1]

    def serve_forever(self) -> None:
        self._serving.set()
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stops serve_forever() (finishing requests under way) and waits for it to return."""
        self._server.should_exit = True
        if self._serving.is_set():
            self._stopped.wait()

    def server_close(self) -> None:
        self._socket.close()


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
    max_body_bytes: int = MAX_BODY_BYTES,
    data_keys: DataKeys | None = None,
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
        # Decoding needs no context: a payload names its key (a tenant's data key is looked up).
        EncryptionCodec(keyring, data_keys),
        token,
        ui_origin,
        request_timeout=request_timeout,
        max_connections=max_connections,
        max_body_bytes=max_body_bytes,
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
        # With DATABASE_URL, payloads under tenant data keys decode too (until the tenant is forgotten).
        database_url = os.environ.get("DATABASE_URL")
        server = serve(keyring, args.port, os.environ.get(TOKEN_VARIABLE) or None, args.ui_origin,
                       host=args.host, insecure_no_auth=args.insecure_no_auth,
                       data_keys=DataKeys(database_url, keyring) if database_url else None)
    except (KeyConfigError, MissingTokenError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    auth = "bearer token required" if server.token else "NO AUTHENTICATION"
    print(f"codec server on http://{args.host}:{server.port} for UI origin {args.ui_origin};"
          f" keys {', '.join(keyring.key_ids)}; {auth}", file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
