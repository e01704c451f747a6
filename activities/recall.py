"""Recall-store activities: fenced search and the acknowledged write of each exchange."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.heartbeat import heartbeats
from activities.tracing import traced
from activities.turn_models import (
    RecallExchangeInput,
    RecallSearchInput,
    RecallWriteInput,
)
from memory.conversation.store import ConversationStore
from memory.core.refs import ThreadRef
from memory.core.switches import SwitchableLayer, SwitchBoard
from memory.core.tokens import estimate_tokens
from memory.core.usage_entry import UsageEntry
from memory.graph.service import KnowledgeGraph
from memory.prompt.manifest import ContextItem, Layer
from memory.recall.service import RecallMemory
from memory.recall.store import RecallHit
from memory.recall.superseded import mark_superseded


def _items(hits: list[RecallHit]) -> list[ContextItem]:
    return [
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


def utc_now() -> datetime:
    return datetime.now(UTC)


class RecallActivities:
    def __init__(
        self, recall: RecallMemory, conversation: ConversationStore, switches: SwitchBoard, knowledge: KnowledgeGraph
    ):
        self._recall = recall
        self._conversation = conversation
        self._switches = switches
        self._knowledge = knowledge

    @activity.defn(name="recall_search")
    @heartbeats
    @traced("recall", "search")
    async def search(self, request: RecallSearchInput) -> list[ContextItem]:
        if not await self._switches.layer_on(request.thread.tenant_id, SwitchableLayer.RECALL):
            return []
        hits = await self._recall.search(request.thread, request.turn, request.query)
        return await self._labelled(request, hits)

    @traced("recall", "search")
    async def search_for_turn(self, request: RecallSearchInput) -> tuple[list[ContextItem], UsageEntry | None]:
        """The turn's own search, which only reads: its query embedding comes back to be billed
        with the turn's writes."""
        if not await self._switches.layer_on(request.thread.tenant_id, SwitchableLayer.RECALL):
            return [], None
        hits, billed = await self._recall.search_unbilled(request.thread, request.turn, request.query)
        return await self._labelled(request, hits), billed

    async def _labelled(self, request: RecallSearchInput, hits: list[RecallHit]) -> list[ContextItem]:
        """Each hit as a manifest item, labelled when the graph has since invalidated what it says."""
        pairs = list(zip(_items(hits), [h.text for h in hits], strict=True))
        return await mark_superseded(self._knowledge, request.thread.tenant_id, pairs, utc_now())

    async def stamp_recalled(self, thread: ThreadRef, manifest: list[ContextItem]) -> None:
        """Stamp the recall items a turn used as retrieved: the turn's read left it to the commit."""
        ids = [item.source_id for item in manifest if item.layer == Layer.RECALL and item.source_id is not None]
        await self._recall.store.mark_retrieved(thread.tenant_id, ids)

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
        by_role = {m.role: m for m in messages}
        if set(by_role) != {"user", "assistant"}:
            raise LookupError(f"turn {request.turn} of {request.thread.key} has no stored user/assistant pair yet")
        # The exchange happened when the user asked, not when the write was retried.
        return await self._recall.remember_exchange(
            request.thread,
            request.turn,
            by_role["user"].content,
            by_role["assistant"].content,
            occurred_at=by_role["user"].created_at,
        )

    @traced("recall", "write")
    async def write_exchange(self, request: RecallExchangeInput) -> int:
        """The turn's commit's write: it has both messages in hand, as stored, so they are not
        read back. The stored item's id; 0 when the recall layer is switched off."""
        if not await self._switches.layer_on(request.thread.tenant_id, SwitchableLayer.RECALL):
            return 0
        return await self._recall.remember_exchange(
            request.thread, request.turn, request.user_text, request.assistant_text, occurred_at=request.asked_at
        )
