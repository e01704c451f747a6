"""What a forget request names and what a survey of it found. Database-free: workflows and
clients use these types."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from memory.core.refs import ThreadRef
from memory.core.validation import check_id


class ForgetScope(BaseModel, frozen=True):
    """One user of a tenant, or (user_id None) the whole tenant."""

    tenant_id: str
    user_id: str | None = None

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, value: str) -> str:
        return check_id("tenant", value)

    @field_validator("user_id")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else check_id("user", value)

    @property
    def label(self) -> str:
        return f"user {self.user_id} of tenant {self.tenant_id}" if self.user_id else f"tenant {self.tenant_id}"


class ForgetSurvey(BaseModel):
    """Everything a forget erases, found before anything is erased. The erasing steps work
    from this list (recorded in the workflow's history), so a resumed forget erases the same
    things and reports the same counts however far an earlier attempt got."""

    scope: ForgetScope
    threads: list[ThreadRef] = []
    graph_groups: list[str] = []
    # Rows per Postgres table, graph nodes and edges, Redis keys and Temporal executions,
    # as "<layer>.<what>": e.g. "postgres.messages", "graph.nodes", "temporal.executions".
    counts: dict[str, int] = {}
    surveyed_at: datetime


class ForgetAudit(BaseModel):
    forget_key: str = Field(min_length=1, max_length=300)
    scope: ForgetScope
    operator: str
    reason: str
    counts: dict[str, int]
    requested_at: datetime
