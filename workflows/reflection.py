"""Reflection after a failed or corrected episode: the model says what to do differently,
and the lesson waits for an operator. LessonReviewWorkflow records the verdict: an approved
lesson goes into the agent-authored skill for its task type (a skill an operator wrote, or
locked, is left as it is), a rejected one never reaches a prompt."""

from __future__ import annotations

from temporalio import workflow

from contract.names import LESSON_REVIEW_WORKFLOW, SKILL_REFLECTION_WORKFLOW

with workflow.unsafe.imports_passed_through():
    from activities.learning_models import (
        ReflectInput,
        ReflectionResult,
    )
    from activities.reflection import ReflectionActivities
    from contract.learning import LessonReviewed, LessonReviewInput
    from memory.core.refs import ThreadRef
    from workflows.options import MEMORY_IO, MODEL_CALL


def reflection_id(thread: ThreadRef, turn: int) -> str:
    return f"reflect/{thread.tenant_id}/{thread.agent_id}/{thread.thread_id}/turn-{turn}"


@workflow.defn(name=SKILL_REFLECTION_WORKFLOW)
class SkillReflectionWorkflow:
    @workflow.run
    async def run(self, request: ReflectInput) -> ReflectionResult:
        result = await workflow.execute_activity_method(
            ReflectionActivities.reflect,
            request,
            summary=f"skills: reflect on turn {request.turn} and update the agent's skill",
            **MODEL_CALL,
        )
        if result.status == "pending":
            workflow.set_current_details(
                f"**{result.path}**: lesson {result.lesson_id} waits for an operator's approval:\n\n{result.lesson}"
            )
        elif result.status == "updated":
            workflow.set_current_details(f"**{result.path} v{result.version}** gained a lesson:\n\n{result.lesson}")
        else:
            workflow.set_current_details(
                f"**{result.path} left unchanged**: it is operator-authored or locked.\n\nLesson not written: {result.lesson}"
            )
        return result


@workflow.defn(name=LESSON_REVIEW_WORKFLOW)
class LessonReviewWorkflow:
    """An operator's verdict on one proposed lesson; the id makes a second verdict wait
    for, then meet, the first one's answer."""

    @workflow.run
    async def run(self, request: LessonReviewInput) -> LessonReviewed:
        result = await workflow.execute_activity_method(
            ReflectionActivities.review_lesson,
            request,
            summary=f"skills: {request.reviewer} {request.verdict}s lesson {request.lesson_id}",
            **MEMORY_IO,
        )
        where = f"{result.path} v{result.version}" if result.version else result.path
        workflow.set_current_details(f"**lesson {result.lesson_id} {result.status}** by {request.reviewer} ({where})")
        return result
