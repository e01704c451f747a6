"""Typed input and output of the forget workflow, and its id."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from memory.core.validation import check_storable
from memory.forget.models import ForgetScope

REQUEST_ID = r"^[A-Za-z0-9_.:-]{1,100}$"


class ForgetRequest(BaseModel):
    scope: ForgetScope
    # Who asked (recorded in the audit row) and why.
    operator: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2_000)
    # Only survey: say what would be erased, erase nothing, record nothing.
    dry_run: bool = False
    # Names the forget: the same request id is the same forget (its workflow id).
    request_id: str = Field(pattern=REQUEST_ID)

    @field_validator("operator", "reason")
    @classmethod
    def _text(cls, value: str) -> str:
        return check_storable("operator and reason", value)


class ForgetReport(BaseModel):
    scope: ForgetScope
    dry_run: bool
    # Per layer, as "<layer>.<what>": rows per Postgres table, graph nodes and edges, Redis
    # keys, Temporal executions, data keys. What was erased, or (dry run) what would be.
    counts: dict[str, int]
    forget_key: str

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def forget_workflow_id(request: ForgetRequest) -> str:
    scope = request.scope
    # "_tenant" cannot be a user id (ids start with a letter or digit).
    return f"forget/{scope.tenant_id}/{scope.user_id or '_tenant'}/{request.request_id}"
