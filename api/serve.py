"""Run the API: on its own (`agent-memory serve`) or beside the worker in `worker.py --dev`."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import uvicorn
from temporalio.client import Client

from api.app import create_app
from api.keys import KeyStore, Scope
from api.services import ApiServices, ApiSettings
from memory.core.config import Settings
from memory.runtime import MemoryRuntime

log = logging.getLogger("api")

DEFAULT_PORT = 8420
DEV_TENANT = "dev"


class _HostedServer(uvicorn.Server):
    """A server inside another process's event loop (the worker's): that process owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def server(
    services: ApiServices, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, hosted: bool = False
) -> uvicorn.Server:
    config = uvicorn.Config(create_app(services), host=host, port=port, lifespan="off", log_level="warning")
    return (_HostedServer if hosted else uvicorn.Server)(config)


async def dev_key(keys: KeyStore, path: Path) -> str:
    """The embedded stack's operator key for tenant `dev`: kept in the data directory (mode
    0600) and reused while it is valid, so a restart does not invalidate scripts using it."""
    if path.exists():
        kept = path.read_text().strip()
        if await keys.authenticate(kept) is not None:
            return kept
    issued = await keys.create(DEV_TENANT, Scope.OPERATOR.value, name="dev key", created_by="worker --dev")
    path.write_text(issued.secret + "\n")
    os.chmod(path, 0o600)
    return issued.secret


async def run(settings: Settings, client: Client, *, host: str, port: int) -> None:
    runtime = MemoryRuntime.create(settings)
    try:
        services = ApiServices(
            temporal=client, runtime=runtime, keys=KeyStore(runtime.engine), settings=ApiSettings.from_env()
        )
        log.info("API at http://%s:%d/v1 (OpenAPI at /openapi.json)", host, port)
        await server(services, host=host, port=port).serve()
    finally:
        await runtime.close()
