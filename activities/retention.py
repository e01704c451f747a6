"""Retention as an activity: one run, cut off by the workflow's clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from activities.learning_models import RetentionInput
from memory.learning.models import RetentionReport
from memory.learning.retention import cutoff

if TYPE_CHECKING:  # services are handed in; importing them is the worker's business
    from memory.learning.retention import Retention


class RetentionActivities:
    def __init__(self, *, retention: Retention) -> None:
        self._retention = retention

    @activity.defn(name="retention_run")
    async def retention(self, request: RetentionInput) -> RetentionReport:
        # Cutoffs from the workflow's clock, so a retried attempt removes exactly the same set.
        return await self._retention.run(
            request.run_key,
            episode_cutoff=cutoff(request.as_of, request.episode_retention_days, what="episode"),
            recall_cutoff=cutoff(request.as_of, request.recall_retention_days, what="recall"),
            progress=lambda step: activity.heartbeat(step),
            growth=request.growth.horizons(request.as_of) if request.growth else None,
        )
