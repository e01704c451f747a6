"""The turn's writes after the reply as one activity: the reply, the recall exchange, the
turn record (with what a resend of the request gets), the recalled items' retrieval stamps
and the bill for the turn's reads.

Each write is idempotent by its own key (thread/turn/role, thread/turn/exchange,
thread/turn/record, and the ledger's keys), so a crash anywhere in here re-runs the whole
commit and nothing is written twice; the model call before it is a separate activity, so a
re-run commit never repeats a billed call that already succeeded."""

from __future__ import annotations

from temporalio import activity

from activities.conversation import ConversationActivities
from activities.heartbeat import heartbeats
from activities.recall import RecallActivities
from activities.turn_models import (
    AppendMessageInput,
    RecallExchangeInput,
    RecallWriteInput,
    TurnRecordInput,
)
from activities.turn_step_models import TurnCommitInput, TurnCommitted
from activities.turns import TurnActivities
from memory.core.usage import UsageLedger


class TurnCommitActivities:
    def __init__(
        self,
        conversation: ConversationActivities,
        recall: RecallActivities,
        turns: TurnActivities,
        ledger: UsageLedger,
    ):
        self._conversation = conversation
        self._recall = recall
        self._turns = turns
        self._ledger = ledger

    @activity.defn(name="turn_commit")
    @heartbeats
    async def commit(self, request: TurnCommitInput) -> TurnCommitted:
        """Reply, recall exchange, turn record, retrieval stamps and the reads' bill, in that order."""
        thread, turn = request.thread, request.turn
        assistant = await self._conversation.append_message(
            AppendMessageInput(thread=thread, turn=turn, role="assistant", content=request.reply)
        )
        if request.user_text is not None and request.user_sent_at is not None:
            recall_id = await self._recall.write_exchange(
                RecallExchangeInput(
                    thread=thread,
                    turn=turn,
                    user_text=request.user_text,
                    assistant_text=request.reply,
                    asked_at=request.user_sent_at,
                )
            )
        else:
            recall_id = await self._recall.write(
                RecallWriteInput(
                    thread=thread, turn=turn, user_message_id=request.user_message_id, assistant_message_id=assistant.id
                )
            )
        result = request.result.model_copy(update={"assistant_message_id": assistant.id}).model_dump(mode="json")
        await self._turns.record(
            TurnRecordInput(
                thread=thread,
                turn=turn,
                status="completed",
                user_message_id=request.user_message_id,
                assistant_message_id=assistant.id,
                manifest=request.manifest,
                usage=request.usage,
                request_id=request.request_id,
                result=result,
                agent_version=request.result.agent_version,
            )
        )
        await self._recall.stamp_recalled(thread, request.manifest)
        await self._ledger.record_many(request.billing)
        return TurnCommitted(assistant=assistant, recall_item_id=recall_id, result=result)
