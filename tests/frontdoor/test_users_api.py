"""End users over HTTP: the send-message body names the user, a thread refuses a second
user, and a tenant operator previews and then erases one of its users."""

from __future__ import annotations

import uuid

from contract.ingestion import exchange_ingestion_id
from memory.core.refs import ThreadRef
from tests.api_server import as_key, serving
from tests.conftest import finished
from worker import build_worker


async def test_an_operator_previews_then_forgets_a_user_over_http(dev_env, runtime):
    client = dev_env.client
    tenant = f"api-{uuid.uuid4().hex[:8]}"
    task_queue = f"users-{uuid.uuid4().hex[:8]}"
    async with build_worker(client, runtime, task_queue=task_queue), serving(client, runtime, task_queue) as (url, keys):
        writer = (await keys.create(tenant, "write", name="app", created_by="test")).secret
        operator = (await keys.create(tenant, "operator", name="dpo", created_by="test")).secret
        async with as_key(url, writer) as app, as_key(url, operator) as dpo:
            path = "/v1/agents/support/threads/t-erin/messages"
            sent = await app.post(path, json={"text": "My badge number is 55-ERIN.", "user_id": "erin"})
            assert sent.status_code == 200, sent.text
            # The exchange's ingestion runs after the reply: the preview and the forget must
            # find the same rows, its decision included.
            erin = ThreadRef(tenant_id=tenant, agent_id="support", thread_id="t-erin", user_id="erin")
            await finished(client, exchange_ingestion_id(erin, 1))
            other = await app.post(path, json={"text": "And mine?", "user_id": "finn"})
            assert other.status_code == 422 and "belongs to user erin" in other.json()["error"]["message"]
            bad = await app.post(path, json={"text": "hi", "user_id": "Erin Smith"})
            assert bad.status_code == 422

            assert (await app.post("/v1/users/erin/forget", json={})).status_code == 403  # operators only
            preview = await dpo.post("/v1/users/erin/forget?dry_run=true", json={"reason": "request 7"})
            assert preview.status_code == 200, preview.text
            assert preview.json()["dry_run"] and preview.json()["counts"]["postgres.messages"] == 2
            # Waits for the whole erasure (Temporal's deletions are asynchronous): longer than a turn.
            done = await dpo.post(
                "/v1/users/erin/forget", json={"reason": "request 7", "request_id": "req-7"}, timeout=300
            )
            assert done.status_code == 200, done.text
            assert done.json()["counts"] == preview.json()["counts"]
            again = await dpo.post("/v1/users/erin/forget", json={"reason": "request 7", "request_id": "req-7"})
            assert again.status_code == 200 and again.json() == done.json()  # the first report, not a second run

            turn = await app.get("/v1/agents/support/threads/t-erin/turns/1")
            assert turn.status_code == 404
