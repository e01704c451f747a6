"""OpenAI embeddings over plain HTTP (no openai package needed)."""

from __future__ import annotations

from typing import Any

import httpx

from memory.embedding.base import EmbeddingModelId
from memory.embedding.http_errors import post_for_embeddings

# These models have a fixed size and reject the dimensions parameter.
_FIXED_DIMENSION_MODELS = frozenset({"text-embedding-ada-002"})


class OpenAIEmbedder:
    def __init__(
        self,
        api_key: str,
        model_id: EmbeddingModelId,
        *,
        http_client: httpx.AsyncClient | None = None,
        base_url: str = "https://api.openai.com/v1",
        timeout_seconds: float = 30.0,
    ) -> None:
        self.model_id = model_id
        self._api_key = api_key
        self._url = base_url.rstrip("/") + "/embeddings"
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=timeout_seconds)

    async def embed(self, texts: list[str], *, purpose: str) -> list[list[float]]:
        # OpenAI embeds queries and documents alike, so purpose has nothing to change.
        if not texts:
            return []
        body: dict[str, Any] = {"input": texts, "model": self.model_id.model}
        if self.model_id.model not in _FIXED_DIMENSION_MODELS:
            body["dimensions"] = self.model_id.dimension
        return await post_for_embeddings(
            self._client, self._url, self._api_key, body, self.model_id, len(texts)
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
