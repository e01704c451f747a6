"""Per-operation capture of model, embedding and rerank calls.

A context variable holds the list for the operation in progress. asyncio copies the
context into every task it creates, so calls graphiti fans out with gather land in
the list of the operation that started them, and two operations running at once,
for two groups, never see each other's calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from memory.graph.models import GraphCall

EmbedPurpose = Literal["document", "query"]

_calls: ContextVar[list[GraphCall] | None] = ContextVar("graph_calls", default=None)
_embed_purpose: ContextVar[EmbedPurpose] = ContextVar("graph_embed_purpose", default="document")


@contextmanager
def capture(embed_purpose: EmbedPurpose) -> Iterator[list[GraphCall]]:
    """Collect every call made inside the block; embeddings inside it are for embed_purpose."""
    calls: list[GraphCall] = []
    calls_token = _calls.set(calls)
    purpose_token = _embed_purpose.set(embed_purpose)
    try:
        yield calls
    finally:
        _embed_purpose.reset(purpose_token)
        _calls.reset(calls_token)


def record(call: GraphCall) -> None:
    calls = _calls.get()
    # Outside capture() nobody is accounting; dropping is right, raising would break graphiti.
    if calls is not None:
        calls.append(call)


def embed_purpose() -> EmbedPurpose:
    return _embed_purpose.get()
