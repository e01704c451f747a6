"""The HTTP API on a real port of this machine, in the test's event loop, for clients to call."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager

import httpx

from api.keys import KeyStore
from api.serve import server
from api.services import ApiServices, ApiSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serving(client, runtime, task_queue: str, **settings):
    services = ApiServices(
        temporal=client, runtime=runtime, keys=KeyStore(runtime.engine), settings=ApiSettings(task_queue=task_queue, **settings)
    )
    port = free_port()
    api = server(services, port=port, hosted=True)
    task = asyncio.create_task(api.serve())
    while not api.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", services.keys
    finally:
        api.should_exit = True
        await task


def as_key(base_url: str, secret: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60)
