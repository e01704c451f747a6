"""Retention on the real database: what is pruned, what is kept, what is reported, and
that running a run_key again (a retried activity) neither double-counts nor deletes more."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from clients import retention as retention_client
from contract.learning import RetentionPolicy
from memory.core.refs import ThreadRef
from memory.core.schema import recall_embeddings, recall_items
from memory.core.validation import InvalidInput
from memory.learning.episodic import EpisodeRecord, EpisodicMemory, Outcome
from memory.learning.models import MAX_RETENTION_DAYS, TenantRetention
from memory.learning.retention import Retention, cutoff

NOW = datetime.now(UTC)
EPISODE_CUTOFF = NOW - timedelta(days=90)
RECALL_CUTOFF = NOW - timedelta(days=180)


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def run_key() -> str:
    return f"retention-{uuid.uuid4().hex[:10]}"


async def recall_row(
    engine, tenant_id: str, *, created_days_ago: float, retrieved_days_ago: float | None = None
) -> int:
    """An exchange in the recall store with its vector, aged as asked."""
    async with engine.begin() as conn:
        item_id = await conn.scalar(
            recall_items.insert()
            .values(
                tenant_id=tenant_id,
                agent_id="support",
                thread_id="t1",
                source_type="exchange",
                text="user: where is my parcel\nassistant: it left the depot",
                idempotency_key=f"{tenant_id}/{uuid.uuid4().hex}",
                created_at=NOW - timedelta(days=created_days_ago),
                last_retrieved_at=None if retrieved_days_ago is None else NOW - timedelta(days=retrieved_days_ago),
            )
            .returning(recall_items.c.id)
        )
        await conn.execute(
            recall_embeddings.insert().values(
                item_id=item_id,
                embedding_model="offline/hashed-ngrams/3",
                tenant_id=tenant_id,
                embedding=[0.1, 0.2, 0.3],
            )
        )
    return item_id


async def remaining(engine, tenant_id: str) -> tuple[set[int], set[int]]:
    """Ids of the tenant's recall items, and of the items that still have a vector."""
    async with engine.connect() as conn:
        items = set(
            (await conn.execute(select(recall_items.c.id).where(recall_items.c.tenant_id == tenant_id))).scalars()
        )
        vectors = set(
            (
                await conn.execute(
                    select(recall_embeddings.c.item_id).where(recall_embeddings.c.tenant_id == tenant_id)
                )
            ).scalars()
        )
    return items, vectors


async def old_episode(engine, tenant_id: str, days_ago: float) -> None:
    thread = ThreadRef(tenant_id=tenant_id, agent_id="support", thread_id="t1")
    await EpisodicMemory(engine).record(
        EpisodeRecord(
            thread=thread,
            turn=1,
            occurred_at=NOW - timedelta(days=days_ago),
            outcome=Outcome.SUCCEEDED,
            tools_used=[],
            transcript="user: where is my parcel\nassistant: it left the depot",
            summary="Tracked a parcel",
        ),
        idempotency_key=f"{thread.key}/turn/1/episode",
    )


def row(report, tenant_id: str) -> TenantRetention | None:
    return next((t for t in report.tenants if t.tenant_id == tenant_id), None)


async def test_retention_prunes_unretrieved_rows_keeps_the_rest_and_reports_per_tenant(runtime):
    engine = runtime.engine
    quiet, active, untouched = tenant(), tenant(), tenant()
    never_retrieved = await recall_row(engine, quiet, created_days_ago=400)
    retrieved_long_ago = await recall_row(engine, quiet, created_days_ago=400, retrieved_days_ago=200)
    retrieved_lately = await recall_row(engine, quiet, created_days_ago=400, retrieved_days_ago=10)
    written_lately = await recall_row(engine, quiet, created_days_ago=5)
    await old_episode(engine, quiet, days_ago=120)
    await runtime.tenants.set_active(active, True)
    active_rows = {await recall_row(engine, active, created_days_ago=400) for _ in range(2)}
    await recall_row(engine, untouched, created_days_ago=5)

    messages: list[str] = []
    report = await Retention(engine).run(
        run_key(), episode_cutoff=EPISODE_CUTOFF, recall_cutoff=RECALL_CUTOFF, batch_size=1, progress=messages.append
    )

    assert row(report, quiet) == TenantRetention(tenant_id=quiet, episodes_truncated=1, recall_items_pruned=2)
    assert row(report, active) == TenantRetention(tenant_id=active, skipped_active=True)
    assert row(report, untouched) is None
    assert report.recall_items_pruned >= 2 and report.tenants_skipped_active >= 1
    assert await remaining(engine, quiet) == ({retrieved_lately, written_lately},) * 2
    assert await remaining(engine, active) == (active_rows, active_rows)
    assert never_retrieved not in (await remaining(engine, quiet))[0]
    assert retrieved_long_ago not in (await remaining(engine, quiet))[0]
    # One message per batch: the activity heartbeats with them.
    assert any("recall items pruned" in m for m in messages)


async def test_running_a_finished_run_key_again_reports_the_same_and_deletes_nothing(runtime):
    engine = runtime.engine
    quiet, active = tenant(), tenant()
    await recall_row(engine, quiet, created_days_ago=400)
    await runtime.tenants.set_active(active, True)
    [kept] = [await recall_row(engine, active, created_days_ago=400)]
    key = run_key()
    retention = Retention(engine)
    first = await retention.run(key, episode_cutoff=EPISODE_CUTOFF, recall_cutoff=RECALL_CUTOFF)

    # Between the attempts more rows went stale and the active tenant stopped being active:
    # the run already finished, so none of that is its business.
    late = await recall_row(engine, quiet, created_days_ago=400)
    await runtime.tenants.set_active(active, False)
    again = await retention.run(key, episode_cutoff=EPISODE_CUTOFF, recall_cutoff=RECALL_CUTOFF)

    assert again == first
    assert row(again, quiet).recall_items_pruned == 1
    assert (await remaining(engine, quiet))[0] == {late}
    assert (await remaining(engine, active))[0] == {kept}


async def test_an_attempt_cut_short_is_finished_by_the_retry_without_double_counting(runtime):
    engine = runtime.engine
    retention = Retention(engine)
    # The database is shared by the whole session: sweep what earlier tests left due, so
    # the batches below are this tenant's.
    await retention.run(run_key(), episode_cutoff=EPISODE_CUTOFF, recall_cutoff=RECALL_CUTOFF)
    quiet = tenant()
    for _ in range(3):
        await recall_row(engine, quiet, created_days_ago=400)
    await old_episode(engine, quiet, days_ago=120)

    def heartbeat_then_cancelled(message: str) -> None:
        if "recall items pruned" in message:
            raise RuntimeError("activity cancelled")

    key = run_key()
    with pytest.raises(RuntimeError):
        await retention.run(
            key,
            episode_cutoff=EPISODE_CUTOFF,
            recall_cutoff=RECALL_CUTOFF,
            batch_size=1,
            progress=heartbeat_then_cancelled,
        )
    assert len((await remaining(engine, quiet))[0]) == 2

    report = await retention.run(key, episode_cutoff=EPISODE_CUTOFF, recall_cutoff=RECALL_CUTOFF, batch_size=1)

    assert row(report, quiet) == TenantRetention(tenant_id=quiet, episodes_truncated=1, recall_items_pruned=3)
    assert (await remaining(engine, quiet))[0] == set()


async def test_a_tenant_can_be_marked_active_before_its_first_message(runtime, thread):
    assert await runtime.tenants.is_active(thread.tenant_id) is False
    await runtime.tenants.set_active(thread.tenant_id, True)
    assert await runtime.tenants.is_active(thread.tenant_id) is True
    await runtime.tenants.set_active(thread.tenant_id, False)
    assert await runtime.tenants.is_active(thread.tenant_id) is False


def test_a_century_is_the_longest_horizon():
    assert RetentionPolicy(episode_retention_days=36_500, recall_retention_days=36_500).recall_retention_days == 36_500
    with pytest.raises(ValidationError, match="less than or equal to 36500"):
        RetentionPolicy(episode_retention_days=90, recall_retention_days=10**12)
    # The activity refuses it too, for a policy that did not come through the model.
    assert cutoff(NOW, MAX_RETENTION_DAYS, what="recall") == NOW - timedelta(days=36_500)
    with pytest.raises(InvalidInput, match="recall retention days must be between 1 and 36500"):
        cutoff(NOW, 10**12, what="recall")


@pytest.mark.parametrize("hours", ["nan", "inf", "-inf", "0", "1e9"])
async def test_a_schedule_that_could_never_run_is_refused_before_connecting(hours, monkeypatch, capsys):
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # nothing listens: a refusal must come first
    assert await retention_client.main(["schedule", f"--every-hours={hours}"]) == 2
    assert "--every-hours must be a number of hours above 0" in capsys.readouterr().err
