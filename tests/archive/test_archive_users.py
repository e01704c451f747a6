"""One user's memories travel alone: an export for a user carries that user's conversations,
recall items and episodes and the agent's shared knowledge, nothing of another user's; the
import gives the threads to the same user, so only that user's retrievals find them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from contract.archive import ExportProgress, ExportRequest, export_workflow_id
from contract.names import ARCHIVE_EXPORT_WORKFLOW
from memory.archive.files import ArchiveDirectory
from memory.core.refs import AgentRef, ThreadRef
from memory.core.schema import recall_items, thread_users
from memory.learning.episodic import EpisodeRecord, Outcome
from memory.recall.service import ImportedTurn
from memory.runtime import MemoryRuntime
from tests.archive.support import import_archive, upload
from tests.conftest import running_worker

WHEN = datetime(2026, 2, 1, tzinfo=UTC)
SAID = {"alice": "my account number is 4471 and I am moving to Berlin", "bob": "my account number is 9902 in Lyon", None: "opening hours are 9 to 5"}


@pytest.fixture
async def archive_runtime(settings, tmp_path):
    rt = MemoryRuntime.create(settings.model_copy(update={"archive_dir": str(tmp_path / "archives")}))
    yield rt
    await rt.close()


async def converse(rt: MemoryRuntime, agent: AgentRef, user: str | None) -> None:
    thread = ThreadRef(**agent.model_dump(), thread_id=f"with-{user or 'anyone'}", user_id=user)
    await rt.conversation.users.claim(thread)
    await rt.conversation.append(thread, 1, "user", SAID[user])
    await rt.conversation.append(thread, 1, "assistant", "noted")
    await rt.recall.remember_turns(thread, [ImportedTurn(key="t1", text=f"user: {SAID[user]}\nassistant: noted", occurred_at=WHEN)])
    await rt.episodic.record(
        EpisodeRecord(thread=thread, turn=1, occurred_at=WHEN, outcome=Outcome.SUCCEEDED, tools_used=[],
                      transcript=SAID[user], summary=f"talked with {user or 'anyone'}"),
        idempotency_key=f"episode-{uuid.uuid4().hex}",
    )


async def test_one_users_export_carries_only_that_users_memories_and_the_import_keeps_them_that_users(
    time_skipping_env, archive_runtime
):
    rt, client = archive_runtime, time_skipping_env.client
    source = AgentRef(tenant_id=f"src-{uuid.uuid4().hex[:8]}", agent_id="support")
    target = AgentRef(tenant_id=f"dst-{uuid.uuid4().hex[:8]}", agent_id="support")
    await rt.notebook.replace(source, "# Notebook\n- we close at 5\n", author="operator:alice", idempotency_key=uuid.uuid4().hex)
    for user in ("alice", "bob", None):
        await converse(rt, source, user)
    export_id = f"x-{uuid.uuid4().hex[:12]}"
    async with running_worker(client, rt) as tq:
        await client.execute_workflow(
            ARCHIVE_EXPORT_WORKFLOW,
            ExportRequest(agent=source, export_id=export_id, memories=True, user_id="alice", requested_by="operator:dpo"),
            id=export_workflow_id(source.tenant_id, export_id), task_queue=tq, result_type=ExportProgress,
        )
        archive = ArchiveDirectory(rt.settings.archive_dir).export_path(source.tenant_id, export_id)
        await import_archive(client, target, upload(rt.settings.archive_dir, target.tenant_id, archive), tq)

    text = archive.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    assert "4471" in text and "9902" not in text and "opening hours" not in text
    private = [r for r in records if r["kind"] in ("message", "recall_item", "episode")]
    assert {r["user_id"] for r in private} == {"alice"} and len(private) == 4
    assert any(r["kind"] == "document_version" for r in records)  # the agent's shared knowledge goes along

    async with rt.engine.connect() as conn:
        owners = (await conn.execute(select(thread_users.c.thread_id, thread_users.c.user_id)
                                     .where(thread_users.c.tenant_id == target.tenant_id))).all()
        recalled_users = (await conn.execute(select(recall_items.c.user_id)
                                             .where(recall_items.c.tenant_id == target.tenant_id))).scalars().all()
    assert owners == [("with-alice", "alice")] and recalled_users == ["alice"]
    as_alice = await rt.recall.recall(target, "account number", request_key="a", user_id="alice")
    as_bob = await rt.recall.recall(target, "account number", request_key="b", user_id="bob")
    assert any("4471" in hit.text for hit in as_alice)
    assert not any("4471" in hit.text for hit in as_bob)


def test_forgetting_a_user_deletes_the_archives_that_hold_their_records_and_a_tenant_deletes_all(tmp_path):
    directory = ArchiveDirectory(tmp_path)
    header = {"kind": "header", "user_id": None}
    line = lambda user: json.dumps({"kind": "recall_item", "user_id": user, "text": f"{user} said"}) + "\n"  # noqa: E731
    directory.write_part("acme", "x-1", 0, [line("alice"), line("bob")])
    directory.join_parts("acme", "x-1", json.dumps(header) + "\n", '{"kind": "end", "records": 2}\n')
    directory.write_part("acme", "x-2", 0, [line("bob")])
    directory.join_parts("acme", "x-2", json.dumps(header) + "\n", '{"kind": "end", "records": 1}\n')
    directory.upload_part("acme", "u-1", 0, line("alice").encode()[:50])  # a part cut mid-record
    directory.write_part("globex", "x-3", 0, [line("alice")])

    assert directory.erase("acme", "alice") == 2
    assert not directory.export_path("acme", "x-1").exists()
    assert directory.export_path("acme", "x-2").exists()  # bob's only
    assert directory.erase("acme") == 1 and not (tmp_path / "acme").exists()
    assert (tmp_path / "globex").exists()  # another tenant's alice is another person
