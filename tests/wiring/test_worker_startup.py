"""A worker started without its services says which one is missing and what to set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memory.core.config import Settings, SettingsError
from wiring.checks import (
    ServiceUnavailable,
    check_database,
    check_graph,
    check_redis_url,
)
from worker import connect

ROOT = Path(__file__).resolve().parent.parent


def test_worker_without_database_url_exits_naming_the_variable():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ANTHROPIC_API_KEY")}
    done = subprocess.run([sys.executable, "worker.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "DATABASE_URL is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_worker_with_an_unusable_setting_exits_naming_the_variable():
    env = {**os.environ, "DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:1/x", "RETENTION_SCHEDULE_HOURS": "inf"}
    done = subprocess.run([sys.executable, "worker.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "RETENTION_SCHEDULE_HOURS='inf': Input should be a finite number" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("hours", ["inf", "nan", "100000", "-1"])
def test_a_retention_interval_the_schedule_cannot_use_is_refused(hours):
    with pytest.raises(SettingsError, match=f"RETENTION_SCHEDULE_HOURS='{hours}'"):
        Settings.from_env({"DATABASE_URL": "postgresql+psycopg://u@h/x", "RETENTION_SCHEDULE_HOURS": hours})


async def test_unreachable_postgres_is_named():
    with pytest.raises(ServiceUnavailable, match="cannot reach Postgres at DATABASE_URL"):
        await check_database(Settings(database_url="postgresql+psycopg://u@127.0.0.1:1/x?connect_timeout=2"))


async def test_unreachable_redis_is_named():
    with pytest.raises(ServiceUnavailable, match="REDIS_URL=redis://127.0.0.1:1"):
        await check_redis_url("REDIS_URL", "redis://127.0.0.1:1")
    with pytest.raises(ServiceUnavailable, match="REDIS_URL is not set"):
        await check_redis_url("REDIS_URL", None)


async def test_unreachable_temporal_is_named():
    with pytest.raises(ServiceUnavailable, match="TEMPORAL_ADDRESS=127.0.0.1:1"):
        await connect(Settings(temporal_address="127.0.0.1:1"))


async def test_a_missing_or_unreachable_graph_is_named():
    with pytest.raises(ServiceUnavailable, match="GRAPH_URL is not set"):
        await check_graph(Settings())
    with pytest.raises(ServiceUnavailable, match="GRAPH_URL=bolt://127.0.0.1:1"):
        await check_graph(Settings(graph_url="bolt://127.0.0.1:1"))
    with pytest.raises(ServiceUnavailable, match="GRAPH_URL=falkor://127.0.0.1:1"):
        await check_graph(Settings(graph_url="falkor://127.0.0.1:1"))
    with pytest.raises(ServiceUnavailable, match="unknown scheme"):
        await check_graph(Settings(graph_url="http://graph"))
