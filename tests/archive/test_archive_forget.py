"""Export, forget, import: a tenant forgotten on request loses its archives with the rest of its
memory, and the archive its operator kept brings back the same notebook, skills, documents
and recall answers."""

from __future__ import annotations

import shutil
import uuid

import pytest

from contract.forget import ForgetReport, ForgetRequest, forget_workflow_id
from contract.names import FORGET_WORKFLOW
from memory.archive.files import ArchiveDirectory
from memory.core.refs import AgentRef
from memory.forget.models import ForgetScope
from memory.runtime import MemoryRuntime
from tests.archive.support import export, furnish, import_archive, upload, what_it_knows
from worker import build_worker


@pytest.fixture
async def archive_runtime(settings, tmp_path):
    rt = MemoryRuntime.create(settings.model_copy(update={"archive_dir": str(tmp_path / "archives")}))
    yield rt
    await rt.close()


async def test_a_forgotten_tenant_comes_back_the_same_from_the_archive_its_operator_kept(
    dev_env, archive_runtime, tmp_path
):
    rt, client = archive_runtime, dev_env.client
    agent = AgentRef(tenant_id=f"gdpr-{uuid.uuid4().hex[:8]}", agent_id="support")
    forget = ForgetRequest(
        scope=ForgetScope(tenant_id=agent.tenant_id), operator="dpo", reason="erasure request", request_id="all"
    )
    task_queue = f"archive-forget-{uuid.uuid4().hex[:8]}"
    # A worker of its own: the forget deletes the executions tests.conftest.running_worker
    # would wait for on its way out.
    async with build_worker(client, rt, task_queue=task_queue):
        await furnish(client, rt, agent, task_queue)
        export_id, _ = await export(client, agent, task_queue)
        in_directory = ArchiveDirectory(rt.settings.archive_dir).export_path(agent.tenant_id, export_id)
        kept = tmp_path / "downloaded.jsonl"  # what `agent-memory export -o` leaves with the operator
        shutil.copyfile(in_directory, kept)
        before = await what_it_knows(rt, agent)

        report = await client.execute_workflow(
            FORGET_WORKFLOW, forget, id=forget_workflow_id(forget), task_queue=task_queue, result_type=ForgetReport
        )
        assert report.counts["archive.files"] == 1
        assert not in_directory.exists()  # an archive is a copy of the memory: it goes too
        forgotten = await what_it_knows(rt, agent)
        assert forgotten["notebook"] == [] and forgotten["messages"] == [] and forgotten["documents"] == []
        assert all(hits == [] for hits in forgotten["recall answers"].values())

        progress = await import_archive(client, agent, upload(rt.settings.archive_dir, agent.tenant_id, kept), task_queue)
        assert progress.done
        after = await what_it_knows(rt, agent)

    assert after == before
