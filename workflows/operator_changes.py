"""An operator's change to a skill, and a verdict on a sampled session-cache hit. Each is one
acknowledged activity; the workflow id makes a resend meet the first answer, and the run's
details say who did what in the Temporal UI."""

from __future__ import annotations

from temporalio import workflow

from contract.names import CACHE_AUDIT_REVIEW_WORKFLOW, SKILL_CHANGE_WORKFLOW

with workflow.unsafe.imports_passed_through():
    from activities.operator_changes import OperatorChangeActivities
    from contract.operator_changes import (
        AuditReviewed,
        AuditVerdict,
        SkillChange,
        SkillChanged,
    )
    from workflows.options import MEMORY_IO


@workflow.defn(name=SKILL_CHANGE_WORKFLOW)
class SkillChangeWorkflow:
    @workflow.run
    async def run(self, change: SkillChange) -> SkillChanged:
        result = await workflow.execute_activity_method(
            OperatorChangeActivities.change_skill,
            change,
            summary=f"skills: {change.operator} {change.action}s /skills/{change.task_type}.md",
            **MEMORY_IO,
        )
        state = "locked" if result.locked else "unlocked"
        workflow.set_current_details(f"**{result.path} v{result.version}** {change.action} by {change.operator} ({state})")
        return result


@workflow.defn(name=CACHE_AUDIT_REVIEW_WORKFLOW)
class CacheAuditReviewWorkflow:
    @workflow.run
    async def run(self, verdict: AuditVerdict) -> AuditReviewed:
        result = await workflow.execute_activity_method(
            OperatorChangeActivities.review_audit,
            verdict,
            summary=f"session cache: {verdict.reviewer} {verdict.verdict} audit entry {verdict.entry_id}",
            **MEMORY_IO,
        )
        workflow.set_current_details(
            f"**audit entry {result.entry_id} {result.verdict}** by {result.reviewer}: `{result.tried}` -> `{result.instead}`"
        )
        return result
