"""A turn streamed over real HTTP as server-sent events, built from the conversation
workflow's progress query while the turn runs."""

from __future__ import annotations

import json
import uuid

from tests.api_server import as_key, serving
from tests.conftest import running_worker
from tests.store_counts import table_rows


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def parse(stream_text: str) -> list[tuple[str, dict]]:
    events = []
    for block in stream_text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_a_streamed_turn_shows_reads_model_calls_and_tools_then_the_reply(time_skipping_env, runtime):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq, serving(client, runtime, tq) as (url, keys):
        key = await keys.create(tenant(), "write", name="app", created_by="test")
        async with as_key(url, key.secret) as http:
            path = "/v1/agents/support/threads/t1"
            plain = await http.post(f"{path}/messages", json={"text": "My order number is 4471."})
            async with http.stream(
                "POST", f"{path}/messages", json={"text": "recall: order number"}, headers={"Accept": "text/event-stream"}
            ) as streamed:
                content_type = streamed.headers["content-type"]
                body = "".join([chunk async for chunk in streamed.aiter_text()])
            by_query = await http.post(f"{path}/messages?stream=true", json={"text": "Thanks!", "request_id": "r-3"})
            turn = await http.get(f"{path}/turns/2")

    assert plain.status_code == 200 and plain.headers["content-type"] == "application/json"
    assert content_type.startswith("text/event-stream")
    events = parse(body)
    assert [name for name, _ in events] == ["accepted", "read", "model_call", "tool", "model_call", "reply"]
    assert {layer["layer"] for layer in events[1][1]["layers"]} >= {"conversation", "recall"}
    assert events[2][1]["call"] == "1" and events[3][1]["call"].startswith("recall_search")
    reply = events[-1][1]
    assert reply["turn"] == 2 and reply["tools_used"] == ["recall_search"]
    assert [i["layer"] for i in reply["manifest"]] == [i["layer"] for i in turn.json()["manifest"]]

    third = parse(by_query.text)
    assert third[0] == ("accepted", {"request_id": "r-3"})
    assert third[-1][0] == "reply" and third[-1][1]["turn"] == 3


async def test_a_stream_request_with_bad_input_or_a_read_key_is_a_plain_json_error_and_writes_nothing(
    time_skipping_env, runtime
):
    tenant_id = tenant()
    async with serving(time_skipping_env.client, runtime, "no-worker") as (url, keys):
        read = await keys.create(tenant_id, "read", name="r", created_by="test")
        write = await keys.create(tenant_id, "write", name="w", created_by="test")
        before = await table_rows(runtime.engine)
        async with as_key(url, read.secret) as http:
            forbidden = await http.post("/v1/agents/support/threads/t1/messages?stream=true", json={"text": "hi"})
        async with as_key(url, write.secret) as http:
            empty = await http.post("/v1/agents/support/threads/t1/messages?stream=true", json={"text": " "})
            bad_flag = await http.post("/v1/agents/support/threads/t1/messages?stream=maybe", json={"text": "hi"})
        after = await table_rows(runtime.engine)

    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "invalid_input")
    assert (bad_flag.status_code, bad_flag.json()["error"]["field"]) == (422, "stream")
    assert after == before
