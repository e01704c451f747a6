"""An operator's change to a skill (edit, lock, unlock) and a verdict on a sampled cache hit,
as activities: one service call each, bad input failing at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from contract.errors import INVALID_INPUT
from contract.operator_changes import (
    AuditReviewed,
    AuditVerdict,
    SkillChange,
    SkillChanged,
)
from memory.core.validation import InvalidInput

if TYPE_CHECKING:  # services are handed in; importing them is the worker's business
    from memory.documents.skills import Skill, SkillLibrary
    from memory.learning.cache_audit import CacheAudit


def _changed(skill: Skill) -> SkillChanged:
    return SkillChanged(
        task_type=skill.task_type,
        path=skill.path,
        version=skill.version,
        locked=skill.locked,
        author=skill.author,
        updated_at=skill.updated_at,
    )


class OperatorChangeActivities:
    def __init__(self, *, skills: SkillLibrary, audit: CacheAudit) -> None:
        self._skills = skills
        self._audit = audit

    @activity.defn(name="skill_operator_change")
    async def change_skill(self, change: SkillChange) -> SkillChanged:
        if change.action == "edit":
            if change.content is None:
                raise ApplicationError("an edit needs the skill's new text", type=INVALID_INPUT, non_retryable=True)
            skill = await self._skills.write_by_operator(
                change.agent,
                change.task_type,
                change.content,
                operator=change.operator,
                idempotency_key=f"{change.agent.tenant_id}/{change.agent.agent_id}/skill-change/{change.request_id}",
                lock=change.lock,
            )
        else:
            skill = await self._skills.set_locked(change.agent, change.task_type, change.action == "lock")
        return _changed(skill)

    @activity.defn(name="cache_audit_review")
    async def review_audit(self, verdict: AuditVerdict) -> AuditReviewed:
        try:
            entry = await self._audit.review(
                verdict.entry_id,
                verdict=verdict.verdict,
                reviewer=verdict.reviewer,
                note=verdict.note,
                tenant_id=verdict.tenant_id,
            )
        except InvalidInput as err:
            done = await self._audit.entry(verdict.entry_id, tenant_id=verdict.tenant_id)
            # A retry after a lost acknowledgement finds its own verdict recorded: that is success.
            if done is not None and done.review_status == verdict.verdict and done.reviewer == verdict.reviewer:
                entry = done
            else:
                raise ApplicationError(str(err), type=INVALID_INPUT, non_retryable=True) from err
        return AuditReviewed(
            entry_id=entry.id, verdict=entry.review_status, reviewer=entry.reviewer or "", tried=entry.tried, instead=entry.instead
        )
