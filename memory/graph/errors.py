"""Graph failures, sorted by what a caller should do about them.

GraphUnavailable   the graph database could not be reached or timed out. Retry.
GraphModelChanged  the group's vectors moved to another embedding model while a query
                   was being embedded with the old one (the database refuses the
                   dimension). A kind of GraphUnavailable: a retry reads the new model.
GraphIngestFailed  graphiti could not make sense of one episode: a malformed model
                   answer, a refusal, data it rejects. The same input fails the same
                   way; retrying cannot help.

Model and embedding failures are not wrapped: they keep their own classified types
(memory.llm.base.ModelUnavailable, memory.embedding.base.EmbeddingUnavailable, ...),
which already say whether to retry. Anything else propagates unchanged.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import neo4j.exceptions
import pydantic
import redis.exceptions
from graphiti_core.errors import GraphitiError
from graphiti_core.llm_client.errors import RefusalError


class GraphUnavailable(Exception):
    """The graph database is unreachable or timed out. Retry later."""


class GraphModelChanged(GraphUnavailable):
    """A query met vectors of another embedding model than it was embedded with. Retry."""


class GraphIngestFailed(Exception):
    """One episode cannot be ingested; retrying it will fail the same way."""


_UNAVAILABLE = (
    redis.exceptions.ConnectionError,  # includes BusyLoadingError: the server is still loading
    redis.exceptions.TimeoutError,
    neo4j.exceptions.ServiceUnavailable,
    neo4j.exceptions.SessionExpired,
    # Deadlocks and leader changes: the server itself says to try again.
    neo4j.exceptions.TransientError,
    OSError,  # refused connections and socket timeouts (TimeoutError is an OSError)
)

# ValueError covers pydantic's ValidationError and graphiti's own checks of a model's answer.
_UNINGESTIBLE = (pydantic.ValidationError, json.JSONDecodeError, ValueError, RefusalError, GraphitiError)


def unavailable(err: BaseException) -> bool:
    return isinstance(err, _UNAVAILABLE)


@asynccontextmanager
async def graph_errors(action: str, *, ingest: bool = False) -> AsyncIterator[None]:
    """Translate database and graphiti failures inside the block into the two types above."""
    try:
        yield
    except (GraphUnavailable, GraphIngestFailed):
        raise
    except redis.exceptions.ResponseError as err:
        # The model is read from the graph before each call, but another worker may promote
        # the group in between: FalkorDB then refuses the query vector's dimension.
        if "dimension mismatch" not in str(err).lower():
            raise
        raise GraphModelChanged(f"the graph's embedding model changed during {action}: {err}") from err
    except _UNAVAILABLE as err:
        raise GraphUnavailable(f"graph database unavailable during {action}: {type(err).__name__}: {err}") from err
    except _UNINGESTIBLE as err:
        if not ingest:
            raise
        raise GraphIngestFailed(f"{action} failed: {type(err).__name__}: {err}") from err
