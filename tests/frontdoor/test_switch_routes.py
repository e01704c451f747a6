"""Switch and plan changes over real HTTP: each runs as SwitchChangeWorkflow, is recorded with
the key as operator and the reason given, and stays inside the key's tenant."""

from __future__ import annotations

import uuid

from tests.api_server import as_key, serving
from tests.conftest import running_worker
from tests.store_counts import table_rows


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


async def test_an_operator_turns_graph_extraction_off_and_the_change_is_recorded_once(time_skipping_env, runtime):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq, serving(client, runtime, tq) as (url, keys):
        mine = await keys.create(tenant(), "operator", name="ops", created_by="test")
        theirs = await keys.create(tenant(), "operator", name="other ops", created_by="test")
        async with as_key(url, mine.secret) as http:
            change = {"value": "off", "reason": "cost review", "request_id": "cut-1"}
            first = await http.put("/v1/switches/graph_extraction", json=change)
            resent = await http.put("/v1/switches/graph_extraction", json=change)
            threshold = await http.put("/v1/switches/ingest_min_chars", json={"value": 200})
            cleared = await http.put("/v1/switches/ingest_min_chars", json={"value": "default", "reason": "back"})
            plan = await http.put("/v1/plan", json={"plan": "trial", "reason": "pilot customer"})
            history = await http.get("/v1/switches/history")
            plans = await http.get("/v1/plan/history")
        async with as_key(url, theirs.secret) as http:
            other_switches = await http.get("/v1/switches")
            other_history = await http.get("/v1/switches/history")

    assert first.status_code == 200, first.text
    assert first.json()["change"]["value"] == "off"
    assert first.json()["switches"]["graph_extraction"] is False
    assert first.json()["switches"]["graph_extraction_source"] == "tenant"
    assert resent.json()["change"] == first.json()["change"]
    assert threshold.json()["switches"]["ingest_min_chars"] == 200
    assert cleared.json()["change"]["value"] == "default"
    assert cleared.json()["switches"]["ingest_min_chars"] != 200
    assert plan.json()["switches"]["plan"] == "trial"

    rows = [(c["name"], c["value"], c["operator"], c["reason"]) for c in history.json()]
    assert rows == [
        ("ingest_min_chars", None, f"key:{mine.key.key_id}", "back"),
        ("ingest_min_chars", 200, f"key:{mine.key.key_id}", ""),
        ("graph_extraction", False, f"key:{mine.key.key_id}", "cost review"),
    ]
    assert [(p["plan"], p["reason"]) for p in plans.json()] == [("trial", "pilot customer")]

    assert other_switches.json()["graph_extraction"] is True
    assert other_history.json() == []


BAD_CHANGES = [
    # (scope, method, path, body, status, code, field)
    ("operator", "PUT", "/v1/switches/graph_extraktion", {"value": "off"}, 422, "invalid_input", None),
    ("operator", "PUT", "/v1/switches/graph_extraction", {"value": "maybe"}, 422, "invalid_input", None),
    ("operator", "PUT", "/v1/switches/graph_extraction", {"value": 1}, 422, "invalid_input", None),
    ("operator", "PUT", "/v1/switches/ingest_min_chars", {"value": -5}, 422, "invalid_input", None),
    ("operator", "PUT", "/v1/switches/ingest_min_chars", {"value": True}, 422, "invalid_input", None),
    ("operator", "PUT", "/v1/switches/graph_extraction", {}, 422, "invalid_input", "value"),
    ("operator", "PUT", "/v1/switches/graph_extraction", {"value": "off", "reason": "r" * 2_001}, 422, "invalid_input", "reason"),
    ("operator", "PUT", "/v1/switches/graph_extraction", {"value": "off", "reason": "a\x00"}, 422, "invalid_input", None),
    ("operator", "PUT", "/v1/switches/graph_extraction", {"value": "off", "request_id": "a b"}, 422, "invalid_input", "request_id"),
    ("operator", "PUT", "/v1/switches/layer.graph.enabled", {"value": "off"}, 403, "forbidden", None),
    ("operator", "PUT", "/v1/plan", {"plan": "gold"}, 422, "invalid_input", "plan"),
    ("operator", "GET", "/v1/switches/history?limit=0", None, 422, "invalid_input", "limit"),
    ("operator", "GET", "/v1/switches/history?name=nope", None, 422, "invalid_input", None),
    ("write", "PUT", "/v1/switches/graph_extraction", {"value": "off"}, 403, "forbidden", None),
    ("write", "PUT", "/v1/plan", {"plan": "trial"}, 403, "forbidden", None),
    ("read", "GET", "/v1/switches/history", None, 403, "forbidden", None),
    ("write", "GET", "/v1/plan/history", None, 403, "forbidden", None),
]


async def test_bad_switch_changes_are_refused_and_change_nothing(time_skipping_env, runtime):
    client = time_skipping_env.client
    tenant_id = tenant()
    # No worker: a change that got past the checks would hang, not pass.
    async with serving(client, runtime, "no-worker") as (url, keys):
        secrets = {s: (await keys.create(tenant_id, s, name=s, created_by="test")).secret for s in ("read", "write", "operator")}
        before = await table_rows(runtime.engine)
        answers = []
        for scope, method, path, body, *_ in BAD_CHANGES:
            async with as_key(url, secrets[scope]) as http:
                answers.append(await http.request(method, path, json=body))
        after = await table_rows(runtime.engine)

    for (scope, method, path, _, status, code, field), answer in zip(BAD_CHANGES, answers, strict=True):
        error = answer.json()["error"]
        assert (answer.status_code, error["code"]) == (status, code), f"{scope} {method} {path}: {answer.text}"
        if field:
            assert error.get("field") == field, f"{method} {path}: {answer.text}"
    assert after == before
