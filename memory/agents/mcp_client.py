"""Talk to an agent's MCP servers: list their tools (when a definition is saved) and call one.

A connection lives for one operation: a stdio server is started for the call and stopped
after it, an HTTP session is opened and closed. Tool calls are rare next to model calls,
and a connection that outlives an activity would outlive the worker that made it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import jsonschema
from mcp import Client, StdioServerParameters

from memory.agents.models import McpServer, McpTool

MAX_DESCRIPTION_CHARS = 2_000


class McpServerUnavailable(Exception):
    """The server did not start, did not answer or went away."""


class McpToolInvalid(Exception):
    """The server offers a tool the runtime cannot offer a model (its schema is not a schema)."""


class McpCallResult:
    def __init__(self, text: str, is_error: bool):
        self.text = text
        self.is_error = is_error


def _client(server: McpServer, environ: Mapping[str, str]) -> Client:
    if server.transport == "http":
        assert server.url is not None
        target: str | StdioServerParameters = server.url
    else:
        env = {name: environ[variable] for name, variable in server.env_from.items() if variable in environ}
        env.setdefault("PATH", environ.get("PATH", os.defpath))
        target = StdioServerParameters(command=server.command[0], args=list(server.command[1:]), env=env, cwd=server.cwd)
    # No client-side cache: the tool list is fetched on purpose, when a definition is saved.
    return Client(target, read_timeout_seconds=server.timeout_seconds, cache=None, mode="legacy")


async def list_tools(server: McpServer, *, environ: Mapping[str, str] | None = None) -> list[McpTool]:
    """The server's tools, each with a schema checked to be a valid JSON schema of an object."""
    try:
        async with asyncio.timeout(server.timeout_seconds):
            async with _client(server, os.environ if environ is None else environ) as client:
                listed = await client.list_tools()
    except TimeoutError:
        raise McpServerUnavailable(
            f"MCP server {server.name!r} did not list its tools within {server.timeout_seconds:g} s"
        ) from None
    except Exception as err:  # noqa: BLE001 - anything the transport raises means "not reachable"
        raise McpServerUnavailable(f"MCP server {server.name!r} is not reachable: {_describe(err)}") from None
    return [_tool(server, tool) for tool in listed.tools]


def _tool(server: McpServer, tool: Any) -> McpTool:
    schema = tool.input_schema
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as err:
        raise McpToolInvalid(f"MCP server {server.name!r}: tool {tool.name!r} has an invalid input schema: {err.message}") from None
    if schema.get("type") != "object":
        raise McpToolInvalid(f"MCP server {server.name!r}: tool {tool.name!r} must take an object of arguments")
    hints = tool.annotations
    return McpTool(
        server=server.name,
        name=tool.name,
        description=(tool.description or tool.name)[:MAX_DESCRIPTION_CHARS],
        input_schema=schema,
        # Only the server's own word that a call changes nothing makes a retry safe.
        retry_safe=bool(hints and (hints.read_only_hint or hints.idempotent_hint)),
    )


def argument_problem(tool_name: str, schema: dict[str, Any], arguments: Any) -> str | None:
    """Why the arguments do not fit the tool's schema, or None: checked before anything is sent."""
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{tool_name}: {where + ': ' if where else ''}{error.message}"


async def call_tool(
    server: McpServer,
    tool: str,
    arguments: dict[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
) -> McpCallResult:
    """One call. A tool that reports an error is a result (the model reads it); a server that
    cannot be reached, or goes away before it answers, raises McpServerUnavailable saying which."""
    result = None
    phase = "connect"
    try:
        async with _client(server, os.environ if environ is None else environ) as client:
            phase = "call"
            result = await client.call_tool(tool, arguments, read_timeout_seconds=server.timeout_seconds)
    except Exception as err:  # noqa: BLE001 - anything the transport raises means the server is gone
        if phase == "connect":
            raise McpServerUnavailable(
                f"MCP server {server.name!r} is not reachable, so {tool} was not called: {_describe(err)}"
            ) from None
        if result is None:
            raise McpServerUnavailable(
                f"MCP server {server.name!r} went away during {tool}, before it answered: {_describe(err)}"
            ) from None
        # The server answered and then broke the connection while it was being closed: the answer stands.
    parts = [block.text for block in result.content if getattr(block, "type", None) == "text"]
    if not parts and result.structured_content is not None:
        parts.append(str(result.structured_content))
    return McpCallResult("\n".join(parts) or "(no output)", bool(result.is_error))


def _describe(err: BaseException) -> str:
    # Transport errors often arrive wrapped in task groups: the innermost one says what happened.
    while isinstance(err, BaseExceptionGroup) and len(err.exceptions) == 1:
        err = err.exceptions[0]
    if isinstance(err, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in err.exceptions)
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
