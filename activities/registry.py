"""Every activity the worker registers, each class given the services it needs from one runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from activities.agents import agent_activities
from activities.archive import archive_activities
from activities.codify import CodifyActivities
from activities.conversation import ConversationActivities
from activities.documents import DocumentActivities
from activities.episodes import EpisodeActivities
from activities.forget import ForgetActivities
from activities.graph import KnowledgeActivities
from activities.learning import LearningActivities
from activities.migration import MigrationActivities
from activities.model_call import ContextSources, ModelActivities
from activities.notebook import NotebookActivities
from activities.operator_changes import OperatorChangeActivities
from activities.recall import RecallActivities
from activities.reflection import ReflectionActivities
from activities.retention import RetentionActivities
from activities.switches import SwitchActivities
from activities.tools import ToolActivities
from activities.turn_commit import TurnCommitActivities
from activities.turn_read import TurnReadActivities
from activities.turns import TurnActivities
from memory.runtime import MemoryRuntime


@dataclass(frozen=True)
class TurnActivitySet:
    """The activities a turn runs, wired once: the worker registers them, and the benchmark
    calls the same objects directly."""

    conversation: ConversationActivities
    recall: RecallActivities
    notebook: NotebookActivities
    model: ModelActivities
    turns: TurnActivities
    knowledge: KnowledgeActivities
    learning: LearningActivities
    tools: ToolActivities
    read: TurnReadActivities
    commit: TurnCommitActivities

    @classmethod
    def wire(cls, rt: MemoryRuntime) -> "TurnActivitySet":
        conversation = ConversationActivities(rt.conversation, rt.switches, rt.llm, rt.ledger)
        recall = RecallActivities(rt.recall, rt.conversation, rt.switches, rt.knowledge)
        notebook = NotebookActivities(rt.notebook, rt.switches)
        turns = TurnActivities(rt.turns, rt.ledger)
        knowledge = KnowledgeActivities(documents=rt.documents, episodic=rt.episodic, knowledge=rt.knowledge)
        learning = LearningActivities(rt)
        sources = ContextSources(rt.conversation, rt.recall.store, rt.documents, rt.knowledge, rt.episodic)
        return cls(
            conversation=conversation,
            recall=recall,
            notebook=notebook,
            model=ModelActivities(
                sources, rt.llm, rt.ledger, agents=rt.agents, agent_models=rt.agent_models, settings=rt.settings
            ),
            turns=turns,
            knowledge=knowledge,
            learning=learning,
            tools=ToolActivities(rt.recall, rt.skills, rt.session_cache, rt.commands, rt.tool_log),
            read=TurnReadActivities(conversation, notebook, recall, knowledge, learning),
            commit=TurnCommitActivities(conversation, recall, turns, rt.ledger),
        )


def all_activities(runtime: MemoryRuntime) -> list[Callable]:
    turn = TurnActivitySet.wire(runtime)
    conversation, recall, notebook, knowledge = turn.conversation, turn.recall, turn.notebook, turn.knowledge
    tools, learning = turn.tools, turn.learning
    documents = DocumentActivities(
        knowledge=runtime.knowledge, library=runtime.library, recall=runtime.recall, switches=runtime.switches
    )
    migration = MigrationActivities(knowledge=runtime.knowledge, migration=runtime.migration)
    episodes = EpisodeActivities(recorder=runtime.episode_recorder)
    codify = CodifyActivities(codifier=runtime.codifier)
    reflection = ReflectionActivities(reflector=runtime.reflector, lessons=runtime.lessons, documents=runtime.documents)
    retention = RetentionActivities(retention=runtime.retention)
    forget = ForgetActivities(runtime.eraser)
    switches = SwitchActivities(switches=runtime.switches, tenants=runtime.tenants)
    operator_changes = OperatorChangeActivities(skills=runtime.skills, audit=runtime.cache_audit)
    return [
        conversation.open,
        conversation.claim_user,
        conversation.append_message,
        conversation.load,
        conversation.summarise,
        recall.search,
        recall.write,
        notebook.read,
        notebook.edit,
        notebook.write,
        turn.model.generate,
        turn.turns.record,
        turn.read.read,
        turn.commit.commit,
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
        forget.survey,
        forget.erase_executions,
        forget.erase_graph,
        forget.erase_cache,
        forget.erase_stores,
        forget.record,
        switches.change,
        operator_changes.change_skill,
        operator_changes.review_audit,
        *agent_activities(runtime),
        *archive_activities(runtime),
    ]
