"""A failed workflow, update or Temporal call as an API error with a stable code."""

from __future__ import annotations

from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from contract.errors import CONTEXT_WINDOW_EXCEEDED, INVALID_DATA, INVALID_INPUT


def _innermost(err: BaseException) -> BaseException:
    while getattr(err, "cause", None) is not None:
        err = err.cause
    return err


def as_api_error(err: Exception, *, failed_code: str = "workflow_failed") -> ApiError:
    if isinstance(err, (WorkflowUpdateFailedError, WorkflowFailureError)):
        cause = _innermost(err)
        kind = cause.type if isinstance(cause, ApplicationError) else None
        if kind in (INVALID_INPUT, INVALID_DATA):
            return ApiError("invalid_input", str(cause.message if isinstance(cause, ApplicationError) else cause))
        if kind == CONTEXT_WINDOW_EXCEEDED:
            return ApiError("context_window_exceeded", str(cause))
        return ApiError(failed_code, str(cause))
    if isinstance(err, RPCError):
        if err.status == RPCStatusCode.NOT_FOUND:
            return ApiError("not_found", err.message)
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return ApiError("temporal_unavailable", f"Temporal did not answer: {err.message}")
    raise err
