"""Crypto-shredding: with encryption on, a tenant's workflow payloads are encrypted under the
tenant's own data key; forgetting the tenant destroys the key, so a copy of its histories
(an archive, a backup, a server that has not yet purged them) can no longer be decrypted,
while payloads under the ring key (older ones, and the forget's own report) still are."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from clients.conversation import send_message
from codec import KeyRing, data_converter, generate_key
from codec.aes_gcm import (
    KEY_KIND_METADATA,
    TENANT_KEY,
    EncryptionCodec,
    PayloadDecryptionError,
    ShreddedKeyError,
)
from codec.data_keys import DataKeys
from contract.conversation import UserMessage
from contract.forget import ForgetRequest, forget_workflow_id
from memory.core.refs import ThreadRef
from memory.forget.models import ForgetScope
from worker import build_worker
from workflows.forget import ForgetWorkflow

SECRET = "SHREDME-5150"


def payloads_of(history) -> list[Payload]:
    """Every payload in the history's events, wherever it sits (inputs, results, headers, memos)."""
    found: list[Payload] = []

    def visit(item) -> None:
        if isinstance(item, Payload):
            found.append(item)
        elif hasattr(item, "ListFields"):
            for field, value in item.ListFields():
                if field.message_type is None:
                    continue
                if hasattr(value, "ListFields"):
                    visit(value)
                else:  # a repeated field, or a map (whose values are the messages)
                    for element in value.values() if hasattr(value, "values") else value:
                        visit(element)

    for event in history.events:
        visit(event)
    return found


async def test_forgetting_a_tenant_shreds_its_histories_and_keeps_older_payloads_readable(dev_env, runtime):
    ring = KeyRing.parse(f"k1:{generate_key()}")
    keys = DataKeys(runtime.settings.database_url, ring)
    client = Client(**{**dev_env.client.config(), "data_converter": data_converter(ring, keys)})
    thread = ThreadRef(tenant_id=f"cs-{uuid.uuid4().hex[:8]}", agent_id="support", thread_id="t-1")
    task_queue = f"shred-{uuid.uuid4().hex[:8]}"
    request = ForgetRequest(scope=ForgetScope(tenant_id=thread.tenant_id), operator="dpo", request_id="s1")
    async with build_worker(client, runtime, task_queue=task_queue):
        result = await send_message(client, thread, UserMessage(text=f"Please note: {SECRET}."), task_queue=task_queue)
        assert SECRET in result.reply
        # What an archive of the server would hold.
        kept = await client.get_workflow_handle(result.workflow_id).fetch_history()
        report = await client.execute_workflow(
            ForgetWorkflow.run, request, id=forget_workflow_id(request), task_queue=task_queue
        )
        forget_history = await client.get_workflow_handle(forget_workflow_id(request)).fetch_history()
    assert report.counts["postgres.tenant_data_keys"] == 1

    encrypted = [p for p in payloads_of(kept) if p.metadata.get("encoding") == b"binary/encrypted"]
    assert encrypted and all(p.metadata.get(KEY_KIND_METADATA) == TENANT_KEY for p in encrypted)
    assert SECRET.encode() not in b"".join(p.data for p in encrypted)

    fresh = EncryptionCodec(ring, DataKeys(runtime.settings.database_url, ring))
    for payload in encrypted:
        with pytest.raises(ShreddedKeyError):
            await fresh.decode([payload])
        with pytest.raises(PayloadDecryptionError):
            await EncryptionCodec(ring).decode([payload])

    # The forget's own history is under the ring key: its report stays readable.
    mine = [p for p in payloads_of(forget_history) if p.metadata.get("encoding") == b"binary/encrypted"]
    assert mine and not [p for p in mine if p.metadata.get(KEY_KIND_METADATA) == TENANT_KEY]
    decoded = await fresh.decode(mine)
    assert any(b"postgres.messages" in p.data for p in decoded)
