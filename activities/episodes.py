"""Episodic-memory activity of the background work after a turn: store the exchange as an episode."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from activities.learning_models import EpisodeInput, EpisodeStored
from activities.tracing import traced

if TYPE_CHECKING:  # services are handed in; importing them is the worker's business
    from memory.learning.episode_recording import EpisodeRecorder


class EpisodeActivities:
    def __init__(self, *, recorder: EpisodeRecorder) -> None:
        self._recorder = recorder

    @activity.defn(name="episode_record")
    @traced("episodic", "write")
    async def record_episode(self, request: EpisodeInput) -> EpisodeStored:
        stored = await self._recorder.record(
            request.thread,
            request.turn,
            user_message_id=request.user_message_id,
            assistant_message_id=request.assistant_message_id,
            outcome=request.outcome,
            task_type=request.task_type,
            tools_used=request.tools_used,
        )
        if stored is None:
            return EpisodeStored(episode_id=None, outcome=request.outcome, task_type=request.task_type)
        return EpisodeStored(episode_id=stored.id, outcome=stored.outcome, task_type=stored.task_type)
