"""A large archive moves page by page: only cursors and counts cross Temporal, and a long
export or import continues as new and still counts every record once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

import memory.archive.export
import memory.archive.importer
from contract.archive import export_workflow_id, import_workflow_id
from memory.archive.files import ArchiveDirectory
from memory.core.refs import AgentRef, ThreadRef
from memory.core.schema import recall_items
from memory.recall.service import ImportedTurn
from memory.runtime import MemoryRuntime
from tests.archive.support import export, import_archive, upload
from tests.conftest import running_worker

ITEMS = 90


@pytest.fixture
async def archive_runtime(settings, tmp_path):
    rt = MemoryRuntime.create(settings.model_copy(update={"archive_dir": str(tmp_path / "archives")}))
    yield rt
    await rt.close()


async def runs(client, workflow_id: str) -> list[str]:
    return [w.status.name async for w in client.list_workflows(f'WorkflowId = "{workflow_id}"')]


async def test_an_archive_of_many_pages_continues_as_new_and_imports_every_record_once(dev_env, archive_runtime, monkeypatch):
    # Small pages, so a few dozen records make a history long enough to continue as new.
    monkeypatch.setattr(memory.archive.export, "PAGE_ROWS", 4)
    monkeypatch.setattr(memory.archive.importer, "PAGE_RECORDS", 3)
    rt, client = archive_runtime, dev_env.client
    source = AgentRef(tenant_id=f"src-{uuid.uuid4().hex[:8]}", agent_id="support")
    target = AgentRef(tenant_id=f"dst-{uuid.uuid4().hex[:8]}", agent_id="support")
    began = datetime(2026, 1, 1, tzinfo=UTC)
    turns = [ImportedTurn(key=f"t{n}", text=f"user: question {n}\nassistant: answer {n}", occurred_at=began + timedelta(minutes=n))
             for n in range(ITEMS)]
    await rt.recall.remember_turns(ThreadRef(**source.model_dump(), thread_id="long"), turns)
    async with running_worker(client, rt) as tq:
        export_id, exported = await export(client, source, tq)
        archive = ArchiveDirectory(rt.settings.archive_dir).export_path(source.tenant_id, export_id)
        upload_id = upload(rt.settings.archive_dir, target.tenant_id, archive)
        imported = await import_archive(client, target, upload_id, tq)
        export_runs = await runs(client, export_workflow_id(source.tenant_id, export_id))
        import_runs = await runs(client, import_workflow_id(target, upload_id))

    assert exported.records == ITEMS and exported.pages >= ITEMS // 4
    assert "CONTINUED_AS_NEW" in export_runs and "CONTINUED_AS_NEW" in import_runs
    assert imported.done and imported.records_done == imported.records_total == ITEMS
    async with rt.engine.connect() as conn:
        stored = await conn.scalar(select(func.count()).select_from(recall_items).where(recall_items.c.tenant_id == target.tenant_id))
    assert stored == ITEMS
