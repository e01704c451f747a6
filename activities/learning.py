"""Learning from work: the session cache, corrections, skills, episodes, reflection,
codify and retention, as thin activities over memory/."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.learning_models import (
    CorrectionInput,
    EpisodicSearchInput,
    Learned,
    LearnInput,
    SessionRef,
    SkillsLoaded,
    SkillsLoadInput,
)
from activities.tools import session_context
from activities.tracing import traced
from contract.learning import CorrectionReceipt
from memory.core.switches import SwitchableLayer
from memory.core.usage_entry import UsageEntry
from memory.learning.episodic import outcome_filter
from memory.prompt.assembly import LearnedEntry
from memory.prompt.manifest import ContextItem
from memory.recall.superseded import mark_superseded
from memory.runtime import MemoryRuntime


def _entries(substitutions) -> list[LearnedEntry]:
    return [LearnedEntry(tried=s.tried, instead=s.instead, source=s.source) for s in substitutions]


class LearningActivities:
    def __init__(self, runtime: MemoryRuntime):
        self._rt = runtime

    @activity.defn(name="session_cache_lookup")
    @traced("session_cache", "lookup")
    async def lookup(self, session: SessionRef) -> Learned:
        return Learned(entries=_entries(await self._rt.session_cache.lookup(session_context(session))))

    @activity.defn(name="session_cache_learn")
    @traced("session_cache", "write")
    async def learn(self, request: LearnInput) -> Learned:
        """Record a tool recovery ("tried X, Y worked"); returns the session's learned set."""
        ctx = session_context(request.session)
        await self._rt.session_cache.record(
            ctx, tried=request.tried, instead=request.instead, source="tool_recovery", tool=request.tool
        )
        return Learned(entries=_entries(await self._rt.session_cache.entries(ctx)))

    @activity.defn(name="correction_record")
    @traced("corrections", "write")
    async def record_correction(self, request: CorrectionInput) -> CorrectionReceipt:
        thread = request.session.thread
        stored = await self._rt.corrections.record(
            thread,
            request.turn,
            request.correction,
            idempotency_key=f"{thread.key}/correction/{request.request_id}",
        )
        learned = await self._rt.session_cache.record(
            session_context(request.session),
            tried=stored.tried,
            instead=stored.instead,
            source="correction",
            operator=stored.operator,
        )
        return CorrectionReceipt(
            correction_id=stored.id, applies_to_turn=stored.turn, turn_running=False, learned_key=learned.command_key
        )

    @activity.defn(name="skills_load")
    @traced("skills", "load")
    async def load_skills(self, request: SkillsLoadInput) -> SkillsLoaded:
        agent = request.thread.agent
        if not await self._rt.switches.layer_on(agent.tenant_id, SwitchableLayer.SKILLS):
            return SkillsLoaded(task_type="general", items=[])
        task_type, skills = await self._rt.skills.for_message(agent, request.message)
        return SkillsLoaded(task_type=task_type, items=[s.context_item() for s in skills])

    @activity.defn(name="episodic_search")
    async def search_episodes(self, request: EpisodicSearchInput) -> list[ContextItem]:
        """Episodes for a turn outside the combined read; the query's embedding is billed here,
        under the key the turn's recall search bills it (so once)."""
        items, billed = await self.find_episodes(request)
        if billed is not None:
            await self._rt.ledger.record_many([billed])
        return items

    @traced("episodic", "search")
    async def find_episodes(self, request: EpisodicSearchInput) -> tuple[list[ContextItem], UsageEntry | None]:
        """The turn's episodes by words and meaning, reading only: the query's embedding (the
        vector recall uses too) comes back as a usage entry for the turn's commit to bill."""
        thread = request.thread
        if not await self._rt.switches.layer_on(thread.tenant_id, SwitchableLayer.EPISODIC):
            return [], None
        search = self._rt.episode_search
        query_embedding, billed = None, None
        if search.uses_vectors:
            query_embedding = await search.query_vector(thread.agent, request.query)
            billed = self._rt.recall.query_usage(thread, request.turn, request.query, query_embedding[0])
        found = await search.search(
            thread.agent,
            request.query,
            outcomes=outcome_filter(request.query),
            limit=self._rt.settings.episodic_top_k,
            exclude_thread=thread.thread_id,
            user_id=thread.user_id,
            query_embedding=query_embedding,
        )
        items = await mark_superseded(
            self._rt.knowledge, thread.tenant_id, [(e.context_item(), e.summary) for e in found], datetime.now(UTC)
        )
        return items, billed