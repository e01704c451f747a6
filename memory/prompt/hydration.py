"""Turn a manifest (references) back into the texts it names, and assemble the prompt.

The workflow carries only references; the text is read here, from the stores, when
the model is about to be called.
"""

from __future__ import annotations

from memory.conversation.store import ConversationStore
from memory.core.refs import ThreadRef
from memory.documents.path_store import DocumentStore
from memory.documents.skills import lesson_substitutions
from memory.graph.service import KnowledgeGraph
from memory.learning.episodic import EpisodicMemory
from memory.prompt.assembly import (
    ContextSources,
    CorrectionEntry,
    EpisodeEntry,
    GraphFactEntry,
    LearnedEntry,
    NotebookEntry,
    RecalledEntry,
    SkillEntry,
    SummaryEntry,
    TailMessage,
    WorkingContext,
    assemble,
)
from memory.prompt.manifest import ContextItem, Layer
from memory.recall.store import RecallStore


def _ids(manifest: list[ContextItem], layer: Layer) -> list[int]:
    return [item.source_id for item in manifest if item.layer == layer]


async def build_working_context(
    thread: ThreadRef,
    manifest: list[ContextItem],
    user_message_id: int,
    *,
    conversation: ConversationStore,
    recall: RecallStore,
    documents: DocumentStore,
    knowledge: KnowledgeGraph,
    episodic: EpisodicMemory,
    learned: list[LearnedEntry] = (),
    learned_unchanged: bool = False,
    corrections: list[CorrectionEntry] = (),
    agent_instructions: str | None = None,
) -> WorkingContext:
    notebook = None
    for version_id in _ids(manifest, Layer.NOTEBOOK):
        version = await documents.version_by_id(thread.agent, version_id)
        if version:
            notebook = NotebookEntry(
                version_id=version.id, version=version.version, content=version.content, updated_at=version.created_at
            )
    graph_items = {item.source_key: item for item in manifest if item.layer == Layer.GRAPH and item.source_key}
    graph_facts = [
        GraphFactEntry(
            uuid=fact.uuid,
            fact=fact.fact,
            valid_at=fact.valid_at,
            source_episode=graph_items[fact.uuid].source_episode or "an earlier episode",
        )
        for fact in await knowledge.facts_by_uuid(thread.tenant_id, list(graph_items), thread.user_id)
    ]
    superseded = {
        (item.layer, item.source_id): item.superseded_by for item in manifest if item.superseded_by is not None
    }
    recalled = [
        RecalledEntry(
            id=item.id,
            source=item.provenance,
            created_at=item.occurred_at,
            text=item.text,
            superseded=superseded.get((Layer.RECALL, item.id)),
        )
        for item in await recall.items_by_id(thread.agent, _ids(manifest, Layer.RECALL))
    ]
    summary = None
    for summary_id in _ids(manifest, Layer.CONVERSATION_SUMMARY):
        stored = await conversation.summary_by_id(thread, summary_id)
        if stored:
            summary = SummaryEntry(id=stored.id, content=stored.content, created_at=stored.created_at)
    skills = []
    for version_id in _ids(manifest, Layer.PROCEDURAL):
        if version := await documents.version_by_id(thread.agent, version_id):
            skills.append(
                SkillEntry(
                    version_id=version.id,
                    path=version.path,
                    version=version.version,
                    author=version.author,
                    content=version.content,
                    lessons=lesson_substitutions(version.content),
                )
            )
    episodes = [
        EpisodeEntry(
            id=e.id,
            thread_id=e.thread.thread_id,
            turn=e.turn,
            occurred_at=e.occurred_at,
            outcome=e.outcome,
            summary=e.summary,
            superseded=superseded.get((Layer.EPISODIC, e.id)),
        )
        for e in await episodic.by_id(thread.agent, _ids(manifest, Layer.EPISODIC))
    ]
    tail_ids = _ids(manifest, Layer.CONVERSATION_MESSAGE)
    loaded = await conversation.messages_by_id(thread, tail_ids + [user_message_id])
    by_id = {m.id: m for m in loaded}
    if user_message_id not in by_id:
        raise LookupError(f"user message {user_message_id} of thread {thread.key} is not in the store")
    tail = [TailMessage(role=by_id[i].role, content=by_id[i].content) for i in sorted(tail_ids) if i in by_id]
    return assemble(
        ContextSources(
            notebook=notebook,
            graph_facts=graph_facts,
            recalled=recalled,
            summary=summary,
            tail=tail,
            user_message=by_id[user_message_id].content,
            skills=skills,
            episodes=episodes,
            learned=list(learned),
            learned_unchanged=learned_unchanged,
            corrections=list(corrections),
            agent_instructions=agent_instructions,
        )
    )
