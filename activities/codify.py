"""Codify as an activity: the operator's one way from the session cache into a skill or the notebook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from contract.errors import CACHE_ENTRY_EXPIRED, INVALID_INPUT
from contract.learning import CodifyInput, CodifyResult
from memory.documents.skills import SkillProtected
from memory.learning.session_cache import CacheEntryNotFound, SessionContext

if TYPE_CHECKING:  # services are handed in; importing them is the worker's business
    from memory.learning.codify import Codifier


class CodifyActivities:
    def __init__(self, *, codifier: Codifier) -> None:
        self._codifier = codifier

    @activity.defn(name="codify")
    async def codify(self, request: CodifyInput) -> CodifyResult:
        ctx = SessionContext(
            tenant_id=request.agent.tenant_id,
            agent_id=request.agent.agent_id,
            project=request.project,
            session_id=request.session_id,
        )
        try:
            done = await self._codifier.codify(
                ctx,
                request.command,
                target=request.target,
                task_type=request.task_type,
                operator=request.operator,
                idempotency_key=f"{ctx.tenant_id}/{ctx.agent_id}/codify/{request.request_id}",
            )
        except CacheEntryNotFound as err:
            raise ApplicationError(str(err), type=CACHE_ENTRY_EXPIRED, non_retryable=True) from err
        except SkillProtected as err:
            raise ApplicationError(str(err), type=INVALID_INPUT, non_retryable=True) from err
        return CodifyResult(**done.model_dump())
