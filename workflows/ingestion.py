"""Background work on one exchange, started by the conversation after each turn: the
episode is stored, a failed or corrected one is reflected on, then knowledge ingestion.

It never delays the reply and outlives the conversation's run (the parent abandons it
on continue-as-new). The episode is stored (and summarised) before any extraction, so fact
extraction only ever sees the summary. The gates are evaluated in a fixed order, and
the one that decided is recorded, counted and shown as the IngestionOutcome search
attribute.

Most exchanges are short and stop at a gate. From the ingestion-local-steps patch on, the
gates are evaluated first and inside the workflow task, and a short message's episode
(stored as the message itself, no model call) too: such an ingestion is one workflow task
and no activity task on the server. An episode that needs a model-written summary stays a
remote activity, so a completed, billed summary is never made again after a crash.
"""

from __future__ import annotations

from temporalio import workflow

from contract.names import KNOWLEDGE_INGESTION_WORKFLOW

with workflow.unsafe.imports_passed_through():
    from activities.episodes import EpisodeActivities
    from activities.graph import KnowledgeActivities
    from activities.graph_models import DecideIngestionInput, ExchangeEpisodeInput
    from activities.learning_models import EpisodeInput, ReflectInput
    from contract.ingestion import ExchangeIngestion, IngestionResult
    from workflows import graph_steps
    from workflows.options import MODEL_CALL, TURN_LOCAL_STEP
    from workflows.patches import EPISODIC, INGESTION_LOCAL_STEPS
    from workflows.reflection import SkillReflectionWorkflow, reflection_id

# Exchanges ingested before episodic memory existed replay without the episode step.
EPISODIC_PATCH = EPISODIC.id


@workflow.defn(name=KNOWLEDGE_INGESTION_WORKFLOW)
class KnowledgeIngestionWorkflow:
    @workflow.run
    async def run(self, request: ExchangeIngestion) -> IngestionResult:
        thread = request.thread
        gates = DecideIngestionInput(
            tenant_id=thread.tenant_id,
            source="conversation",
            idempotency_key=f"{thread.key}/turn/{request.turn}/ingestion",
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            turn=request.turn,
            message_chars=request.message_chars,
            turn_failed=request.turn_failed,
            delegated=request.delegated,
        )
        if workflow.patched(INGESTION_LOCAL_STEPS.id):
            decision = await graph_steps.decide(gates, local=True)
            episode_id = await self._store_episode(request, local=decision.short_message)
        else:
            episode_id = None
            if workflow.patched(EPISODIC_PATCH):
                episode_id = await self._store_episode(request, local=False)
            decision = await graph_steps.decide(gates)
        if not decision.ingest:
            return IngestionResult(outcome=decision.gate.value, detail=decision.detail)
        assert request.assistant_message_id is not None, "the turn-failed gate stops failed turns"
        ticket = await workflow.execute_activity_method(
            KnowledgeActivities.queue_exchange,
            ExchangeEpisodeInput(
                thread=thread,
                turn=request.turn,
                user_message_id=request.user_message_id,
                assistant_message_id=request.assistant_message_id,
                episode_id=episode_id,
            ),
            summary=f"graph: queue the summary of turn {request.turn} as an episode",
            **MODEL_CALL,
        )
        report = await graph_steps.ingest(ticket, f"turn {request.turn}")
        if report.status == "ingested":
            outcome = "ingested"
            detail = f"{report.entities} entities, {report.edges} facts, {report.invalidated} older facts invalidated."
        else:
            # The exchange itself is safe in the conversation store; only extraction failed.
            outcome, detail = "ingest_failed", f"graphiti failed on this episode: {report.error}"
        graph_steps.mark_outcome(outcome, detail)
        return IngestionResult(
            outcome=outcome, detail=detail, episodes=1, invalidated=report.invalidated
        )

    async def _store_episode(self, request: ExchangeIngestion, *, local: bool) -> int | None:
        thread = request.thread
        episode = EpisodeInput(
            thread=thread,
            turn=request.turn,
            user_message_id=request.user_message_id,
            assistant_message_id=request.assistant_message_id,
            outcome=request.outcome,
            tools_used=request.tools_used,
            task_type=request.task_type,
        )
        if local:
            stored = await workflow.execute_local_activity_method(
                EpisodeActivities.record_episode,
                episode,
                summary=f"episodic: store turn {request.turn} ({request.outcome}), the message as its own summary",
                # It embeds the summary: a provider's time limit and backoff, not a store write's.
                **TURN_LOCAL_STEP,
            )
        else:
            stored = await workflow.execute_activity_method(
                EpisodeActivities.record_episode,
                episode,
                summary=f"episodic: summarise and store turn {request.turn} ({request.outcome})",
                **MODEL_CALL,
            )
        if stored.episode_id is not None and stored.outcome in ("failed", "corrected"):
            await workflow.execute_child_workflow(
                SkillReflectionWorkflow.run,
                ReflectInput(thread=thread, turn=request.turn, episode_id=stored.episode_id),
                id=reflection_id(thread, request.turn),
                static_summary=f"Reflection on a {stored.outcome} episode: /skills/{stored.task_type}.md",
            )
        return stored.episode_id
