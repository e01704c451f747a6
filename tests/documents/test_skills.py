"""Procedural memory: skills per task type, written by operators or learned by reflection."""

from __future__ import annotations

import asyncio

import pytest

from memory.core.validation import InvalidInput
from memory.documents.skills import SkillLibrary, SkillProtected
from memory.prompt.manifest import Layer

REFUNDS = "keywords: money back, chargeback\n# Refunds\n\nCheck the order date first.\n"


@pytest.fixture
def skills(runtime) -> SkillLibrary:
    return SkillLibrary(runtime.documents, runtime.engine)


async def test_a_message_is_classified_to_the_skill_it_is_about(skills, thread):
    agent = thread.agent
    await skills.write_by_operator(agent, "refunds", REFUNDS, operator="ana", idempotency_key=f"{thread.key}/s1")
    await skills.write_by_operator(
        agent, "password-reset", "# Password reset\n", operator="ana", idempotency_key=f"{thread.key}/s2"
    )
    await skills.write_by_operator(
        agent, "shipping", "# Shipping\n", operator="ana", idempotency_key=f"{thread.key}/s3"
    )

    assert await skills.task_types(agent) == ["password-reset", "refunds", "shipping"]
    assert await skills.classify(agent, "Can I get a REFUND for order 12?") == "refunds"
    assert await skills.classify(agent, "I was refunded twice") == "refunds"
    assert await skills.classify(agent, "I want my money back") == "refunds"
    assert await skills.classify(agent, "Please reset my password") == "password-reset"
    assert await skills.classify(agent, "I keep resetting passwords") == "password-reset"
    # One word of two is not enough: "password" alone does not make a reset.
    assert await skills.classify(agent, "what is a good password?") == "general"
    assert await skills.classify(agent, "When is my parcel shipped?") == "shipping"
    assert await skills.classify(agent, "Tell me a joke") == "general"
    # Word boundaries: "refundable" and "shipyard" are other words.
    assert await skills.classify(agent, "is this refundable at the shipyard") == "general"


async def test_ties_go_to_the_alphabetically_first_task_type(skills, thread):
    agent = thread.agent
    for n, task_type in enumerate(["returns", "exchanges"]):
        await skills.write_by_operator(
            agent, task_type, f"# {task_type}\n", operator="ana", idempotency_key=f"{thread.key}/t{n}"
        )
    assert await skills.classify(agent, "returns and exchanges") == "exchanges"


async def test_only_the_skill_of_the_task_type_is_loaded(skills, thread):
    agent = thread.agent
    await skills.write_by_operator(agent, "refunds", REFUNDS, operator="ana", idempotency_key=f"{thread.key}/s1")
    await skills.write_by_operator(
        agent, "shipping", "# Shipping\n", operator="ana", idempotency_key=f"{thread.key}/s2"
    )

    [skill] = await skills.load(agent, await skills.classify(agent, "I want a refund"))
    assert (skill.task_type, skill.path, skill.version, skill.content) == ("refunds", "/skills/refunds.md", 1, REFUNDS)
    assert skill.operator_authored and skill.author == "operator:ana"
    item = skill.context_item()
    assert (item.layer, item.source_id) == (Layer.PROCEDURAL, skill.version_id)
    assert item.label == "skill /skills/refunds.md v1 (operator)"
    assert await skills.load(agent, "general") == []


async def test_reflection_appends_lessons_to_the_agents_own_skill(skills, thread):
    agent = thread.agent
    first = await skills.reflect(
        agent, "refunds", "Ask for the order number first.", idempotency_key=f"{thread.key}/r1"
    )
    assert first.content == "# refunds\n\n## Lessons\n- Ask for the order number first.\n"
    assert (first.author, first.operator_authored, first.locked) == ("agent:reflection", False, False)

    second = await skills.reflect(
        agent, "refunds", "Refunds over\n 100 need approval.", idempotency_key=f"{thread.key}/r2"
    )
    assert second.version == 2
    assert second.content.endswith("- Ask for the order number first.\n- Refunds over 100 need approval.\n")
    assert second.context_item().label == "skill /skills/refunds.md v2 (agent)"


async def test_a_lesson_goes_into_the_lessons_section_not_after_later_sections(skills, thread):
    agent = thread.agent
    written = "# Billing\n\n## Lessons\n- Quote the invoice number.\n\n## Escalation\nAsk Bo.\n"
    await skills.write_by_operator(agent, "billing", written, operator="ana", idempotency_key=f"{thread.key}/s1")
    skill = await skills.append_lesson(
        agent,
        "billing",
        "Invoices older than a year are archived.",
        author="agent:codify:ana",
        idempotency_key=f"{thread.key}/c1",
    )
    assert skill.content == (
        "# Billing\n\n## Lessons\n- Quote the invoice number.\n- Invoices older than a year are archived.\n"
        "\n## Escalation\nAsk Bo.\n"
    )
    # A lesson the skill already teaches adds no version.
    again = await skills.append_lesson(
        agent, "billing", "Quote the invoice number.", author="agent:codify:ana", idempotency_key=f"{thread.key}/c2"
    )
    assert again.version_id == skill.version_id


async def test_a_retried_reflection_adds_one_version(skills, runtime, thread):
    agent = thread.agent
    key = f"{thread.key}/episode-7/reflect"
    first = await skills.reflect(agent, "refunds", "Check the order date.", idempotency_key=key)
    retried = await skills.reflect(agent, "refunds", "Check the order date.", idempotency_key=key)
    assert retried.version_id == first.version_id
    versions = await runtime.documents.history(agent, "/skills/refunds.md")
    assert [v.version for v in versions] == [1]
    assert versions[0].content.count("Check the order date.") == 1


async def test_reflection_may_not_touch_an_operator_authored_skill(skills, runtime, thread):
    agent = thread.agent
    await skills.write_by_operator(agent, "refunds", REFUNDS, operator="ana", idempotency_key=f"{thread.key}/s1")
    with pytest.raises(SkillProtected, match="operator:ana"):
        await skills.reflect(agent, "refunds", "Skip the date check.", idempotency_key=f"{thread.key}/r1")
    versions = await runtime.documents.history(agent, "/skills/refunds.md")
    assert [(v.version, v.content) for v in versions] == [(1, REFUNDS)]

    # An operator codifying a learned lesson may add to their own skill; it stays theirs.
    codified = await skills.append_lesson(
        agent, "refunds", "Use the v2 refunds API.", author="agent:codify:ana", idempotency_key=f"{thread.key}/c1"
    )
    assert codified.operator_authored and codified.content.endswith("## Lessons\n- Use the v2 refunds API.\n")
    with pytest.raises(SkillProtected):
        await skills.reflect(agent, "refunds", "Skip the date check.", idempotency_key=f"{thread.key}/r2")


async def test_a_locked_skill_changes_only_by_an_operators_edit(skills, runtime, thread):
    agent = thread.agent
    await skills.reflect(agent, "refunds", "Check the order date.", idempotency_key=f"{thread.key}/r1")
    locked = await skills.set_locked(agent, "refunds", True)
    assert locked.locked and not locked.operator_authored

    with pytest.raises(SkillProtected, match="locked"):
        await skills.reflect(agent, "refunds", "Skip the date check.", idempotency_key=f"{thread.key}/r2")
    with pytest.raises(SkillProtected, match="locked"):
        await skills.append_lesson(
            agent, "refunds", "Skip the date check.", author="agent:codify:ana", idempotency_key=f"{thread.key}/c1"
        )
    assert len(await runtime.documents.history(agent, "/skills/refunds.md")) == 1

    edited = await skills.write_by_operator(
        agent, "refunds", "# Refunds\nAlways check the date.\n", operator="ana", idempotency_key=f"{thread.key}/s1"
    )
    assert (edited.version, edited.locked) == (2, True)
    unlocked = await skills.set_locked(agent, "refunds", False)
    assert not unlocked.locked
    # Unlocked, but an operator wrote it last, so reflection still may not change it.
    with pytest.raises(SkillProtected, match="operator"):
        await skills.reflect(agent, "refunds", "Skip the date check.", idempotency_key=f"{thread.key}/r3")


async def test_an_operator_can_lock_while_writing(skills, thread):
    skill = await skills.write_by_operator(
        thread.agent, "refunds", REFUNDS, operator="ana", idempotency_key=f"{thread.key}/s1", lock=True
    )
    assert skill.locked
    with pytest.raises(InvalidInput, match="no skill"):
        await skills.set_locked(thread.agent, "shipping", True)


async def test_skills_are_private_to_their_agent_and_tenant(skills, thread):
    agent = thread.agent
    await skills.write_by_operator(agent, "refunds", REFUNDS, operator="ana", idempotency_key=f"{thread.key}/s1")
    other_agent = agent.model_copy(update={"agent_id": "sales"})
    other_tenant = agent.model_copy(update={"tenant_id": f"{agent.tenant_id}-b"})
    for other in (other_agent, other_tenant):
        assert await skills.task_types(other) == []
        assert await skills.classify(other, "I want a refund") == "general"
        assert await skills.load(other, "refunds") == []


@pytest.mark.parametrize("task_type", ["Refunds", "-refunds", "refunds/../x", "a" * 64, "", "re funds"])
async def test_malformed_task_types_are_refused(skills, thread, task_type):
    with pytest.raises(InvalidInput, match="task type"):
        await skills.load(thread.agent, task_type)


@pytest.mark.parametrize("lesson", ["", "   ", "a" * 2001, "nul\x00byte"])
async def test_unusable_lessons_are_refused(skills, thread, lesson):
    with pytest.raises(InvalidInput):
        await skills.reflect(thread.agent, "refunds", lesson, idempotency_key=f"{thread.key}/r1")
    assert await skills.load(thread.agent, "refunds") == []


async def test_concurrent_lessons_are_all_kept(skills, runtime, thread):
    agent = thread.agent
    lessons = [f"Lesson number {n}." for n in range(6)]
    await asyncio.gather(
        *(
            skills.reflect(agent, "refunds", lesson, idempotency_key=f"{thread.key}/r{n}")
            for n, lesson in enumerate(lessons)
        )
    )
    [skill] = await skills.load(agent, "refunds")
    assert skill.version == len(lessons)
    assert all(f"- {lesson}\n" in skill.content for lesson in lessons)
