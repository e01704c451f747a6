"""Isolation as a property: whatever mix of work several tenants, their agents and their
agents' end users do, no retrieval crosses a tenant, no agent reads another agent's notebook,
and no user's thread is shown another user's private memory, while the agent's shared
knowledge (notebook, skills, documents) stays visible to all its users.

What is generated (hypothesis: 20 examples of 6-12 operations, all run by one worker on
the shared time-skipping server; a failing example is reported as generated, unshrunk,
since shrinking re-runs whole workflows for minutes):

- 2 or 3 fresh tenants with 2 agents each. Every tenant has a marker word of its own
  (`zq7<run>t<n>`, capitalised in the names of its people and companies) and every agent
  one of its own (its tenant's marker plus `g1` / `g2`). Each agent has three threads:
  thread-0 agent-wide (no user), thread-1 of user `u1` and thread-2 of user `u2` (the same
  user ids in every tenant); a user's words carry a marker of the user (the tenant's marker
  plus `u1` / `u2`).
- A random sequence of operations on them:
  - a turn on one of the three threads of an agent, of five kinds: a statement of facts about the
    tenant's people (graph material), `remember:` (the agent's notebook tool), a command
    that fails followed by one that works (the session cache learns it), a command that
    just fails (a failed episode), and a lure that asks what failed for another tenant's
    people, by their marker (recall, graph, episodic search and the agent's recall tool
    are all tempted);
  - an operator's notebook edit (NotebookEditWorkflow);
  - a document for the tenant (DocumentIngestionWorkflow), started and left running;
  - an operator's correction of the thread's conversation (refused while it has no turn);
  - codify of what the session learned into a skill or the notebook (CodifyWorkflow; a
    session that learned nothing yet is given a turn or a correction first);
  - a migration of the tenant to offline/hashed-ngrams/384 (EmbeddingMigrationWorkflow),
    at most once per tenant, started and left running beside the turns.
  Each turn's background work (episode, graph ingestion, reflection) runs on while the
  next operations go on; everything is waited for at the end of the example.

What is asserted:

- after every turn: each item of its manifest resolves to a row of the turn's tenant; of
  its agent for conversation, episodes, notebook, skills and exchanges in recall; of its
  thread for the conversation; of the thread's user or of no user for exchanges and
  episodes; graph facts are facts of the tenant's shared group or the thread user's own. The hits
  the agent's recall tool returned resolve to the tenant (and agent, for exchanges) too;
- at the end of the example: no tenant's graph holds a fact naming another tenant's
  marker; no notebook holds another agent's marker (and a notebook that was written holds
  its own agent's); no session's cache entries hold another agent's marker (checked after
  every turn too); direct searches by every agent with every other tenant's markers
  (recall, episodic with and without the failure filter) and loading every known skill
  return only the agent's own rows or its tenant's documents, and, searched from a user's
  thread with the other user's marker, no row of the other user; no user's graph group
  holds another user's marker; a document is found from every user's thread; documents
  and migrations finished as asked, and a migrated tenant is on its new model.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from clients.conversation import NoRunningConversation, correct, send_message
from contract.conversation import UserMessage
from contract.ingestion import (
    DocumentUpload,
    NotebookEdit,
    document_ingestion_id,
    exchange_ingestion_id,
    notebook_edit_id,
)
from contract.learning import CodifyInput, codify_id
from contract.migration import MigrationRequest, MigrationStart, migration_id
from memory.core.config import Settings
from memory.core.refs import AgentRef, ThreadRef
from memory.graph.service import group_of
from memory.learning.episodic import Outcome
from memory.learning.models import Correction
from memory.learning.session_cache import SessionContext
from memory.prompt.manifest import ContextItem, Layer
from memory.runtime import MemoryRuntime
from tests.conftest import (
    finished,
    running_worker,
    time_skipping_server,
)
from tests.store_counts import ChildWorkflows
from workflows.codify import CodifyWorkflow
from workflows.documents import DocumentIngestionWorkflow
from workflows.migration import EmbeddingMigrationWorkflow
from workflows.notebook_edit import NotebookEditWorkflow

NEW_MODEL = "offline/hashed-ngrams/384"
RUN = uuid.uuid4().hex[:6]
PEOPLE = ["Dana", "Robin", "Kim", "Ola"]
# The user of each thread of an agent: thread-0 is agent-wide.
USERS = [None, "u1", "u2"]
_serial = itertools.count(1)


# --- the world of one example ---------------------------------------------------------


@dataclass
class Tenant:
    id: str
    marker: str

    @property
    def name(self) -> str:
        """The marker as a name word, for people and companies the graph can extract."""
        return self.marker.capitalize()


@dataclass
class Agent:
    tenant: Tenant
    ref: AgentRef
    marker: str


def new_tenants(count: int) -> list[Tenant]:
    tenants = []
    for _ in range(count):
        n = next(_serial)
        tenants.append(Tenant(id=f"iso-{RUN}-{n:03d}", marker=f"zq7{RUN}t{n:03d}"))
    return tenants


def agents_of(tenant: Tenant) -> list[Agent]:
    return [
        Agent(tenant, AgentRef(tenant_id=tenant.id, agent_id=f"agent-{k}"), f"{tenant.marker}g{k}") for k in (1, 2)
    ]


# --- the operations -------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    tenant: int
    agent: int
    thread: int
    kind: str  # facts, remember, recover, fail, lure
    other: int  # the lure's tenant, as an offset from this one


@dataclass(frozen=True)
class EditNotebook:
    tenant: int
    agent: int


@dataclass(frozen=True)
class IngestDocument:
    tenant: int


@dataclass(frozen=True)
class Correct:
    tenant: int
    agent: int
    thread: int


@dataclass(frozen=True)
class Codify:
    tenant: int
    agent: int
    thread: int
    target: str  # skill or notebook


@dataclass(frozen=True)
class Migrate:
    tenant: int


def operations(tenants: int) -> st.SearchStrategy:
    t, a, th = st.integers(0, tenants - 1), st.integers(0, 1), st.integers(0, len(USERS) - 1)
    turns = st.builds(Turn, t, a, th, st.sampled_from(["facts", "remember", "recover", "fail", "lure"]), st.integers(1, tenants - 1))
    return st.one_of(
        turns,
        turns,
        turns,  # turns are what agents mostly do
        st.builds(EditNotebook, t, a),
        st.builds(IngestDocument, t),
        st.builds(Correct, t, a, th),
        st.builds(Codify, t, a, th, st.sampled_from(["skill", "notebook"])),
        st.builds(Migrate, t),
    )


scenarios = st.integers(2, 3).flatmap(lambda n: st.tuples(st.just(n), st.lists(operations(n), min_size=6, max_size=12)))


# --- resolving what a retrieval returned to the rows' owners --------------------------

_OWNER_SQL = {
    Layer.CONVERSATION_MESSAGE: "SELECT id, tenant_id, agent_id, thread_id FROM messages WHERE id = ANY(:ids)",
    Layer.CONVERSATION_SUMMARY: "SELECT id, tenant_id, agent_id, thread_id FROM conversation_summaries WHERE id = ANY(:ids)",
    Layer.EPISODIC: "SELECT id, tenant_id, agent_id, thread_id, user_id FROM episodes WHERE id = ANY(:ids)",
    Layer.NOTEBOOK: "SELECT v.id, d.tenant_id, d.agent_id, d.path FROM document_versions v "
    "JOIN documents d ON d.id = v.document_id WHERE v.id = ANY(:ids)",
    Layer.RECALL: "SELECT id, tenant_id, agent_id, source_type, user_id FROM recall_items WHERE id = ANY(:ids)",
}
_OWNER_SQL[Layer.PROCEDURAL] = _OWNER_SQL[Layer.NOTEBOOK]


async def owners(runtime: MemoryRuntime, layer: Layer, ids: list[int]) -> dict[int, tuple[str, str | None, str | None]]:
    if not ids:
        return {}
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(text(_OWNER_SQL[layer]), {"ids": ids})
        return {row[0]: tuple(row[1:]) for row in rows}


def belongs(layer: Layer, owner: tuple, thread: ThreadRef) -> bool:
    tenant_id, agent_id, extra, *user = owner
    if tenant_id != thread.tenant_id:
        return False
    if user and user[0] not in (None, thread.user_id):
        return False  # another user's exchange or episode
    if layer == Layer.RECALL:
        return extra == "document" or agent_id == thread.agent_id  # documents are the tenant's
    if agent_id != thread.agent_id:
        return False
    if layer in (Layer.CONVERSATION_MESSAGE, Layer.CONVERSATION_SUMMARY):
        return extra == thread.thread_id
    if layer == Layer.NOTEBOOK:
        return extra == "/notebook.md"
    if layer == Layer.PROCEDURAL:
        return extra.startswith("/skills/")
    return True


async def check_rows(runtime: MemoryRuntime, layer: Layer, ids: list[int], reader: ThreadRef, what: str) -> None:
    found = await owners(runtime, layer, ids)
    assert sorted(found) == sorted(set(ids)), f"{what}: {layer.value} ids without a row: {set(ids) - set(found)}"
    strangers = {i: owner for i, owner in found.items() if not belongs(layer, owner, reader)}
    assert not strangers, f"{what} returned {layer.value} rows of someone else: {strangers}"


async def check_manifest(runtime: MemoryRuntime, reader: ThreadRef, manifest: list[ContextItem], what: str) -> None:
    by_layer: dict[Layer, list[ContextItem]] = {}
    for item in manifest:
        by_layer.setdefault(item.layer, []).append(item)
    for layer, items in by_layer.items():
        if layer == Layer.GRAPH:
            uuids = [item.source_key for item in items]
            own = await runtime.knowledge.facts_by_uuid(reader.tenant_id, uuids, reader.user_id)
            assert sorted(f.uuid for f in own) == sorted(uuids), (
                f"{what}: graph facts not of tenant {reader.tenant_id} (user {reader.user_id}): {items}"
            )
        else:
            await check_rows(runtime, layer, [item.source_id for item in items], reader, what)


_RECALL_REF = re.compile(r"^<data \[recall:(\d+) \|", re.M)


async def check_recall_tool(runtime: MemoryRuntime, thread: ThreadRef, turn: int) -> None:
    async with runtime.engine.connect() as conn:
        outputs = (
            await conn.execute(
                text(
                    "SELECT output FROM tool_calls WHERE tenant_id = :t AND agent_id = :a AND thread_id = :th "
                    "AND turn = :turn AND tool = 'recall_search'"
                ),
                {"t": thread.tenant_id, "a": thread.agent_id, "th": thread.thread_id, "turn": turn},
            )
        ).scalars()
        ids = [int(i) for output in outputs for i in _RECALL_REF.findall(output)]
    await check_rows(runtime, Layer.RECALL, ids, thread, f"the recall tool in turn {turn} of {thread.key}")


# --- running an example ---------------------------------------------------------------


@dataclass
class Stack:
    client: Client
    runtime: MemoryRuntime
    task_queue: str
    children: ChildWorkflows
    waited: set[str] = field(default_factory=set)


time_skipping_env = time_skipping_server("module")


@pytest.fixture(scope="module")
async def stack(time_skipping_env, database_url, graph_url, redis_url, tmp_path_factory):
    """One runtime and one worker for every example: starting a worker per example is slow."""
    settings_ = Settings(
        database_url=database_url,
        graph_url=graph_url,
        redis_url=redis_url,
        tool_scratch_root=str(tmp_path_factory.mktemp("scratch")),
    )
    runtime = MemoryRuntime.create(settings_)
    children = ChildWorkflows()
    try:
        async with running_worker(time_skipping_env.client, runtime, interceptors=[children]) as tq:
            yield Stack(time_skipping_env.client, runtime, tq, children)
    finally:
        await runtime.close()


class Example:
    def __init__(self, stack: Stack, tenants: list[Tenant]):
        self.s = stack
        self.tenants = tenants
        self.agents = {t.id: agents_of(t) for t in tenants}
        self.started: set[str] = set()  # threads with a turn
        self.background: list[str] = []  # our own workflows left running: they must succeed
        self.migrated: set[str] = set()
        self.notebook_written: set[AgentRef] = set()
        self.documented: set[str] = set()  # tenants with a document
        self.ops = 0

    def agent(self, op) -> Agent:
        return self.agents[self.tenants[op.tenant].id][op.agent]

    def thread(self, op) -> ThreadRef:
        a = self.agent(op)
        return ThreadRef(
            tenant_id=a.ref.tenant_id, agent_id=a.ref.agent_id, thread_id=f"thread-{op.thread}", user_id=USERS[op.thread]
        )

    def request_id(self) -> str:
        return f"op-{uuid.uuid4().hex[:12]}"

    async def apply(self, op) -> None:
        self.ops += 1
        await getattr(self, type(op).__name__.lower())(op)

    async def turn(self, op: Turn) -> None:
        a, thread, t = self.agent(op), self.thread(op), self.tenants[op.tenant]
        person = PEOPLE[self.ops % len(PEOPLE)]
        user = user_marker(t, thread.user_id)
        if op.kind == "facts":
            message = (
                f"For the record ({a.marker} {user}): {person} {t.name} works at Acme {t.name}. "
                f"{person} {t.name} is based in Oslo {t.name}. {person} {user.capitalize()} uses Jira {t.name}."
            )
        elif op.kind == "remember":
            message = f"remember: {a.marker} wants the invoices of {person} {t.name} sent by email"
        elif op.kind == "recover":
            message = f"run: ls {a.marker}-missing.txt\notherwise: ls -a"
        elif op.kind == "fail":
            message = f"run: ls {a.marker}-{person.lower()}.txt"
        else:
            other = self.tenants[(op.tenant + op.other) % len(self.tenants)]
            neighbour = user_marker(t, USERS[3 - op.thread] if thread.user_id else "u1")
            message = (
                f"recall: {person} {other.name} at Acme {other.name} {neighbour}\n"
                f"What failed last time for {person} {other.name} of {other.marker} in Oslo {other.name}, "
                f"or for {person} {neighbour.capitalize()} ({neighbour})?"
            )
        result = await send_message(self.s.client, thread, UserMessage(text=message), task_queue=self.s.task_queue)
        self.started.add(thread.key)
        if op.kind == "remember":
            self.notebook_written.add(a.ref)
        what = f"turn {result.turn} of {thread.key}"
        await check_manifest(self.s.runtime, thread, result.manifest, what)
        await check_recall_tool(self.s.runtime, thread, result.turn)
        await self.check_session(a, thread, what)
        # Its episode, graph ingestion and reflection run on while the example goes on.
        self.background.append(exchange_ingestion_id(thread, result.turn))

    async def editnotebook(self, op: EditNotebook) -> None:
        a, t = self.agent(op), self.tenants[op.tenant]
        request_id = self.request_id()
        edit = NotebookEdit(
            agent=a.ref,
            content=f"# Notebook\n\n- {a.marker}: Dana {t.name} moved to Globex {t.name}.\n",
            operator="alice",
            reason="operator edit",
            request_id=request_id,
        )
        await self.s.client.execute_workflow(
            NotebookEditWorkflow.run, edit, id=notebook_edit_id(a.ref, request_id), task_queue=self.s.task_queue
        )
        self.notebook_written.add(a.ref)

    async def ingestdocument(self, op: IngestDocument) -> None:
        t = self.tenants[op.tenant]
        body = f"# Handbook of {t.name} ({self.ops})\n\n" + "\n\n".join(
            f"{person} {t.name} works at Initech {t.name}. Route {n} of {t.marker} leaves at {n}:00." for n, person in enumerate(PEOPLE)
        )
        upload = DocumentUpload.model_validate(
            {"tenant_id": t.id, "name": f"handbook-{self.ops}.md", "text": body, "sha256": hashlib.sha256(body.encode()).hexdigest()}
        )
        handle = await self.s.client.start_workflow(
            DocumentIngestionWorkflow.run,
            upload,
            id=document_ingestion_id(t.id, upload.sha256),
            task_queue=self.s.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        self.background.append(handle.id)
        self.documented.add(t.id)

    async def correct(self, op: Correct) -> None:
        a, thread = self.agent(op), self.thread(op)
        correction = Correction(tried=f"cat {a.marker}-draft.txt", instead=f"ls {a.marker}-final", operator="alice")
        if thread.key not in self.started:
            with pytest.raises(NoRunningConversation):
                await correct(self.s.client, thread, correction, request_id=self.request_id())
            return
        receipt = await correct(self.s.client, thread, correction, request_id=self.request_id())
        assert receipt.learned_key

    async def codify(self, op: Codify) -> None:
        """Promote what the session learned; a session that learned nothing is corrected first."""
        a, thread = self.agent(op), self.thread(op)
        if thread.key not in self.started:
            await self.turn(Turn(op.tenant, op.agent, op.thread, "recover", 1))
        learned = await self.s.runtime.session_cache.entries(session_of(thread))
        if not learned:
            await self.correct(Correct(op.tenant, op.agent, op.thread))
            learned = await self.s.runtime.session_cache.entries(session_of(thread))
        request = CodifyInput(
            agent=a.ref,
            session_id=thread.thread_id,
            command=learned[-1].tried,
            target=op.target,
            task_type="ls" if op.target == "skill" else None,
            operator="alice",
            request_id=self.request_id(),
        )
        result = await self.s.client.execute_workflow(
            CodifyWorkflow.run, request, id=codify_id(request), task_queue=self.s.task_queue
        )
        assert a.marker in result.tried
        if op.target == "notebook":
            self.notebook_written.add(a.ref)

    async def migrate(self, op: Migrate) -> None:
        t = self.tenants[op.tenant]
        if t.id in self.migrated:
            return  # one migration per tenant
        if await self.s.runtime.tenants.known_embedding_model(t.id) is None:
            return  # nothing stored yet: a migration of an unknown tenant is refused
        self.migrated.add(t.id)
        handle = await self.s.client.start_workflow(
            EmbeddingMigrationWorkflow.run,
            MigrationStart(request=MigrationRequest(tenant_id=t.id, to_model=NEW_MODEL, requested_by="alice")),
            id=migration_id(t.id),
            task_queue=self.s.task_queue,
        )
        self.background.append(handle.id)

    async def settle(self) -> None:
        """Our own background workflows succeed; then every child anything started finishes."""
        client = self.s.client
        for workflow_id in self.background:
            await finished(client, workflow_id)  # an ingestion child may not have started yet
            if workflow_id.startswith("document/"):
                done = await client.get_workflow_handle_for(DocumentIngestionWorkflow.run, workflow_id).result()
                assert done.done and done.chunks_in_recall == done.chunks, done
            if workflow_id.startswith("migration/"):
                moved = await client.get_workflow_handle_for(EmbeddingMigrationWorkflow.run, workflow_id).result()
                assert moved.outcome == "switched", moved
        while pending := sorted(self.s.children.started - self.s.waited):
            for workflow_id in pending:
                await finished(client, workflow_id)
                self.s.waited.add(workflow_id)
        for tenant_id in self.migrated:
            assert await self.s.runtime.tenants.current_embedding_model(tenant_id) == NEW_MODEL

    # --- the checks ---

    def foreign_markers(self, a: Agent) -> list[str]:
        """Every other agent's marker and every other tenant's; the agent's own tenant's is fine."""
        everyone = [b for agents in self.agents.values() for b in agents]
        foreign = [b.marker for b in everyone if b is not a] + [t.marker for t in self.tenants if t is not a.tenant]
        return [m for m in foreign if not a.marker.startswith(m)]

    async def check_session(self, a: Agent, thread: ThreadRef, when: str) -> None:
        foreign = self.foreign_markers(a)
        for entry in await self.s.runtime.session_cache.entries(session_of(thread)):
            said = f"{entry.tried} {entry.instead}".lower()
            assert not [m for m in foreign if m in said], f"{when}: the session cache of {thread.key} holds {entry}"

    async def check_everything(self) -> None:
        rt = self.s.runtime
        all_agents = [a for agents in self.agents.values() for a in agents]
        for t in self.tenants:
            others = [o.marker for o in self.tenants if o is not t]
            for fact in await rt.knowledge.graph.facts(group_of(t.id)):
                said = f"{fact.fact} {fact.source_entity} {fact.target_entity}".lower()
                assert not [m for m in others if m in said], f"the graph of {t.id} holds {fact.fact!r}"
            for user in USERS[1:]:
                strangers = others + [user_marker(t, u) for u in USERS if u and u != user]
                for fact in await rt.knowledge.graph.facts(group_of(t.id, user)):
                    said = f"{fact.fact} {fact.source_entity} {fact.target_entity}".lower()
                    assert not [m for m in strangers if m in said], f"the graph of {user} of {t.id} holds {fact.fact!r}"
        for a in all_agents:
            foreign = self.foreign_markers(a)
            notebook = await rt.notebook.read(a.ref)
            content = notebook.content.lower() if notebook else ""
            assert not [m for m in foreign if m in content], f"the notebook of {a.ref} reads {content!r}"
            if a.ref in self.notebook_written:
                assert a.marker in content, f"the notebook of {a.ref} lost its own notes: {content!r}"
            for n, user in enumerate(USERS):
                thread = ThreadRef(tenant_id=a.ref.tenant_id, agent_id=a.ref.agent_id, thread_id=f"thread-{n}", user_id=user)
                await self.check_session(a, thread, "at the end")
        task_types = {"general", "ls"}
        for a in all_agents:
            task_types.update(await rt.skills.task_types(a.ref))
        for a in all_agents:
            probe = ThreadRef(tenant_id=a.ref.tenant_id, agent_id=a.ref.agent_id, thread_id="probe")
            for other in (o for o in self.tenants if o is not a.tenant):
                query = f"{other.marker} {other.name} {' '.join(b.marker for b in self.agents[other.id])}"
                what = f"a search by {a.ref.tenant_id}/{a.ref.agent_id} for {other.marker}"
                hits = await rt.recall.search(probe, 1, query, ledger_key=f"probe/{uuid.uuid4().hex}")
                await check_rows(rt, Layer.RECALL, [h.id for h in hits], probe, what)
                for outcomes in (None, {Outcome.FAILED, Outcome.CORRECTED}):
                    episodes = await rt.episodic.search(a.ref, query, outcomes=outcomes, limit=10)
                    await check_rows(rt, Layer.EPISODIC, [e.id for e in episodes], probe, what)
            for n, user in enumerate(USERS[1:], start=1):
                mine = probe.model_copy(update={"thread_id": f"probe-{n}", "user_id": user})
                neighbour = user_marker(a.tenant, USERS[3 - n])
                what = f"a search by {user} of {a.ref.tenant_id}/{a.ref.agent_id} for {neighbour}"
                hits = await rt.recall.search(mine, 1, f"{neighbour} {neighbour.capitalize()}", ledger_key=f"probe/{uuid.uuid4().hex}")
                await check_rows(rt, Layer.RECALL, [h.id for h in hits], mine, what)
                for outcomes in (None, {Outcome.FAILED, Outcome.CORRECTED}):
                    episodes = await rt.episodic.search(a.ref, neighbour, outcomes=outcomes, limit=10, user_id=user)
                    await check_rows(rt, Layer.EPISODIC, [e.id for e in episodes], mine, what)
                if a.tenant.id in self.documented:
                    # The tenant's documents are shared knowledge: every user's thread finds them.
                    found = await rt.recall.search(
                        mine, 1, f"Route {a.tenant.marker} Initech {a.tenant.name}", ledger_key=f"probe/{uuid.uuid4().hex}"
                    )
                    assert any(h.source_type == "document" for h in found), f"{user} of {a.ref} cannot find the documents"
            for task_type in sorted(task_types):
                skills = await rt.skills.load(a.ref, task_type)
                await check_rows(rt, Layer.PROCEDURAL, [s.version_id for s in skills], probe, f"skill {task_type} of {a.ref}")


def user_marker(t: Tenant, user: str | None) -> str:
    """The marker of a user's words (the tenant's own for agent-wide threads)."""
    return f"{t.marker}{user}" if user else t.marker


def session_of(thread: ThreadRef) -> SessionContext:
    return SessionContext(tenant_id=thread.tenant_id, agent_id=thread.agent_id, session_id=thread.thread_id)


@pytest.mark.timeout(240)
@settings(
    max_examples=20,
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios)
async def test_no_retrieval_crosses_a_tenant_or_a_user_and_shared_knowledge_reaches_every_user(stack, scenario):
    tenant_count, ops = scenario
    example = Example(stack, new_tenants(tenant_count))
    for op in ops:
        await example.apply(op)
    await example.settle()
    await example.check_everything()
