"""The two workers a process runs: one on the turns' task queue, one on its background queue."""

from __future__ import annotations

from contextlib import AsyncExitStack
from types import TracebackType

from temporalio.worker import Worker

from memory.core.config import Settings


def background_slots(settings: Settings) -> dict[str, int]:
    """The background worker's few slots (BACKGROUND_WORKFLOW_TASK_SLOTS, BACKGROUND_ACTIVITY_SLOTS)."""
    return {
        "max_concurrent_workflow_tasks": settings.background_workflow_task_slots,
        "max_concurrent_activities": settings.background_activity_slots,
        "max_concurrent_local_activities": settings.background_activity_slots,
    }


class MemoryWorkers:
    """Started and stopped together with `async with`. The background worker serves the
    knowledge ingestion and reflections the turns start (contract.names.background_task_queue)
    with few slots; the foreground worker serves everything else at full width."""

    def __init__(self, foreground: Worker, background: Worker) -> None:
        self.foreground = foreground
        self.background = background
        self._running: AsyncExitStack | None = None

    @property
    def task_queue(self) -> str:
        return self.foreground.task_queue

    async def __aenter__(self) -> MemoryWorkers:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(self.background)
            await stack.enter_async_context(self.foreground)
            self._running = stack.pop_all()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # The turns stop first; background work already started finishes or is retried later.
        running, self._running = self._running, None
        if running is not None:
            await running.__aexit__(exc_type, exc, tb)
