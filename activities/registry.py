"""Every activity the worker registers, bound to one memory runtime."""

from __future__ import annotations

from typing import Callable

from activities.agents import agent_activities
from activities.codify import CodifyActivities
from activities.conversation import ConversationActivities
from activities.documents import DocumentActivities
from activities.episodes import EpisodeActivities
from activities.graph import KnowledgeActivities
from activities.learning import LearningActivities
from activities.migration import MigrationActivities
from activities.model_call import ModelActivities
from activities.notebook import NotebookActivities
from activities.recall import RecallActivities
from activities.reflection import ReflectionActivities
from activities.retention import RetentionActivities
from activities.tools import ToolActivities
from activities.turns import TurnActivities
from memory.runtime import MemoryRuntime


def all_activities(runtime: MemoryRuntime) -> list[Callable]:
    conversation = ConversationActivities(runtime)
    recall = RecallActivities(runtime)
    notebook = NotebookActivities(runtime)
    model = ModelActivities(runtime)
    turns = TurnActivities(runtime)
    knowledge = KnowledgeActivities(documents=runtime.documents, episodic=runtime.episodic, knowledge=runtime.knowledge)
    documents = DocumentActivities(
        knowledge=runtime.knowledge, library=runtime.library, recall=runtime.recall, switches=runtime.switches
    )
    migration = MigrationActivities(knowledge=runtime.knowledge, migration=runtime.migration)
    episodes = EpisodeActivities(recorder=runtime.episode_recorder)
    codify = CodifyActivities(codifier=runtime.codifier)
    reflection = ReflectionActivities(reflector=runtime.reflector, lessons=runtime.lessons, documents=runtime.documents)
    retention = RetentionActivities(retention=runtime.retention)
    tools = ToolActivities(runtime)
    learning = LearningActivities(runtime)
    return [
        conversation.open,
        conversation.append_message,
        conversation.load,
        conversation.summarise,
        recall.search,
        recall.write,
        notebook.read,
        notebook.edit,
        notebook.write,
        model.generate,
        turns.record,
        knowledge.decide,
        knowledge.queue_exchange,
        knowledge.queue_notebook,
        knowledge.ingest,
        knowledge.search,
        documents.store,
        documents.recall_chunks,
        documents.queue_episodes,
        migration.plan,
        migration.ensure_index,
        migration.next_batch,
        migration.embed_batch,
        migration.graph_batch,
        migration.verify,
        migration.switch,
        migration.rollback,
        migration.cleanup,
        tools.recall_search,
        tools.load_skill,
        tools.run_command,
        tools.record_failure,
        learning.lookup,
        learning.learn,
        learning.record_correction,
        learning.load_skills,
        learning.search_episodes,
        episodes.record_episode,
        reflection.reflect,
        codify.codify,
        reflection.review_lesson,
        retention.retention,
        *agent_activities(runtime),
    ]
