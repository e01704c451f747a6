"""Keep a long activity visibly alive while it waits on something slow."""

from __future__ import annotations

import asyncio
import functools
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable, ParamSpec, TypeVar

from temporalio import activity

P = ParamSpec("P")
R = TypeVar("R")

# Well inside the turn's heartbeat timeout (workflows/options.py), so a busy event loop
# or a slow heartbeat batch does not cost a live attempt.
HEARTBEAT_EVERY_SECONDS = 4.0


@asynccontextmanager
async def heartbeating(every_seconds: float = 5.0, *details: object) -> AsyncIterator[None]:
    """Heartbeat on a timer for the duration of the block (graphiti calls can take a while).
    A local activity has no heartbeat of its own (its workflow task is its lease), and a direct
    call outside Temporal has nothing to heartbeat to: nothing is sent."""
    if not activity.in_activity() or activity.info().is_local:
        yield
        return

    async def beat() -> None:
        while True:
            activity.heartbeat(*details)
            await asyncio.sleep(every_seconds)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


def heartbeats(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Heartbeat for the whole activity: run under a heartbeat timeout, a worker that died
    mid-call is given up on within that timeout rather than the attempt's."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        async with heartbeating(HEARTBEAT_EVERY_SECONDS):
            return await fn(*args, **kwargs)

    return wrapper
