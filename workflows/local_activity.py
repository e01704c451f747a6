"""Running one of the turn's steps as a local activity, with a remote activity's failure shape."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError
from temporalio.workflow import LocalActivityConfig

Request = TypeVar("Request")
Result = TypeVar("Result")


async def run_local(
    activity: Callable[[Any, Request], Awaitable[Result]],
    request: Request,
    *,
    name: str,
    summary: str,
    config: LocalActivityConfig,
) -> Result:
    """A local activity's result is recorded with the next workflow task; a worker that dies
    first leaves it to run again on the next worker, so it must be safe to re-run whole."""
    try:
        return await workflow.execute_local_activity_method(activity, request, summary=summary, **config)
    except (ApplicationError, TimeoutError) as err:
        # A local activity's failure arrives as its cause alone: give it a remote one's shape,
        # so the turn's failure handling (and its message) is the same for both.
        raise ActivityError(
            f"{name} failed",
            scheduled_event_id=0,
            started_event_id=0,
            identity="",
            activity_type=name,
            activity_id="",
            retry_state=None,
        ) from err
