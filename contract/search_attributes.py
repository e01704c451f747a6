"""The custom search attributes every Temporal namespace used by the runtime must have.

One list, shared by the embedded dev server, the production registration job,
the worker and the tests, so they cannot drift apart.
"""

from __future__ import annotations

from typing import Final

from temporalio.common import SearchAttributeKey

# (name, Temporal indexed-value type) in the spelling the `temporal` CLI takes.
SEARCH_ATTRIBUTES: Final[tuple[tuple[str, str], ...]] = (
    ("TenantId", "Keyword"),
    ("AgentId", "Keyword"),
    ("ThreadId", "Keyword"),
    ("IngestionOutcome", "Keyword"),
    ("MigrationState", "Keyword"),
)

TENANT_ID: Final = SearchAttributeKey.for_keyword("TenantId")
AGENT_ID: Final = SearchAttributeKey.for_keyword("AgentId")
THREAD_ID: Final = SearchAttributeKey.for_keyword("ThreadId")
INGESTION_OUTCOME: Final = SearchAttributeKey.for_keyword("IngestionOutcome")
MIGRATION_STATE: Final = SearchAttributeKey.for_keyword("MigrationState")


def cli_pairs() -> list[str]:
    """`NAME=Type` strings, as `temporal server start-dev --search-attribute` takes them."""
    return [f"{name}={kind}" for name, kind in SEARCH_ATTRIBUTES]
