"""The turn's memory steps as the workflow runs them: the reads before the model call and the
writes after it. Threads on the turn-read-and-commit-steps patch read in one activity and
commit in one (local activities from the turn-steps-local patch on); older runs replay their
per-layer activities, in their recorded order."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.conversation import ConversationActivities
    from activities.graph import KnowledgeActivities
    from activities.graph_models import GraphSearchInput
    from activities.learning import LearningActivities
    from activities.learning_models import EpisodicSearchInput, SkillsLoadInput
    from activities.notebook import NotebookActivities
    from activities.recall import RecallActivities
    from activities.turn_commit import TurnCommitActivities
    from activities.turn_models import (
        LoadConversationInput,
        NotebookReadInput,
        RecallSearchInput,
    )
    from activities.turn_read import TurnReadActivities
    from activities.turn_step_models import (
        TurnCommitInput,
        TurnCommitted,
        TurnRead,
        TurnReadInput,
    )
    from workflows.local_activity import run_local
    from workflows.options import MEMORY_IO, TURN_EMBEDDING_CALL, TURN_LOCAL_STEP

# The layers a turn reads, in the order its summary names them.
READ_LAYERS = ("notebook", "recall", "conversation", "graph", "skills", "episodic", "session cache")


async def read_at_once(request: TurnReadInput, *, local: bool = False) -> TurnRead:
    layers = [
        layer
        for layer in READ_LAYERS
        if (layer != "graph" or request.graph)
        and (layer not in ("skills", "episodic", "session cache") or request.learning)
    ]
    summary = f"memory: read {', '.join(layers)}; turn {request.turn}"
    if local:
        return await run_local(
            TurnReadActivities.read, request, name="turn_read", summary=summary, config=TURN_LOCAL_STEP
        )
    return await workflow.execute_activity_method(TurnReadActivities.read, request, summary=summary, **TURN_EMBEDDING_CALL)


async def read_each_layer(request: TurnReadInput) -> TurnRead:
    """One activity per layer, as turns did before the read step: kept for replay."""
    thread, turn, query = request.thread, request.turn, request.query
    reads: dict[str, Any] = {
        "notebook": workflow.execute_activity_method(
            NotebookActivities.read,
            NotebookReadInput(agent=thread.agent),
            summary="notebook: read /notebook.md",
            **MEMORY_IO,
        ),
        "recall": workflow.execute_activity_method(
            RecallActivities.search,
            RecallSearchInput(thread=thread, turn=turn, query=query),
            summary=f"recall: search past threads, turn {turn}",
            **TURN_EMBEDDING_CALL,
        ),
        "conversation": workflow.execute_activity_method(
            ConversationActivities.load,
            LoadConversationInput(thread=thread, exclude_message_id=request.user_message_id),
            summary=f"conversation: load summary and tail, turn {turn}",
            **MEMORY_IO,
        ),
    }
    if request.graph:
        reads["graph"] = workflow.execute_activity_method(
            KnowledgeActivities.search,
            GraphSearchInput(thread=thread, turn=turn, query=query),
            summary=f"graph: entity-anchored fact search, turn {turn}",
            **TURN_EMBEDDING_CALL,
        )
    if request.learning:
        reads["skills"] = workflow.execute_activity_method(
            LearningActivities.load_skills,
            SkillsLoadInput(thread=thread, message=query),
            summary=f"skills: classify the task and load its skills, turn {turn}",
            **MEMORY_IO,
        )
        reads["episodes"] = workflow.execute_activity_method(
            LearningActivities.search_episodes,
            EpisodicSearchInput(thread=thread, turn=turn, query=query),
            summary=f"episodic: similar past episodes, turn {turn}",
            **MEMORY_IO,
        )
        reads["learned"] = workflow.execute_activity_method(
            LearningActivities.lookup,
            request.session,
            summary=f"session cache: look up what this session learned, turn {turn}",
            **MEMORY_IO,
        )
    results = dict(zip(reads, await asyncio.gather(*reads.values()), strict=True))
    return TurnRead(**results)


async def commit(request: TurnCommitInput, *, local: bool = False) -> TurnCommitted:
    summary = f"memory: store reply, recall exchange and turn record; turn {request.turn}"
    if local:
        return await run_local(
            TurnCommitActivities.commit, request, name="turn_commit", summary=summary, config=TURN_LOCAL_STEP
        )
    return await workflow.execute_activity_method(
        TurnCommitActivities.commit, request, summary=summary, **TURN_EMBEDDING_CALL
    )
