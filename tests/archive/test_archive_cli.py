"""The operator's commands, over the real HTTP API: `agent-memory export` writes the archive
to a local file, `agent-memory import` uploads it in parts into another tenant's agent, and a
refused archive is an exit status of 2 with the reason."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from typer.testing import CliRunner

import cli.archive
from cli.main import app
from memory.core.refs import AgentRef
from memory.documents.notebook import NOTEBOOK_PATH
from memory.runtime import MemoryRuntime
from tests.api_server import as_key, serving
from tests.archive.support import furnish
from tests.conftest import running_worker


@pytest.fixture
async def archive_runtime(settings, tmp_path):
    rt = MemoryRuntime.create(settings.model_copy(update={"archive_dir": str(tmp_path / "archives")}))
    yield rt
    await rt.close()


async def agent_memory(url: str, secret: str, *args: str):
    """The CLI in a thread of its own: it blocks on HTTP while this loop serves the API."""
    env = {"AGENT_MEMORY_URL": url, "AGENT_MEMORY_KEY": secret}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def test_export_and_import_commands_move_an_agent_to_another_tenant(
    time_skipping_env, archive_runtime, tmp_path, monkeypatch
):
    monkeypatch.setattr(cli.archive, "PART_BYTES", 4096)  # several upload parts
    rt, client = archive_runtime, time_skipping_env.client
    source = AgentRef(tenant_id=f"src-{uuid.uuid4().hex[:8]}", agent_id="support")
    target = AgentRef(tenant_id=f"dst-{uuid.uuid4().hex[:8]}", agent_id="support")
    archive, newer = tmp_path / "support.jsonl", tmp_path / "newer.jsonl"
    async with running_worker(client, rt) as tq, serving(client, rt, tq) as (url, keys):
        await furnish(client, rt, source, tq)
        source_key = await keys.create(source.tenant_id, "operator", name="ops", created_by="test")
        target_key = await keys.create(target.tenant_id, "operator", name="ops", created_by="test")
        reader = await keys.create(source.tenant_id, "read", name="app", created_by="test")
        exported = await agent_memory(url, source_key.secret, "export", "support", "--memories", "-o", str(archive))
        imported = await agent_memory(url, target_key.secret, "import", str(archive), "--agent", "support")
        header, *rest = archive.read_text().splitlines()
        newer.write_text("\n".join([json.dumps({**json.loads(header), "format_version": 99}), *rest]) + "\n")
        refused = await agent_memory(url, target_key.secret, "import", str(newer), "--agent", "other")
        async with as_key(url, reader.secret) as http:
            forbidden = await http.post("/v1/agents/support/exports", json={})

    assert exported.exit_code == 0, exported.output
    assert f"to {archive}" in exported.output and "document_version" in exported.output
    assert imported.exit_code == 0, imported.output
    assert f"from {source.tenant_id}/support into support" in imported.output
    there = [(v.content, v.author) for v in await rt.documents.history(target, NOTEBOOK_PATH)]
    assert there == [(v.content, v.author) for v in await rt.documents.history(source, NOTEBOOK_PATH)] and len(there) == 3
    assert refused.exit_code == 2
    assert "format version 99, newer than this runtime reads" in refused.output
    assert await rt.documents.history(AgentRef(tenant_id=target.tenant_id, agent_id="other"), NOTEBOOK_PATH) == []
    assert forbidden.status_code == 403
