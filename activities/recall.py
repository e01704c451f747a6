"""Recall-store activities: fenced search and the acknowledged write of each exchange."""

from __future__ import annotations

from temporalio import activity

from activities.heartbeat import heartbeats
from activities.tracing import traced
from activities.turn_models import RecallSearchInput, RecallWriteInput
from memory.conversation.store import ConversationStore
from memory.core.switches import SwitchableLayer, SwitchBoard
from memory.core.tokens import estimate_tokens
from memory.core.usage_entry import UsageEntry
from memory.prompt.manifest import ContextItem, Layer
from memory.recall.service import RecallMemory
from memory.recall.store import RecallHit


def _items(hits: list[RecallHit]) -> list[ContextItem]:
    return [
        ContextItem(
            layer=Layer.RECALL,
            source_id=hit.id,
            source_time=hit.created_at,
            label=hit.provenance,
            score=round(hit.score, 4),
            tokens=estimate_tokens(hit.text),
        )
        for hit in hits
    ]


class RecallActivities:
    def __init__(self, recall: RecallMemory, conversation: ConversationStore, switches: SwitchBoard):
        self._recall = recall
        self._conversation = conversation
        self._switches = switches

    @activity.defn(name="recall_search")
    @heartbeats
    @traced("recall", "search")
    async def search(self, request: RecallSearchInput) -> list[ContextItem]:
        if not await self._switches.layer_on(request.thread.tenant_id, SwitchableLayer.RECALL):
            return []
        hits = await self._recall.search(request.thread, request.turn, request.query)
        return _items(hits)

    @traced("recall", "search")
    async def search_for_turn(self, request: RecallSearchInput) -> tuple[list[ContextItem], UsageEntry | None]:
        """The turn's own search, which only reads: its query embedding comes back to be billed
        with the turn's writes."""
        if not await self._switches.layer_on(request.thread.tenant_id, SwitchableLayer.RECALL):
            return [], None
        hits, billed = await self._recall.search_unbilled(request.thread, request.turn, request.query)
        return _items(hits), billed

    @activity.defn(name="recall_write")
    @heartbeats
    @traced("recall", "write")
    async def write(self, request: RecallWriteInput) -> int:
        """The stored item's id; 0 when the recall layer is switched off."""
        if not await self._switches.layer_on(request.thread.tenant_id, SwitchableLayer.RECALL):
            return 0
        messages = await self._conversation.messages_by_id(
            request.thread, [request.user_message_id, request.assistant_message_id]
        )
        by_role = {m.role: m.content for m in messages}
        if set(by_role) != {"user", "assistant"}:
            raise LookupError(f"turn {request.turn} of {request.thread.key} has no stored user/assistant pair yet")
        return await self._recall.remember_exchange(
            request.thread, request.turn, by_role["user"], by_role["assistant"]
        )
