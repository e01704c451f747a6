"""The operator pages in headless Chromium against the real stack (Temporal, Postgres, FalkorDB,
a worker and the API on a real port): one browser and one stack for the module. Every page is
opened, and every step fails on a console error or a failed request."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.keys import IssuedKey
from contract.ingestion import document_ingestion_id, exchange_ingestion_id
from memory.core.config import Settings
from memory.core.refs import ThreadRef
from memory.core.schema import documents, session_cache_audit
from memory.learning.session_cache import SessionContext
from memory.runtime import MemoryRuntime
from tests.api_server import as_key, serving
from tests.browser import ChromiumUnavailable, ensure_chromium
from tests.conftest import finished, running_worker
from tests.web.watched_browser import Browser, WatchedPage

# The first test may wait while chromium is installed (here, or by the suite's other process).
pytestmark = pytest.mark.timeout(300)

# Long enough to pass the ingestion length gate.
PAD = " Please keep this on file for the account team before the renewal call."
HANDBOOK = "# Returns\n\nRefunds are paid within 14 days of the return.\n\n# Shipping\n\nParcels leave the warehouse every weekday at noon.\n"


@dataclass
class Stack:
    url: str
    runtime: MemoryRuntime
    client: object
    operator: IssuedKey
    reader: IssuedKey
    other: IssuedKey
    thread: ThreadRef
    audit_ids: list[int]
    document_id: int


async def _api(stack_url: str, key: IssuedKey, method: str, path: str, **kwargs) -> httpx.Response:
    async with as_key(stack_url, key.secret) as http:
        answer = await http.request(method, path, **kwargs)
    assert answer.status_code < 300, answer.text
    return answer


@pytest.fixture(scope="module")
async def stack(time_skipping_env, database_url, graph_url, redis_url, tmp_path_factory):
    settings = Settings(
        database_url=database_url,
        graph_url=graph_url,
        redis_url=redis_url,
        tool_scratch_root=str(tmp_path_factory.mktemp("web-scratch")),
        embedding_model="offline/hashed-ngrams/256",
    )
    runtime = MemoryRuntime.create(settings)
    client = time_skipping_env.client
    tenant = f"web-{uuid.uuid4().hex[:8]}"
    thread = ThreadRef(tenant_id=tenant, agent_id="support", thread_id="order-42")
    try:
        async with running_worker(client, runtime) as tq, serving(client, runtime, tq) as (url, keys):
            operator = await keys.create(tenant, "operator", name="on call", created_by="test")
            reader = await keys.create(tenant, "read", name="viewer", created_by="test")
            other = await keys.create(f"other-{uuid.uuid4().hex[:8]}", "operator", name="other tenant", created_by="test")
            # The conversation gets the company name wrong; the graph learns it.
            await _api(url, operator, "POST", f"/v1/agents/support/threads/{thread.thread_id}/messages",
                       json={"text": "Dana Smith works at Acmee Corp." + PAD})
            await finished(client, exchange_ingestion_id(thread, 1))
            await _api(url, operator, "POST", "/v1/documents", json={"name": "handbook.md", "text": HANDBOOK})
            await finished(client, document_ingestion_id(tenant, hashlib.sha256(HANDBOOK.encode()).hexdigest()))
            await _api(url, operator, "PUT", "/v1/agents/support/skills/general",
                       json={"content": "# general\n\n## Lessons\n- Use `ls -la` instead of `ls --long`\n"})
            # What a session learned, and the sample of its cache hits an operator reviews.
            ctx = SessionContext(tenant_id=tenant, agent_id="support", session_id="s-1")
            learned = await runtime.session_cache.record(ctx, tried="git st", instead="git status", source="tool_recovery")
            entries = await runtime.cache_audit.write_many(
                ctx, [learned, learned.model_copy(update={"tried": "pyhton -V", "instead": "python -V"})]
            )
            async with runtime.engine.connect() as conn:
                from memory.core.schema import ingested_documents

                document_id = await conn.scalar(select(ingested_documents.c.id).where(ingested_documents.c.tenant_id == tenant))
            yield Stack(url, runtime, client, operator, reader, other, thread, [e.id for e in entries], document_id)
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "web-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the web pages: {folder}")
    return folder


@pytest.fixture(scope="module")
def chromium_page():
    binary = ensure_chromium()
    if binary is None:
        pytest.skip("chromium is not installed and cannot be installed here")
    try:
        page = WatchedPage(binary)
    except ChromiumUnavailable as err:
        pytest.skip(str(err))
    yield page
    page.close()


@pytest.fixture
async def browser(chromium_page, stack, shots):
    b = Browser(chromium_page, stack.url, shots)
    await b.problems()
    yield b
    assert await b.problems() == []


async def test_an_operator_follows_a_company_name_correction_from_the_fact_to_the_notebook_edit(browser, stack):
    await browser.sign_in(stack.operator.secret)
    before = await browser.open("/web/graph", "Acmee Corp")
    assert re.search(r"Dana Smith works at Acmee Corp.*\bcurrent\b", before)
    assert "conversation: thread order-42 of agent support, turn 1" in before
    await browser.screenshot("graph-before")

    await browser.open("/web/agents/support", "Notebook", "Edit the notebook")
    await browser.eval("document.querySelector('details.edit').open = true")
    await browser.fill("textarea[name=content]", "# Notebook\nDana Smith works at Acme Industries.\n")
    await browser.fill("input[name=reason]", "company name")
    saved = await browser.submit("Save new version", "Saved notebook v1")
    assert "1 contradicted facts invalidated" in saved
    assert "company name" in saved and f"key:{stack.operator.key.key_id}" in saved

    after = await browser.open("/web/graph", "Acme Industries")
    rows = await browser.eval(
        "[...document.querySelectorAll('tr.fact')].map(r => [...r.cells].map(c => c.innerText))"
    )
    by_target = {row[2].split("→")[1].strip(): row for row in rows}
    old, new = by_target["Acmee Corp"], by_target["Acme Industries"]
    assert old[3] == "invalid" and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", old[5])
    assert new[3] == "current" and new[5] == ""
    assert "notebook: /notebook.md v1 of agent support (authoritative)" in new[7]
    assert "2 facts, 1 current" in after
    await browser.screenshot("graph")

    await _api(stack.url, stack.operator, "POST", f"/v1/agents/support/threads/{stack.thread.thread_id}/messages",
               json={"text": "Where does Dana Smith work?"})
    await browser.open(f"/web/agents/support/threads/{stack.thread.thread_id}?page=1", "Turn 2", "Manifest")
    manifest = await browser.eval(
        "[...document.querySelectorAll('#turn-2 table.manifest tbody tr')].map(r => r.cells[0].innerText + ' | ' + r.cells[2].innerText)"
    )
    assert "graph | Dana Smith WORKS_AT Acme Industries" in manifest
    assert any(line.startswith("notebook | /notebook.md v1") for line in manifest)
    link = await browser.eval("document.querySelector('a.temporal').href")
    assert link.endswith("/workflows/" + "conversation%2F" + stack.thread.tenant_id + "%2Fsupport%2Forder-42")
    await browser.eval("document.getElementById('turn-2').scrollIntoView()")
    await browser.screenshot("turn-manifest")

    await browser.open("/web/agents/support?a=1&b=1", "The two versions are the same")


async def test_an_operator_approves_an_audit_sample_codifies_a_substitution_and_locks_a_skill(browser, stack):
    await browser.sign_in(stack.operator.secret)
    first, second = stack.audit_ids
    await browser.open("/web/agents/support/learning", "Session s-1", f"Approve {first}", f"Reject {second}")
    done = await browser.submit(f"Approve {first}", f"Audit entry {first} approved")
    assert f"Approve {first}" not in done and f"Approve {second}" in done
    async with stack.runtime.engine.connect() as conn:
        row = (await conn.execute(select(session_cache_audit).where(session_cache_audit.c.id == first))).mappings().one()
    assert (row["review_status"], row["reviewer"]) == ("approved", f"key:{stack.operator.key.key_id}")

    codified = await browser.submit("Codify", "Codified into /skills/general.md")
    assert "use git status instead of git st" in codified
    await browser.screenshot("learning")

    await browser.open("/web/agents/support/skills/general", "Open: approved lessons may add to it", "Lock general")
    locked = await browser.submit("Lock general", "is locked (lock by", "Unlock general")
    assert "Locked: only an operator's edit changes it." in locked
    async with stack.runtime.engine.connect() as conn:
        flag = await conn.scalar(
            select(documents.c.locked).where(
                documents.c.tenant_id == stack.thread.tenant_id, documents.c.path == "/skills/general.md"
            )
        )
    assert flag is True
    await browser.screenshot("skill-locked")


PAGES = [
    ("/web/", ["Tenant", "Agents", "support", "Usage, last 30 days", "Switch history", "Savings of the ingestion gates"]),
    ("/web/graph", ["Knowledge graph", "Dana Smith"]),
    ("/web/documents", ["handbook.md"]),
    ("/web/search?agent=support&q=Dana+Smith", ["hits for Dana Smith", "graph", "recall"]),
    ("/web/agents/support", ["Notebook", "Skills", "general"]),
    ("/web/agents/support/skills/general", ["Versions", "operator:key-"]),
    ("/web/agents/support/threads", ["order-42"]),
    ("/web/agents/support/threads/order-42", ["Turn 1", "Manifest", "open in the Temporal UI"]),
    ("/web/agents/support/learning", ["Live sessions", "Audit sample of cache hits"]),
    ("/web/agents/support/recall", ["Recall items of support", "Dana Smith"]),
]


async def test_every_page_opens_and_links_to_the_others(browser, stack):
    await browser.sign_in(stack.operator.secret)
    for path, expected in [*PAGES, (f"/web/documents/{stack.document_id}", ["chunk 0", "Refunds are paid"])]:
        await browser.open(path, *expected)
        links = set(await browser.eval("[...document.querySelectorAll('header nav a')].map(a => a.pathname)"))
        assert {"/web/", "/web/graph", "/web/documents", "/web/search"} <= links, path
        await browser.screenshot(path.strip("/").split("?")[0].replace("/", "_") or "overview")
    await browser.sign_in(stack.reader.secret)
    text = await browser.open("/web/", "Switches, usage and migrations need an operator key")
    assert "Usage, last 30 days" not in text


async def test_another_tenants_key_sees_nothing_of_these_pages(browser, stack):
    await browser.sign_in(stack.other.secret)
    overview = await browser.open("/web/", "No agent has taken a turn yet")
    graph = await browser.open("/web/graph", "0 facts")
    assert "Dana" not in overview + graph
    for path in ("/web/agents/support", "/web/agents/support/threads/order-42", f"/web/documents/{stack.document_id}"):
        text = await browser.open(path, "Not found")
        assert "Dana" not in text and "handbook" not in text
        # The refusal itself is the only failed request, as the network and the console report it.
        seen = await browser.problems()
        assert seen and all(p.endswith(f"{stack.url}{path}") and "404" in p for p in seen), seen

    async with httpx.AsyncClient(base_url=stack.url, follow_redirects=False) as http:
        signed = await http.post("/web/login", data={"api_key": stack.other.secret})
        assert signed.status_code == 303
        paths = [p for p, _ in PAGES if "/agents/" in p] + [f"/web/documents/{stack.document_id}"]
        answers = {p: await http.get(p) for p in paths}
        # A valid token of the other tenant's own session: the refusal must come from the tenant.
        csrf = re.search(r'<meta name="csrf" content="([^"]+)"', (await http.get("/web/")).text).group(1)
        verdict = await http.post(f"/web/audit/{stack.audit_ids[1]}/reject", data={"csrf": csrf})
        edit = await http.post("/web/agents/support/notebook", data={"csrf": csrf, "content": "hijacked"})
    async with as_key(stack.url, stack.other.secret) as api:
        api_verdict = await api.post(f"/v1/cache-audit/{stack.audit_ids[1]}/approve")
        api_lock = await api.post("/v1/agents/support/skills/general/unlock")
        api_pending = await api.get("/v1/cache-audit")
    for path, answer in answers.items():
        assert answer.status_code == 404, path
        assert "Dana" not in answer.text and "order-42" not in answer.text and "git st" not in answer.text
    assert verdict.status_code == 404 and edit.status_code == 404
    assert api_verdict.status_code == 404 and api_pending.json() == []
    assert api_lock.status_code == 422 and "no skill /skills/general.md" in api_lock.json()["error"]["message"]
    entry = await stack.runtime.cache_audit.entry(stack.audit_ids[1], tenant_id=stack.thread.tenant_id)
    assert entry.review_status == "pending"


async def test_a_form_without_the_sessions_token_and_a_browser_without_a_session_change_nothing(stack):
    async with httpx.AsyncClient(base_url=stack.url, follow_redirects=False) as http:
        anonymous = await http.get("/web/agents/support")
        await http.post("/web/login", data={"api_key": stack.operator.secret})
        forged = await http.post(f"/web/audit/{stack.audit_ids[1]}/approve", data={"csrf": "forged"})
        wrong_key = await http.post("/web/login", data={"api_key": "amk_nope_nope"})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/web/login"
    assert forged.status_code == 403 and "Form expired" in forged.text
    assert wrong_key.status_code == 401 and "unknown or revoked" in wrong_key.text
    entry = await stack.runtime.cache_audit.entry(stack.audit_ids[1], tenant_id=stack.thread.tenant_id)
    assert entry.review_status == "pending"
    assert "amk_" not in anonymous.headers.get("set-cookie", "")
