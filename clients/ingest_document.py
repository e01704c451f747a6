"""Feed documents (markdown or plain text) into a tenant's memory.

    uv run python clients/ingest_document.py --tenant acme handbook.md notes.txt

Each file is chunked; the chunks go into the recall store (retrievable by every agent of
the tenant, with the document's name and chunk number as provenance) and, unless a switch
says otherwise, into the knowledge graph as document episodes. Every file is checked
before anything is sent: a binary or undecodable file stops the whole batch, by name.
The same content sent twice is stored once.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contract.names import TASK_QUEUE  # noqa: E402
from temporalio.client import Client, WorkflowFailureError  # noqa: E402
from temporalio.common import WorkflowIDConflictPolicy  # noqa: E402

from clients.connect import connect, failure_reason  # noqa: E402
from contract.ingestion import (  # noqa: E402
    DocumentProgress,
    DocumentUpload,  # noqa: E402
    document_ingestion_id,
)
from memory.core.validation import InvalidInput, check_id  # noqa: E402
from memory.documents.chunking import decode_document  # noqa: E402
from workflows.documents import DocumentIngestionWorkflow  # noqa: E402

# One upload travels as one workflow input; Temporal's payload limit is 2 MB.
MAX_DOCUMENT_CHARS = 1_000_000


def read_upload(tenant_id: str, path: Path) -> DocumentUpload:
    """Read and check one file; raises InvalidInput naming the file."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InvalidInput(f"{path}: cannot be read: {err.strerror or err}") from None
    text = decode_document(path.name, data)
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InvalidInput(
            f"{path.name}: {len(text):,} characters is more than one upload takes ({MAX_DOCUMENT_CHARS:,}); "
            "split the file and send the parts"
        )
    return DocumentUpload(
        tenant_id=tenant_id, name=path.name[:200], text=text, sha256=hashlib.sha256(text.encode()).hexdigest()
    )


async def ingest(client: Client, upload: DocumentUpload, task_queue: str, *, show_progress: bool = True) -> DocumentProgress:
    handle = await client.start_workflow(
        DocumentIngestionWorkflow.run,
        upload,
        id=document_ingestion_id(upload.tenant_id, upload.sha256),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"Document ingestion: {upload.name} for tenant {upload.tenant_id}",
    )
    result = asyncio.ensure_future(handle.result())
    while show_progress and not result.done():
        await asyncio.wait([result], timeout=0.5)
        try:
            _show(await handle.query(DocumentIngestionWorkflow.progress))
        except Exception:
            pass  # a query can miss while the workflow is between tasks; the next one lands
    progress = await result
    if show_progress:
        _show(progress)
        print()
    return progress


def _show(p: DocumentProgress) -> None:
    total = max(p.chunks, 1)
    done = p.chunks_in_recall + p.episodes_ingested + p.episodes_failed
    steps = total * 2
    filled = int(30 * min(done, steps) / steps)
    print(
        f"\r{p.name[:30]:<30} [{'#' * filled}{'.' * (30 - filled)}] "
        f"recall {p.chunks_in_recall}/{p.chunks}  graph {p.episodes_ingested}/{p.chunks} ({p.graph_outcome})",
        end="",
        flush=True,
    )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--task-queue", default=os.environ.get("TASK_QUEUE", TASK_QUEUE))
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)

    uploads, errors = [], []
    try:
        check_id("tenant", args.tenant)
    except InvalidInput as err:
        errors.append(str(err))
    for path in args.files:
        try:
            uploads.append(read_upload(args.tenant, path))
        except InvalidInput as err:
            errors.append(str(err))
    if errors:
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        print("nothing was ingested", file=sys.stderr)
        return 2
    client = await connect()
    failed = 0
    for upload in uploads:
        try:
            await ingest(client, upload, args.task_queue)
        except WorkflowFailureError as err:
            print(f"\nerror: {upload.name}: {failure_reason(err)}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
