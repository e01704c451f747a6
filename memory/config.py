"""Settings read from the environment, with defaults an operator can live with."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field


class Settings(BaseModel):
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "agent-memory"
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
    # The model new tenants start on; existing tenants keep theirs (the fence).
    embedding_model: str = "offline/hashed-ngrams/256"

    # The length gate's default threshold; a switch per tenant or global overrides it.
    ingest_min_chars: int = 80
    graph_search_limit: int = 5
    document_chunk_chars: int = 1500

    # Embedding requests per second a migration may make, per provider.
    migration_requests_per_second: float = 20.0

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
        return cls.model_validate(values)
