"""Learning from work: the session cache, corrections, skills, episodes, reflection,
codify and retention, as thin activities over memory/."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.learning_models import (
    CorrectionInput,
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
from contract.errors import INVALID_INPUT
from contract.learning import CorrectionReceipt, LessonReviewed, LessonReviewInput
from memory.core.switches import SwitchableLayer
from memory.core.usage import Action
from memory.documents.skills import SkillProtected
from memory.learning.episodic import outcome_filter
from memory.learning.models import RetentionReport
from memory.learning.reflection import reflect, reflection_prompt
from memory.learning.retention import cutoff
from memory.prompt.assembly import LearnedEntry
from memory.prompt.manifest import ContextItem
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
        return [episode.context_item() for episode in found]

    @activity.defn(name="skill_reflect")
    @traced("skills", "reflect")
    async def reflect(self, request: ReflectInput) -> ReflectionResult:
        thread = request.thread
        [episode] = await self._rt.episodic.by_id(thread.agent, [request.episode_id])
        prompt = reflection_prompt(
            task_type=episode.task_type,
            outcome=episode.outcome,
            corrections=await self._rt.corrections.for_turn(thread, request.turn),
            tool_calls=await self._rt.tool_log.for_turn(thread, request.turn),
        )
        key = f"{thread.key}/turn/{request.turn}/reflection"
        response = await reflect(self._rt.llm, prompt)
        await self._rt.ledger.record_response(key, thread, Action.SKILL_REFLECTION, response)
        lesson = " ".join(response.text.split())
        # A proposal only: it reaches the skill when an operator approves it.
        proposed = await self._rt.lessons.propose(
            thread, request.turn, episode.id, episode.task_type, lesson, idempotency_key=key
        )
        return ReflectionResult(status="pending", path=proposed.path, lesson=proposed.lesson, lesson_id=proposed.id)

    @activity.defn(name="skill_lesson_review")
    @traced("skills", "review")
    async def review_lesson(self, request: LessonReviewInput) -> LessonReviewed:
        review = self._rt.lessons
        try:
            if request.verdict == "approve":
                done = await review.approve(request.agent, request.lesson_id, reviewer=request.reviewer, note=request.note)
            else:
                done = await review.reject(request.agent, request.lesson_id, reviewer=request.reviewer, note=request.note)
        except SkillProtected as err:
            raise ApplicationError(
                f"{err}; the lesson stays pending: add it to the skill yourself, or reject it", type=INVALID_INPUT,
                non_retryable=True,
            ) from err
        version = None
        if done.document_version_id is not None:
            version = (await self._rt.documents.version_by_id(request.agent, done.document_version_id)).version
        return LessonReviewed(
            lesson_id=done.id, status=done.status, path=done.path, lesson=done.lesson, version=version
        )

    @activity.defn(name="retention_run")
    async def retention(self, request: RetentionInput) -> RetentionReport:
        # Cutoffs from the workflow's clock, so a retried attempt removes exactly the same set.
        return await self._rt.retention.run(
            request.run_key,
            episode_cutoff=cutoff(request.as_of, request.episode_retention_days, what="episode"),
            recall_cutoff=cutoff(request.as_of, request.recall_retention_days, what="recall"),
            progress=lambda step: activity.heartbeat(step),
            growth=request.growth.horizons(request.as_of) if request.growth else None,
        )
