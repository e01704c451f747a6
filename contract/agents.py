"""What clients send to save an agent definition, and what they get back."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from contract.conversation import ConversationLimits
from memory.agents.models import AgentSpec
from memory.core.refs import AgentRef


def agent_definition_workflow_id(agent: AgentRef, request_id: str) -> str:
    return f"agent-definition/{agent.tenant_id}/{agent.agent_id}/{request_id}"


class SaveAgentDefinition(BaseModel):
    agent: AgentRef
    spec: AgentSpec
    author: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=2_000)
    # The version this change was based on (update): refused if someone saved since.
    # None for create, which is refused if the agent exists already.
    based_on: int | None = None
    create: bool = False

    @model_validator(mode="after")
    def _limits(self) -> "SaveAgentDefinition":
        # The agent's limits are those of a thread: refuse what a thread would refuse.
        ConversationLimits.model_validate(self.spec.limits)
        return self


class AgentSaved(BaseModel):
    agent_id: str
    version: int
    tools: list[str]
