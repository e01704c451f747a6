"""The process's Prometheus metrics, on prometheus_client's default registry.

Metric objects live here, not beside the code that updates them, so the full list of
what a process exports is in one place and each metric is registered exactly once.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SESSION_CACHE_LOOKUPS = Counter(
    "agent_session_cache_lookups_total",
    "Session-learning cache lookups (a whole session's substitutions, or one command's).",
    ["tenant"],
)

SESSION_CACHE_HITS = Counter(
    "agent_session_cache_hits_total",
    "Session-learning cache lookups that returned at least one substitution.",
    ["tenant"],
)

PROMPT_CACHE_READ_TOKENS = Counter(
    "agent_prompt_cache_read_tokens",
    "Input tokens of the agent's model calls read from the provider's prompt cache.",
    ["tenant"],
)

PROMPT_CACHE_WRITE_TOKENS = Counter(
    "agent_prompt_cache_write_tokens",
    "Input tokens of the agent's model calls written to the provider's prompt cache.",
    ["tenant"],
)

PROMPT_CACHE_READ_PER_TURN = Histogram(
    "agent_prompt_cache_read_tokens_per_turn",
    "Prompt-cache read tokens of one model call of a turn.",
    buckets=(0, 256, 1024, 4096, 16384, 65536, 262144),
)

# Reads only: the latency an agent waits on before its model call. The SLO is on recall.
RETRIEVAL_SECONDS = Histogram(
    "agent_memory_retrieval_seconds",
    "Latency of one retrieval from a memory layer, in the activity that serves it.",
    ["layer"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

INGESTION_DECISIONS = Counter(
    "agent_ingestion_decisions",
    "Knowledge-graph ingestion requests by the gate that decided them ('ingest' when none stopped it).",
    ["gate"],
)

MEMORY_MODEL_CALLS = Counter(
    "agent_memory_model_calls",
    "Model and embedding calls billed in the usage ledger, by action (agent_turn is the agent's own).",
    ["action"],
)

MEMORY_MODEL_TOKENS = Counter(
    "agent_memory_model_tokens",
    "Tokens of the calls billed in the usage ledger, by action and direction (input or output).",
    ["action", "direction"],
)

MIGRATION_ROWS_DONE = Gauge(
    "agent_migration_rows_done",
    "Recall rows of the tenant's running migration that have a vector for the new model.",
    ["tenant"],
)

MIGRATION_ROWS_TOTAL = Gauge(
    "agent_migration_rows_total",
    "Recall rows the tenant's running migration has to embed.",
    ["tenant"],
)

_RETRIEVAL_OPERATIONS = {"search", "read", "load", "lookup"}


def observe_layer_latency(layer: str, operation: str, seconds: float) -> None:
    """The telemetry module's latency observer: retrievals feed the per-layer histogram."""
    if operation in _RETRIEVAL_OPERATIONS:
        RETRIEVAL_SECONDS.labels(layer=layer).observe(seconds)
