"""The model API fails the way providers do, seen through the real Anthropic client over HTTP.

Rate limits, overloads and server errors are retried with backoff (a retry-after is
waited out) and the turn succeeds with the answer the model finally gave; a call that
hangs is cut off by the client's timeout and tried again; a refused request fails the
turn at once with the provider's message, after one attempt.
(tests/conversation/test_turn_failures.py covers the same rules with the errors raised directly.)
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError

from clients.conversation import send_message
from contract.conversation import UserMessage
from memory.core.schema import messages, usage_ledger
from memory.llm.anthropic_client import AnthropicClient
from memory.runtime import MemoryRuntime
from tests.conftest import running_worker
from tests.faults.model_faults import HANG, FakeAnthropicAPI, error, reply

ANSWER = "Order 4471 shipped on Monday."


async def turn_against(api: FakeAnthropicAPI, monkeypatch, client, settings, thread, text: str, *, timeout_seconds=60.0):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
    llm = AnthropicClient("sk-ant-fault-test", "claude-test", timeout_seconds=timeout_seconds)
    runtime = MemoryRuntime.create(settings, llm=llm)
    try:
        async with running_worker(client, runtime) as tq:
            return await send_message(client, thread, UserMessage(text=text), task_queue=tq)
    finally:
        await runtime.close()
        await llm.aclose()


async def rows(runtime, table, tenant_id: str, *where) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id, *where))


async def test_rate_limits_overloads_and_server_errors_are_retried_until_the_model_answers(
    dev_env, settings, runtime, thread, monkeypatch
):
    script = [
        error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", **{"retry-after": "3"}),
        error(529, "overloaded_error", "Overloaded"),
        error(500, "api_error", "Internal server error"),
    ]
    async with FakeAnthropicAPI(script, then=reply(ANSWER)) as api:
        result = await turn_against(api, monkeypatch, dev_env.client, settings, thread, "Where is order 4471?")

    assert result.reply == ANSWER and (result.provider, result.model) == ("anthropic", "claude-test")
    assert len(api.arrivals) == 4
    waits = [later - earlier for earlier, later in zip(api.arrivals, api.arrivals[1:])]
    assert waits[0] >= 3  # the provider's retry-after, not the 1 s first backoff
    assert waits[2] > waits[1] >= 1  # then backoff, growing
    assert await rows(runtime, messages, thread.tenant_id, messages.c.role == "assistant", messages.c.content == ANSWER) == 1
    assert await rows(runtime, usage_ledger, thread.tenant_id, usage_ledger.c.action == "agent_turn") == 1


async def test_a_hanging_model_call_is_cut_off_and_tried_again(dev_env, settings, thread, monkeypatch):
    """The provider accepts the request and never answers. The client's timeout (60 s by
    default, 1 s here) cuts it off well inside the model activity's 120 s attempt timeout,
    which stays the backstop for a hang the client cannot see."""
    async with FakeAnthropicAPI([HANG], then=reply(ANSWER)) as api:
        result = await turn_against(
            api, monkeypatch, dev_env.client, settings, thread, "Where is order 4471?", timeout_seconds=1.0
        )

    assert result.reply == ANSWER
    assert len(api.arrivals) == 2
    assert api.arrivals[1] - api.arrivals[0] >= 1  # the first waited out the client's timeout


async def test_a_refused_request_fails_the_turn_at_once_with_the_providers_message(
    dev_env, settings, runtime, thread, monkeypatch
):
    refusal = error(400, "invalid_request_error", "messages.0.content: text content blocks must be non-empty")
    async with FakeAnthropicAPI([refusal], then=reply(ANSWER)) as api:
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await turn_against(api, monkeypatch, dev_env.client, settings, thread, "Where is order 4471?")

    failure = str(raised.value.cause)
    assert "HTTP 400" in failure and "text content blocks must be non-empty" in failure
    assert len(api.arrivals) == 1  # not retried
    assert (await runtime.turns.get(thread, 1)).status == "failed"
