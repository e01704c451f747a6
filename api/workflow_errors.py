"""A failed workflow, update or Temporal call as an API error with a stable code."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from contract.errors import CONTEXT_WINDOW_EXCEEDED, INVALID_DATA, INVALID_INPUT

if TYPE_CHECKING:
    from api.services import ApiServices

Result = TypeVar("Result")


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


async def run_workflow(
    api: ApiServices, workflow: str, arg: object, *, id: str, result_type: type[Result], summary: str | None = None
) -> Result:
    """Run a change's workflow on the API's task queue and wait for its result; its failure
    comes back as an API error with a stable code."""
    try:
        return await api.temporal.execute_workflow(
            workflow, arg, id=id, task_queue=api.task_queue, static_summary=summary, result_type=result_type
        )
    except (WorkflowFailureError, RPCError) as err:
        raise as_api_error(err) from None
