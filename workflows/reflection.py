"""Reflection after a failed or corrected episode: the model says what to do differently,
and the lesson goes into the agent-authored skill for the episode's task type. A skill an
operator wrote, or locked, is left as it is."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.learning import LearningActivities
    from activities.learning_models import ReflectInput, ReflectionResult
    from memory.core.refs import ThreadRef
    from workflows.options import MODEL_CALL


def reflection_id(thread: ThreadRef, turn: int) -> str:
    return f"reflect/{thread.tenant_id}/{thread.agent_id}/{thread.thread_id}/turn-{turn}"


@workflow.defn
class SkillReflectionWorkflow:
    @workflow.run
    async def run(self, request: ReflectInput) -> ReflectionResult:
        result = await workflow.execute_activity_method(
            LearningActivities.reflect,
            request,
            summary=f"skills: reflect on turn {request.turn} and update the agent's skill",
            **MODEL_CALL,
        )
        if result.status == "updated":
            workflow.set_current_details(f"**{result.path} v{result.version}** gained a lesson:\n\n{result.lesson}")
        else:
            workflow.set_current_details(
                f"**{result.path} left unchanged**: it is operator-authored or locked.\n\nLesson not written: {result.lesson}"
            )
        return result
