"""Settings read from the environment, with defaults an operator can live with."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field, ValidationError


class SettingsError(ValueError):
    """An environment variable holds a value the worker cannot run with."""


class Settings(BaseModel):
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "agent-memory"
    # The worker's Prometheus endpoint (its own metrics and the Temporal SDK's); 0 turns it off.
    metrics_port: int = Field(default=9464, ge=0, le=65535)
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
    embedding_model: str = "offline/hashed-ngrams/256"

    # The length gate's default threshold; a switch per tenant or global overrides it.
    ingest_min_chars: int = 80
    graph_search_limit: int = 5
    document_chunk_chars: int = 1500

    # Embedding requests per second a migration may make, per provider.
    migration_requests_per_second: float = 20.0

    # Session-learning cache: how long a session's learned substitutions live after the
    # last one was recorded, how commands are normalised into keys (see
    # memory/learning/command_form.py), and the fraction of cache hits copied to the audit table.
    session_cache_ttl_seconds: int = 6 * 3600
    session_cache_normalization: str = "sorted-flags"
    session_cache_audit_fraction: float = Field(default=0.1, ge=0.0, le=1.0)

    # The command tool: programs it may run, in a scratch directory per thread.
    tool_allowed_commands: str = "ls,cat,echo,grep,wc,head,tail,sort,uniq,mkdir,touch,pwd,date,true,false"
    tool_scratch_root: str = ".data/scratch"
    tool_command_timeout_seconds: float = 20.0

    # Episodic retrieval: an episode's weight halves every this many days.
    episode_half_life_days: float = 14.0
    episodic_top_k: int = 3
    # Retention: transcripts older than this are cut to their summaries; recall rows not
    # retrieved for this long are pruned unless their tenant is active.
    episode_retention_days: int = 90
    recall_retention_days: int = 180
    # The worker makes sure a Temporal Schedule runs retention this often (0: leave it to
    # the operator, see clients/retention.py).
    retention_schedule_hours: float = Field(default=24.0, ge=0, le=24 * 366, allow_inf_nan=False)

    recall_top_k: int = 4
    recall_min_score: float = 0.15
    max_tool_iterations: int = 4
    # Only used by the offline model: how many tokens its pretend window holds.
    offline_context_window_tokens: int = 200_000

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for name in cls.model_fields:
            key = name.upper()
            if env.get(key):
                values[name] = env[key]
        try:
            return cls.model_validate(values)
        except ValidationError as err:
            # Name the variable the operator set, not the field it feeds.
            problems = [
                f"{'.'.join(map(str, e['loc'])).upper()}={values.get(str(e['loc'][0]), '')!r}: {e['msg']}"
                for e in err.errors()
            ]
            raise SettingsError("invalid environment: " + "; ".join(problems)) from None
