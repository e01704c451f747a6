"""Encrypted payloads on a real conversation: the server's history holds no plaintext of a
message, the history still replays, the Temporal UI's codec endpoint shows it to an
operator with the token, and API keys appear in no payload, history or log line."""

from __future__ import annotations

import base64
import json
import logging
import threading
import urllib.request

from temporalio.client import Client
from temporalio.worker import Replayer

from clients.conversation import send_message
from codec import KeyRing, data_converter, generate_key
from codec.server import serve
from contract.conversation import UserMessage
from contract.ingestion import exchange_ingestion_id
from memory.llm.offline import OfflineModel
from memory.runtime import MemoryRuntime
from tests.conftest import finished, running_worker
from wiring.plugin import MemoryWorkerPlugin

SECRET = "the vault code is ORCHID-4471"
API_KEY = "sk-ant-api03-NEVER-IN-HISTORY-0000"


def encrypted_payloads(history_json: str) -> list[dict]:
    found: list[dict] = []

    def walk(node):
        if isinstance(node, dict):
            encoding = node.get("metadata", {}).get("encoding")
            if encoding and base64.b64decode(encoding) == b"binary/encrypted":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(history_json))
    return found


async def test_histories_hold_no_plaintext_and_still_replay_and_decode_for_the_ui(
    time_skipping_env, settings, thread, caplog
):
    caplog.set_level(logging.DEBUG)
    ring = KeyRing.parse(f"k1:{generate_key()}")
    client = Client(**{**time_skipping_env.client.config(), "data_converter": data_converter(ring)})
    runtime = MemoryRuntime.create(settings.model_copy(update={"anthropic_api_key": API_KEY}), llm=OfflineModel())
    try:
        async with running_worker(client, runtime) as tq:
            result = await send_message(client, thread, UserMessage(text=f"Please note: {SECRET}."), task_queue=tq)
            await finished(client, exchange_ingestion_id(thread, result.turn))
            history = await client.get_workflow_handle(result.workflow_id).fetch_history()
    finally:
        await runtime.close()

    assert SECRET in result.reply  # the caller, who holds the key, reads it
    raw = history.to_json()
    assert "ORCHID-4471" not in raw and API_KEY not in raw
    payloads = encrypted_payloads(raw)
    assert payloads, "the turn's payloads are encrypted"

    await Replayer(workflows=[], plugins=[MemoryWorkerPlugin(keyring=ring)]).replay_workflow(history)

    server = serve(ring, port=0, token="operator-token")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/decode",
            data=json.dumps({"payloads": payloads}).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer operator-token"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            decoded = json.loads(response.read())["payloads"]
    finally:
        server.shutdown()
        server.server_close()
    assert any("ORCHID-4471" in base64.b64decode(p["data"]).decode(errors="replace") for p in decoded)
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(settings.model_copy(update={"anthropic_api_key": API_KEY}))
