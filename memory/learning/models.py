"""The learning layer's boundary types, free of any store: what workflows and clients send and get back."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, computed_field, field_validator

from memory.core.validation import InvalidInput, check_id

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
    def tenants_skipped_active(self) -> int:
        return sum(t.skipped_active for t in self.tenants)
