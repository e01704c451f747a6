"""Learning from work: the session cache, corrections, skills, episodes, reflection,
codify and retention, as thin activities over memory/."""

from __future__ import annotations

from datetime import UTC, datetime

from contract.errors import INVALID_INPUT
from contract.learning import CodifyInput, CodifyResult, CorrectionReceipt
from memory.learning.models import RetentionReport
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.learning_models import (
    CorrectionInput,
    EpisodeInput,
    EpisodeStored,
    EpisodicSearchInput,
    Learned,
    LearnInput,
    ReflectInput,
    ReflectionResult,
    RetentionInput,
    SessionRef,
    SkillsLoaded,
    SkillsLoadInput,
)
from activities.tools import session_context
from activities.tracing import traced
from memory.core.switches import SwitchableLayer
from memory.core.usage import Action
from memory.documents.skills import SkillProtected
from memory.graph.episode_sources import summarise_exchange
from memory.learning.codify import Codifier
from memory.learning.episodic import EpisodeRecord, outcome_filter
from memory.learning.reflection import reflect, reflection_prompt
from memory.learning.retention import cutoff
from memory.learning.session_cache import CacheEntryNotFound, SessionContext
from memory.prompt.assembly import LearnedEntry
from memory.prompt.manifest import ContextItem
from memory.recall.superseded import mark_superseded
from memory.runtime import MemoryRuntime

CACHE_ENTRY_EXPIRED = "CacheEntryExpired"


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
        task_type = await self._rt.skills.classify(agent, request.message)
        skills = await self._rt.skills.load(agent, task_type)
        return SkillsLoaded(task_type=task_type, items=[s.context_item() for s in skills])

    @activity.defn(name="episodic_search")
    @traced("episodic", "search")
    async def search_episodes(self, request: EpisodicSearchInput) -> list[ContextItem]:
        thread = request.thread
        if not await self._rt.switches.layer_on(thread.tenant_id, SwitchableLayer.EPISODIC):
            return []
        found = await self._rt.episodic.search(
            thread.agent,
            request.query,
            outcomes=outcome_filter(request.query),
            limit=self._rt.settings.episodic_top_k,
            exclude_thread=thread.thread_id,
        )
        return await mark_superseded(
            self._rt.knowledge, thread.tenant_id, [(e.context_item(), e.summary) for e in found], datetime.now(UTC)
        )

    @activity.defn(name="episode_record")
    @traced("episodic", "write")
    async def record_episode(self, request: EpisodeInput) -> EpisodeStored:
        thread = request.thread
        switches = await self._rt.switches.effective(thread.tenant_id)
        if not switches.layers.get(SwitchableLayer.EPISODIC.value, True):
            return EpisodeStored(episode_id=None, outcome=request.outcome, task_type=request.task_type)
        key = f"{thread.key}/turn/{request.turn}/episode"
        ids = [request.user_message_id] + ([request.assistant_message_id] if request.assistant_message_id else [])
        by_role = {m.role: m for m in await self._rt.conversation.messages_by_id(thread, ids)}
        if "user" not in by_role:
            raise LookupError(f"turn {request.turn} of {thread.key} has no stored user message")
        user = by_role["user"]
        reply = by_role["assistant"].content if "assistant" in by_role else "(no reply: the turn failed)"
        if len(user.content) < switches.ingest_min_chars:
            # Below the length gate nothing reaches the graph, and a model-written summary of
            # "thanks!" would cost more than it tells: the message stands for itself.
            summary = user.content
        else:
            summary = await self._summarise(thread, key, user.content, reply)
        stored = await self._rt.episodic.record(
            EpisodeRecord(
                thread=thread,
                turn=request.turn,
                occurred_at=user.created_at,
                outcome=request.outcome,
                task_type=request.task_type,
                tools_used=request.tools_used,
                transcript=f"user: {user.content}\nassistant: {reply}",
                summary=summary,
            ),
            idempotency_key=key,
        )
        return EpisodeStored(episode_id=stored.id, outcome=stored.outcome, task_type=stored.task_type)

    async def _summarise(self, thread, key: str, user_text: str, reply: str) -> str:
        summary = await summarise_exchange(self._rt.llm, user_text, reply)
        await self._rt.ledger.record(
            idempotency_key=f"{key}/summary",
            tenant_id=thread.tenant_id,
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            action=Action.EPISODE_SUMMARY,
            provider=summary.provider,
            model=summary.model,
            usage=summary.usage,
        )
        return summary.text

    @activity.defn(name="skill_reflect")
    @traced("skills", "reflect")
    async def reflect(self, request: ReflectInput) -> ReflectionResult:
        thread = request.thread
        [episode] = await self._rt.episodic.by_id(thread.agent, [request.episode_id])
        prompt = reflection_prompt(
            task_type=episode.task_type,
            outcome=episode.outcome,
            summary=episode.summary,
            corrections=await self._rt.corrections.for_turn(thread, request.turn),
            tool_calls=await self._rt.tool_log.for_turn(thread, request.turn),
        )
        key = f"{thread.key}/turn/{request.turn}/reflection"
        response = await reflect(self._rt.llm, prompt)
        await self._rt.ledger.record(
            idempotency_key=key,
            tenant_id=thread.tenant_id,
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            action=Action.SKILL_REFLECTION,
            provider=response.provider,
            model=response.model,
            usage=response.usage,
        )
        lesson = " ".join(response.text.split())
        path = f"/skills/{episode.task_type}.md"
        try:
            skill = await self._rt.skills.reflect(thread.agent, episode.task_type, lesson, idempotency_key=key)
        except SkillProtected:
            return ReflectionResult(status="protected", path=path, lesson=lesson)
        return ReflectionResult(status="updated", path=skill.path, lesson=lesson, version=skill.version)

    @activity.defn(name="codify")
    async def codify(self, request: CodifyInput) -> CodifyResult:
        rt = self._rt
        ctx = SessionContext(
            tenant_id=request.agent.tenant_id,
            agent_id=request.agent.agent_id,
            project=request.project,
            session_id=request.session_id,
        )
        try:
            done = await Codifier(rt.engine, rt.session_cache, rt.skills, rt.notebook).codify(
                ctx,
                request.command,
                target=request.target,
                task_type=request.task_type,
                operator=request.operator,
                idempotency_key=f"{ctx.tenant_id}/{ctx.agent_id}/codify/{request.request_id}",
            )
        except CacheEntryNotFound as err:
            raise ApplicationError(str(err), type=CACHE_ENTRY_EXPIRED, non_retryable=True) from err
        except SkillProtected as err:
            raise ApplicationError(str(err), type=INVALID_INPUT, non_retryable=True) from err
        return CodifyResult(**done.model_dump())

    @activity.defn(name="retention_run")
    async def retention(self, request: RetentionInput) -> RetentionReport:
        # Cutoffs from the workflow's clock, so a retried attempt removes exactly the same set.
        return await self._rt.retention.run(
            request.run_key,
            episode_cutoff=cutoff(request.as_of, request.episode_retention_days, what="episode"),
            recall_cutoff=cutoff(request.as_of, request.recall_retention_days, what="recall"),
            progress=lambda step: activity.heartbeat(step),
        )
