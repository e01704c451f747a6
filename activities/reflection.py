"""Reflection activities of the background work after a failed or corrected episode: propose a
lesson, and an operator's verdict on one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.learning_models import ReflectInput, ReflectionResult
from activities.tracing import traced
from contract.errors import INVALID_INPUT
from contract.learning import LessonReviewed, LessonReviewInput
from memory.documents.skills import SkillProtected

if TYPE_CHECKING:  # services are handed in; importing them is the worker's business
    from memory.documents.path_store import DocumentStore
    from memory.learning.lesson_review import LessonReview
    from memory.learning.reflection import Reflector


class ReflectionActivities:
    def __init__(self, *, reflector: Reflector, lessons: LessonReview, documents: DocumentStore) -> None:
        self._reflector = reflector
        self._lessons = lessons
        self._documents = documents

    @activity.defn(name="skill_reflect")
    @traced("skills", "reflect")
    async def reflect(self, request: ReflectInput) -> ReflectionResult:
        proposed = await self._reflector.propose_lesson(request.thread, request.turn, request.episode_id)
        return ReflectionResult(status="pending", path=proposed.path, lesson=proposed.lesson, lesson_id=proposed.id)

    @activity.defn(name="skill_lesson_review")
    @traced("skills", "review")
    async def review_lesson(self, request: LessonReviewInput) -> LessonReviewed:
        try:
            if request.verdict == "approve":
                done = await self._lessons.approve(
                    request.agent, request.lesson_id, reviewer=request.reviewer, note=request.note
                )
            else:
                done = await self._lessons.reject(
                    request.agent, request.lesson_id, reviewer=request.reviewer, note=request.note
                )
        except SkillProtected as err:
            raise ApplicationError(
                f"{err}; the lesson stays pending: add it to the skill yourself, or reject it",
                type=INVALID_INPUT,
                non_retryable=True,
            ) from err
        version = None
        if done.document_version_id is not None:
            version = (await self._documents.version_by_id(request.agent, done.document_version_id)).version
        return LessonReviewed(lesson_id=done.id, status=done.status, path=done.path, lesson=done.lesson, version=version)
