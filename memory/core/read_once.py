"""Values read once per unit of work and shared by everything that asks for them inside it.

A turn's reads ask the same tenant-wide questions from several layers at once: every layer
asks whether its switch is on, and recall and episodic memory both read the graph's facts
to label superseded items. Inside `read_once()` the first asker reads and the others await
that same read; outside a scope every call reads afresh, exactly as before.

A scope lasts one activity attempt (the turn's reads, or its commit), so a switch flipped
between two turns is in force from the next turn, and a retried attempt reads again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

# Tasks started by asyncio.gather copy the context, so they share the scope's dict.
_scope: ContextVar[dict[Hashable, asyncio.Future[Any]] | None] = ContextVar("read_once_scope", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Share reads made through `once` until the block ends."""
    reads: dict[Hashable, asyncio.Future[Any]] = {}
    token = _scope.set(reads)
    try:
        yield
    finally:
        _scope.reset(token)
        for pending in reads.values():
            if not pending.done():  # the block failed while a shared read was still running
                pending.cancel()


async def once(key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """`read()`, done once per scope for each key; outside a scope, every time."""
    reads = _scope.get()
    if reads is None:
        return await read()
    shared = reads.get(key)
    if shared is None:
        shared = reads[key] = asyncio.ensure_future(read())
    # One asker being cancelled must not cancel the read the others are waiting on.
    return await asyncio.shield(shared)
