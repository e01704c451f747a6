"""Learning from work, end to end: tools that fail and recover, human corrections, the
session-learning cache, episodes, reflection into skills, and codify."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from clients.conversation import NoRunningConversation, correct, send_message
from contract.conversation import ConversationLimits, UserMessage
from contract.ingestion import exchange_ingestion_id
from contract.learning import (
    CodifyInput,
    LessonReviewInput,
    codify_id,
    lesson_review_id,
)
from memory.core.refs import ThreadRef
from memory.core.schema import corrections, tool_calls
from memory.learning.episodic import Outcome
from memory.learning.models import Correction
from memory.learning.session_cache import SessionContext
from memory.prompt.manifest import Layer
from memory.runtime import MemoryRuntime
from tests.conftest import finished, running_worker
from workflows.codify import CodifyWorkflow
from workflows.reflection import LessonReviewWorkflow


def session(thread: ThreadRef, project: str = "default") -> SessionContext:
    return SessionContext(
        tenant_id=thread.tenant_id, agent_id=thread.agent_id, project=project, session_id=thread.thread_id
    )


async def turn(client, thread: ThreadRef, text: str, tq: str, **options):
    """One turn, then wait for its background work (episode, reflection, graph) to finish."""
    result = await send_message(client, thread, UserMessage(text=text), task_queue=tq, **options)
    await finished(client, exchange_ingestion_id(thread, result.turn))
    return result


async def logged_calls(runtime: MemoryRuntime, thread: ThreadRef) -> list[tuple[str, str, str]]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(tool_calls.c.tool, tool_calls.c.arguments, tool_calls.c.status)
            .where(tool_calls.c.tenant_id == thread.tenant_id, tool_calls.c.thread_id == thread.thread_id)
            .order_by(tool_calls.c.id)
        )
        return [(tool, args.get("command", ""), status) for tool, args, status in rows]


def counter(name: str, tenant: str) -> float:
    return REGISTRY.get_sample_value(name, {"tenant": tenant}) or 0.0


async def test_a_failed_command_then_one_that_works_is_learned_and_used_next_time(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        first = await turn(client, thread, "run: ls -z\notherwise: ls -a", tq)
        lookups_before = counter("agent_session_cache_lookups_total", thread.tenant_id)
        hits_before = counter("agent_session_cache_hits_total", thread.tenant_id)
        # The same command, spelled differently: the session's lesson applies before the model runs it.
        second = await turn(client, thread, "run: ls   -z", tq)

    assert first.tools_used == ["run_command", "run_command"]
    assert first.outcome == "succeeded"
    learned = await runtime.session_cache.get(session(thread), "ls -z")
    assert (learned.tried, learned.instead, learned.source) == ("ls -z", "ls -a", "tool_recovery")
    assert second.tools_used == ["run_command"]
    # The result says which command ran: the substitute, not the one the user asked for.
    assert first.tool_calls == ["run_command: ls -z", "run_command: ls -a"]
    assert second.tool_calls == ["run_command: ls -a"]
    assert await logged_calls(runtime, thread) == [
        ("run_command", "ls -z", "failed"),
        ("run_command", "ls -a", "ok"),
        ("run_command", "ls -a", "ok"),
    ]
    # Two lookups: the session's lessons before the model call (a hit), and the command
    # about to run (`ls -a`, no lesson for it).
    assert counter("agent_session_cache_lookups_total", thread.tenant_id) == lookups_before + 2
    assert counter("agent_session_cache_hits_total", thread.tenant_id) == hits_before + 1


async def test_what_one_session_learned_stays_in_it_until_codified_into_a_skill(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    next_session = thread.model_copy(update={"thread_id": "thread-2"})
    stranger = next_session.model_copy(update={"tenant_id": f"t-{uuid.uuid4().hex[:10]}"})
    async with running_worker(client, runtime) as tq:
        await turn(client, thread, "run: ls -z\notherwise: ls -a", tq)
        before_codify = await turn(client, next_session, "run: ls -z", tq)
        request = CodifyInput(
            agent=thread.agent,
            session_id=thread.thread_id,
            command="ls  -z",
            target="skill",
            task_type="ls",
            operator="alice",
            request_id="codify-1",
        )
        codified = await client.execute_workflow(CodifyWorkflow.run, request, id=codify_id(request), task_queue=tq)
        after_codify = await turn(client, next_session, "run: ls -z", tq)
        other_tenant = await turn(client, stranger, "run: ls -z", tq)

    assert before_codify.outcome == "failed"  # the cache is per session: nothing carried over
    assert (codified.path, codified.tried, codified.instead) == ("/skills/ls.md", "ls -z", "ls -a")
    skill = await runtime.documents.latest(thread.agent, "/skills/ls.md")
    assert skill.author == "agent:codify:alice"
    assert after_codify.task_type == "ls"
    assert any(item.layer == Layer.PROCEDURAL for item in after_codify.manifest)
    assert after_codify.outcome == "succeeded" and after_codify.tools_used == ["run_command"]
    assert other_tenant.outcome == "failed"
    assert not any(item.layer == Layer.PROCEDURAL for item in other_tenant.manifest)


async def test_codifying_an_expired_entry_is_refused_and_writes_nothing(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    request = CodifyInput(
        agent=thread.agent,
        session_id=thread.thread_id,
        command="ls -z",
        target="notebook",
        operator="alice",
        request_id="codify-expired",
    )
    async with running_worker(client, runtime) as tq:
        with pytest.raises(Exception) as failure:
            await client.execute_workflow(CodifyWorkflow.run, request, id=codify_id(request), task_queue=tq)
    assert "expired" in str(failure.value.cause.cause)
    assert await runtime.notebook.read(thread.agent) is None


async def test_a_correction_applies_to_the_next_turn_and_its_reflected_lesson_waits_for_approval(
    time_skipping_env, runtime, thread
):
    client = time_skipping_env.client
    next_session = thread.model_copy(update={"thread_id": "thread-2"})
    async with running_worker(client, runtime) as tq:
        await turn(client, thread, "Hello, I will need a directory listing soon.", tq)
        receipt = await correct(
            client, thread, Correction(tried="ls -z", instead="ls -a", operator="alice"), request_id="fix-1"
        )
        corrected = await turn(client, thread, "run: ls -z", tq)
        # The next session of the same agent: the lesson is only proposed, so nothing changed yet.
        before_approval = await turn(client, next_session, "run: ls -z", tq)
        pending = await runtime.lessons.listed(tenant_id=thread.tenant_id)
        [proposed] = [lesson for lesson in pending if lesson.thread_id == thread.thread_id]
        review = LessonReviewInput(agent=thread.agent, lesson_id=proposed.id, verdict="approve", reviewer="bob")
        approved = await client.execute_workflow(
            LessonReviewWorkflow.run, review, id=lesson_review_id(review), task_queue=tq
        )
        later = await turn(client, next_session.model_copy(update={"thread_id": "thread-3"}), "run: ls -z", tq)

    assert (receipt.applies_to_turn, receipt.turn_running) == (2, False)
    assert corrected.outcome == "corrected" and corrected.corrections_applied == 1
    assert corrected.tools_used == ["run_command"]
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(select(corrections.c.turn, corrections.c.operator).where(
            corrections.c.tenant_id == thread.tenant_id))).all()
    assert rows == [(2, "alice")]
    assert (proposed.task_type, proposed.turn, proposed.status) == ("general", 2, "pending")
    assert "`ls -a`" in proposed.lesson
    assert before_approval.outcome == "failed"
    assert (approved.status, approved.path, approved.version) == ("approved", "/skills/general.md", 1)
    skill = await runtime.documents.latest(thread.agent, "/skills/general.md")
    assert skill.author == "agent:reflection" and "`ls -a`" in skill.content
    assert later.outcome == "succeeded" and later.tools_used == ["run_command"]
    episodes = await runtime.episodic.search(thread.agent, "what failed last time?", outcomes={Outcome.FAILED, Outcome.CORRECTED})
    assert "corrected" in [e.outcome for e in episodes]


async def test_a_correction_for_a_finished_conversation_is_refused_and_nothing_is_recorded(
    own_time_skipping_env, runtime, thread
):
    # Skips days to let the thread close: on a server of its own, no other test's work in
    # flight can hold its clock.
    time_skipping_env = own_time_skipping_env
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        with pytest.raises(NoRunningConversation, match="never started"):
            await correct(client, thread, Correction(tried="a", instead="b", operator="alice"))
        await turn(client, thread, "Hello there.", tq, limits=ConversationLimits(idle_timeout_hours=1))
        await time_skipping_env.sleep(timedelta(hours=2))  # idle: the conversation closes
        with pytest.raises(NoRunningConversation, match="completed"):
            await correct(client, thread, Correction(tried="a", instead="b", operator="alice"))
    async with runtime.engine.connect() as conn:
        assert (await conn.execute(select(corrections).where(corrections.c.tenant_id == thread.tenant_id))).all() == []
    with pytest.raises(LookupError):
        await runtime.session_cache.get(session(thread), "a")
