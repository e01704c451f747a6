"""An agent with something in every layer an archive carries, and the archive workflows run
the way the API runs them: export to the archive directory, upload, import."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from temporalio.client import Client

from contract.archive import (
    ExportProgress,
    ExportRequest,
    ImportProgress,
    ImportRequest,
    export_workflow_id,
    import_workflow_id,
)
from contract.ingestion import DocumentUpload, document_ingestion_id
from contract.names import (
    ARCHIVE_EXPORT_WORKFLOW,
    ARCHIVE_IMPORT_WORKFLOW,
    DOCUMENT_INGESTION_WORKFLOW,
)
from memory.agents.models import AgentSpec
from memory.archive.files import ArchiveDirectory
from memory.core.refs import AgentRef, ThreadRef
from memory.core.schema import episodes, ingested_documents, messages, recall_items
from memory.documents.notebook import NOTEBOOK_PATH
from memory.learning.episodic import EpisodeRecord, Outcome
from memory.recall.service import ImportedTurn
from memory.runtime import MemoryRuntime

HANDBOOK = "# Returns handbook\n\nDana Smith works at Acme Corp. She approves refunds over 500 euros.\n\n" + "\n\n".join(
    f"Route {n}: pallets leave the Rotterdam dock at {6 + n % 12}:00 on weekdays." for n in range(30)
)
EXCHANGES = {
    "thread-a": [
        "user: my parcel to Berlin is late\nassistant: I opened a trace for the Berlin parcel",
        "user: the invoice shows the wrong VAT number\nassistant: I asked billing to reissue the invoice",
    ],
    "thread-b": ["user: can I pay by bank transfer?\nassistant: yes, bank transfer to the IBAN on the invoice works"],
}
QUERIES = ["late parcel to Berlin", "wrong VAT on the invoice", "pay by bank transfer", "who approves refunds"]


async def furnish(client: Client, runtime: MemoryRuntime, agent: AgentRef, task_queue: str) -> None:
    """Notebook and skill versions by several authors, a locked skill, two agent definition
    versions, a document through its ingestion workflow, and users' conversations, recall
    items and an episode."""
    nb = runtime.notebook
    await nb.replace(agent, "# Notebook\n- refunds need a receipt\n", author="operator:alice", idempotency_key=_key())
    await nb.append_note(agent, "the customer prefers email", author="agent", idempotency_key=_key())
    await nb.replace(agent, "# Notebook\n- refunds need a receipt\n- ship on Tuesdays\n", author="operator:bob", idempotency_key=_key())
    skills = runtime.skills
    await skills.write_by_operator(agent, "refunds", "keywords: money back\n# Refunds\nAsk for the receipt.\n",
                                   operator="alice", idempotency_key=_key())
    await skills.append_lesson(agent, "refunds", "Use `refund --dry-run` instead of `refund`", author="agent:codify:alice",
                               idempotency_key=_key())
    await skills.set_locked(agent, "refunds", True)
    await skills.write_by_operator(agent, "shipping", "# Shipping\nTuesdays only.\n", operator="bob", idempotency_key=_key())
    await runtime.agents.save(agent, AgentSpec(instructions="You answer returns questions."), [], author="operator:alice",
                              note="first", idempotency_key=_key())
    await runtime.agents.save(agent, AgentSpec(instructions="You answer returns and shipping questions."), [],
                              author="operator:bob", note="shipping too", idempotency_key=_key())
    sha = hashlib.sha256(HANDBOOK.encode()).hexdigest()
    await client.execute_workflow(
        DOCUMENT_INGESTION_WORKFLOW,
        DocumentUpload(tenant_id=agent.tenant_id, name="returns.md", text=HANDBOOK, sha256=sha),
        id=document_ingestion_id(agent.tenant_id, sha),
        task_queue=task_queue,
    )
    began = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for thread_id, texts in EXCHANGES.items():
        thread = ThreadRef(**agent.model_dump(), thread_id=thread_id)
        turns = [ImportedTurn(key=f"t{n}", text=t, occurred_at=began + timedelta(hours=n)) for n, t in enumerate(texts)]
        await runtime.recall.remember_turns(thread, turns)
        for n, text in enumerate(texts, start=1):
            user, assistant = text.split("\nassistant: ")
            await runtime.conversation.append(thread, n, "user", user.removeprefix("user: "))
            await runtime.conversation.append(thread, n, "assistant", assistant)
    await runtime.episodic.record(
        EpisodeRecord(thread=ThreadRef(**agent.model_dump(), thread_id="thread-a"), turn=1, occurred_at=began,
                      outcome=Outcome.SUCCEEDED, tools_used=["recall_search"], transcript="user: late parcel\nassistant: traced",
                      summary="Traced a late parcel to Berlin"),
        idempotency_key=_key(),
    )


async def export(client: Client, agent: AgentRef, task_queue: str, *, memories: bool = True) -> tuple[str, ExportProgress]:
    export_id = f"x-{uuid.uuid4().hex[:12]}"
    done = await client.execute_workflow(
        ARCHIVE_EXPORT_WORKFLOW,
        ExportRequest(agent=agent, export_id=export_id, memories=memories, requested_by="operator:alice"),
        id=export_workflow_id(agent.tenant_id, export_id),
        task_queue=task_queue,
        result_type=ExportProgress,
    )
    return export_id, done


def upload(archive_dir: str, tenant_id: str, archive: Path) -> str:
    """What the API does with an uploaded archive: keep it in the archive directory."""
    upload_id = f"u-{uuid.uuid4().hex[:12]}"
    target = ArchiveDirectory(archive_dir).upload_path(tenant_id, upload_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(archive, target)
    return upload_id


async def import_archive(client: Client, target: AgentRef, upload_id: str, task_queue: str) -> ImportProgress:
    return await client.execute_workflow(
        ARCHIVE_IMPORT_WORKFLOW,
        ImportRequest(target=target, upload_id=upload_id, requested_by="operator:carol"),
        id=import_workflow_id(target, upload_id),
        task_queue=task_queue,
        result_type=ImportProgress,
    )


def _key() -> str:
    return uuid.uuid4().hex


async def what_it_knows(rt: MemoryRuntime, agent: AgentRef) -> dict:
    """Everything an operator or a turn would read of the agent, without row ids or times."""
    versions = lambda history: [(v.version, v.content, v.author, v.reason) for v in history]  # noqa: E731
    async with rt.engine.connect() as conn:
        documents = (await conn.execute(
            select(ingested_documents.c.name, ingested_documents.c.sha256).where(ingested_documents.c.tenant_id == agent.tenant_id)
        )).all()
        chunks = await conn.scalar(select(func.count()).select_from(recall_items).where(
            recall_items.c.tenant_id == agent.tenant_id, recall_items.c.source_type == "document"))
        said = (await conn.execute(
            select(messages.c.thread_id, messages.c.turn, messages.c.role, messages.c.content)
            .where(messages.c.tenant_id == agent.tenant_id, messages.c.agent_id == agent.agent_id)
            .order_by(messages.c.thread_id, messages.c.turn, messages.c.role)
        )).all()
        episode_summaries = (await conn.execute(
            select(episodes.c.thread_id, episodes.c.summary).where(episodes.c.tenant_id == agent.tenant_id)
        )).all()
    answers = {}
    for query in QUERIES:
        hits = await rt.recall.recall(agent, query, request_key=f"check-{uuid.uuid4().hex}", k=5)
        answers[query] = [hit.text for hit in hits]
    return {
        "notebook": versions(await rt.documents.history(agent, NOTEBOOK_PATH)),
        "skills": {t: versions(await rt.documents.history(agent, f"/skills/{t}.md")) for t in await rt.skills.task_types(agent)},
        "locked": {t: (await rt.skills.load(agent, t))[0].locked for t in await rt.skills.task_types(agent)},
        "agent": [(v.version, v.spec, v.author, v.note) for v in await rt.agents.history(agent)],
        "documents": sorted(documents),
        "document chunks": chunks,
        "messages": said,
        "episodes": episode_summaries,
        "recall answers": answers,
    }
