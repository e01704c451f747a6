"""The production stack as files: what `docker compose up` would start, checked without Docker.

Each test is a mistake an operator would otherwise find at start-up or, worse, at 3 a.m.:
a service that starts before what it needs, a secret in the repository, a worker variable
nothing reads, a dashboard query for a metric that does not exist.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from contract.search_attributes import SEARCH_ATTRIBUTES
from memory.core.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DASHBOARD = ROOT / "deploy/grafana/dashboards/agent-memory.json"
PROMETHEUS_CONFIG = ROOT / "deploy/prometheus.yml"
ALERTS = ROOT / "deploy/prometheus/alerts.yml"

# Variables the worker reads that are not Settings fields: the metrics port (worker.py),
# the payload keys (codec.keys) and OpenTelemetry's own (memory.telemetry).
WORKER_ENV_ALLOWED = {
    "METRICS_PORT",
    "PAYLOAD_ENCRYPTION_KEYS",
    "PAYLOAD_ENCRYPTION_KEY_ID",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_SDK_DISABLED",
}
WORKER_ENV_REQUIRED = {"DATABASE_URL", "GRAPH_URL", "REDIS_URL", "TEMPORAL_ADDRESS"}

# Services whose data must outlive `docker compose down`, and where they keep it.
DATA_DIRS = {
    "temporal-postgres": "/var/lib/postgresql/data",
    "postgres": "/var/lib/postgresql/data",
    "neo4j": "/data",
    "redis": "/data",
    "prometheus": "/prometheus",
    "grafana": "/var/lib/grafana",
}

# The metrics the code exports (memory/core/metrics.py); dashboards and alerts may also use the
# Temporal SDK's `temporal_*` metrics.
OUR_METRICS = {
    "agent_session_cache_lookups_total",
    "agent_session_cache_hits_total",
    "agent_prompt_cache_read_tokens_total",
    "agent_prompt_cache_write_tokens_total",
    "agent_prompt_cache_read_tokens_per_turn",
    "agent_memory_retrieval_seconds",
    "agent_ingestion_decisions_total",
    "agent_memory_model_calls_total",
    "agent_memory_model_tokens_total",
    "agent_migration_rows_done",
    "agent_migration_rows_total",
}
HISTOGRAMS = {"agent_prompt_cache_read_tokens_per_turn", "agent_memory_retrieval_seconds"}

SECRET_NAME = re.compile(r"PASSWORD|PWD|KEY|TOKEN|SECRET|AUTH", re.IGNORECASE)
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; `$${` is an escaped `$`.
REFERENCE = re.compile(r"(?<!\$)\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _depends_on(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # the short form has no condition at all
        return {name: {} for name in deps}
    return deps


def _one_shot(services: dict) -> set[str]:
    """Jobs that run to completion: something waits for them to finish."""
    return {
        name
        for service in services.values()
        for name, dep in _depends_on(service).items()
        if dep.get("condition") == "service_completed_successfully"
    }


def _example_env() -> dict[str, str]:
    env = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def _substitute(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation, for the forms the file uses."""

    def replace(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        if op in (":?", "?"):
            if current is None or (op == ":?" and current == ""):
                raise AssertionError(f"{name} is required: {arg}")
            return current
        if op == ":-" and not current:
            return arg
        if op == "-" and current is None:
            return arg
        return current or ""

    return REFERENCE.sub(replace, value).replace("$$", "$")


def _strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*_strings(key), *_strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def _referenced_variables(compose: dict) -> set[str]:
    return {match["name"] for text in _strings(compose) for match in REFERENCE.finditer(text)}


# --- start order and health ------------------------------------------------------------


def test_every_long_running_service_has_a_healthcheck(services):
    one_shot = _one_shot(services)
    assert one_shot == {"temporal-search-attributes"}
    for name, service in services.items():
        if name in one_shot:
            assert service.get("restart") == "no", f"{name} runs once and must not be restarted"
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check.get("test") not in (None, ["NONE"]), (
            f"{name} has no healthcheck"
        )


def test_services_start_only_after_what_they_need_is_healthy(services):
    for name, service in services.items():
        for dependency, spec in _depends_on(service).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            condition = spec.get("condition")
            if dependency in _one_shot(services):
                assert condition == "service_completed_successfully"
            else:
                assert condition == "service_healthy", f"{name} -> {dependency}: {condition!r}"
                assert "healthcheck" in services[dependency]
    needs = {name: set(_depends_on(service)) for name, service in services.items()}
    assert {"postgres", "neo4j", "redis", "temporal", "temporal-search-attributes"} <= needs["worker"]
    assert needs["temporal"] == {"temporal-postgres"}
    assert needs["grafana"] == {"prometheus"}


def test_temporal_keeps_its_history_in_its_own_postgres(services):
    temporal_env = _environment(services["temporal"])
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert temporal_env["POSTGRES_SEEDS"] == "temporal-postgres"
    assert "postgres" not in _depends_on(services["temporal"])
    assert services["postgres"]["image"] == "pgvector/pgvector:pg17"
    assert services["temporal-postgres"]["volumes"] != services["postgres"]["volumes"]


def test_compose_registers_exactly_the_search_attributes_the_code_uses(services):
    script = "\n".join(services["temporal-search-attributes"]["command"])
    assert re.findall(r"--name (\w+) --type (\w+)", script) == list(SEARCH_ATTRIBUTES)


# --- data and secrets ------------------------------------------------------------------


def test_stateful_services_keep_their_data_in_named_volumes(compose, services):
    declared = set(compose["volumes"])
    for name, path in DATA_DIRS.items():
        mounts = {mount.split(":")[1]: mount.split(":")[0] for mount in services[name].get("volumes", [])}
        assert mounts.get(path) in declared, f"{name} keeps {path} in no named volume"
    used = {
        mount.split(":")[0]
        for service in services.values()
        for mount in service.get("volumes", [])
        if not mount.startswith((".", "/"))
    }
    assert used == declared, "every declared volume is used, every used volume declared"


def test_bind_mounts_are_repository_files_mounted_read_only(services):
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source, _, rest = mount.partition(":")
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
                assert rest.endswith(":ro"), f"{name} mounts {source} writable"


def test_no_secret_is_written_in_the_compose_file(services):
    for name, service in services.items():
        for key, value in _environment(service).items():
            for match in REFERENCE.finditer(value):
                if SECRET_NAME.search(match["name"]) and match["op"] in (":-", "-"):
                    assert not match["arg"], f"{name}.{key} gives secret {match['name']} a default"
            if SECRET_NAME.search(key):
                literal = REFERENCE.sub("", value)
                # Only separators may surround the references (NEO4J_AUTH is user/password).
                assert not re.search(r"\w", literal), f"{name}.{key} holds a literal: {literal!r}"
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                assert REFERENCE.fullmatch(password), f"{name}.{key} has a literal password in a URL"


def test_env_example_documents_every_variable_and_nothing_else(compose):
    example = _example_env()
    assert set(example) == _referenced_variables(compose)
    for name in ("POSTGRES_PASSWORD", "NEO4J_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "CODEC_SERVER_TOKEN",
                 "PAYLOAD_ENCRYPTION_KEYS", "TEMPORAL_POSTGRES_PASSWORD"):
        assert "change-me" in example[name], f"{name} needs an obvious placeholder"


def test_secrets_stay_out_of_git_and_out_of_the_image():
    assert ".env" in ROOT.joinpath(".gitignore").read_text().split()
    assert ".env" in ROOT.joinpath(".dockerignore").read_text().split()


# --- the worker ------------------------------------------------------------------------


def test_worker_environment_is_exactly_what_the_worker_reads(services):
    env = _environment(services["worker"])
    known = {field.upper() for field in Settings.model_fields} | WORKER_ENV_ALLOWED
    assert WORKER_ENV_REQUIRED <= set(env)
    assert set(env) <= known, f"variables nothing reads: {sorted(set(env) - known)}"
    assert env["GRAPH_URL"] == "bolt://neo4j:7687"
    assert {"NEO4J_USER", "NEO4J_PASSWORD"} <= set(env)


def test_worker_settings_validate_from_the_compose_environment(services):
    env = {key: _substitute(value, _example_env()) for key, value in _environment(services["worker"]).items()}
    settings = Settings.from_env(env)
    assert settings.database_url == "postgresql+psycopg://postgres:change-me-postgres@postgres:5432/agent_memory"
    assert settings.graph_url == "bolt://neo4j:7687"
    assert settings.neo4j_password == "change-me-neo4j"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.temporal_address == "temporal:7233"
    # Empty optional keys mean "not set": the offline model, not an empty API key.
    assert settings.anthropic_api_key is None
    assert settings.embedding_model == Settings().embedding_model


def test_prometheus_scrapes_the_port_the_worker_serves_metrics_on(services):
    port = int(_environment(services["worker"])["METRICS_PORT"])
    assert port > 0
    assert str(port) in [str(p) for p in services["worker"]["expose"]]
    assert f":{port}/healthz" in " ".join(services["worker"]["healthcheck"]["test"])
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "agent-memory-worker")
    targets = [f"{name}:{sd['port']}" for sd in job.get("dns_sd_configs", []) for name in sd["names"]]
    targets += [t for sc in job.get("static_configs", []) for t in sc["targets"]]
    assert targets == [f"worker:{port}"]


# --- codec server and UI ---------------------------------------------------------------


def test_the_ui_decodes_payloads_through_the_codec_server(services):
    codec = services["codec-server"]
    assert codec["command"][:3] == ["python", "-m", "codec.server"]
    assert codec["command"][codec["command"].index("--port") + 1] == "8081"
    assert "127.0.0.1:8081:8081" in codec["ports"]
    assert {"CODEC_SERVER_TOKEN", "PAYLOAD_ENCRYPTION_KEYS"} <= set(_environment(codec))
    ui = services["temporal-ui"]
    assert _environment(ui)["TEMPORAL_CODEC_ENDPOINT"] == "http://localhost:8081"
    # CORS: the codec server answers the origin the UI is published on.
    ui_port = ui["ports"][0].split(":")[-2]
    assert codec["command"][codec["command"].index("--ui-origin") + 1] == f"http://localhost:{ui_port}"
    # Worker and codec server must hold the same keys, or the UI cannot decrypt.
    worker_env = _environment(services["worker"])
    for name in ("PAYLOAD_ENCRYPTION_KEYS", "PAYLOAD_ENCRYPTION_KEY_ID"):
        assert worker_env[name] == _environment(codec)[name]


# --- Prometheus, alerts, Grafana -------------------------------------------------------


def test_prometheus_loads_the_alert_rules(services):
    mounts = dict(m.split(":")[:2] for m in services["prometheus"]["volumes"])
    assert mounts["./deploy/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    assert mounts["./deploy/prometheus/alerts.yml"] in config["rule_files"]


def test_alerts_page_on_the_recall_slo_and_warn_on_the_session_cache():
    rules = {rule["alert"]: rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]}
    slo = rules["RecallRetrievalSloBreached"]
    assert 'agent_memory_retrieval_seconds_bucket{layer="recall"}' in slo["expr"]
    assert "histogram_quantile(0.95" in slo["expr"] and slo["expr"].strip().endswith("> 0.25")
    assert slo["for"] == "10m"
    assert {"summary", "description", "runbook"} <= set(slo["annotations"])
    cache = rules["SessionCacheHitRatioLow"]
    assert cache["labels"]["severity"] == "warning"
    for rule in rules.values():
        assert _metric_names(rule["expr"]) <= _allowed_metrics() | {"up"}


def test_grafana_is_provisioned_with_the_datasource_and_dashboard(services):
    mounts = dict(m.split(":")[:2] for m in services["grafana"]["volumes"])
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    dashboards_dir = mounts["./deploy/grafana/dashboards"]
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/dashboards.yml").read_text())
    assert [p["options"]["path"] for p in provider["providers"]] == [dashboards_dir]
    datasources = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert [(d["uid"], d["type"], d["url"]) for d in datasources["datasources"]] == [
        ("prometheus", "prometheus", "http://prometheus:9090")
    ]
    assert "GF_SECURITY_ADMIN_PASSWORD" in _environment(services["grafana"])


def _allowed_metrics() -> set[str]:
    suffixed = {f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_count", "_sum")}
    return OUR_METRICS | suffixed


_PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                 "offset", "le", "inf", "nan"}


def _metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (good enough for the dashboards' queries)."""
    text = re.sub(r'"[^"]*"', "", expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = re.sub(r"\boffset\s+-?\w+", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\$\w+", "", text)  # dashboard variables
    names = set(re.findall(r"[A-Za-z_:][\w:]*(?!\s*\()\b", text))
    functions = set(re.findall(r"([A-Za-z_][\w]*)\s*\(", text))
    return {n for n in names - functions if n.lower() not in _PROMQL_WORDS and not re.fullmatch(r"[0-9.e]+", n)}


def _dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [(panel["title"], t["expr"]) for panel in dashboard["panels"] for t in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        queries.append((f"${variable['name']}", variable["definition"]))
    return queries


def test_dashboard_queries_only_metrics_that_exist():
    dashboard = json.loads(DASHBOARD.read_text())
    assert 36 <= dashboard["schemaVersion"] <= 41
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
    allowed = _allowed_metrics()
    seen: set[str] = set()
    for title, expr in _dashboard_queries():
        names = _metric_names(expr.replace("label_values(", "(").replace(", tenant)", ")"))
        unknown = {n for n in names if n not in allowed and not n.startswith("temporal_")}
        assert not unknown, f"{title}: {sorted(unknown)}"
        seen |= names
    # Every metric the operator was promised is on the dashboard somewhere.
    assert {n for n in OUR_METRICS if n not in HISTOGRAMS} <= seen
    assert {f"{n}_bucket" for n in HISTOGRAMS} <= seen
    assert any(n.startswith("temporal_activity_execution_latency") for n in seen)
    assert "temporal_workflow_task_execution_failed" in seen


def test_dashboard_draws_recall_p95_against_the_250ms_slo():
    dashboard = json.loads(DASHBOARD.read_text())
    panel = next(p for p in dashboard["panels"] if "SLO" in p["title"] and p["type"] == "timeseries")
    exprs = [" ".join(t["expr"].split()) for t in panel["targets"]]
    assert (
        'histogram_quantile(0.95, sum by (le) (rate(agent_memory_retrieval_seconds_bucket{layer="recall"}[5m])))'
        in exprs
    )
    assert "vector(0.25)" in exprs
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert {"color": "red", "value": 0.25} in steps
    assert panel["fieldConfig"]["defaults"]["unit"] == "s"


# --- Docker's own view -----------------------------------------------------------------


def _docker_compose() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_accepts_the_file():
    command = _docker_compose()
    if command is None:
        pytest.skip("no docker client with the compose plugin")
    # `config` only parses and interpolates: no engine needed. The example env fills the
    # required variables; the shell's own variables must not change the outcome.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "")}
    result = subprocess.run(
        [*command, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
