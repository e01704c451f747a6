"""agent-memory without the HTTP API: with no key configured, or a key but no API answering,
chat and turn talk to Temporal directly and, with --verbose, say so."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

from tests.api_server import free_port
from tests.conftest import running_worker

CLI = str(Path(sys.executable).parent / "agent-memory")


async def agent_memory(*argv: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        CLI, *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def test_chat_and_turn_reach_the_agent_through_temporal_when_the_api_is_not_there(time_skipping_env, runtime):
    client = time_skipping_env.client
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    base = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_MEMORY_")}
    async with running_worker(client, runtime) as tq:
        env = base | {
            "TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "TASK_QUEUE": tq,
            "AGENT_MEMORY_TENANT": tenant,
        }
        no_key = await agent_memory("--verbose", "chat", "support", "t1", "My order number is 4471.", env=env)
        down = env | {"AGENT_MEMORY_KEY": "amk_x_y", "AGENT_MEMORY_URL": f"http://127.0.0.1:{free_port()}"}
        api_down = await agent_memory("turn", "support", "t1", "1", "--json", env=down)
        no_tenant = await agent_memory("chat", "support", "t1", "hello", env=base | {"TEMPORAL_ADDRESS": env["TEMPORAL_ADDRESS"]})

    status, out, err = no_key
    assert status == 0, err
    assert "[temporal] no API key configured" in err
    assert "4471" in out and "-- turn 1" in out

    status, out, err = api_down
    assert status == 0, err
    assert "is unreachable" in err and "talking to Temporal directly" in err
    assert '"turn": 1' in out and '"manifest"' in out

    status, _, err = no_tenant
    assert status != 0 and "AGENT_MEMORY_TENANT" in err
