"""Voyage AI embeddings over plain HTTP."""

from __future__ import annotations

import httpx

from memory.embedding.base import EmbeddingModelId
from memory.embedding.http_errors import post_for_embeddings

_PURPOSES = ("document", "query")


class VoyageEmbedder:
    def __init__(
        self,
        api_key: str,
        model_id: EmbeddingModelId,
        *,
        http_client: httpx.AsyncClient | None = None,
        base_url: str = "https://api.voyageai.com/v1",
        timeout_seconds: float = 30.0,
    ) -> None:
        self.model_id = model_id
        self._api_key = api_key
        self._url = base_url.rstrip("/") + "/embeddings"
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=timeout_seconds)

    async def embed(self, texts: list[str], *, purpose: str) -> list[list[float]]:
        if purpose not in _PURPOSES:
            raise ValueError(f"purpose must be one of {_PURPOSES}, not {purpose!r}")
        if not texts:
            return []
        body = {
            "input": texts,
            "model": self.model_id.model,
            # Voyage embeds queries and documents asymmetrically; retrieval quality depends on it.
            "input_type": purpose,
            "output_dimension": self.model_id.dimension,
        }
        return await post_for_embeddings(
            self._client, self._url, self._api_key, body, self.model_id, len(texts)
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
