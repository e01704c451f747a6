"""Documents as the second ingestion path: chunks in the recall store and episodes in the
graph, both retrievable with their provenance, and bad files refused by name."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from clients import ingest_document
from clients.conversation import send_message
from contract.conversation import UserMessage
from memory.core.schema import ingested_documents, recall_items
from memory.core.validation import InvalidInput
from memory.documents.chunking import DocumentRejected
from memory.prompt.manifest import Layer
from memory.runtime import MemoryRuntime
from tests.conftest import running_worker

HANDBOOK = """# Account handbook

## People

Dana Smith works at Acme Corp. She owns the renewal.

## Logistics

""" + "\n\n".join(
    f"Warehouse note {n}: pallets for route {n} leave the Rotterdam dock at {6 + n % 12}:00 on weekdays." for n in range(120)
)


async def count(runtime, table, tenant_id: str, *where) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id, *where))


async def test_a_document_is_chunked_into_recall_and_graph_with_provenance(time_skipping_env, settings, thread, tmp_path):
    runtime = MemoryRuntime.create(settings.model_copy(update={"document_chunk_chars": 600}))
    path = tmp_path / "handbook.md"
    path.write_text(HANDBOOK)
    upload = ingest_document.read_upload(thread.tenant_id, path)
    client = time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            progress = await ingest_document.ingest(client, upload, tq, show_progress=False)
            again = await ingest_document.ingest(client, upload, tq, show_progress=False)
            result = await send_message(
                client, thread, UserMessage(text="Who at Acme Corp owns the renewal, Dana Smith?"), task_queue=tq
            )
    finally:
        await runtime.close()

    assert progress.done and progress.chunks > 16  # more than one batch
    assert progress.chunks_in_recall == progress.episodes_ingested == progress.chunks
    assert again.chunks == progress.chunks
    chunks_stored = await count(runtime, recall_items, thread.tenant_id, recall_items.c.source_type == "document")
    assert chunks_stored == progress.chunks  # sent twice, stored once
    assert await count(runtime, ingested_documents, thread.tenant_id) == 1

    recalled = [item for item in result.manifest if item.layer == Layer.RECALL]
    assert any(item.label == "document handbook.md chunk 0" for item in recalled)
    facts = [item for item in result.manifest if item.layer == Layer.GRAPH]
    assert [f.label for f in facts] == ["Dana Smith WORKS_AT Acme Corp"]
    assert facts[0].source_episode == "document: handbook.md chunk 0"


async def test_binary_or_undecodable_files_are_refused_by_name_and_nothing_is_sent(
    database_url, runtime, thread, tmp_path, capsys
):
    good = tmp_path / "notes.md"
    good.write_text("Dana Smith works at Acme Corp.")
    image = tmp_path / "logo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    latin = tmp_path / "old.txt"
    latin.write_bytes("Café crème".encode("latin-1"))

    code = await ingest_document.main(["--tenant", thread.tenant_id, str(good), str(image), str(latin)])

    err = capsys.readouterr().err
    assert code == 2
    assert "logo.png" in err and "old.txt" in err and "notes.md" not in err
    assert "nothing was ingested" in err
    assert await count(runtime, ingested_documents, thread.tenant_id) == 0


def test_an_upload_is_named_by_its_content(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Dana Smith works at Acme Corp.\n")
    upload = ingest_document.read_upload("acme", path)
    assert upload.sha256 == hashlib.sha256(upload.text.encode()).hexdigest()
    assert upload.name == "a.txt"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    "text, why",
    [
        ("Dana\x00Smith works at Acme.", "NUL"),
        ("\x01\x02\x03\x04\x05\x06" * 40, "looks binary"),
        ("Caf\udce9 au lait", "unpaired surrogate"),
    ],
)
async def test_text_sent_already_decoded_is_checked_like_a_file(runtime, thread, text, why):
    # A workflow's input can come from any client, not only ingest_document.py.
    with pytest.raises(DocumentRejected, match=why):
        await runtime.library.store(
            thread.tenant_id, "notes.md", hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), text
        )
    assert await count(runtime, ingested_documents, thread.tenant_id) == 0


async def test_a_digest_that_is_not_the_texts_is_refused_so_the_real_owner_of_it_still_gets_in(runtime, thread):
    forged, real = "Dana Smith works at Acme.", "Dana Smith works at Initech."
    with pytest.raises(InvalidInput, match="sha256"):
        await runtime.library.store(thread.tenant_id, "forged.md", sha(real), forged)
    stored = await runtime.library.store(thread.tenant_id, "real.md", sha(real), real)
    assert stored.name == "real.md"
    _, chunks = await runtime.library.chunks(thread.tenant_id, sha(real), 0, 0)
    assert [c.text for c in chunks] == [real]


async def test_a_document_name_with_a_nul_byte_is_refused(runtime, thread):
    text = "Dana Smith works at Acme."
    with pytest.raises(InvalidInput, match="name .*NUL"):
        await runtime.library.store(thread.tenant_id, "notes\x00.md", sha(text), text)
    assert await count(runtime, ingested_documents, thread.tenant_id) == 0
