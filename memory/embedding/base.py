"""The one interface every embedding provider sits behind.

A model identifier names provider, model and dimension ("voyage/voyage-3.5/1024"),
because the embedding-version fence must tell apart two models that share a name
but not a geometry.
"""

from __future__ import annotations

import re
from typing import Protocol

from pydantic import BaseModel

_MODEL_ID = re.compile(r"^(?P<provider>[a-z0-9_-]+)/(?P<model>[A-Za-z0-9._-]+)/(?P<dim>[1-9][0-9]{0,4})$")


class EmbeddingModelId(BaseModel, frozen=True):
    provider: str
    model: str
    dimension: int

    @classmethod
    def parse(cls, value: str) -> "EmbeddingModelId":
        match = _MODEL_ID.fullmatch(value) if isinstance(value, str) else None
        if not match:
            raise ValueError(
                f"embedding model id {value!r} is not of the form provider/model/dimension, "
                "e.g. 'offline/hashed-ngrams/256' or 'voyage/voyage-3.5/1024'"
            )
        return cls(provider=match["provider"], model=match["model"], dimension=int(match["dim"]))

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}/{self.dimension}"


class Embedder(Protocol):
    model_id: EmbeddingModelId

    async def embed(self, texts: list[str], *, purpose: str) -> list[list[float]]:
        """Embed texts. purpose is "document" or "query" (some providers embed them differently)."""
        ...


class EmbeddingUnavailable(Exception):
    """Transient provider failure (rate limit, 5xx, timeout). Retry."""

    def __init__(self, message: str, retry_after_seconds: float | None = None):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class EmbeddingRejected(Exception):
    """Permanent provider refusal (bad key, bad input). Retrying cannot help."""
