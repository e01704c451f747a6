"""`agent-memory serve`: the API on its own, beside workers running elsewhere."""

from __future__ import annotations

import logging

from api.serve import run
from memory.core.config import Settings
from wiring.temporal_client import connect_client


async def serve_api(host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env()
    client = await connect_client(address=settings.temporal_address, namespace=settings.temporal_namespace)
    await run(settings, client, host=host, port=port)
