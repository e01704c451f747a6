"""Encrypted payloads: what the Temporal server stores is ciphertext, keys rotate without
losing old histories, and the codec server decrypts only for a caller with the token."""

from __future__ import annotations

import base64
import os
import select
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    KeyConfigError,
    KeyRing,
    PayloadDecryptionError,
    UnknownKeyError,
    data_converter,
    generate_key,
)
from codec.keys import main as keys_main
from codec.server import CodecServer, MissingTokenError, serve
from contract.conversation import UserMessage
from tests.conftest import _binary

ROOT = Path(__file__).resolve().parents[2]
KEY_1 = generate_key()
KEY_2 = generate_key()
SECRET = "the vault combination is 31-4-15-92"


class SecretNote(BaseModel):
    tenant_id: str
    message: str


class FiledNote(BaseModel):
    note: SecretNote
    words: int


def ring(entries: str, active: str | None = None) -> KeyRing:
    return KeyRing.parse(entries, active)


RING_K1 = ring(f"k1:{KEY_1}")
RING_K1_K2 = ring(f"k1:{KEY_1},k2:{KEY_2}")


async def encrypt(keyring: KeyRing, value: BaseModel) -> Payload:
    [payload] = await data_converter(keyring).encode([value])
    return payload


async def decrypt(keyring: KeyRing, payload: Payload, as_type: type[BaseModel]) -> BaseModel:
    [value] = await data_converter(keyring).decode([payload], [as_type])
    return value


# --- the codec ------------------------------------------------------------------------


async def test_payloads_round_trip_and_only_ciphertext_is_stored():
    note = SecretNote(tenant_id="acme", message=SECRET)

    payload = await encrypt(RING_K1, note)

    assert payload.metadata["encoding"] == ENCODING
    assert payload.metadata[KEY_ID_METADATA] == b"k1"
    assert SECRET.encode() not in payload.SerializeToString()
    assert await decrypt(RING_K1, payload, SecretNote) == note


async def test_encrypting_the_same_value_twice_gives_different_ciphertexts():
    note = SecretNote(tenant_id="acme", message=SECRET)

    first, second = await encrypt(RING_K1, note), await encrypt(RING_K1, note)

    assert first.data[:12] != second.data[:12]  # a fresh nonce each time
    assert first.data != second.data


async def test_a_tampered_payload_is_refused():
    payload = await encrypt(RING_K1, SecretNote(tenant_id="acme", message=SECRET))
    flipped = bytearray(payload.data)
    flipped[-1] ^= 0x01
    tampered = Payload(metadata=payload.metadata, data=bytes(flipped))

    with pytest.raises(PayloadDecryptionError, match="'k1' failed authentication"):
        await EncryptionCodec(RING_K1).decode([tampered])


async def test_a_payload_relabelled_to_another_key_is_refused():
    # Both keys are in the ring, but the key id is bound into the ciphertext.
    payload = await encrypt(RING_K1_K2, SecretNote(tenant_id="acme", message=SECRET))
    relabelled = Payload(metadata={**payload.metadata, KEY_ID_METADATA: b"k1"}, data=payload.data)

    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await EncryptionCodec(RING_K1_K2).decode([relabelled])


async def test_a_payload_under_a_key_no_longer_in_the_ring_names_that_key():
    payload = await encrypt(RING_K1, SecretNote(tenant_id="acme", message=SECRET))
    only_k2 = ring(f"k2:{KEY_2}")

    with pytest.raises(UnknownKeyError, match="encrypted with key 'k1'") as raised:
        await EncryptionCodec(only_k2).decode([payload])
    assert raised.value.key_id == "k1"
    assert "PAYLOAD_ENCRYPTION_KEYS" in str(raised.value)


async def test_after_rotation_old_payloads_still_decode_and_new_ones_use_the_new_key():
    before = SecretNote(tenant_id="acme", message="written under k1")
    old_payload = await encrypt(RING_K1, before)

    rotated = ring(f"k1:{KEY_1},k2:{KEY_2}")  # k2 listed last: it becomes the active key
    after = SecretNote(tenant_id="acme", message="written under k2")
    new_payload = await encrypt(rotated, after)

    assert rotated.active_key_id == "k2"
    assert new_payload.metadata[KEY_ID_METADATA] == b"k2"
    assert await decrypt(rotated, old_payload, SecretNote) == before
    assert await decrypt(rotated, new_payload, SecretNote) == after


async def test_payloads_written_before_encryption_was_turned_on_still_decode():
    plain = (await pydantic_data_converter.encode([SecretNote(tenant_id="acme", message="old")]))[0]

    [passed] = await EncryptionCodec(RING_K1).decode([plain])

    assert passed == plain


async def test_without_keys_the_converter_writes_what_the_sdks_pydantic_converter_reads():
    plain = data_converter(None)
    assert plain.payload_codec is None
    assert isinstance(data_converter(RING_K1).payload_codec, EncryptionCodec)
    value = UserMessage(text="hello", user_id="u1")
    ours = await plain.encode([value])
    assert ours == await pydantic_data_converter.encode([value])
    assert await pydantic_data_converter.decode(ours, [UserMessage]) == [value]


def test_the_payload_converter_is_built_once_for_every_context():
    # The SDK builds a payload converter per activation; a shared one keeps its pydantic caches.
    converter = data_converter(RING_K1)
    assert converter.payload_converter_class() is converter.payload_converter_class()


# --- keys from the environment --------------------------------------------------------


def test_encryption_is_off_unless_keys_are_configured():
    assert KeyRing.from_env({}) is None
    assert KeyRing.from_env({"PAYLOAD_ENCRYPTION_KEYS": "  "}) is None


def test_the_last_listed_key_is_active_unless_one_is_named():
    listed = KeyRing.from_env({"PAYLOAD_ENCRYPTION_KEYS": f"k1:{KEY_1}, k2:{KEY_2}"})
    named = KeyRing.from_env({"PAYLOAD_ENCRYPTION_KEYS": f"k1:{KEY_1},k2:{KEY_2}", "PAYLOAD_ENCRYPTION_KEY_ID": "k1"})

    assert listed is not None and listed.active_key_id == "k2"
    assert named is not None and named.active_key_id == "k1"
    assert named.key_ids == ("k1", "k2")


SHORT_KEY = base64.b64encode(b"x" * 16).decode()

BAD_SETTINGS = [
    pytest.param({"PAYLOAD_ENCRYPTION_KEYS": KEY_1}, "entry 1 is not of the form key_id:base64key", id="no-id"),
    pytest.param({"PAYLOAD_ENCRYPTION_KEYS": f"k1:{KEY_1},{KEY_2}"}, "entry 2 is not of the form", id="second-no-id"),
    pytest.param({"PAYLOAD_ENCRYPTION_KEYS": f"k1:{KEY_1[:-2]}!!"}, "key 'k1' is not valid base64", id="not-base64"),
    pytest.param({"PAYLOAD_ENCRYPTION_KEYS": f"k1:{SHORT_KEY}"}, "key 'k1' is 16 bytes; AES-256 needs 32", id="short"),
    pytest.param({"PAYLOAD_ENCRYPTION_KEYS": f"k1:{KEY_1},k1:{KEY_2}"}, "lists key id 'k1' twice", id="duplicate"),
    pytest.param(
        {"PAYLOAD_ENCRYPTION_KEYS": f"k1:{KEY_1}", "PAYLOAD_ENCRYPTION_KEY_ID": "k9"},
        "PAYLOAD_ENCRYPTION_KEY_ID='k9' names no key in PAYLOAD_ENCRYPTION_KEYS (its key ids: k1)",
        id="unknown-active",
    ),
    pytest.param({"PAYLOAD_ENCRYPTION_KEY_ID": "k1"}, "PAYLOAD_ENCRYPTION_KEYS is empty", id="active-without-keys"),
]


@pytest.mark.parametrize(("environ", "message"), BAD_SETTINGS)
def test_bad_settings_are_named_without_quoting_key_material(environ, message):
    with pytest.raises(KeyConfigError) as raised:
        KeyRing.from_env(environ)

    error = raised.value
    assert isinstance(error, ValueError)
    assert message in str(error)
    logged = "".join(traceback.format_exception(error))  # what a crash would print
    for secret in (KEY_1, KEY_2, KEY_1[:-2], SHORT_KEY):
        assert secret not in logged


async def test_no_key_material_in_the_ring_or_in_decryption_errors():
    payload = await encrypt(RING_K1, SecretNote(tenant_id="acme", message=SECRET))
    errors = []
    for keyring, broken in [
        (ring(f"k2:{KEY_2}"), payload),
        (RING_K1, Payload(metadata=payload.metadata, data=payload.data[:-1] + b"\0")),
        (RING_K1, Payload(metadata=payload.metadata, data=b"short")),
    ]:
        with pytest.raises(PayloadDecryptionError) as raised:
            await EncryptionCodec(keyring).decode([broken])
        errors.append(raised.value)

    texts = [repr(RING_K1_K2), str(RING_K1_K2), *map(str, errors), *map(repr, errors)]
    for text in texts:
        assert KEY_1 not in text and KEY_2 not in text
        assert SECRET not in text
    assert repr(RING_K1_K2) == "KeyRing(key_ids=['k1', 'k2'], active_key_id='k2')"


def test_the_new_key_command_prints_an_entry_the_ring_accepts(capsys):
    assert keys_main(["new", "--id", "k3"]) == 0

    entry = capsys.readouterr().out.strip()
    assert entry.startswith("k3:")
    assert ring(f"k1:{KEY_1},{entry}").active_key_id == "k3"


# --- end to end on a Temporal server --------------------------------------------------


@activity.defn
async def file_note(note: SecretNote) -> FiledNote:
    return FiledNote(note=note, words=len(note.message.split()))


# Not sandboxed: the sandbox would re-import this test module and its fixtures' imports;
# the codec runs outside workflow code either way.
@workflow.defn(sandboxed=False)
class FileNoteWorkflow:
    @workflow.run
    async def run(self, note: SecretNote) -> FiledNote:
        return await workflow.execute_activity(file_note, note, start_to_close_timeout=timedelta(seconds=30))


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload anywhere in a history event, however deeply nested."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            values = [value]
        elif field.message_type.GetOptions().map_entry:
            values = value.values()
        else:
            values = value  # a repeated field
        for item in values:
            if isinstance(item, Message):
                yield from payloads_in(item)


async def test_the_servers_history_holds_only_ciphertext_and_replays_with_the_keys():
    converter = data_converter(RING_K1)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"), data_converter=converter
    )
    try:
        task_queue = f"codec-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=task_queue, workflows=[FileNoteWorkflow], activities=[file_note]):
            handle = await env.client.start_workflow(
                FileNoteWorkflow.run, SecretNote(tenant_id="acme", message=SECRET),
                id=f"file-note-{uuid.uuid4()}", task_queue=task_queue,
            )
            result = await handle.result()
        history = await handle.fetch_history()
    finally:
        await env.shutdown()

    assert result == FiledNote(note=SecretNote(tenant_id="acme", message=SECRET), words=5)

    stored = [payload for event in history.events for payload in payloads_in(event)]
    # Workflow input and result, activity input and result.
    assert len(stored) >= 4
    assert all(payload.metadata["encoding"] == ENCODING for payload in stored)
    assert all(SECRET.encode() not in payload.data for payload in stored)
    assert SECRET not in history.to_json()
    assert base64.b64encode(SECRET.encode()).decode()[:20] not in history.to_json()
    # The same payloads, decrypted with the key, do hold the secret: the scan looked in the right place.
    decrypted = await EncryptionCodec(RING_K1).decode(stored)
    assert any(SECRET.encode() in payload.data for payload in decrypted)

    replayable = WorkflowHistory.from_json(history.workflow_id, history.to_json())
    await Replayer(workflows=[FileNoteWorkflow], data_converter=converter).replay_workflow(replayable)
    # After a rotation the old history still replays, as long as k1 stays in the ring.
    await Replayer(workflows=[FileNoteWorkflow], data_converter=data_converter(RING_K1_K2)).replay_workflow(replayable)
    # Retiring k1 too early makes the history unreadable, and the failure says which key is missing.
    without_k1 = Replayer(workflows=[FileNoteWorkflow], data_converter=data_converter(ring(f"k2:{KEY_2}")))
    with pytest.raises(RuntimeError, match="encrypted with key 'k1'"):
        await without_k1.replay_workflow(replayable)


# --- the codec server -----------------------------------------------------------------

TOKEN = "operator-token-" + uuid.uuid4().hex
UI_ORIGIN = "http://localhost:8233"


@pytest.fixture
def codec_url() -> Iterator[str]:
    server = serve(RING_K1, port=0, token=TOKEN, ui_origin=UI_ORIGIN)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


async def encrypted_body() -> dict:
    payload = await encrypt(RING_K1, SecretNote(tenant_id="acme", message=SECRET))
    return {"payloads": [json_format.MessageToDict(payload)]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Namespace": "default"}


@pytest.mark.parametrize("headers", [{}, bearer("not-the-token"), {"Authorization": TOKEN}], ids=["none", "wrong", "no-scheme"])
async def test_the_codec_server_refuses_callers_without_the_token(codec_url, headers):
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{codec_url}/decode", json=await encrypted_body(), headers=headers)

    assert response.status_code == 401
    assert SECRET not in response.text


async def test_the_codec_server_decrypts_for_the_operator(codec_url):
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{codec_url}/decode", json=await encrypted_body(), headers={**bearer(TOKEN), "Origin": UI_ORIGIN}
        )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    [decoded] = [json_format.ParseDict(p, Payload()) for p in response.json()["payloads"]]
    assert decoded.metadata["encoding"] == b"json/plain"
    note = (await pydantic_data_converter.decode([decoded], [SecretNote]))[0]
    assert note == SecretNote(tenant_id="acme", message=SECRET)


async def test_the_codec_server_encodes_what_the_workers_can_decode(codec_url):
    [plain] = await pydantic_data_converter.encode([SecretNote(tenant_id="acme", message=SECRET)])
    async with httpx.AsyncClient() as http:
        # Mounted under a prefix: only the last path segment picks the operation.
        response = await http.post(
            f"{codec_url}/default/encode", json={"payloads": [json_format.MessageToDict(plain)]}, headers=bearer(TOKEN)
        )

    assert response.status_code == 200
    [encoded] = [json_format.ParseDict(p, Payload()) for p in response.json()["payloads"]]
    assert encoded.metadata["encoding"] == ENCODING
    assert await decrypt(RING_K1, encoded, SecretNote) == SecretNote(tenant_id="acme", message=SECRET)


async def test_the_ui_origin_passes_the_cors_preflight_and_others_do_not(codec_url):
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,x-namespace"}
    async with httpx.AsyncClient() as http:
        ui = await http.options(f"{codec_url}/decode", headers={**preflight, "Origin": UI_ORIGIN})
        elsewhere = await http.options(f"{codec_url}/decode", headers={**preflight, "Origin": "https://evil.example"})

    assert ui.status_code == 204
    assert ui.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert "POST" in ui.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in ui.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-namespace"} <= allowed
    assert "Access-Control-Allow-Origin" not in elsewhere.headers


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"not json", "body: Invalid JSON"),
        (b'{"payload": []}', "payloads: Field required"),
        (b'{"payloads": [{"dta": "e30="}]}', 'payloads.0: Message type "temporal.api.common.v1.Payload" has no field'),
    ],
    ids=["not-json", "wrong-field", "not-a-payload"],
)
async def test_a_malformed_body_gets_a_clear_400(codec_url, body, detail):
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{codec_url}/decode", content=body, headers={**bearer(TOKEN), "Content-Type": "application/json"}
        )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith('the body must be JSON of the form {"payloads": [...]}')
    assert detail in error


async def test_the_codec_server_names_a_key_it_does_not_hold(codec_url):
    payload = await encrypt(ring(f"k2:{KEY_2}"), SecretNote(tenant_id="acme", message=SECRET))
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{codec_url}/decode", json={"payloads": [json_format.MessageToDict(payload)]}, headers=bearer(TOKEN)
        )

    assert response.status_code == 422
    assert "encrypted with key 'k2'" in response.json()["error"]


def test_the_codec_server_will_not_start_without_a_token_unless_told_to():
    with pytest.raises(MissingTokenError, match="--insecure-no-auth"):
        serve(RING_K1, port=0, token=None)
    with pytest.raises(MissingTokenError):
        serve(RING_K1, port=0, token="")

    server = serve(RING_K1, port=0, token=None, insecure_no_auth=True)
    server.server_close()


def test_the_codec_server_command_explains_a_missing_token():
    env = {k: v for k, v in os.environ.items() if k != "CODEC_SERVER_TOKEN"}
    env["PAYLOAD_ENCRYPTION_KEYS"] = f"k1:{KEY_1}"
    done = subprocess.run([sys.executable, "-m", "codec.server", "--port", "0"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    assert "no CODEC_SERVER_TOKEN" in done.stderr and "--insecure-no-auth" in done.stderr
    assert "Traceback" not in done.stderr and KEY_1 not in done.stderr


@contextmanager
def running_codec_server(**options) -> Iterator[CodecServer]:
    server = serve(RING_K1, port=0, token=TOKEN, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def answer_until_closed(sock: socket.socket) -> str:
    """Everything the server sends until it closes the connection (fails if it does not)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    return received.decode()


def raw_post(port: int, headers: dict[str, str], body: bytes = b"") -> socket.socket:
    """A POST whose headers (and given body bytes) are sent, and nothing more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    sock.sendall(f"POST /decode HTTP/1.1\r\nHost: codec\r\n{head}\r\n".encode() + body)
    return sock


def test_a_wrong_token_is_refused_before_the_body_is_read():
    server = serve(RING_K1, port=0, token=TOKEN)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # Announces 16 MiB and sends none of it: the answer comes without waiting for it.
        sock = raw_post(server.port, {"Authorization": "Bearer wrong", "Content-Length": str(16 * 1024 * 1024)})
        started = time.monotonic()
        answer = sock.recv(4096).decode()
        assert answer.startswith("HTTP/1.0 401") or answer.startswith("HTTP/1.1 401")
        assert time.monotonic() - started < 2
        sock.close()
    finally:
        server.shutdown()
        server.server_close()


def test_stalled_unauthenticated_requests_do_not_pile_up():
    server = serve(RING_K1, port=0, token=TOKEN, request_timeout=1.0, max_connections=4)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    threads_before = threading.active_count()
    try:
        stalled = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(40)]
        time.sleep(0.5)
        # No thread is held per stalled caller.
        assert threading.active_count() <= threads_before + 4
        # After the timeout every stalled connection is gone and the server answers again.
        time.sleep(1.5)
        closed = 0
        for sock in stalled:
            sock.settimeout(2)
            try:
                closed += sock.recv(1) == b""
            except TimeoutError:
                pass  # still open: not dropped
            except OSError:
                closed += 1
            sock.close()
        assert closed == 40
        answer = httpx.post(f"http://127.0.0.1:{server.port}/decode", json={"payloads": []}, headers=bearer(TOKEN))
        assert answer.status_code == 200 and answer.json() == {"payloads": []}
    finally:
        server.shutdown()
        server.server_close()


def test_an_operators_body_over_the_limit_is_refused_without_being_read():
    with running_codec_server(max_body_bytes=1024) as server:
        # Announced too big: refused before a byte of it is sent, and the connection is closed.
        announced = raw_post(server.port, {**bearer(TOKEN), "Content-Length": str(16 * 1024 * 1024)})
        started = time.monotonic()
        answer = answer_until_closed(announced)
        assert answer.startswith("HTTP/1.1 413")
        assert "the body is 16777216 bytes; the limit is 1024" in answer
        assert time.monotonic() - started < 2

        # Not announced (chunked): refused as soon as it passes the limit, without waiting for the rest.
        streamed = raw_post(server.port, {**bearer(TOKEN), "Transfer-Encoding": "chunked"},
                            b"7d0\r\n" + b"x" * 2000 + b"\r\n")
        answer = answer_until_closed(streamed)
        assert answer.startswith("HTTP/1.1 413")
        assert "the body passed the limit of 1024 bytes" in answer


def test_a_body_that_stalls_is_answered_408_and_dropped():
    with running_codec_server(request_timeout=1.0) as server:
        sock = raw_post(server.port, {**bearer(TOKEN), "Content-Length": "100"}, b'{"payloads"')
        started = time.monotonic()
        answer = answer_until_closed(sock)

    assert answer.startswith("HTTP/1.1 408")
    assert "the body did not arrive within 1 s" in answer
    assert 0.8 < time.monotonic() - started < 3


def test_a_request_head_sent_a_byte_at_a_time_is_cut_off():
    with running_codec_server(request_timeout=1.0) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        started = time.monotonic()
        sock.sendall(b"POST /decode HTTP/1.1\r\nHost: codec\r\n")
        closed_after = None
        for line in range(25):  # five seconds of one more header line every 0.2 s
            try:
                sock.sendall(f"X-Slow-{line}: a\r\n".encode())
            except OSError:
                closed_after = time.monotonic() - started
                break
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable and sock.recv(1) == b"":
                closed_after = time.monotonic() - started
                break
        sock.close()

    assert closed_after is not None, "the trickling head was never cut off"
    assert closed_after < 2


def test_callers_beyond_the_connection_limit_are_told_503_until_a_place_frees_up():
    with running_codec_server(max_connections=2) as server:
        url = f"http://127.0.0.1:{server.port}/decode"
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(2)]
        time.sleep(0.2)

        assert httpx.post(url, json={"payloads": []}, headers=bearer(TOKEN)).status_code == 503

        held.pop().close()
        time.sleep(0.2)
        answer = httpx.post(url, json={"payloads": []}, headers=bearer(TOKEN))
        assert answer.status_code == 200 and answer.json() == {"payloads": []}
        held.pop().close()
