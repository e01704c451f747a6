"""Agent definitions through the front door, over real HTTP in front of a real worker: an
operator creates, updates, shows, lists and diffs them (also with `agent-memory agents`); a
bad definition is refused with its own error code and nothing is saved."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from memory.core.schema import agent_definitions
from tests.agents.test_agent_mcp_tools import stdio_server
from tests.api_server import as_key, serving
from tests.conftest import running_worker

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = {"instructions": "You are Acme's support agent. Answer in one short paragraph.", "limits": {"max_tool_iterations": 2}}
pytestmark = pytest.mark.timeout(300)


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


async def saved_versions(runtime, tenant_id: str) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(
            select(func.count()).select_from(agent_definitions).where(agent_definitions.c.tenant_id == tenant_id)
        )


async def test_an_operator_defines_updates_and_reads_an_agent_over_http(time_skipping_env, runtime):
    client = time_skipping_env.client
    tenant_id = tenant()
    async with running_worker(client, runtime) as tq, serving(client, runtime, tq) as (url, keys):
        operator = await keys.create(tenant_id, "operator", name="ops", created_by="test")
        reader = await keys.create(tenant_id, "read", name="dashboard", created_by="test")
        async with as_key(url, operator.secret) as http:
            created = await http.post("/v1/agents", json={"agent_id": "support", "definition": SUPPORT, "note": "first"})
            changed = {**SUPPORT, "instructions": SUPPORT["instructions"] + " Answer in French.", "builtin_tools": ["notebook_edit"]}
            updated = await http.put("/v1/agents/support", json={"definition": changed, "based_on": 1, "note": "French"})
            stale = await http.put("/v1/agents/support", json={"definition": changed, "based_on": 1})
            again = await http.post("/v1/agents", json={"agent_id": "support", "definition": SUPPORT})
        async with as_key(url, reader.secret) as http:
            shown = await http.get("/v1/agents/support")
            first = await http.get("/v1/agents/support", params={"version": 1})
            listed = await http.get("/v1/agents")
            history = await http.get("/v1/agents/support/versions")
            diff = await http.get("/v1/agents/support/diff", params={"from_version": 1, "to_version": 2})
            missing = await http.get("/v1/agents/nobody")
            refused = await http.put("/v1/agents/support", json={"definition": SUPPORT})

    assert created.status_code == 201, created.text
    assert created.json() == {"agent_id": "support", "version": 1, "tools": ["notebook_edit", "recall_search", "load_skill", "run_command", "scratch_note"]}
    assert updated.json() == {"agent_id": "support", "version": 2, "tools": ["notebook_edit"]}
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "conflict")
    assert "is at version 2, not 1" in stale.json()["error"]["message"]
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
    assert shown.json()["version"] == 2 and shown.json()["spec"]["instructions"].endswith("Answer in French.")
    assert shown.json()["author"] == f"key:{operator.key.key_id}"
    assert first.json()["spec"]["limits"] == {"max_tool_iterations": 2}
    assert [(a["agent_id"], a["version"]) for a in listed.json()] == [("support", 2)]
    assert [(v["version"], v["note"]) for v in history.json()] == [(1, "first"), (2, "French")]
    lines = diff.json()["diff"]
    assert f"+{changed['instructions']}" in lines and f"-{SUPPORT['instructions']}" in lines
    assert '-    "run_command",' in lines
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")


BAD_DEFINITIONS = [
    # (definition, status, code, field)
    ({"instructions": "Be helpful.", "model": "mistery/large"}, 422, "unknown_provider", "definition.model"),
    ({"instructions": "   "}, 422, "instructions_empty", "definition.instructions"),
    ({"instructions": "x" * 20_001}, 422, "instructions_too_long", "definition.instructions"),
    ({"instructions": "Be helpful.", "limits": {"max_tool_iterations": "many"}}, 422, "invalid_input", None),
    ({"instructions": "Be helpful.", "mcp_servers": [
        {"name": "orders", "transport": "http", "url": "http://127.0.0.1:9/mcp", "timeout_seconds": 3}]},
     422, "mcp_server_unreachable", None),
    ({"instructions": "Be helpful.", "mcp_servers": [stdio_server("collide-stdio").model_dump()]}, 422, "tool_name_conflict", None),
    ({"instructions": "Be helpful.", "mcp_servers": [stdio_server("bad-schema-stdio").model_dump()]}, 422, "mcp_tool_invalid", None),
]


async def test_a_bad_definition_is_refused_with_its_own_code_and_nothing_is_saved(time_skipping_env, runtime):
    client = time_skipping_env.client
    tenant_id = tenant()
    async with running_worker(client, runtime) as tq, serving(client, runtime, tq) as (url, keys):
        operator = await keys.create(tenant_id, "operator", name="ops", created_by="test")
        async with as_key(url, operator.secret) as http:
            answers = [
                await http.post("/v1/agents", json={"agent_id": "support", "definition": definition})
                for definition, *_ in BAD_DEFINITIONS
            ]
    for (definition, status, code, field), answer in zip(BAD_DEFINITIONS, answers, strict=True):
        error = answer.json()["error"]
        assert (answer.status_code, error["code"]) == (status, code), answer.text
        if field:
            assert error["field"] == field
    messages = [a.json()["error"]["message"] for a in answers]
    assert "unknown provider 'mistery'" in messages[0]
    assert "MCP server 'orders' is not reachable" in messages[4]
    assert "tool 'notebook_edit' has the name of a memory tool" in messages[5]
    assert "tool 'lookup_order' has an invalid input schema" in messages[6]
    assert await saved_versions(runtime, tenant_id) == 0


async def agent_memory(url: str, key: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "AGENT_MEMORY_URL": url, "AGENT_MEMORY_KEY": key}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "agents", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def test_agent_memory_agents_defines_an_agent_and_shows_what_changed(time_skipping_env, runtime, tmp_path):
    client = time_skipping_env.client
    first, second, bad = tmp_path / "v1.json", tmp_path / "v2.json", tmp_path / "bad.json"
    first.write_text(json.dumps(SUPPORT))
    second.write_text(json.dumps({**SUPPORT, "model": "openai/llama3.1", "base_url": "http://localhost:11434/v1"}))
    bad.write_text(json.dumps({"instructions": ""}))
    async with running_worker(client, runtime) as tq, serving(client, runtime, tq) as (url, keys):
        operator = await keys.create(tenant(), "operator", name="ops", created_by="test")
        created = await agent_memory(url, operator.secret, "create", "support", "--file", str(first))
        updated = await agent_memory(url, operator.secret, "update", "support", "--file", str(second), "--based-on", "1",
                                     "--note", "local model")
        refused = await agent_memory(url, operator.secret, "update", "support", "--file", str(bad))
        diff = await agent_memory(url, operator.secret, "diff", "support", "1", "2")
        shown = await agent_memory(url, operator.secret, "show", "support")

    assert created[0] == 0 and created[1].startswith("agent support v1 saved; tools: notebook_edit,"), created
    assert updated[0] == 0 and updated[1].startswith("agent support v2 saved"), updated
    assert refused[0] == 2 and "error: instructions_empty (definition.instructions):" in refused[2]
    assert "-model: offline/offline-deterministic-v1" in diff[1].splitlines()
    assert "+model: openai/llama3.1 at http://localhost:11434/v1" in diff[1].splitlines()
    assert shown[1].splitlines()[0].endswith(f"by key:{operator.key.key_id}: local model")
