"""The learning layer's boundary types, free of any store: what workflows and clients send and get back."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, computed_field, field_validator

from memory.core.validation import InvalidInput, check_id

if TYPE_CHECKING:
    from memory.core.config import Settings

MAX_CORRECTION_CHARS = 2_000


def _text(kind: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"a correction needs what was {kind}: it is empty")
    if len(value) > MAX_CORRECTION_CHARS:
        raise InvalidInput(f"the correction's '{kind}' is {len(value)} characters; the limit is {MAX_CORRECTION_CHARS}")
    if "\x00" in value:
        raise InvalidInput(f"the correction's '{kind}' contains a NUL byte")
    return value


class Correction(BaseModel):
    """What the agent tried, what to do instead, and who said so."""

    tried: str
    instead: str
    operator: str = Field(description="who corrects: an operator id")

    @field_validator("tried")
    @classmethod
    def _tried(cls, value: str) -> str:
        return _text("tried", value)

    @field_validator("instead")
    @classmethod
    def _instead(cls, value: str) -> str:
        return _text("instead", value)

    @field_validator("operator")
    @classmethod
    def _operator(cls, value: str) -> str:
        return check_id("operator", value)


# A horizon of a century keeps everything; a longer one is a typo, and its cutoff would fall
# before the first representable date.
MAX_RETENTION_DAYS = 36_500


class TenantRetention(BaseModel):
    tenant_id: str
    episodes_truncated: int = 0
    recall_items_pruned: int = 0
    # The tenant is active and had recall rows past the cutoff, which were kept.
    skipped_active: bool = False
    # Rows removed from the other growing tables (and scratch directories removed,
    # document versions compacted), by name.
    pruned: dict[str, int] = {}


class RetentionReport(BaseModel):
    run_key: str
    episode_cutoff: datetime
    recall_cutoff: datetime
    tenants: list[TenantRetention]

    @computed_field
    @property
    def episodes_truncated(self) -> int:
        return sum(t.episodes_truncated for t in self.tenants)

    @computed_field
    @property
    def recall_items_pruned(self) -> int:
        return sum(t.recall_items_pruned for t in self.tenants)

    @computed_field
    @property
    def pruned(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for tenant in self.tenants:
            totals.update(tenant.pruned)
        return dict(sorted(totals.items()))

    @computed_field
    @property
    def tenants_skipped_active(self) -> int:
        return sum(t.skipped_active for t in self.tenants)


_CENTURY = 36_500  # the longest horizon, as for episodes and recall


class GrowthPolicy(BaseModel):
    """How long each growing table keeps its rows, in days; the defaults are the worker's."""

    # A message resent with the same request id is answered from its first turn for this long.
    turn_request_days: int = Field(default=30, ge=1, le=_CENTURY)
    turn_days: int = Field(default=180, ge=1, le=_CENTURY)
    tool_call_days: int = Field(default=90, ge=1, le=_CENTURY)
    # The cost ledger: longer, for a year's billing questions.
    usage_days: int = Field(default=400, ge=1, le=_CENTURY)
    ingestion_decision_days: int = Field(default=90, ge=1, le=_CENTURY)
    cache_audit_days: int = Field(default=90, ge=1, le=_CENTURY)
    graph_episode_days: int = Field(default=30, ge=1, le=_CENTURY)
    scratch_days: int = Field(default=7, ge=1, le=_CENTURY)
    document_versions_kept: int = Field(default=20, ge=1, le=100_000)

    @classmethod
    def from_settings(cls, settings: "Settings") -> "GrowthPolicy":
        return cls(
            turn_request_days=settings.turn_request_retention_days,
            turn_days=settings.turn_retention_days,
            tool_call_days=settings.tool_call_retention_days,
            usage_days=settings.usage_retention_days,
            ingestion_decision_days=settings.ingestion_decision_retention_days,
            cache_audit_days=settings.cache_audit_retention_days,
            graph_episode_days=settings.graph_episode_retention_days,
            scratch_days=settings.scratch_retention_days,
            document_versions_kept=settings.document_versions_kept,
        )

    def horizons(self, as_of: datetime) -> "GrowthHorizons":
        def before(days: int) -> datetime:
            return as_of - timedelta(days=days)

        return GrowthHorizons(
            turn_requests=before(self.turn_request_days),
            turns=before(self.turn_days),
            tool_calls=before(self.tool_call_days),
            usage_ledger=before(self.usage_days),
            ingestion_decisions=before(self.ingestion_decision_days),
            session_cache_audit=before(self.cache_audit_days),
            graph_episodes=before(self.graph_episode_days),
            scratch_directories=before(self.scratch_days),
            document_versions_kept=self.document_versions_kept,
        )


class GrowthHorizons(BaseModel):
    """Rows older than a cutoff are removed; None keeps that table's rows."""

    turn_requests: datetime | None = None
    turns: datetime | None = None
    tool_calls: datetime | None = None
    usage_ledger: datetime | None = None
    ingestion_decisions: datetime | None = None
    session_cache_audit: datetime | None = None
    graph_episodes: datetime | None = None
    scratch_directories: datetime | None = None
    # Each document keeps the full text of its newest this-many versions.
    document_versions_kept: int | None = Field(default=None, ge=1)
