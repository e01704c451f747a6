"""The HTTP API, called over real HTTP, in front of the real stack and a real worker."""

from __future__ import annotations

import uuid

import pytest
from openapi_spec_validator import validate
from temporalio.service import RPCError, RPCStatusCode

from contract.conversation import conversation_workflow_id
from memory.core.refs import ThreadRef
from tests.api_server import as_key, serving
from tests.conftest import running_worker
from tests.store_counts import table_rows


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


async def test_a_turn_through_the_api_and_its_resend_answered_once(time_skipping_env, runtime):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq, serving(client, runtime, tq) as (url, keys):
        key = await keys.create(tenant(), "write", name="app", created_by="test")
        async with as_key(url, key.secret) as http:
            path = "/v1/agents/support/threads/order-42"
            first = await http.post(f"{path}/messages", json={"text": "My order number is 4471.", "request_id": "r-1"})
            again = await http.post(f"{path}/messages", json={"text": "My order number is 4471.", "request_id": "r-1"})
            turn = await http.get(f"{path}/turns/1")
            second_turn = await http.get(f"{path}/turns/2")

    assert first.status_code == 200, first.text
    assert first.json()["turn"] == 1 and first.json()["reply"]
    assert again.json() == first.json()
    assert turn.status_code == 200
    assert [item["layer"] for item in turn.json()["manifest"]] == [item["layer"] for item in first.json()["manifest"]]
    assert second_turn.status_code == 404 and second_turn.json()["error"]["code"] == "not_found"


BAD_REQUESTS = [
    # (scope of the key, method, path, body, status, code, field)
    ("write", "POST", "/v1/agents/support/threads/t1/messages", {}, 422, "invalid_input", "text"),
    ("write", "POST", "/v1/agents/support/threads/t1/messages", {"text": "   "}, 422, "invalid_input", None),
    ("write", "POST", "/v1/agents/support/threads/t1/messages", {"text": "x" * 40_000}, 422, "invalid_input", None),
    ("write", "POST", "/v1/agents/support/threads/t1/messages", {"text": "hi\x00"}, 422, "invalid_input", None),
    ("write", "POST", "/v1/agents/support/threads/t1/messages", {"text": "y" * 300_000}, 413, "request_too_large", None),
    ("write", "POST", "/v1/agents/Not An Agent/threads/t1/messages", {"text": "hi"}, 422, "invalid_input", None),
    ("write", "POST", "/v1/agents/support/threads/t1/messages", {"text": "hi", "request_id": "a b"}, 422, "invalid_input", "request_id"),
    ("write", "POST", "/v1/agents/support/threads/t1/messages", "not json", 422, "invalid_input", None),
    ("read", "POST", "/v1/agents/support/threads/t1/messages", {"text": "hi"}, 403, "forbidden", None),
    ("read", "GET", "/v1/agents/support/threads/never/turns/1", None, 404, "not_found", None),
    ("read", "GET", "/v1/agents/support/notebook", None, 404, "not_found", None),
    ("write", "POST", "/v1/agents/support/notebook/notes", {"note": " "}, 422, "invalid_input", None),
    ("write", "PUT", "/v1/agents/support/notebook", {"content": ""}, 422, "invalid_input", "content"),
    ("read", "PUT", "/v1/agents/support/notebook", {"content": "# N"}, 403, "forbidden", None),
    ("read", "GET", "/v1/agents/support/search", None, 422, "invalid_input", "q"),
    ("read", "GET", "/v1/agents/support/skills/Bad Type", None, 422, "invalid_input", None),
    ("write", "GET", "/v1/usage", None, 403, "forbidden", None),
    ("write", "POST", "/v1/migrations", {"to_model": "offline-hash-v2"}, 403, "forbidden", None),
    ("operator", "POST", "/v1/migrations", {"to_model": "x"}, 422, "invalid_input", "to_model"),
    ("write", "POST", "/v1/documents", {"name": "a.md"}, 422, "invalid_input", "text"),
    ("read", "GET", "/v1/documents/not-an-id", None, 422, "invalid_input", "document_id"),
    ("operator", "POST", "/v1/migrations/current/explode", None, 422, "invalid_input", "action"),
]


async def test_bad_requests_are_answered_with_their_code_and_change_nothing(time_skipping_env, runtime):
    client = time_skipping_env.client
    tenant_id = tenant()
    async with serving(client, runtime, "no-worker", max_request_bytes=256_000) as (url, keys):
        secrets = {scope: (await keys.create(tenant_id, scope, name=scope, created_by="test")).secret for scope in ("read", "write", "operator")}
        before = await table_rows(runtime.engine)
        answers = []
        for scope, method, path, body, *_ in BAD_REQUESTS:
            async with as_key(url, secrets[scope]) as http:
                kwargs = {"content": body} if isinstance(body, str) else {"json": body}
                answers.append(await http.request(method, path, **kwargs))
        after = await table_rows(runtime.engine)

    for (scope, method, path, _, status, code, field), answer in zip(BAD_REQUESTS, answers, strict=True):
        error = answer.json()["error"]
        assert (answer.status_code, error["code"]) == (status, code), f"{scope} {method} {path}: {answer.text}"
        if field:
            assert error.get("field") == field, f"{method} {path}: {answer.text}"
    assert after == before
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(conversation_workflow_id(ThreadRef(tenant_id=tenant_id, agent_id="support", thread_id="t1"))).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_unknown_revoked_or_absent_keys_are_refused(time_skipping_env, runtime):
    async with serving(time_skipping_env.client, runtime, "no-worker") as (url, keys):
        issued = await keys.create(tenant(), "operator", name="soon revoked", created_by="test")
        await keys.revoke(issued.key.key_id)
        answers = {}
        for name, secret in (("none", None), ("garbage", "hello"), ("forged", issued.secret[:-4] + "AAAA"), ("revoked", issued.secret)):
            async with as_key(url, secret) as http:
                answers[name] = await http.get("/v1/agents/support/notebook")

    assert {name: (a.status_code, a.json()["error"]["code"]) for name, a in answers.items()} == {
        name: (401, "unauthenticated") for name in answers
    }


async def test_a_key_never_reaches_another_tenants_memory(time_skipping_env, runtime):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq, serving(client, runtime, tq) as (url, keys):
        mine = await keys.create(tenant(), "write", name="mine", created_by="test")
        theirs = await keys.create(tenant(), "operator", name="theirs", created_by="test")
        async with as_key(url, mine.secret) as http:
            noted = await http.post("/v1/agents/support/notebook/notes", json={"note": "The vault code is 7781."})
            await http.post("/v1/agents/support/threads/t1/messages", json={"text": "The vault code is 7781."})
            own = await http.get("/v1/agents/support/notebook")
        async with as_key(url, theirs.secret) as http:
            notebook = await http.get("/v1/agents/support/notebook")
            turn = await http.get("/v1/agents/support/threads/t1/turns/1")
            found = await http.get("/v1/agents/support/search", params={"q": "vault code"})

    assert noted.status_code == 200, noted.text
    assert "The vault code is 7781." in own.json()["content"]
    assert notebook.status_code == 404 and turn.status_code == 404
    assert found.status_code == 200 and "7781" not in found.text


async def test_a_key_over_its_rate_limit_is_told_when_to_retry(time_skipping_env, runtime):
    async with serving(time_skipping_env.client, runtime, "no-worker", rate_per_second=0.5, rate_burst=2) as (url, keys):
        issued = await keys.create(tenant(), "read", name="busy", created_by="test")
        other = await keys.create(tenant(), "read", name="calm", created_by="test")
        async with as_key(url, issued.secret) as http:
            answers = [await http.get("/v1/agents/support/notebook") for _ in range(3)]
        async with as_key(url, other.secret) as http:
            others = await http.get("/v1/agents/support/notebook")

    assert [a.status_code for a in answers] == [404, 404, 429]
    assert answers[2].json()["error"]["code"] == "rate_limited"
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert others.status_code == 404


async def test_the_openapi_document_validates(time_skipping_env, runtime):
    async with serving(time_skipping_env.client, runtime, "no-worker") as (url, _):
        async with as_key(url, None) as http:
            document = (await http.get("/openapi.json")).json()

    validate(document)
    assert "/v1/agents/{agent_id}/threads/{thread_id}/messages" in document["paths"]
