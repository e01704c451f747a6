"""Turning one finished exchange into an episode: read it back from the conversation, summarise
it (below the length gate the message stands for itself), bill the summary, store it once."""

from __future__ import annotations

from memory.conversation.store import ConversationStore
from memory.core.refs import ThreadRef
from memory.core.switches import SwitchableLayer, SwitchBoard
from memory.core.usage import Action, UsageLedger
from memory.graph.episode_sources import summarise_exchange
from memory.learning.episode_search import EpisodeSearch
from memory.learning.episodic import (
    EpisodeRecord,
    EpisodicMemory,
    Outcome,
    StoredEpisode,
)
from memory.llm.base import LLMClient

NO_REPLY = "(no reply: the turn failed)"


class EpisodeRecorder:
    def __init__(
        self,
        conversation: ConversationStore,
        episodic: EpisodicMemory,
        switches: SwitchBoard,
        llm: LLMClient,
        ledger: UsageLedger,
        *,
        vectors: EpisodeSearch | None = None,
    ) -> None:
        self._conversation = conversation
        self._episodic = episodic
        self._switches = switches
        self._llm = llm
        self._ledger = ledger
        # Embeds each stored episode's summary, so episodic search finds it by meaning.
        self._vectors = vectors

    async def record(
        self,
        thread: ThreadRef,
        turn: int,
        *,
        user_message_id: int,
        assistant_message_id: int | None,
        outcome: Outcome,
        task_type: str,
        tools_used: list[str],
    ) -> StoredEpisode | None:
        """The stored episode, once per turn; None while the tenant's episodic layer is off."""
        switches = await self._switches.effective(thread.tenant_id)
        if not switches.layers.get(SwitchableLayer.EPISODIC.value, True):
            return None
        key = f"{thread.key}/turn/{turn}/episode"
        ids = [user_message_id] + ([assistant_message_id] if assistant_message_id else [])
        by_role = {m.role: m for m in await self._conversation.messages_by_id(thread, ids)}
        if "user" not in by_role:
            raise LookupError(f"turn {turn} of {thread.key} has no stored user message")
        user = by_role["user"]
        reply = by_role["assistant"].content if "assistant" in by_role else NO_REPLY
        if len(user.content) < switches.ingest_min_chars:
            # Below the length gate nothing reaches the graph, and a model-written summary of
            # "thanks!" would cost more than it tells: the message stands for itself.
            summary = user.content
        else:
            response = await summarise_exchange(self._llm, user.content, reply)
            await self._ledger.record_response(f"{key}/summary", thread, Action.EPISODE_SUMMARY, response)
            summary = response.text
        record = EpisodeRecord(
            thread=thread,
            turn=turn,
            occurred_at=user.created_at,
            outcome=outcome,
            task_type=task_type,
            tools_used=tools_used,
            transcript=f"user: {user.content}\nassistant: {reply}",
            summary=summary,
        )
        stored = await self._episodic.record(record, idempotency_key=key)
        if self._vectors is not None:
            await self._vectors.remember(stored, idempotency_key=f"{key}/embed")
        return stored
