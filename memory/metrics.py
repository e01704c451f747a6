"""The process's Prometheus metrics, on prometheus_client's default registry.

Metric objects live here, not beside the code that updates them, so the full list of
what a process exports is in one place and each metric is registered exactly once.
"""

from __future__ import annotations

from prometheus_client import Counter

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
