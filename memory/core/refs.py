"""Who owns a piece of memory: tenant, agent, thread and (optionally) the end user the thread
belongs to, validated on construction."""

from __future__ import annotations

from pydantic import BaseModel, field_validator

from memory.core.validation import check_id


class AgentRef(BaseModel, frozen=True):
    tenant_id: str
    agent_id: str

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, value: str) -> str:
        return check_id("tenant", value)

    @field_validator("agent_id")
    @classmethod
    def _agent(cls, value: str) -> str:
        return check_id("agent", value)


class ThreadRef(AgentRef, frozen=True):
    thread_id: str
    # The person the agent serves in this thread; None keeps the thread agent-wide. A thread
    # belongs to at most one user, fixed by its first message (memory/conversation/thread_users.py).
    user_id: str | None = None

    @field_validator("thread_id")
    @classmethod
    def _thread(cls, value: str) -> str:
        return check_id("thread", value)

    @field_validator("user_id")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else check_id("user", value)

    @property
    def agent(self) -> AgentRef:
        return AgentRef(tenant_id=self.tenant_id, agent_id=self.agent_id)

    @property
    def key(self) -> str:
        """Stable text key, the prefix of every idempotency key written for this thread."""
        return f"{self.tenant_id}/{self.agent_id}/{self.thread_id}"
