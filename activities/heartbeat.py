"""Keep a long activity visibly alive while it waits on something slow."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from temporalio import activity


@asynccontextmanager
async def heartbeating(every_seconds: float = 5.0, *details: object) -> AsyncIterator[None]:
    """Heartbeat on a timer for the duration of the block (graphiti calls can take a while)."""

    async def beat() -> None:
        while True:
            activity.heartbeat(*details)
            await asyncio.sleep(every_seconds)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
