"""Worker interceptors that let a fault test see and pace activities without changing them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


@dataclass
class Attempt:
    activity: str
    attempt: int
    error: str | None  # None: it succeeded


class Attempts(Interceptor):
    """Every activity attempt the worker ran, with the error it failed with."""

    def __init__(self) -> None:
        self.log: list[Attempt] = []

    def failed(self, activity_type: str) -> list[Attempt]:
        return [a for a in self.log if a.activity == activity_type and a.error is not None]

    def succeeded(self, activity_type: str) -> list[Attempt]:
        return [a for a in self.log if a.activity == activity_type and a.error is None]

    async def until_failed(self, activity_type: str, times: int, timeout: float = 60) -> None:
        async with asyncio.timeout(timeout):
            while len(self.failed(activity_type)) < times:
                await asyncio.sleep(0.05)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Record(next, self)


class _Record(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: Attempts):
        super().__init__(next)
        self._owner = owner

    async def execute_activity(self, input: ExecuteActivityInput):
        info = activity.info()
        try:
            result = await super().execute_activity(input)
        except BaseException as err:
            cause = err.__cause__ or err
            self._owner.log.append(Attempt(info.activity_type, info.attempt, f"{type(cause).__name__}: {cause}"))
            raise
        self._owner.log.append(Attempt(info.activity_type, info.attempt, None))
        return result


class Hold(Interceptor):
    """Holds the first attempt of one activity until the test releases it."""

    def __init__(self, activity_type: str):
        self.activity_type = activity_type
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Hold(next, self)


class _Hold(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: Hold):
        super().__init__(next)
        self._owner = owner

    async def execute_activity(self, input: ExecuteActivityInput):
        info = activity.info()
        if info.activity_type == self._owner.activity_type and info.attempt == 1:
            self._owner.reached.set()
            await self._owner.release.wait()
        return await super().execute_activity(input)
