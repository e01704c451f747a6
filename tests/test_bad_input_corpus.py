"""A corpus of bad input, one case per row, for every client script and every workflow
entry point: empty, huge, binary and invalid UTF-8 input, wrong types, unknown ids and
duplicate requests.

Every case is run against the real stores with one worker for the module, and must:

- be refused with a clear message: a client exits non-zero with the message on stderr,
  an update or workflow fails with it as its innermost cause;
- leave every store as it was: the row count of every Postgres table, the node count of
  every FalkorDB graph and the number of other Redis keys are the same after the case.

Two kinds of case expect something else:

- `stuck`: a workflow input of the wrong type (a raw dict sent by workflow name) cannot
  be decoded, and the SDK treats that as a failed workflow task, which the server
  retries, rather than as a failed workflow. The case asserts what an operator sees: the
  workflow is still running a few seconds later, its history shows the decoding error,
  and nothing was written. The workflow is then terminated.
- `once`: the same request sent twice (same request id, same content): the first may
  write, the second must change nothing.

A case marked with `bug` shows a product defect: it is expected to fail (strictly, so a
fix shows up as an unexpected pass) and its reason says what happens instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from clients import (
    cache_review,
    chat,
    codify,
    correct,
    ingest_document,
    migrate,
    notebook,
    retention,
    switches,
    usage,
)
from clients.connect import failure_reason
from clients.conversation import correct as send_correction
from clients.conversation import send_message
from contract.conversation import UserMessage, conversation_workflow_id
from contract.migration import MigrationRequest, MigrationStart, migration_id
from memory.core.config import Settings
from memory.core.refs import ThreadRef
from memory.learning.models import Correction
from memory.runtime import MemoryRuntime
from tests.conftest import finished, running_worker, time_skipping_server
from tests.store_counts import ChildWorkflows, changes, snapshot
from workflows.migration import EmbeddingMigrationWorkflow

OLD, NEW = "offline/hashed-ngrams/256", "offline/hashed-ngrams/384"
# How long a workflow that cannot decode its input is watched before it counts as stuck.
STUCK_AFTER = timedelta(seconds=1.5)
# How long a client script may take before it counts as hanging.
CLIENT_PATIENCE = timedelta(seconds=5)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


# --- the module's stack, and one world per case ----------------------------------------


@dataclass
class Stack:
    client: Client
    runtime: MemoryRuntime
    task_queue: str
    children: ChildWorkflows
    redis_url: str
    waited: set[str] = field(default_factory=set)

    async def settle(self) -> None:
        """Every child workflow any turn started (ingestion, reflection) has finished."""
        while pending := sorted(self.children.started - self.waited):
            for workflow_id in pending:
                await finished(self.client, workflow_id)
                self.waited.add(workflow_id)

    async def stores(self) -> dict[str, object]:
        await self.settle()
        return await snapshot(self.runtime.engine, self.redis_url)


time_skipping_env = time_skipping_server("module")


@pytest.fixture(scope="module")
async def stack(time_skipping_env, database_url, graph_url, redis_url, tmp_path_factory):
    runtime = MemoryRuntime.create(
        Settings(
            database_url=database_url,
            graph_url=graph_url,
            redis_url=redis_url,
            tool_scratch_root=str(tmp_path_factory.mktemp("scratch")),
            # The migration cases name the hashed n-gram models as the current and the old one.
            embedding_model="offline/hashed-ngrams/256",
        )
    )
    children = ChildWorkflows()
    try:
        async with running_worker(time_skipping_env.client, runtime, interceptors=[children]) as tq:
            yield Stack(time_skipping_env.client, runtime, tq, children, redis_url)
    finally:
        await runtime.close()


@dataclass
class World:
    """What one case works with: a tenant of its own, a thread of it, and a scratch directory."""

    stack: Stack
    tmp: Path
    capsys: pytest.CaptureFixture
    monkeypatch: pytest.MonkeyPatch
    tenant: str = field(default_factory=lambda: f"bad-{uuid.uuid4().hex[:10]}")
    started: list[str] = field(default_factory=list)  # workflows to end after the case

    @property
    def thread(self) -> ThreadRef:
        return ThreadRef(tenant_id=self.tenant, agent_id="support", thread_id="t1")

    @property
    def client(self) -> Client:
        return self.stack.client


@dataclass
class Seen:
    """What the caller saw: the request `done`, `failed` (a non-zero exit, a failed update or
    workflow), `crashed` (a client script died with a traceback) or still `running` when we
    stopped waiting; and the text it got (the output, stderr, the failure's innermost
    message, the exception, or why it is still running)."""

    outcome: str
    text: str


Act = Callable[[World], Awaitable[Seen]]


# --- the ways of making a request ------------------------------------------------------


def cli(
    module: ModuleType,
    *argv: str,
    stdin: bytes | None = None,
    files: dict[str, bytes] | None = None,
    workflow_id: str | None = None,
) -> Act:
    """Run a client script's entry point as the shell would; {tenant} and {tmp} are filled in.
    workflow_id names the workflow the script starts, for a script that does not come back."""

    async def act(w: World) -> Seen:
        for name, data in (files or {}).items():
            (w.tmp / name).write_bytes(data)
        if stdin is not None:
            w.monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        args = [a.replace("{tenant}", w.tenant).replace("{tmp}", str(w.tmp)) for a in argv]
        if workflow_id:
            w.started.append(workflow_id.format(tenant=w.tenant))
        entry = getattr(module, "run", None) or module.main  # some scripts wrap an async run in a sync main
        try:
            code = await asyncio.wait_for(entry(args), CLIENT_PATIENCE.total_seconds())
        except SystemExit as exit:  # argparse, or connect(): the process would exit with this
            code = exit.code if isinstance(exit.code, int) else 1
            if isinstance(exit.code, str):
                print(exit.code, file=sys.stderr)
        except TimeoutError:
            out, err = w.capsys.readouterr()
            return Seen("running", f"no answer after {CLIENT_PATIENCE.total_seconds()} s: {out}{err}")
        except Exception as crash:  # the process would die with a traceback
            w.capsys.readouterr()
            return Seen("crashed", f"{type(crash).__name__}: {crash}")
        out, err = w.capsys.readouterr()
        return Seen("done", out) if code == 0 else Seen("failed", err)

    return act


async def watch(w: World, workflow_id: str) -> Seen:
    """The workflow's outcome, or, if it is still running after STUCK_AFTER, why (without
    waiting on its result, which would let the time-skipping server jump its clock)."""
    handle = w.client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + STUCK_AFTER.total_seconds()
    while asyncio.get_running_loop().time() < deadline:
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            try:
                return Seen("done", str(await handle.result()))
            except WorkflowFailureError as err:
                return Seen("failed", failure_reason(err))
        await asyncio.sleep(0.1)
    reasons = [
        messages(event.workflow_task_failed_event_attributes.failure)
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    description = (await handle.describe()).raw_description
    reasons += [
        f"activity {a.activity_type.name}, attempt {a.attempt}: {messages(a.last_failure)}"
        for a in description.pending_activities
    ]
    return Seen("running", f"still running after {STUCK_AFTER.total_seconds()} s: " + " | ".join(reasons))


def messages(failure) -> str:
    """A failure and its causes, outermost first."""
    said = []
    while failure is not None and failure.message:
        said.append(failure.message)
        failure = failure.cause if failure.HasField("cause") else None
    return ": ".join(said)


def start(workflow: str, payload: Callable[[World], object], *, workflow_id: str | None = None) -> Act:
    """Start a workflow by name with a raw payload (as any SDK client could), and watch it."""

    async def act(w: World) -> Seen:
        wid = workflow_id.format(tenant=w.tenant) if workflow_id else f"bad-input/{workflow}/{uuid.uuid4().hex[:12]}"
        try:
            await w.client.start_workflow(workflow, payload(w), id=wid, task_queue=w.stack.task_queue)
        except Exception as err:  # refused before anything was sent
            return Seen("failed", f"{type(err).__name__}: {err}")
        w.started.append(wid)
        return await watch(w, wid)

    return act


def update(name: str, payload: Callable[[World], object], *, update_id: str | None = None) -> Act:
    """Send an update by name with a raw payload to the case's running conversation."""

    async def act(w: World) -> Seen:
        handle = w.client.get_workflow_handle(conversation_workflow_id(w.thread))
        try:
            return Seen("done", str(await handle.execute_update(name, payload(w), id=update_id)))
        except WorkflowUpdateFailedError as err:
            return Seen("failed", failure_reason(err))

    return act


def send(text: str, *, request_id: str | None = None) -> Act:
    """A message through the client API with its own check off, so the workflow's validator decides."""

    async def act(w: World) -> Seen:
        try:
            result = await send_message(
                w.client, w.thread, UserMessage(text=text), task_queue=w.stack.task_queue, request_id=request_id,
                check=False,
            )
        except WorkflowUpdateFailedError as err:
            return Seen("failed", failure_reason(err))
        return Seen("done", f"turn {result.turn}: {result.reply}")

    return act


# --- what some cases need first --------------------------------------------------------


async def a_turn(w: World) -> None:
    await send_message(w.client, w.thread, UserMessage(text="Hello, please list my files."), task_queue=w.stack.task_queue)


async def a_turn_with_facts(w: World) -> None:
    text = "For the record: Dana Smith works at Acme Corp. Dana Smith is based in Rotterdam, the Netherlands."
    await send_message(w.client, w.thread, UserMessage(text=text), task_queue=w.stack.task_queue)


async def a_learned_correction(w: World) -> None:
    await a_turn(w)
    await send_correction(w.client, w.thread, Correction(tried="ls -z", instead="ls -a", operator="alice"))


async def a_migrated_tenant(w: World) -> None:
    await a_turn(w)
    await w.stack.settle()
    await w.client.execute_workflow(
        EmbeddingMigrationWorkflow.run,
        MigrationStart(request=MigrationRequest(tenant_id=w.tenant, to_model=NEW)),
        id=migration_id(w.tenant),
        task_queue=w.stack.task_queue,
    )


async def a_paused_migration(w: World) -> None:
    await a_turn(w)
    await w.stack.settle()
    handle = await w.client.start_workflow(
        EmbeddingMigrationWorkflow.run,
        MigrationStart(request=MigrationRequest(tenant_id=w.tenant, to_model=NEW)),
        id=migration_id(w.tenant),
        task_queue=w.stack.task_queue,
        start_signal="pause",
    )
    w.started.append(handle.id)
    # Paused before its first batch: wait until planning and indexing are done and nothing runs.
    while (await handle.query(EmbeddingMigrationWorkflow.progress)).phase in ("planning", "indexing") or (
        await handle.describe()
    ).raw_description.pending_activities:
        await asyncio.sleep(0.05)


# --- payloads ---------------------------------------------------------------------------


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def upload(text: str, *, name: str = "notes.md", digest: str | None = None, tenant: str | None = None):
    return lambda w: {"tenant_id": tenant or w.tenant, "name": name, "text": text, "sha256": digest or sha(text)}


def notebook_edit(content: object, *, operator: object = "alice", request_id: str = "edit-1", agent: object = None):
    return lambda w: {
        "agent": agent if agent is not None else {"tenant_id": w.tenant, "agent_id": "support"},
        "content": content,
        "operator": operator,
        "reason": "",
        "request_id": request_id,
    }


def codify_request(*, target: str = "notebook", task_type: str | None = None, session: str = "t1", request_id: str = "c1"):
    return lambda w: {
        "agent": {"tenant_id": w.tenant, "agent_id": "support"},
        "session_id": session,
        "command": "ls -z",
        "target": target,
        "task_type": task_type,
        "operator": "alice",
        "request_id": request_id,
    }


def migration(to_model: str, *, tenant: str | None = None, **more):
    return lambda w: {"request": {"tenant_id": tenant or w.tenant, "to_model": to_model, **more}}


def fence(action: str, model: str, *, tenant: str | None = None):
    return lambda w: {"action": action, "tenant_id": tenant or w.tenant, "model": model}


def correction(tried: object, instead: object = "ls -a", operator: object = "alice"):
    return lambda w: {"tried": tried, "instead": instead, "operator": operator}


# --- the corpus -------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    act: Act
    message: str
    setup: Callable[[World], Awaitable[None]] | None = None
    expect: str = "refused"  # refused, stuck or once
    bug: str | None = None


WHO = ("--tenant", "{tenant}", "--agent", "support")
THREAD = (*WHO, "--thread", "t1")
EDIT = ("edit", *WHO, "--operator", "alice")
PROMOTE = ("promote", *THREAD, "--command", "ls -z", "--operator", "alice")
CORRECT = (*THREAD, "--operator", "alice")

CASES = [
    # clients/chat.py
    Case("chat: empty message", cli(chat, *THREAD, ""), "message is empty"),
    Case("chat: huge message", cli(chat, *THREAD, "x" * 32_001), "the limit is 32000"),
    Case("chat: invalid UTF-8 in argv", cli(chat, *THREAD, os.fsdecode(b"caf\xe9 au lait")), "not valid Unicode"),
    Case("chat: binary on stdin", cli(chat, *THREAD, "-", stdin=b"\x00\x01\x02\x03 raw bytes"), "NUL byte"),
    Case(
        "chat: invalid UTF-8 on stdin",
        cli(chat, *THREAD, "-", stdin=b"caf\xe9 au lait"),
        "UTF-8",
    ),
    Case("chat: malformed tenant id", cli(chat, "--tenant", "Acme!", "--agent", "support", "--thread", "t1", "hi"),
         "tenant id"),
    Case("chat: same request id twice", cli(chat, *THREAD, "--request-id", "ask-1", "Hello there"), "-- turn 1 of",
         expect="once"),
    # clients/notebook.py
    Case("notebook: empty file", cli(notebook, *EDIT, "--file", "{tmp}/empty.md", files={"empty.md": b" \n"}),
         "empty"),
    Case("notebook: huge file", cli(notebook, *EDIT, "--file", "{tmp}/big.md", files={"big.md": b"x" * 64_001}),
         "at most 64000 characters"),
    Case("notebook: binary file", cli(notebook, *EDIT, "--file", "{tmp}/logo.png", files={"logo.png": PNG}),
         "cannot read the new notebook text"),
    Case("notebook: invalid UTF-8 file",
         cli(notebook, *EDIT, "--file", "{tmp}/old.md", files={"old.md": "Café".encode("latin-1")}),
         "cannot read the new notebook text"),
    Case(
        "notebook: NUL bytes in the file",
        cli(notebook, *EDIT, "--request-id", "nul-1", "--file", "{tmp}/nul.md", files={"nul.md": b"Dana\x00Smith"},
            workflow_id="notebook/{tenant}/support/nul-1"),
        "NUL",
    ),
    Case("notebook: missing file", cli(notebook, *EDIT, "--file", "{tmp}/nowhere.md"), "No such file"),
    Case("notebook: malformed agent id", cli(notebook, "show", "--tenant", "{tenant}", "--agent", "../etc"),
         "agent id"),
    Case("notebook: same request id twice",
         cli(notebook, *EDIT, "--request-id", "edit-1", "--file", "{tmp}/n.md", files={"n.md": b"Dana Smith works at Acme."}),
         "notebook v1 saved", expect="once"),
    # clients/ingest_document.py
    Case("ingest_document: empty file", cli(ingest_document, "--tenant", "{tenant}", "{tmp}/e.md", files={"e.md": b""}),
         "is empty"),
    Case("ingest_document: huge file",
         cli(ingest_document, "--tenant", "{tenant}", "{tmp}/big.md", files={"big.md": b"word " * 200_001}),
         "more than one upload takes"),
    Case("ingest_document: binary file",
         cli(ingest_document, "--tenant", "{tenant}", "{tmp}/logo.png", files={"logo.png": PNG}), "is binary"),
    Case("ingest_document: invalid UTF-8 file",
         cli(ingest_document, "--tenant", "{tenant}", "{tmp}/old.txt", files={"old.txt": "Café".encode("latin-1")}),
         "not valid UTF-8"),
    Case("ingest_document: malformed tenant id",
         cli(ingest_document, "--tenant", "Acme!", "{tmp}/a.md", files={"a.md": b"Dana Smith works at Acme."}),
         "tenant id"),
    Case("ingest_document: same file twice",
         cli(ingest_document, "--tenant", "{tenant}", "{tmp}/a.md", files={"a.md": b"Dana Smith works at Acme Corp."}),
         "recall 1/1", expect="once"),
    # clients/switches.py
    Case("switches: unknown switch",
         cli(switches, "set", "layer.magic.enabled", "on", "--tenant", "{tenant}", "--operator", "alice"),
         "unknown switch"),
    Case("switches: value of the wrong type",
         cli(switches, "set", "graph_extraction", "maybe", "--tenant", "{tenant}", "--operator", "alice"),
         "takes on, off, true or false"),
    Case("switches: negative number",
         cli(switches, "set", "ingest_min_chars", "-5", "--tenant", "{tenant}", "--operator", "alice"),
         "whole number >= 0"),
    Case("switches: blank operator",
         cli(switches, "set", "graph_extraction", "off", "--tenant", "{tenant}", "--operator", "  "),
         "must name its operator"),
    Case("switches: malformed tenant id", cli(switches, "show", "--tenant", "Acme!"), "tenant id"),
    # clients/usage.py
    Case("usage: since is not a date", cli(usage, "--since", "last tuesday"), "not an ISO date"),
    Case("usage: malformed tenant id", cli(usage, "--tenant", "x" * 65), "tenant id"),
    # clients/migrate.py
    Case("migrate: malformed model id", cli(migrate, "start", "--tenant", "{tenant}", "--to", "not-a-model"),
         "provider/model/dimension"),
    Case(
        "migrate: unknown model",
        cli(migrate, "start", "--tenant", "{tenant}", "--to", "offline/other/128"),
        "not an offline model",
        setup=a_turn,
    ),
    Case(
        "migrate: start for an unknown tenant",
        cli(migrate, "start", "--tenant", "{tenant}", "--to", NEW),
        "unknown tenant",
    ),
    Case(
        "migrate: status of an unknown tenant",
        cli(migrate, "status", "--tenant", "{tenant}"),
        "has no migration",
    ),
    Case("migrate: pause an unknown tenant", cli(migrate, "pause", "--tenant", "{tenant}"),
         "has no running migration"),
    Case(
        "migrate: rollback of an unknown tenant",
        cli(migrate, "rollback", "--tenant", "{tenant}", "--to", OLD),
        "unknown tenant",
    ),
    Case("migrate: second start while one runs", cli(migrate, "start", "--tenant", "{tenant}", "--to", NEW),
         "already has a migration running", setup=a_paused_migration),
    # clients/correct.py
    Case("correct: blank tried", cli(correct, *CORRECT, "--tried", "   ", "--instead", "ls -a"),
         "a correction needs what was tried"),
    Case("correct: huge tried", cli(correct, *CORRECT, "--tried", "x" * 2_001, "--instead", "ls -a"),
         "the limit is 2000"),
    Case("correct: unknown thread", cli(correct, *CORRECT, "--tried", "ls -z", "--instead", "ls -a"), "never started"),
    Case("correct: same request id twice",
         cli(correct, *CORRECT, "--tried", "ls -z", "--instead", "ls -a", "--request-id", "fix-1"), "recorded",
         setup=a_turn, expect="once"),
    # clients/codify.py
    Case("codify: unknown entry", cli(codify, *PROMOTE, "--to", "notebook"), "expired or never existed"),
    Case("codify: unknown target", cli(codify, *PROMOTE, "--to", "graph"), "use skill:<task-type> or notebook"),
    Case("codify: same request id twice", cli(codify, *PROMOTE, "--to", "notebook", "--request-id", "promote-1"),
         "/notebook.md v1", setup=a_learned_correction, expect="once"),
    # clients/cache_review.py
    Case("cache_review: unknown audit entry", cli(cache_review, "approve", "987654", "--reviewer", "alice"),
         "no audit entry 987654"),
    Case("cache_review: id that is not a number", cli(cache_review, "approve", "twelve", "--reviewer", "alice"),
         "invalid int value"),
    Case("cache_review: limit out of range", cli(cache_review, "list", "--limit", "0"), "--limit must be"),
    # clients/retention.py
    Case("retention: zero horizon", cli(retention, "run", "--recall-days", "0"), "recall_retention_days"),
    Case("retention: malformed tenant id", cli(retention, "active", "--tenant", "Acme!", "--on"), "tenant id"),
    Case(
        "retention: schedule every NaN hours",
        cli(retention, "schedule", "--every-hours", "nan"),
        "--every-hours",
    ),
    # ConversationWorkflow.send_message (the workflow's own validator: the client check is off)
    Case("send_message: empty", send("  \n "), "message is empty"),
    Case("send_message: huge", send("x" * 32_001), "the limit is 32000"),
    Case("send_message: binary", send("\x00\x01\x02 raw bytes"), "NUL byte"),
    Case("send_message: wrong type", update("send_message", lambda w: {"text": 42}), "Input should be a valid string",
         setup=a_turn),
    Case("send_message: same update id twice", send("Hello again", request_id="turn-req-1"), "turn 1", expect="once"),
    # ConversationWorkflow.correct
    Case("correct update: blank tried", update("correct", correction("")), "a correction needs what was tried",
         setup=a_turn),
    Case("correct update: huge tried", update("correct", correction("x" * 3_000)), "the limit is 2000", setup=a_turn),
    Case("correct update: wrong types", update("correct", correction(7, ["ls"])), "Input should be a valid string",
         setup=a_turn),
    Case("correct update: same update id twice", update("correct", correction("ls -z"), update_id="fix-2"),
         "correction_id", setup=a_turn, expect="once"),
    # NotebookEditWorkflow
    Case("NotebookEditWorkflow: empty content", start("NotebookEditWorkflow", notebook_edit("")),
         "at least 1 character", expect="stuck"),
    Case("NotebookEditWorkflow: huge content", start("NotebookEditWorkflow", notebook_edit("x" * 64_001)),
         "at most 64000 characters", expect="stuck"),
    Case("NotebookEditWorkflow: wrong types", start("NotebookEditWorkflow", notebook_edit(["Dana"], agent="support")),
         "validation error", expect="stuck"),
    Case("NotebookEditWorkflow: invalid UTF-8 (a lone surrogate)",
         start("NotebookEditWorkflow", notebook_edit(os.fsdecode(b"caf\xe9"))), "surrogates not allowed"),
    Case("NotebookEditWorkflow: NUL in the content", start("NotebookEditWorkflow", notebook_edit("Dana\x00Smith")),
         "NUL"),
    Case(
        "NotebookEditWorkflow: whitespace-only content",
        start("NotebookEditWorkflow", notebook_edit(" \n\t ")),
        "empty",
    ),
    Case("NotebookEditWorkflow: same request id twice", start("NotebookEditWorkflow", notebook_edit("Dana moved.")),
         "'version': 1", expect="once"),
    # DocumentIngestionWorkflow
    Case("DocumentIngestionWorkflow: empty text", start("DocumentIngestionWorkflow", upload("")), "has no text"),
    Case("DocumentIngestionWorkflow: malformed tenant id",
         start("DocumentIngestionWorkflow", upload("Dana Smith works at Acme.", tenant="Acme!")), "tenant id"),
    Case("DocumentIngestionWorkflow: wrong types",
         start("DocumentIngestionWorkflow", lambda w: {"tenant_id": w.tenant, "name": 7, "text": None, "sha256": "x"}),
         "validation error", expect="stuck"),
    Case(
        "DocumentIngestionWorkflow: NUL in the text",
        start("DocumentIngestionWorkflow", upload("Dana\x00Smith")),
        "NUL",
    ),
    Case(
        "DocumentIngestionWorkflow: binary text",
        start("DocumentIngestionWorkflow", upload("\x01\x02\x03\x04\x05\x06" * 40, name="blob.bin")),
        "binary",
    ),
    Case(
        "DocumentIngestionWorkflow: sha256 that does not match the text",
        start("DocumentIngestionWorkflow", upload("Dana Smith works at Acme.", digest=sha("another text"))),
        "sha256",
    ),
    Case("DocumentIngestionWorkflow: same upload twice",
         start("DocumentIngestionWorkflow", upload("Dana Smith works at Acme Corp."), workflow_id="bad-input/doc/{tenant}"),
         "'done': True", expect="once"),
    # EmbeddingMigrationWorkflow
    Case("EmbeddingMigrationWorkflow: malformed model id", start("EmbeddingMigrationWorkflow", migration("not-a-model")),
         "malformed model id", setup=a_turn),
    Case("EmbeddingMigrationWorkflow: the current model", start("EmbeddingMigrationWorkflow", migration(OLD)),
         "is already on", setup=a_turn),
    Case("EmbeddingMigrationWorkflow: unknown provider model",
         start("EmbeddingMigrationWorkflow", migration("voyage/voyage-3/1024")), "needs VOYAGE_API_KEY", setup=a_turn),
    Case("EmbeddingMigrationWorkflow: huge dimension",
         start("EmbeddingMigrationWorkflow", migration("offline/hashed-ngrams/4096")), "at most 2000", setup=a_turn),
    Case("EmbeddingMigrationWorkflow: wrong types",
         start("EmbeddingMigrationWorkflow", migration(NEW, batch_size=0)), "greater than or equal to 1",
         setup=a_turn, expect="stuck"),
    Case(
        "EmbeddingMigrationWorkflow: unknown tenant",
        start("EmbeddingMigrationWorkflow", migration(NEW)),
        "unknown tenant",
    ),
    # EmbeddingFenceWorkflow
    Case("EmbeddingFenceWorkflow: unknown action", start("EmbeddingFenceWorkflow", fence("explode", OLD)),
         "validation error", setup=a_turn, expect="stuck"),
    Case("EmbeddingFenceWorkflow: clean up the current model", start("EmbeddingFenceWorkflow", fence("cleanup", OLD)),
         "current model", setup=a_turn),
    Case("EmbeddingFenceWorkflow: malformed model id", start("EmbeddingFenceWorkflow", fence("cleanup", "garbage")),
         "malformed model id", setup=a_turn),
    Case("EmbeddingFenceWorkflow: unknown tenant", start("EmbeddingFenceWorkflow", fence("cleanup", NEW)),
         "unknown tenant"),
    Case(
        "EmbeddingFenceWorkflow: rollback to a model never migrated to",
        start("EmbeddingFenceWorkflow", fence("rollback", NEW)),
        "have no vector of that model",
        setup=a_turn_with_facts,
    ),
    Case("EmbeddingFenceWorkflow: same rollback twice", start("EmbeddingFenceWorkflow", fence("rollback", OLD)),
         "is back on", setup=a_migrated_tenant, expect="once"),
    # CodifyWorkflow
    Case("CodifyWorkflow: unknown entry", start("CodifyWorkflow", codify_request()), "expired or never existed"),
    Case("CodifyWorkflow: skill without a task type", start("CodifyWorkflow", codify_request(target="skill")),
         "needs its task type"),
    Case("CodifyWorkflow: malformed session id", start("CodifyWorkflow", codify_request(session="../t1")),
         "session id"),
    Case("CodifyWorkflow: unknown target", start("CodifyWorkflow", codify_request(target="graph")),
         "validation error", expect="stuck"),
    Case("CodifyWorkflow: same request id twice", start("CodifyWorkflow", codify_request(request_id="c-once")),
         "'version': 1", setup=a_learned_correction, expect="once"),
    # RetentionWorkflow
    Case("RetentionWorkflow: zero days",
         start("RetentionWorkflow", lambda w: {"episode_retention_days": 0, "recall_retention_days": 30}),
         "greater than or equal to 1", expect="stuck"),
    Case("RetentionWorkflow: wrong types", start("RetentionWorkflow", lambda w: {"episode_retention_days": "soon"}),
         "valid integer", expect="stuck"),
    Case(
        "RetentionWorkflow: huge horizon",
        start("RetentionWorkflow", lambda w: {"episode_retention_days": 10**12, "recall_retention_days": 10**12}),
        "less than or equal to 36500",
        expect="stuck",
    ),
    Case("RetentionWorkflow: same run twice",
         start("RetentionWorkflow", lambda w: {"episode_retention_days": 36_500, "recall_retention_days": 36_500},
               workflow_id="bad-input/retention/{tenant}"),
         "run_key", expect="once"),
]


@pytest.fixture
async def world(stack, tmp_path, capsys, monkeypatch, time_skipping_env):
    monkeypatch.setenv("DATABASE_URL", stack.runtime.settings.database_url)
    monkeypatch.setenv("REDIS_URL", stack.redis_url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", time_skipping_env.client.service_client.config.target_host)
    monkeypatch.setenv("TASK_QUEUE", stack.task_queue)
    w = World(stack, tmp_path, capsys, monkeypatch)
    yield w
    # Nothing of a case may keep running: a workflow task without a worker stalls the shared
    # clock, and an activity still at work would write into the next case's counts.
    for workflow_id in [*w.started, migration_id(w.tenant)]:
        handle = w.client.get_workflow_handle(workflow_id)
        try:
            running = (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            running = False
        if running and workflow_id == migration_id(w.tenant):
            await handle.signal(EmbeddingMigrationWorkflow.cancel)  # it stops between batches
            await finished(w.client, workflow_id)
        elif running:
            await handle.terminate("bad-input case finished")  # stuck: nothing of it is running
    await stack.settle()


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.bug)] if c.bug else []) for c in CASES],
)
async def test_bad_input_is_refused_and_changes_nothing(world, case: Case):
    if case.setup:
        await case.setup(world)
    world.capsys.readouterr()
    before = await world.stack.stores()
    seen = await case.act(world)
    if case.expect == "once":
        assert seen.outcome == "done", f"the first request: {seen}"
        before = await world.stack.stores()
        seen = await case.act(world)
    after = await world.stack.stores()

    assert seen.outcome == {"refused": "failed", "stuck": "running", "once": "done"}[case.expect], seen
    assert case.message in seen.text, seen.text[:2000]
    assert changes(before, after) == {}
