"""The turn's reads as one activity: every layer at once, each still traced, timed and counted
under its own name. One round trip instead of seven, and the reads run at direct-call speed
instead of slowing each other down as seven activities on a busy worker.

The reads only read (the fence comes from a cache; query embeddings and the graph search's
calls are billed, and recalled items stamped as retrieved, by the turn's commit), so a
retried or re-run attempt changes nothing anywhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from temporalio import activity

from activities.conversation import ConversationActivities
from activities.graph import KnowledgeActivities
from activities.graph_models import GraphSearchInput
from activities.heartbeat import heartbeats
from activities.learning import LearningActivities
from activities.learning_models import EpisodicSearchInput, SkillsLoadInput
from activities.notebook import NotebookActivities
from activities.recall import RecallActivities
from activities.turn_models import (
    LoadConversationInput,
    NotebookReadInput,
    RecallSearchInput,
)
from activities.turn_step_models import LayerRead, TurnRead, TurnReadInput
from memory.core.read_once import read_once


def _count(result: object) -> int:
    if isinstance(result, tuple):  # recall, episodic and graph searches: (items, their usage)
        result = result[0]
    for attr in ("items", "entries"):
        if isinstance(found := getattr(result, attr, None), list):
            return len(found)
    return len(result) if isinstance(result, list) else 0


class TurnReadActivities:
    def __init__(
        self,
        conversation: ConversationActivities,
        notebook: NotebookActivities,
        recall: RecallActivities,
        graph: KnowledgeActivities,
        learning: LearningActivities,
    ):
        self._conversation = conversation
        self._notebook = notebook
        self._recall = recall
        self._graph = graph
        self._learning = learning

    def _reads(self, request: TurnReadInput) -> dict[str, Coroutine[Any, Any, Any]]:
        thread, turn, query = request.thread, request.turn, request.query
        reads: dict[str, Coroutine[Any, Any, Any]] = {
            "notebook": self._notebook.read(NotebookReadInput(agent=thread.agent)),
            "recall": self._recall.search_for_turn(RecallSearchInput(thread=thread, turn=turn, query=query)),
            "conversation": self._conversation.load(
                LoadConversationInput(thread=thread, exclude_message_id=request.user_message_id)
            ),
        }
        if request.graph:
            reads["graph"] = self._graph.search_for_turn(GraphSearchInput(thread=thread, turn=turn, query=query))
        if request.learning:
            reads["skills"] = self._learning.load_skills(SkillsLoadInput(thread=thread, message=query))
            reads["episodic"] = self._learning.find_episodes(EpisodicSearchInput(thread=thread, turn=turn, query=query))
            reads["session_cache"] = self._learning.lookup(request.session)
        return reads

    @activity.defn(name="turn_read")
    @heartbeats
    async def read(self, request: TurnReadInput) -> TurnRead:
        """Notebook, recall, conversation, graph, skills, episodic and session cache, at once."""
        layers: list[LayerRead] = []

        async def timed(layer: str, read: Coroutine[Any, Any, Any]) -> Any:
            started = time.perf_counter()
            result = await read
            ms = round((time.perf_counter() - started) * 1000, 1)
            layers.append(LayerRead(layer=layer, items=_count(result), ms=ms))
            # Shown on the pending activity in the UI while the others are still reading (the
            # benchmark calls this directly, outside Temporal; a local activity has no heartbeat).
            if activity.in_activity() and not activity.info().is_local:
                activity.heartbeat(f"{layer}: {_count(result)} items in {ms} ms")
            return result

        # The layers' shared questions (their switches, the graph's facts) are asked once.
        with read_once():
            reads = self._reads(request)
            results = dict(zip(reads, await asyncio.gather(*(timed(k, r) for k, r in reads.items())), strict=True))
        recalled, billed = results["recall"]
        graph, graph_billing = results.get("graph", ([], []))
        episodes, episodes_billed = results.get("episodic", ([], None))
        # Recall and episodes embed the query once and bill it under one key: either entry
        # does, and the ledger keeps one row whichever layers are on.
        billing = {e.idempotency_key: e for e in (billed, episodes_billed) if e is not None}
        return TurnRead(
            notebook=results["notebook"],
            recall=recalled,
            conversation=results["conversation"],
            graph=graph,
            skills=results.get("skills"),
            episodes=episodes,
            learned=results.get("session_cache"),
            layers=sorted(layers, key=lambda r: r.layer),
            billing=list(billing.values()) + graph_billing,
        )
