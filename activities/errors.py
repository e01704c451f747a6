"""Classify failures from memory/ into Temporal's terms: retry, or fail fast with a reason.

`ActivityErrorInterceptor` applies this to every activity the worker runs (local ones too),
and sets the owner scope the activity's request names, so no activity needs a decorator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Awaitable, Callable, TypeVar

import psycopg
import sqlalchemy.exc
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from activities.tracing import owner_of
from contract.errors import (
    CONTEXT_WINDOW_EXCEEDED,
    EMBEDDING_REJECTED,
    GRAPH_UNAVAILABLE,
    INVALID_DATA,
    INVALID_INPUT,
    MODEL_REQUEST_REJECTED,
)
from memory.core.validation import InvalidInput
from memory.embedding.base import EmbeddingRejected, EmbeddingUnavailable
from memory.graph.errors import GraphUnavailable
from memory.llm.base import (
    ContextWindowExceeded,
    ModelRequestRejected,
    ModelUnavailable,
)

R = TypeVar("R")


def _delay(seconds: float | None) -> timedelta | None:
    return timedelta(seconds=seconds) if seconds else None


def as_application_error(err: BaseException) -> ApplicationError | None:
    """The Temporal failure an error from memory/ becomes; None leaves it as it is (retried)."""
    if isinstance(err, (InvalidInput, ValidationError)):
        return ApplicationError(str(err), type=INVALID_INPUT, non_retryable=True)
    if isinstance(err, (sqlalchemy.exc.DataError, psycopg.DataError)):
        # Postgres refused the values themselves (a NUL in text, a number out of range):
        # the same values fail the same way on every attempt. Checks before the store
        # should have refused them with a better message; this keeps a missed one from
        # being retried for the activity's whole schedule.
        cause = getattr(err, "orig", None) or err
        return ApplicationError(
            f"the database refused the data: {str(cause).splitlines()[0]}", type=INVALID_DATA, non_retryable=True
        )
    if isinstance(err, ContextWindowExceeded):
        return ApplicationError(str(err), type=CONTEXT_WINDOW_EXCEEDED, non_retryable=True)
    if isinstance(err, ModelRequestRejected):
        return ApplicationError(str(err), type=MODEL_REQUEST_REJECTED, non_retryable=True)
    if isinstance(err, EmbeddingRejected):
        return ApplicationError(str(err), type=EMBEDDING_REJECTED, non_retryable=True)
    if isinstance(err, GraphUnavailable):
        # The graph database is down or restarting: retry with the activity's backoff.
        return ApplicationError(str(err), type=GRAPH_UNAVAILABLE)
    if isinstance(err, (ModelUnavailable, EmbeddingUnavailable)):
        return ApplicationError(str(err), type=type(err).__name__, next_retry_delay=_delay(err.retry_after_seconds))
    return None


async def run_classified(call: Callable[[], Awaitable[R]], request: Any = None) -> R:
    """Run one activity body in its owner's scope, its failure classified."""
    try:
        with owner_of(request):
            return await call()
    except Exception as err:
        classified = as_application_error(err)
        if classified is None:
            raise
        raise classified from err


class _ClassifyingInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        # Every activity takes one request, which names its owner.
        request = input.args[0] if input.args else None
        return await run_classified(lambda: super(_ClassifyingInbound, self).execute_activity(input), request)


class ActivityErrorInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ClassifyingInbound(next)
