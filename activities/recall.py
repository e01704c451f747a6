"""Recall-store activities: fenced search and the acknowledged write of each exchange."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.heartbeat import heartbeats
from activities.tracing import traced
from activities.turn_models import RecallSearchInput, RecallWriteInput
from memory.core.switches import SwitchableLayer
from memory.core.tokens import estimate_tokens
from memory.prompt.manifest import ContextItem, Layer
from memory.recall.superseded import mark_superseded
from memory.runtime import MemoryRuntime


def utc_now() -> datetime:
    return datetime.now(UTC)


class RecallActivities:
    def __init__(self, runtime: MemoryRuntime):
        self._rt = runtime

    @activity.defn(name="recall_search")
    @heartbeats
    @traced("recall", "search")
    async def search(self, request: RecallSearchInput) -> list[ContextItem]:
        if not await self._rt.switches.layer_on(request.thread.tenant_id, SwitchableLayer.RECALL):
            return []
        hits = await self._rt.recall.search(request.thread, request.turn, request.query)
        items = [
            ContextItem(
                layer=Layer.RECALL,
                source_id=hit.id,
                source_time=hit.occurred_at,
                label=hit.provenance,
                score=round(hit.score, 4),
                tokens=estimate_tokens(hit.text),
                found_by=hit.found_by,
            )
            for hit in hits
        ]
        return await mark_superseded(
            self._rt.knowledge, request.thread.tenant_id, list(zip(items, [h.text for h in hits], strict=True)), utc_now()
        )

    @activity.defn(name="recall_write")
    @heartbeats
    @traced("recall", "write")
    async def write(self, request: RecallWriteInput) -> int:
        """The stored item's id; 0 when the recall layer is switched off."""
        if not await self._rt.switches.layer_on(request.thread.tenant_id, SwitchableLayer.RECALL):
            return 0
        messages = await self._rt.conversation.messages_by_id(
            request.thread, [request.user_message_id, request.assistant_message_id]
        )
        by_role = {m.role: m for m in messages}
        if set(by_role) != {"user", "assistant"}:
            raise LookupError(f"turn {request.turn} of {request.thread.key} has no stored user/assistant pair yet")
        # The exchange happened when the user asked, not when the write was retried.
        return await self._rt.recall.remember_exchange(
            request.thread,
            request.turn,
            by_role["user"].content,
            by_role["assistant"].content,
            occurred_at=by_role["user"].created_at,
        )
