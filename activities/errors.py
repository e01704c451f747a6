"""Classify failures from memory/ into Temporal's terms: retry, or fail fast with a reason.
Every activity passes through here, so it is also where the owner scope is set."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Awaitable, Callable, ParamSpec, TypeVar

import psycopg
import sqlalchemy.exc
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from activities.tracing import owner_of
from memory.core.validation import InvalidInput
from memory.embedding.base import EmbeddingRejected, EmbeddingUnavailable
from memory.graph import GraphUnavailable
from memory.llm.base import (
    ContextWindowExceeded,
    ModelRequestRejected,
    ModelUnavailable,
)

P = ParamSpec("P")
R = TypeVar("R")

CONTEXT_WINDOW_EXCEEDED = "ContextWindowExceeded"
INVALID_INPUT = "InvalidInput"
MODEL_REQUEST_REJECTED = "ModelRequestRejected"
EMBEDDING_REJECTED = "EmbeddingRejected"
INVALID_DATA = "InvalidData"


def _delay(seconds: float | None) -> timedelta | None:
    return timedelta(seconds=seconds) if seconds else None


def classified(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Raise non-retryable errors for what can never succeed; let transient ones retry."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            # Every activity method takes (self, request): the request names its owner.
            with owner_of(args[1] if len(args) > 1 else None):
                return await fn(*args, **kwargs)
        except (InvalidInput, ValidationError) as err:
            raise ApplicationError(str(err), type=INVALID_INPUT, non_retryable=True) from err
        except (sqlalchemy.exc.DataError, psycopg.DataError) as err:
            # Postgres refused the values themselves (a NUL in text, a number out of range):
            # the same values fail the same way on every attempt. Checks before the store
            # should have refused them with a better message; this keeps a missed one from
            # being retried for the activity's whole schedule.
            cause = getattr(err, "orig", None) or err
            raise ApplicationError(
                f"the database refused the data: {str(cause).splitlines()[0]}", type=INVALID_DATA, non_retryable=True
            ) from err
        except ContextWindowExceeded as err:
            raise ApplicationError(str(err), type=CONTEXT_WINDOW_EXCEEDED, non_retryable=True) from err
        except ModelRequestRejected as err:
            raise ApplicationError(str(err), type=MODEL_REQUEST_REJECTED, non_retryable=True) from err
        except EmbeddingRejected as err:
            raise ApplicationError(str(err), type=EMBEDDING_REJECTED, non_retryable=True) from err
        except GraphUnavailable as err:
            # The graph database is down or restarting: retry with the activity's backoff.
            raise ApplicationError(str(err), type="GraphUnavailable") from err
        except (ModelUnavailable, EmbeddingUnavailable) as err:
            raise ApplicationError(
                str(err), type=type(err).__name__, next_retry_delay=_delay(err.retry_after_seconds)
            ) from err

    return wrapper
