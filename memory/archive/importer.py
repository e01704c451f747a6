"""Write a validated archive into a target agent, a page of records at a time, through the
layers' normal write paths: the path store for notebook and skill versions (in order, with
their authors), the agent definitions store, the conversation log, episodic memory, and
recall, which embeds every item again with the *target* tenant's model and bills it.
Uploaded documents are stored here and then sent down the document ingestion path by the
workflow. Every write's idempotency key comes from the archive's record id, so a page run
twice, or an archive imported twice, stores each record once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from memory.agents.models import AgentSpec, McpTool
from memory.agents.store import AgentDefinitions
from memory.archive.files import check_unchanged, lines
from memory.archive.models import (
    ArchivePlan,
    ImportPage,
    NotebookWritten,
    StoredArchiveDocument,
)
from memory.archive.records import (
    RECORD,
    AgentVersionRecord,
    DocumentRecord,
    DocumentVersionRecord,
    EpisodeRecordLine,
    MessageRecord,
    RecallItemRecord,
    SkillLockRecord,
)
from memory.archive.users import import_thread
from memory.conversation.store import ConversationStore
from memory.core.refs import AgentRef, ThreadRef
from memory.documents.library import DocumentLibrary
from memory.documents.notebook import NOTEBOOK_PATH
from memory.documents.path_store import DocumentStore
from memory.documents.skills import SKILLS_DIR, SkillLibrary
from memory.learning.episodic import EpisodeRecord, EpisodicMemory, Outcome
from memory.recall.service import ImportedTurn, RecallMemory

PAGE_RECORDS = 200
PAGE_CHARS = 4_000_000


def source_ref(plan: ArchivePlan) -> str:
    """A short, stable name of the archive's source agent for idempotency keys: the same
    source exported twice yields the same keys, so its records are stored once."""
    return hashlib.sha256(f"{plan.source.tenant_id}/{plan.source.agent_id}".encode()).hexdigest()[:12]


@dataclass
class ArchiveImporter:
    documents: DocumentStore
    skills: SkillLibrary
    agents: AgentDefinitions
    library: DocumentLibrary
    conversation: ConversationStore
    episodic: EpisodicMemory
    recall: RecallMemory

    async def import_page(self, target: AgentRef, path: Path, plan: ArchivePlan, first_line: int) -> ImportPage:
        check_unchanged(path, plan.file)
        counts: dict[str, int] = {}
        stored_documents: list[StoredArchiveDocument] = []
        notebook: NotebookWritten | None = None
        pending_recall: list[RecallItemRecord] = []
        chars = taken = 0
        claimed: set[tuple[str, str | None]] = set()
        next_line: int | None = None
        for number, raw in lines(path, first_line):
            data = json.loads(raw)
            if data["kind"] == "end":
                break
            if taken >= PAGE_RECORDS or chars >= PAGE_CHARS:
                next_line = number
                break
            record = RECORD.validate_python(data)
            taken += 1
            chars += len(raw)
            counts[record.kind] = counts.get(record.kind, 0) + 1
            if isinstance(record, RecallItemRecord):
                pending_recall.append(record)
                continue
            await self._recall(target, plan, pending_recall, claimed)
            pending_recall = []
            written = await self._write(target, plan, record, claimed)
            if isinstance(written, StoredArchiveDocument):
                stored_documents.append(written)
            elif isinstance(written, NotebookWritten):
                notebook = written
        await self._recall(target, plan, pending_recall, claimed)
        return ImportPage(next_line=next_line, counts=counts, documents=stored_documents, notebook=notebook)

    async def _write(self, target: AgentRef, plan: ArchivePlan, record, claimed: set) -> StoredArchiveDocument | NotebookWritten | None:
        key = f"{target.tenant_id}/{target.agent_id}/import/{source_ref(plan)}/{record.id}"
        match record:
            case AgentVersionRecord():
                await self.agents.save(
                    target,
                    AgentSpec.model_validate(record.spec),
                    [McpTool.model_validate(t) for t in record.mcp_tools],
                    author=record.author,
                    note=record.note,
                    idempotency_key=key,
                )
            case DocumentVersionRecord():
                version = await self.documents.write(
                    target, record.path, content=record.content, author=record.author, reason=record.reason,
                    idempotency_key=key,
                )
                if version.path == NOTEBOOK_PATH:
                    return NotebookWritten(version_id=version.id, version=version.version, chars=len(version.content))
            case SkillLockRecord():
                await self.skills.set_locked(target, record.path[len(SKILLS_DIR) : -len(".md")], True)
            case DocumentRecord():
                stored = await self.library.store(target.tenant_id, record.name, record.sha256, record.text)
                return StoredArchiveDocument(name=stored.name, sha256=stored.sha256, chunks=stored.chunks, chars=stored.chars)
            case MessageRecord():
                thread = await self._thread(target, record.thread_id, record.user_id, claimed)
                await self.conversation.append(thread, record.turn, record.role, record.content)
            case EpisodeRecordLine():
                thread = await self._thread(target, record.thread_id, record.user_id, claimed)
                await self.episodic.record(
                    EpisodeRecord(
                        thread=thread, turn=record.turn, occurred_at=record.occurred_at, outcome=Outcome(record.outcome),
                        task_type=record.task_type, tools_used=record.tools_used, transcript=record.transcript or "",
                        summary=record.summary,
                    ),
                    idempotency_key=key,
                )
        return None

    async def _thread(self, target: AgentRef, thread_id: str, user_id: str | None, claimed: set) -> ThreadRef:
        """The target thread, bound to the record's user as a first message would bind it;
        a thread of the target that already belongs to someone else is refused."""
        thread = import_thread(target, thread_id, user_id)
        if (thread_id, user_id) not in claimed:
            await self.conversation.users.claim(thread)
            claimed.add((thread_id, user_id))
        return thread

    async def _recall(self, target: AgentRef, plan: ArchivePlan, items: list[RecallItemRecord], claimed: set) -> None:
        """Consecutive items of one thread embed together, in the target tenant's batches."""
        by_thread: dict[tuple[str, str | None], list[RecallItemRecord]] = {}
        for item in items:
            by_thread.setdefault((item.thread_id, item.user_id), []).append(item)
        for (thread_id, user_id), batch in by_thread.items():
            await self.recall.remember_turns(
                await self._thread(target, thread_id, user_id, claimed),
                [ImportedTurn(key=f"{source_ref(plan)}/{i.id}", text=i.text, occurred_at=i.occurred_at) for i in batch],
            )
