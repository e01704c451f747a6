"""Forget activities: one per layer, each idempotent, each working from the survey."""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.heartbeat import heartbeats
from contract.names import (
    FORGET_AUDIT_ACTIVITY,
    FORGET_CACHE_ACTIVITY,
    FORGET_GRAPH_ACTIVITY,
    FORGET_STORES_ACTIVITY,
    FORGET_SURVEY_ACTIVITY,
    FORGET_TEMPORAL_ACTIVITY,
)
from memory.forget.models import ForgetAudit, ForgetScope, ForgetSurvey
from memory.forget.service import MemoryEraser
from wiring import execution_erasure

# Deletion is asynchronous on the server: list again after this long.
_RELIST_SECONDS = 0.5
_MAX_PASSES = 120


class ForgetActivities:
    def __init__(self, eraser: MemoryEraser):
        self._eraser = eraser

    @activity.defn(name=FORGET_SURVEY_ACTIVITY)
    @heartbeats
    async def survey(self, scope: ForgetScope) -> ForgetSurvey:
        """What the forget will erase, per layer; reads only."""
        survey = await self._eraser.survey(scope)
        found = await execution_erasure.executions(activity.client(), scope, survey.threads)
        survey.counts["temporal.executions"] = len(found)
        return survey

    @activity.defn(name=FORGET_TEMPORAL_ACTIVITY)
    @heartbeats
    async def erase_executions(self, survey: ForgetSurvey) -> None:
        """Terminate and delete the scope's executions until the server lists none."""
        client = activity.client()
        for attempt in range(_MAX_PASSES):
            found = await execution_erasure.executions(client, survey.scope, survey.threads)
            if not found:
                return
            await execution_erasure.terminate_and_delete(client, found, reason=f"forget {survey.scope.label}")
            activity.heartbeat(attempt)
            await asyncio.sleep(_RELIST_SECONDS)
        raise RuntimeError(f"executions of {survey.scope.label} are still listed after {_MAX_PASSES} passes")

    @activity.defn(name=FORGET_GRAPH_ACTIVITY)
    @heartbeats
    async def erase_graph(self, survey: ForgetSurvey) -> None:
        await self._eraser.erase_graph(survey)

    @activity.defn(name=FORGET_CACHE_ACTIVITY)
    @heartbeats
    async def erase_cache(self, survey: ForgetSurvey) -> None:
        await self._eraser.erase_cache(survey)

    @activity.defn(name=FORGET_STORES_ACTIVITY)
    @heartbeats
    async def erase_stores(self, survey: ForgetSurvey) -> None:
        await self._eraser.erase_stores(survey)

    @activity.defn(name=FORGET_AUDIT_ACTIVITY)
    @heartbeats
    async def record(self, audit: ForgetAudit) -> None:
        await self._eraser.record(audit)
