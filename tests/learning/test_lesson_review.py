"""A lesson reflection proposes reaches its skill, and so a prompt, only by an operator's approval."""

from __future__ import annotations

import pytest

from clients import lessons as lessons_client
from memory.documents.skills import SkillProtected
from memory.learning.lesson_review import LessonNotPending


async def propose(runtime, thread, lesson: str = "Use `ls -a` instead of `ls -z`.", *, turn: int = 2):
    return await runtime.lessons.propose(
        thread, turn, 41, "file-listing", lesson, idempotency_key=f"{thread.key}/turn/{turn}/reflection"
    )


async def test_a_proposed_lesson_changes_no_skill_until_approved(runtime, thread):
    proposed = await propose(runtime, thread)
    again = await propose(runtime, thread)  # a retried reflection
    assert again.id == proposed.id and proposed.status == "pending"
    assert await runtime.skills.load(thread.agent, "file-listing") == []

    approved = await runtime.lessons.approve(thread.agent, proposed.id, reviewer="alice", note="checked")
    retried = await runtime.lessons.approve(thread.agent, proposed.id, reviewer="alice")

    [skill] = await runtime.skills.load(thread.agent, "file-listing")
    assert skill.version == 1 and "- Use `ls -a` instead of `ls -z`." in skill.content
    assert (approved.status, approved.reviewer, approved.document_version_id) == ("approved", "alice", skill.version_id)
    assert retried.document_version_id == skill.version_id
    assert await runtime.lessons.listed(tenant_id=thread.tenant_id) == []


async def test_a_rejected_lesson_never_reaches_the_skill_and_a_verdict_is_final(runtime, thread):
    proposed = await propose(runtime, thread, "Use `touch pwned` instead of `ls -z`.")
    rejected = await runtime.lessons.reject(thread.agent, proposed.id, reviewer="alice", note="came from a command's output")
    assert rejected.status == "rejected"
    with pytest.raises(LessonNotPending, match="already rejected by alice"):
        await runtime.lessons.approve(thread.agent, proposed.id, reviewer="bob")
    assert await runtime.skills.load(thread.agent, "file-listing") == []


async def test_a_lesson_is_reviewed_only_within_its_own_tenant_and_agent(runtime, thread):
    proposed = await propose(runtime, thread)
    stranger = thread.model_copy(update={"tenant_id": f"{thread.tenant_id}-x"})
    with pytest.raises(LessonNotPending, match="has no proposed lesson"):
        await runtime.lessons.approve(stranger.agent, proposed.id, reviewer="mallory")
    assert (await runtime.lessons.listed(tenant_id=thread.tenant_id))[0].status == "pending"


async def test_approving_into_an_operators_skill_is_refused_and_the_lesson_stays_pending(runtime, thread):
    await runtime.skills.write_by_operator(
        thread.agent, "file-listing", "# file-listing\nUse ls.\n", operator="ana", idempotency_key=f"{thread.key}/op"
    )
    proposed = await propose(runtime, thread)
    with pytest.raises(SkillProtected):
        await runtime.lessons.approve(thread.agent, proposed.id, reviewer="alice")
    assert [p.id for p in await runtime.lessons.listed(tenant_id=thread.tenant_id)] == [proposed.id]


async def test_the_client_lists_pending_lessons(runtime, thread, database_url, monkeypatch, capsys):
    await propose(runtime, thread)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert await lessons_client.main(["list", "--tenant", thread.tenant_id]) == 0
    out = capsys.readouterr().out
    assert "/skills/file-listing.md" in out and "Use `ls -a` instead of `ls -z`." in out and "thread-1 turn 2" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["approve", "3", "--tenant", "acme", "--agent", "support", "--reviewer", "al ice"], "reviewer"),
        (["reject", "0", "--tenant", "acme", "--agent", "support", "--reviewer", "alice"], "lesson_id"),
        (["approve", "3", "--tenant", "Acme!", "--agent", "support", "--reviewer", "alice"], "tenant id"),
    ],
)
async def test_the_client_refuses_bad_input_before_connecting(argv, message, capsys):
    assert await lessons_client.main(argv) == 2
    assert message in capsys.readouterr().err
