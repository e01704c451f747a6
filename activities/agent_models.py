"""Typed inputs and outputs of the agent activities."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from activities.learning_models import SessionRef
from memory.agents.models import AgentSpec, McpTool
from memory.core.refs import AgentRef


class FetchToolsInput(BaseModel):
    agent: AgentRef
    spec: AgentSpec


class SaveDefinitionInput(BaseModel):
    agent: AgentRef
    spec: AgentSpec
    mcp_tools: list[McpTool]
    author: str
    note: str = ""
    based_on: int | None = None
    idempotency_key: str


class McpCallInput(BaseModel):
    """One MCP tool call: the server and schema are read from the agent version, so neither
    a command line nor a URL travels through history."""

    session: SessionRef
    turn: int = Field(ge=1)
    call_id: str
    agent_version: int = Field(ge=1)
    tool: str
    arguments: dict[str, Any]
