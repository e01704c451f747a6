"""Turn-record activity: the manifest and usage of a turn, kept for audit."""

from __future__ import annotations

from temporalio import activity

from activities.turn_models import TurnRecordInput
from memory.conversation.turn_log import TurnLog
from memory.core.usage import UsageLedger


class TurnActivities:
    def __init__(self, turns: TurnLog, ledger: UsageLedger):
        self._turns = turns
        self._ledger = ledger

    @activity.defn(name="turn_record")
    async def record(self, request: TurnRecordInput) -> None:
        await self._turns.record(
            request.thread,
            turn=request.turn,
            status=request.status,
            user_message_id=request.user_message_id,
            assistant_message_id=request.assistant_message_id,
            manifest=request.manifest,
            usage=request.usage,
            request_id=request.request_id,
            result=request.result,
            error=request.error,
            agent_version=request.agent_version,
        )
        await self._ledger.record_many(request.billing)
