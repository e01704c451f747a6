"""What a user defines an agent as, and a saved version of it. Database-free.

A definition says who the agent is (instructions), which model answers for it, which
tools it may call (built-in memory tools and tools of MCP servers), its conversation
limits and which memory layers it reads. Every save is a new version; a turn records the
version that answered it. Keys are never stored: a definition names the environment
variable that holds one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from memory.llm.base import ToolSpec
from memory.prompt.manifest import Layer

MAX_INSTRUCTIONS_CHARS = 20_000
MAX_MCP_SERVERS = 8
MAX_MCP_TOOLS = 64
MODEL_PROVIDERS = ("anthropic", "openai", "offline")
# The memory tools the runtime itself provides; an agent may leave any of them out
# (run_command most of all), and no MCP tool may take one of their names.
BUILTIN_TOOLS = ("notebook_edit", "recall_search", "load_skill", "run_command", "scratch_note")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ENV_VAR = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")


# Why a definition is refused, as stable names: the error type of a refused field, and the
# Temporal error type of a refusal found when its MCP servers are asked. The front door
# answers with them as error codes.
UNKNOWN_PROVIDER = "unknown_provider"
INSTRUCTIONS_EMPTY = "instructions_empty"
INSTRUCTIONS_TOO_LONG = "instructions_too_long"
TOOL_NAME_CONFLICT = "tool_name_conflict"
MCP_SERVER_UNREACHABLE = "mcp_server_unreachable"
MCP_TOOL_INVALID = "mcp_tool_invalid"
# The agent exists already (create), or someone saved since the version an update was based on.
VERSION_CONFLICT = "version_conflict"


class AgentDefinitionInvalid(ValueError):
    """A definition that can never be saved as it is: the message says what to change."""

    def __init__(self, message: str, *, code: str = TOOL_NAME_CONFLICT):
        super().__init__(message)
        self.code = code


class McpServer(BaseModel, frozen=True):
    """An MCP server whose tools the agent may call: streamable HTTP, or a local command over stdio."""

    name: str = Field(pattern=_NAME.pattern)
    transport: Literal["http", "stdio"]
    url: str | None = None
    command: list[str] = []
    cwd: str | None = None
    # Environment for a stdio server, as NAME -> name of a worker environment variable,
    # so no secret is ever stored in the definition.
    env_from: dict[str, str] = {}
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _endpoint(self) -> "McpServer":
        if self.transport == "http" and not (self.url and self.url.startswith(("http://", "https://"))):
            raise ValueError(f"MCP server {self.name!r} uses HTTP and needs an http(s):// url")
        if self.transport == "stdio" and not self.command:
            raise ValueError(f"MCP server {self.name!r} uses stdio and needs a command to start it")
        for variable in self.env_from.values():
            if not _ENV_VAR.fullmatch(variable):
                raise ValueError(f"MCP server {self.name!r}: {variable!r} is not an environment variable name")
        return self


class AgentSpec(BaseModel):
    """What an operator writes. Validated whole before anything is fetched or saved."""

    instructions: str
    # provider/model: anthropic/claude-sonnet-4-5, openai/gpt-4o-mini, openai/llama3.1 on an
    # Ollama base URL, offline/offline-deterministic-v1 for tests and trials.
    model: str = "offline/offline-deterministic-v1"
    # OpenAI-compatible endpoints only: where they answer and which variable holds the key.
    base_url: str | None = None
    api_key_env: str | None = None
    max_output_tokens: int = Field(default=1024, ge=1, le=64_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    builtin_tools: list[str] = list(BUILTIN_TOOLS)
    mcp_servers: list[McpServer] = Field(default=[], max_length=MAX_MCP_SERVERS)
    # ConversationLimits fields for this agent's new threads (validated by the contract).
    limits: dict[str, Any] = {}
    reads: list[Layer] = list(Layer)

    @field_validator("instructions")
    @classmethod
    def _instructions(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError(INSTRUCTIONS_EMPTY, "instructions are empty: say who the agent is and how it works")
        if len(value) > MAX_INSTRUCTIONS_CHARS:
            raise PydanticCustomError(
                INSTRUCTIONS_TOO_LONG,
                "instructions are {length} characters; the limit is {limit}",
                {"length": len(value), "limit": MAX_INSTRUCTIONS_CHARS},
            )
        if "\x00" in value:
            raise ValueError("instructions contain a NUL byte")
        return value

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        provider, _, name = value.partition("/")
        if provider not in MODEL_PROVIDERS:
            raise PydanticCustomError(
                UNKNOWN_PROVIDER,
                "model '{model}' has unknown provider '{provider}'; known providers: {known}",
                {"model": value, "provider": provider, "known": ", ".join(MODEL_PROVIDERS)},
            )
        if not name.strip():
            raise ValueError(f"model {value!r} names no model: write provider/model")
        return value

    @field_validator("api_key_env")
    @classmethod
    def _key_env(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_VAR.fullmatch(value):
            raise ValueError(f"api_key_env {value!r} is not an environment variable name (the key itself is never stored)")
        return value

    @field_validator("builtin_tools")
    @classmethod
    def _builtins(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(BUILTIN_TOOLS))
        if unknown:
            raise ValueError(f"unknown built-in tool(s) {', '.join(unknown)}; built-in tools: {', '.join(BUILTIN_TOOLS)}")
        return [tool for tool in BUILTIN_TOOLS if tool in value]

    @model_validator(mode="after")
    def _consistent(self) -> "AgentSpec":
        names = [server.name for server in self.mcp_servers]
        if len(set(names)) != len(names):
            raise ValueError("two MCP servers have the same name")
        if self.base_url is not None:
            if self.provider != "openai":
                raise ValueError("base_url is for OpenAI-compatible endpoints: use an openai/<model> model")
            if not self.base_url.startswith(("http://", "https://")):
                raise ValueError(f"base_url {self.base_url!r} is not an http(s):// URL")
        return self

    @property
    def provider(self) -> str:
        return self.model.partition("/")[0]

    @property
    def model_name(self) -> str:
        return self.model.partition("/")[2]


class McpTool(BaseModel, frozen=True):
    """A tool an MCP server listed when the version was saved: cached with the version so the
    prompt stays the same from turn to turn."""

    server: str
    name: str
    description: str
    input_schema: dict[str, Any]
    # From the server's annotations: a tool that only reads (or is idempotent) may be retried.
    retry_safe: bool = False

    def spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, input_schema=self.input_schema)


class AgentVersion(BaseModel):
    tenant_id: str
    agent_id: str
    version: int
    spec: AgentSpec
    mcp_tools: list[McpTool] = []
    author: str
    note: str = ""
    created_at: datetime

    def tool_names(self) -> list[str]:
        return [*self.spec.builtin_tools, *(tool.name for tool in self.mcp_tools)]


class AnsweringAgent(BaseModel):
    """The version that answered a turn, as the workflow needs it: to route and refuse tool
    calls, and to record the layers the model read. Small: no schemas, no instructions."""

    agent_id: str
    version: int
    builtin: list[str]
    mcp: dict[str, "McpRoute"] = {}
    reads: list[Layer] = list(Layer)
    # The definition's ConversationLimits fields: they apply to the agent's threads, under
    # the limits a thread's caller set itself.
    limits: dict[str, Any] = {}

    def allows(self, name: str) -> bool:
        return name in self.builtin or name in self.mcp


class McpRoute(BaseModel):
    server: str
    timeout_seconds: float
    retry_safe: bool = False


AnsweringAgent.model_rebuild()


def check_tool_names(spec: AgentSpec, tools: list[McpTool]) -> None:
    """Refuse MCP tools the model could confuse with a memory tool or with each other."""
    seen: dict[str, str] = {}
    for tool in tools:
        if not _NAME.fullmatch(tool.name):
            raise AgentDefinitionInvalid(
                f"MCP server {tool.server!r}: tool name {tool.name!r} is not usable (letters, digits, _ and -, up to 64)",
                code=MCP_TOOL_INVALID,
            )
        if tool.name in BUILTIN_TOOLS:
            raise AgentDefinitionInvalid(
                f"MCP server {tool.server!r}: tool {tool.name!r} has the name of a memory tool; rename it on the server"
            )
        if tool.name in seen:
            raise AgentDefinitionInvalid(
                f"tool {tool.name!r} is offered by both MCP servers {seen[tool.name]!r} and {tool.server!r}"
            )
        seen[tool.name] = tool.server
    if len(tools) > MAX_MCP_TOOLS:
        raise AgentDefinitionInvalid(
            f"the MCP servers offer {len(tools)} tools; an agent may have {MAX_MCP_TOOLS}", code=MCP_TOOL_INVALID
        )
