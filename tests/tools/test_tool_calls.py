"""The agent's tools inside a turn: arguments refused before anything runs, commands
outside the allow-list refused, a hanging command cut off by its activity timeout and
learned from, and scratch notes (working memory) that reach no store."""

from __future__ import annotations

import zlib

import redis.asyncio as redis
from sqlalchemy import select, text

from clients.conversation import send_message
from contract.conversation import ConversationLimits, UserMessage
from contract.ingestion import exchange_ingestion_id
from memory.core.refs import ThreadRef
from memory.core.schema import episodes, tool_calls
from memory.llm.base import ModelRequest, ModelResponse, ToolCall
from memory.llm.offline import OfflineModel
from memory.runtime import MemoryRuntime
from tests.conftest import finished, running_worker


class CallsTools(OfflineModel):
    """Makes the given tool calls on the turn's first model call, then answers plainly."""

    def __init__(self, calls: list[ToolCall]):
        super().__init__()
        self.calls = calls

    async def generate(self, request: ModelRequest) -> ModelResponse:
        if request.purpose == "agent_turn" and request.tools and not request.tool_calls:
            return ModelResponse(text="", tool_calls=self.calls, provider=self.provider, model=self.model)
        if request.purpose == "agent_turn" and request.tool_results:
            return ModelResponse(text="Finished the task.", provider=self.provider, model=self.model)
        return await super().generate(request)


async def run_turn(client, runtime_settings, thread: ThreadRef, text_: str, *, llm=None, limits=None):
    runtime = MemoryRuntime.create(runtime_settings, llm=llm)
    try:
        async with running_worker(client, runtime) as tq:
            result = await send_message(client, thread, UserMessage(text=text_), task_queue=tq, limits=limits)
            await finished(client, exchange_ingestion_id(thread, result.turn))
    finally:
        await runtime.close()
    return result


async def logged(runtime: MemoryRuntime, thread: ThreadRef) -> list[tuple[str, dict, str, str]]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(tool_calls.c.tool, tool_calls.c.arguments, tool_calls.c.status, tool_calls.c.output)
            .where(tool_calls.c.tenant_id == thread.tenant_id)
            .order_by(tool_calls.c.id)
        )
        return [tuple(row) for row in rows]


async def test_invalid_tool_arguments_are_refused_before_anything_runs(time_skipping_env, settings, runtime, thread):
    calls = [
        ToolCall(id="c1", name="run_command", arguments={"cmd": "ls"}),
        ToolCall(id="c2", name="notebook_edit", arguments={"note": ""}),
        ToolCall(id="c3", name="load_skill", arguments={"task_type": "../etc"}),
        ToolCall(id="c4", name="delete_everything", arguments={}),
    ]
    result = await run_turn(time_skipping_env.client, settings, thread, "Do the thing.", llm=CallsTools(calls))
    assert result.reply == "Finished the task."
    rows = await logged(runtime, thread)
    assert [(tool, status) for tool, _, status, _ in rows] == [
        ("run_command", "rejected"),
        ("notebook_edit", "rejected"),
        ("load_skill", "rejected"),
        ("delete_everything", "rejected"),
    ]
    assert "run_command needs 'command'" in rows[0][3]
    assert await runtime.notebook.read(thread.agent) is None


async def test_a_command_outside_the_allow_list_is_refused_and_never_runs(time_skipping_env, settings, runtime, thread):
    scratch = runtime.commands.scratch_dir(f"{thread.tenant_id}/{thread.agent_id}/{thread.thread_id}")
    (scratch / "keep.txt").write_text("precious")
    result = await run_turn(time_skipping_env.client, settings, thread, "run: rm keep.txt")
    assert (scratch / "keep.txt").read_text() == "precious"
    [(tool, args, status, output)] = await logged(runtime, thread)
    assert (tool, args, status) == ("run_command", {"command": "rm keep.txt"}, "rejected")
    assert "not in the allow-list" in output or "not allowed" in output
    assert result.outcome == "failed"


async def test_a_hanging_command_is_cut_off_by_its_timeout_recorded_and_learned_from(
    time_skipping_env, settings, runtime, thread
):
    allowing_sleep = settings.model_copy(update={"tool_allowed_commands": settings.tool_allowed_commands + ",sleep"})
    result = await run_turn(
        time_skipping_env.client,
        allowing_sleep,
        thread,
        "run: sleep 600\notherwise: echo done",
        limits=ConversationLimits(tool_timeout_seconds=2),
    )
    rows = await logged(runtime, thread)
    assert [(args["command"], status) for _, args, status, _ in rows] == [("sleep 600", "timed_out"), ("echo done", "ok")]
    assert "cut off after 2 s" in rows[0][3]
    assert result.outcome == "succeeded"
    learned = await runtime.session_cache.get(
        runtime_session(thread), "sleep   600"
    )
    assert learned.instead == "echo done"


def runtime_session(thread: ThreadRef):
    from memory.learning.session_cache import SessionContext

    return SessionContext(tenant_id=thread.tenant_id, agent_id=thread.agent_id, session_id=thread.thread_id)


async def test_a_scratch_note_reaches_no_store(time_skipping_env, settings, runtime, thread, redis_url):
    secret = "SCRATCH-7f3a-only-for-this-turn"
    model = CallsTools([ToolCall(id="c1", name="scratch_note", arguments={"note": f"plan: {secret}"})])
    result = await run_turn(time_skipping_env.client, settings, thread, "Plan the migration of the billing data.", llm=model)
    assert result.tools_used == ["scratch_note"]

    async with runtime.engine.connect() as conn:
        tables = (await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars()
        for table in tables:
            found = await conn.scalar(text(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :s'), {"s": f"%{secret}%"})
            assert found == 0, f"the scratch note reached table {table}"
        transcripts = (await conn.execute(select(episodes.c.transcript).where(episodes.c.tenant_id == thread.tenant_id))).scalars()
        for transcript in transcripts:
            assert secret not in zlib.decompress(transcript).decode()
    server = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        async for key in server.scan_iter(count=1000):
            kind = await server.type(key)
            if kind == "hash":
                assert secret not in str(await server.hgetall(key)), key
            elif kind == "string":
                assert secret not in (await server.get(key) or ""), key
            elif kind == "graphdata":
                nodes = await server.execute_command("GRAPH.RO_QUERY", key, "MATCH (n) RETURN n")
                assert secret not in str(nodes), key
    finally:
        await server.aclose()
