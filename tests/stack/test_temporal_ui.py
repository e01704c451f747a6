"""The Temporal Web UI, in a real browser: a finished turn shows its layer-named activities
with their summaries. Headless Chromium (Debian's `chromium`, installed when missing)
opens the dev server's UI; a screenshot is saved under test-output/."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path
from urllib.parse import quote

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from clients.conversation import send_message
from contract.conversation import UserMessage
from contract.search_attributes import SEARCH_ATTRIBUTES
from tests.browser import ChromiumUnavailable, ensure_chromium, render
from tests.conftest import _binary, running_worker

SCREENSHOT = Path(__file__).resolve().parents[2] / "test-output" / "temporal-ui-turn.png"

# Activity type -> the summary it carries in the turn's history. The reads are one activity
# whose summary names every layer it read.
SHOWN = {
    "conversation_append_message": "conversation: append user message, turn 1",
    "turn_read": "memory: read notebook, recall, conversation, graph, skills, episodic, session cache; turn 1",
    "model_generate": "model: generate reply, turn 1",
    "turn_commit": "memory: store reply, recall exchange and turn record; turn 1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
async def chromium() -> str:
    path = await asyncio.to_thread(ensure_chromium)
    if path is None:
        pytest.skip("chromium is not installed and cannot be installed here (needs root and apt-get)")
    return path


@pytest.fixture(scope="module")
async def ui_env():
    """A dev server of this module's own with the Web UI on, search attributes as in dev_env."""
    ui_port = _free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        data_converter=pydantic_data_converter,
        ui=True,
        ui_port=ui_port,
        dev_server_extra_args=[
            *[arg for name, kind in SEARCH_ATTRIBUTES for arg in ("--search-attribute", f"{name}={kind}")],
            "--dynamic-config-value",
            "system.forceSearchAttributesCacheRefreshOnRead=true",
        ],
    )
    yield env, ui_port
    await env.shutdown()


@pytest.mark.timeout(300)  # the first run may install chromium
async def test_a_finished_turn_shows_its_layer_named_activities_and_summaries(chromium, ui_env, runtime, thread):
    env, ui_port = ui_env
    client = env.client
    async with running_worker(client, runtime) as tq:
        result = await send_message(client, thread, UserMessage(text="run: ls"), task_queue=tq)
    run_id = (await client.get_workflow_handle(result.workflow_id).describe()).run_id

    # The workflow id holds slashes; the UI routes on it percent-encoded. The "Compact" view
    # of the event history gives one row per activity: its type, then its summary.
    url = (
        f"http://127.0.0.1:{ui_port}/namespaces/default/workflows/"
        f"{quote(result.workflow_id, safe='')}/{run_id}/history?sort=ascending"
    )
    SCREENSHOT.unlink(missing_ok=True)
    try:
        text = await asyncio.to_thread(
            render,
            url,
            screenshot=SCREENSHOT,
            wait_ms=20000,
            window="2000,1500",
            click=["Compact"],
            expect=[*SHOWN, *SHOWN.values()],
            chromium=chromium,
        )
    except ChromiumUnavailable as err:
        pytest.skip(str(err))

    assert result.workflow_id in text
    for activity, summary in SHOWN.items():
        assert activity in text, f"{activity} is not shown"
        assert re.search(rf"{re.escape(activity)}\s+Summary\s+{re.escape(summary)}", text), (
            f"{activity} is not shown with its summary {summary!r}"
        )
    assert "tool_run_command" in text and "tool run_command: ls" in text
    # Ascending: the user's message is appended before the model is called.
    assert text.index("conversation: append user message, turn 1") < text.index("model: generate reply, turn 1")

    png = SCREENSHOT.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 50_000  # a rendered page, not a blank one
