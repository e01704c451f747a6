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

ROOT = Path(__file__).resolve().parents[2]


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


def test_a_start_up_error_names_the_url_without_its_password():
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql+psycopg://agent:PG-S3CRET-PW@127.0.0.1:1/x?connect_timeout=2",
        "REDIS_URL": "redis://:S3CRET-PW@127.0.0.1:1/0",
    }
    done = subprocess.run([sys.executable, "worker.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "DATABASE_URL=postgresql+psycopg://agent:***@127.0.0.1:1/x" in done.stderr
    assert "S3CRET" not in done.stderr + done.stdout


async def test_an_unreachable_redis_is_named_without_its_password():
    with pytest.raises(ServiceUnavailable) as refused:
        await check_redis_url("REDIS_URL", "redis://:S3CRET-PW@127.0.0.1:1")
    assert "REDIS_URL=redis://:***@127.0.0.1:1" in str(refused.value)
    assert "S3CRET" not in str(refused.value)


def test_settings_never_show_a_password_or_key():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+psycopg://agent:PG-S3CRET@db:5432/agent_memory",
            "REDIS_URL": "redis://:REDIS-S3CRET@redis:6379/0",
            "GRAPH_URL": "falkor://:GRAPH-S3CRET@falkordb:6379",
            "ANTHROPIC_API_KEY": "sk-ant-S3CRET",
            "NEO4J_PASSWORD": "NEO4J-S3CRET",
        }
    )
    for shown in (repr(settings), str(settings), f"{settings!r}"):
        assert "S3CRET" not in shown
        assert "redis://:***@redis:6379/0" in shown
    # The values themselves are intact for the code that connects.
    assert settings.redis_url == "redis://:REDIS-S3CRET@redis:6379/0"

    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"DATABASE_URL": "postgresql+psycopg://agent:PG-S3CRET@db/x", "METRICS_PORT": "-1",
                           "TOOL_SANDBOX_UID": "x"})
    assert "S3CRET" not in str(refused.value) and "METRICS_PORT='-1'" in str(refused.value)


def test_temporal_tls_is_configured_from_the_environment(tmp_path):
    from wiring.temporal_client import ClientConfigError, client_options

    assert "tls" not in client_options({})
    (tmp_path / "ca.pem").write_bytes(b"CA")
    (tmp_path / "worker.pem").write_bytes(b"CERT")
    (tmp_path / "worker.key").write_bytes(b"KEY")
    tls = client_options(
        {
            "TEMPORAL_TLS_CA": str(tmp_path / "ca.pem"),
            "TEMPORAL_TLS_CERT": str(tmp_path / "worker.pem"),
            "TEMPORAL_TLS_KEY": str(tmp_path / "worker.key"),
            "TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
        }
    )["tls"]
    assert (tls.server_root_ca_cert, tls.client_cert, tls.client_private_key, tls.domain) == (
        b"CA", b"CERT", b"KEY", "temporal.internal"
    )
    with pytest.raises(ClientConfigError, match="go together"):
        client_options({"TEMPORAL_TLS_CERT": str(tmp_path / "worker.pem")})
    with pytest.raises(ClientConfigError, match="TEMPORAL_TLS_CA=.*cannot be read"):
        client_options({"TEMPORAL_TLS_CA": str(tmp_path / "missing.pem")})
