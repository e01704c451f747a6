"""Conversation-layer activities: the message log and its rolling summary."""

from __future__ import annotations

from temporalio import activity

from activities.heartbeat import heartbeats
from activities.tracing import traced
from activities.turn_models import (
    AppendMessageInput,
    ConversationLoaded,
    LoadConversationInput,
    MessageRef,
    SummariseInput,
    SummariseResult,
)
from contract.names import CONVERSATION_CLAIM_USER_ACTIVITY
from memory.conversation.store import ConversationStore
from memory.conversation.summariser import summarise_thread
from memory.core.refs import ThreadRef
from memory.core.switches import SwitchableLayer, SwitchBoard
from memory.core.usage import UsageLedger
from memory.core.validation import MAX_STORED_MESSAGE_CHARS, check_message
from memory.llm.base import LLMClient
from memory.prompt.manifest import ContextItem, Layer


class ConversationActivities:
    def __init__(self, conversation: ConversationStore, switches: SwitchBoard, llm: LLMClient, ledger: UsageLedger):
        self._conversation = conversation
        self._switches = switches
        self._llm = llm
        self._ledger = ledger

    @activity.defn(name="conversation_open")
    async def open(self, thread: ThreadRef) -> int:
        """The last turn number already stored, so a restarted thread never reuses one."""
        return await self._conversation.last_turn(thread)

    @activity.defn(name=CONVERSATION_CLAIM_USER_ACTIVITY)
    async def claim_user(self, thread: ThreadRef) -> None:
        """Bind a new thread to its end user, or refuse a user the thread does not belong to."""
        await self._conversation.users.claim(thread)

    @activity.defn(name="conversation_append_message")
    @traced("conversation", "append")
    async def append_message(self, request: AppendMessageInput) -> MessageRef:
        if request.role == "user":
            check_message(request.content, max_chars=MAX_STORED_MESSAGE_CHARS)
        if request.role == "user" and request.request_id is not None:
            requested = await self._conversation.append_request(
                request.thread, request.turn, request.request_id, request.content
            )
            stored = requested.message
            return MessageRef(
                id=stored.id, tokens=stored.token_estimate, created_at=stored.created_at, earlier=requested.earlier
            )
        stored = await self._conversation.append(request.thread, request.turn, request.role, request.content)
        return MessageRef(id=stored.id, tokens=stored.token_estimate, created_at=stored.created_at)

    @activity.defn(name="conversation_load")
    @traced("conversation", "load")
    async def load(self, request: LoadConversationInput) -> ConversationLoaded:
        context = await self._conversation.context(request.thread)
        items: list[ContextItem] = []
        if context.summary:
            items.append(
                ContextItem(
                    layer=Layer.CONVERSATION_SUMMARY,
                    source_id=context.summary.id,
                    source_time=context.summary.created_at,
                    label=f"summary of thread {request.thread.thread_id}",
                    tokens=context.summary.token_estimate,
                )
            )
        tail = [m for m in context.tail if m.id != request.exclude_message_id]
        items.extend(
            ContextItem(
                layer=Layer.CONVERSATION_MESSAGE,
                source_id=m.id,
                source_time=m.created_at,
                label=f"thread {request.thread.thread_id}, turn {m.turn}, {m.role}",
                tokens=m.token_estimate,
            )
            for m in tail
        )
        return ConversationLoaded(items=items, tail_tokens=sum(m.token_estimate for m in tail))

    @activity.defn(name="conversation_summarise")
    @heartbeats
    @traced("conversation", "summarise")
    async def summarise(self, request: SummariseInput) -> SummariseResult:
        # A forced summary is how an overflowing turn recovers; only routine ones are switched off.
        tenant = request.thread.tenant_id
        if not request.force and not await self._switches.layer_on(tenant, SwitchableLayer.CONVERSATION_SUMMARY):
            return SummariseResult(summary_id=None, folded_messages=0)
        outcome = await summarise_thread(
            request.thread,
            store=self._conversation,
            llm=self._llm,
            ledger=self._ledger,
            trigger_tokens=request.trigger_tokens,
            keep_tail_messages=request.keep_tail_messages,
            force=request.force,
        )
        return SummariseResult(summary_id=outcome.summary_id, folded_messages=outcome.folded_messages)
