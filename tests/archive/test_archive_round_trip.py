"""Export an agent to an archive and import it elsewhere: the same notebook (every version, in
order, by the same authors), skills, agent definition, documents and recall answers, stored
once however often the archive is imported, with vectors made by the target tenant's model."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from memory.archive.files import ArchiveDirectory
from memory.archive.records import FORMAT_VERSION
from memory.core.refs import AgentRef
from memory.core.schema import (
    recall_embeddings,
    usage_ledger,
)
from memory.core.tenants import TenantRegistry
from memory.runtime import MemoryRuntime
from tests.archive.support import export, furnish, import_archive, upload, what_it_knows
from tests.conftest import running_worker
from tests.store_counts import changes, snapshot


@pytest.fixture
async def archive_runtime(settings, tmp_path):
    rt = MemoryRuntime.create(settings.model_copy(update={"archive_dir": str(tmp_path / "archives")}))
    yield rt
    await rt.close()


def agent_of(prefix: str, agent_id: str = "support") -> AgentRef:
    return AgentRef(tenant_id=f"{prefix}-{uuid.uuid4().hex[:8]}", agent_id=agent_id)


async def test_an_agent_exported_and_imported_into_another_tenant_knows_the_same_and_a_second_import_stores_nothing(
    time_skipping_env, archive_runtime, redis_url
):
    rt, client = archive_runtime, time_skipping_env.client
    source, target = agent_of("src"), agent_of("dst", "helper")
    async with running_worker(client, rt) as tq:
        await furnish(client, rt, source, tq)
        export_id, exported = await export(client, source, tq)
        archive = ArchiveDirectory(rt.settings.archive_dir).export_path(source.tenant_id, export_id)
        first = await import_archive(client, target, upload(rt.settings.archive_dir, target.tenant_id, archive), tq)
        before_second = await snapshot(rt.engine, redis_url)
        second = await import_archive(client, target, upload(rt.settings.archive_dir, target.tenant_id, archive), tq)
        after_second = await snapshot(rt.engine, redis_url)

    header, *records, end = [json.loads(line) for line in archive.read_text().splitlines()]
    assert header["format_version"] == FORMAT_VERSION and header["source"] == source.model_dump()
    assert header["embedding_model"] == "offline/hashed-ngrams/256"
    assert end == {"kind": "end", "records": len(records)} and exported.records == len(records)
    assert not any("embedding" in record for record in records)  # texts travel, vectors never do

    assert first.done and first.records_done == first.records_total == len(records)
    assert first.documents_done == 1 and first.chunks_in_recall > 0 and first.episodes_ingested > 0
    assert second.done and second.records_done == len(records)
    assert changes(before_second, after_second) == {}  # imported twice, stored once

    known_there, known_here = await what_it_knows(rt, target), await what_it_knows(rt, source)
    assert known_there == known_here
    assert [author for _, _, author, _ in known_there["notebook"]] == ["operator:bob", "agent", "operator:alice"]  # newest first
    assert known_there["locked"] == {"refunds": True, "shipping": False}
    assert known_there["recall answers"]["late parcel to Berlin"][0].startswith("user: my parcel to Berlin is late")


async def test_a_tenant_on_another_embedding_model_gets_vectors_of_its_own_model(time_skipping_env, archive_runtime):
    rt, client = archive_runtime, time_skipping_env.client
    source, target = agent_of("src"), agent_of("dst")
    # The target tenant was set up on another model: its fence says so.
    await TenantRegistry(rt.engine, "offline/hashed-ngrams/384").current_embedding_model(target.tenant_id)
    async with running_worker(client, rt) as tq:
        await furnish(client, rt, source, tq)
        export_id, _ = await export(client, source, tq)
        archive = ArchiveDirectory(rt.settings.archive_dir).export_path(source.tenant_id, export_id)
        await import_archive(client, target, upload(rt.settings.archive_dir, target.tenant_id, archive), tq)

    async with rt.engine.connect() as conn:
        models = (await conn.execute(
            select(recall_embeddings.c.embedding_model, func.count())
            .where(recall_embeddings.c.tenant_id == target.tenant_id)
            .group_by(recall_embeddings.c.embedding_model)
        )).all()
        billed = await conn.scalar(select(func.count()).select_from(usage_ledger).where(
            usage_ledger.c.tenant_id == target.tenant_id, usage_ledger.c.model == "offline/hashed-ngrams/384"
        ))
    assert [model for model, _ in models] == ["offline/hashed-ngrams/384"]
    assert billed > 0  # the re-embedding is billed to the target tenant like any other
    hits = await rt.recall.recall(target, "wrong VAT on the invoice", request_key="vat", k=3)
    assert hits and "VAT number" in hits[0].text
