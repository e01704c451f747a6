"""Settings read from the environment, with defaults an operator can live with."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from memory.core.secrets import MASK, mask_text, mask_url

# Fields whose values hold service URLs (which may carry a password) or secrets.
_URL_FIELDS = ("database_url", "graph_url", "redis_url", "temporal_address")


class SettingsError(ValueError):
    """An environment variable holds a value the worker cannot run with."""


class Settings(BaseModel):
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "agent-memory"
    # Run workflow code inside the Temporal SDK's sandbox. Off by default: sandboxed, one turn's
    # workflow tasks took ~40 ms longer and its ingestion child ~17 ms more to create (see
    # wiring/plugin.py). What the sandbox guards against (a workflow reading the clock or
    # random, or doing I/O) is checked in CI instead, where every recorded history replays
    # inside the sandbox too (tests/wiring/test_replay.py).
    workflow_sandbox: bool = False
    # Slots of the worker's background queue (knowledge ingestion and reflections, started
    # after each reply): few, so that work waits behind the turns instead of the next turn
    # waiting behind it. Raise them where ingestion waits on a remote model, not on CPU.
    background_workflow_task_slots: int = Field(default=2, ge=1, le=1000)
    background_activity_slots: int = Field(default=4, ge=1, le=1000)
    # The worker's Prometheus endpoint (its own metrics and the Temporal SDK's); 0 turns it off.
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    # Loopback unless set: the metrics carry tenant ids as labels.
    metrics_host: str = "127.0.0.1"
    database_url: str | None = None
    # falkor://host:port (one FalkorDB graph per tenant) or bolt://host:port (Neo4j).
    graph_url: str | None = None
    neo4j_user: str | None = None
    neo4j_password: str | None = Field(default=None, repr=False)
    redis_url: str | None = None

    anthropic_api_key: str | None = Field(default=None, repr=False)
    anthropic_model: str = "claude-sonnet-4-5"
    voyage_api_key: str | None = Field(default=None, repr=False)
    openai_api_key: str | None = Field(default=None, repr=False)
    # Where OpenAI-compatible models and embeddings answer: OpenAI itself, or Azure OpenAI,
    # Ollama (http://localhost:11434/v1), vLLM, LM Studio. An agent definition may name its own.
    openai_base_url: str = "https://api.openai.com/v1"
    # The model new tenants start on; existing tenants keep theirs (the fence).
    embedding_model: str = "wordllama/l2-supercat/256"

    # The length gate's default threshold; a switch per tenant or global overrides it.
    ingest_min_chars: int = 80
    graph_search_limit: int = 5
    document_chunk_chars: int = 1500
    # Where export workflows write archives and uploaded archives wait for their import. The
    # workers and the HTTP API must all see it: one host, or a volume they share.
    archive_dir: str = ".data/archives"

    # Embedding requests per second a migration may make, per provider.
    migration_requests_per_second: float = 20.0

    # Session-learning cache: how long a session's learned substitutions live after the
    # last one was recorded, how commands are normalised into keys (see
    # memory/learning/command_form.py), and the fraction of cache hits copied to the audit table.
    session_cache_ttl_seconds: int = 6 * 3600
    session_cache_normalization: str = "sorted-flags"
    session_cache_audit_fraction: float = Field(default=0.1, ge=0.0, le=1.0)

    # The command tool: programs it may run (empty: the tool is off), in a scratch directory
    # per thread, boxed by the sandbox (memory/tools/command_sandbox.py; "off" is refused under root)
    # as this uid/gid when the worker is root, with these limits.
    tool_allowed_commands: str = "ls,cat,echo,grep,wc,head,tail,sort,uniq,mkdir,touch,pwd,true,false"
    tool_scratch_root: str = ".data/scratch"
    tool_command_timeout_seconds: float = 20.0
    tool_sandbox: Literal["auto", "off"] = "auto"
    tool_sandbox_uid: int = Field(default=65534, ge=1)
    tool_sandbox_gid: int = Field(default=65534, ge=1)
    tool_cpu_seconds: int = Field(default=10, ge=1)
    tool_memory_mb: int = Field(default=512, ge=16)
    tool_file_mb: int = Field(default=64, ge=1)
    tool_max_processes: int = Field(default=64, ge=1)

    # Episodic retrieval: how much the latest episode's match may gain over the agent's
    # first one (a bounded tie-breaker, relative to the agent's own span of episodes).
    episode_recency_weight: float = Field(default=0.1, ge=0.0, le=1.0)
    episodic_top_k: int = 3
    # Retention: transcripts older than this are cut to their summaries; recall rows not
    # retrieved for this long are pruned unless their tenant is active.
    episode_retention_days: int = 90
    recall_retention_days: int = 180
    # The worker makes sure a Temporal Schedule runs retention this often (0: leave it to
    # the operator, see clients/retention.py).
    retention_schedule_hours: float = Field(default=24.0, ge=0, le=24 * 366, allow_inf_nan=False)

    # Bounds on what any user can grow (see README, "Untrusted memory in the prompt").
    # The agent's notebook notes per rolling hour, per thread and per agent.
    notebook_writes_per_thread_per_hour: int = Field(default=20, ge=1)
    notebook_writes_per_agent_per_hour: int = Field(default=120, ge=1)
    # Substitutions one session may hold in the cache; past it the oldest is evicted.
    session_cache_max_entries: int = Field(default=50, ge=1, le=10_000)
    # Retention of the tables every turn grows, in days; a resend of a message is
    # answered from its first turn for TURN_REQUEST_RETENTION_DAYS.
    turn_request_retention_days: int = Field(default=30, ge=1, le=36_500)
    turn_retention_days: int = Field(default=180, ge=1, le=36_500)
    tool_call_retention_days: int = Field(default=90, ge=1, le=36_500)
    usage_retention_days: int = Field(default=400, ge=1, le=36_500)
    ingestion_decision_retention_days: int = Field(default=90, ge=1, le=36_500)
    cache_audit_retention_days: int = Field(default=90, ge=1, le=36_500)
    graph_episode_retention_days: int = Field(default=30, ge=1, le=36_500)
    scratch_retention_days: int = Field(default=7, ge=1, le=36_500)
    # Each document (the notebook above all) keeps the full text of this many newest versions.
    document_versions_kept: int = Field(default=20, ge=1, le=100_000)

    recall_top_k: int = Field(default=4, ge=1, le=100)
    # The vector leg's floor: candidates less similar than this (cosine) are not considered.
    recall_min_score: float = Field(default=0.15, ge=-1.0, le=1.0)
    # Hybrid recall (memory/recall/search.py): "hybrid", "vector" or "lexical"; RRF's k,
    # each leg's candidate count and weight.
    recall_retrieval: str = Field(default="hybrid", pattern="^(hybrid|vector|lexical)$")
    recall_fusion: str = Field(default="relative", pattern="^(relative|rrf)$")
    recall_rrf_k: int = Field(default=60, ge=1)
    # Defaults chosen on LoCoMo's development conversations (bench/locomo.py).
    recall_vector_candidates: int = Field(default=100, ge=1, le=1000)
    recall_lexical_candidates: int = Field(default=100, ge=1, le=1000)
    recall_vector_weight: float = Field(default=0.3, ge=0.0)
    # The HNSW index (memory/recall/store.py HnswSettings): m and ef_construction shape indexes
    # built from now on; ef_search is the candidate list of every vector query.
    recall_hnsw_m: int = Field(default=16, ge=2, le=100)
    recall_hnsw_ef_construction: int = Field(default=128, ge=4, le=1000)
    recall_hnsw_ef_search: int = Field(default=100, ge=1, le=1000)
    recall_lexical_weight: float = Field(default=1.0, ge=0.0)
    # Ceilings for every thread, whatever limits its client asked for.
    max_tool_iterations: int = Field(default=4, ge=0, le=50)
    max_tool_calls_per_response: int = Field(default=8, ge=1, le=64)
    # Only used by the offline model: how many tokens its pretend window holds.
    offline_context_window_tokens: int = 200_000

    def __repr_args__(self):
        # repr() and str() end up in logs and tracebacks: no password or key in them.
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name in _URL_FIELDS and isinstance(value, str) else value

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for name in cls.model_fields:
            key = name.upper()
            # An empty TOOL_ALLOWED_COMMANDS turns the command tool off; other empty
            # variables mean "use the default".
            if env.get(key) or (name == "tool_allowed_commands" and key in env):
                values[name] = env[key]
        try:
            return cls.model_validate(values)
        except ValidationError as err:
            # Name the variable the operator set, not the field it feeds.
            problems = [
                f"{'.'.join(map(str, e['loc'])).upper()}={_shown(str(e['loc'][0]), values.get(str(e['loc'][0]), ''))!r}: "
                f"{mask_text(e['msg'])}"
                for e in err.errors()
            ]
            raise SettingsError("invalid environment: " + "; ".join(problems)) from None


def _shown(name: str, value: str) -> str:
    field = Settings.model_fields.get(name)
    if field is not None and field.repr is False:
        return MASK
    return mask_url(value) or ""
