"""Turns a configured embedding model id into the adapter that serves it."""

from __future__ import annotations

import httpx

from memory.core.config import Settings
from memory.embedding.base import Embedder, EmbeddingModelId, EmbeddingRejected
from memory.embedding.offline import OfflineEmbedder
from memory.embedding.openai_embedder import OpenAIEmbedder
from memory.embedding.voyage import VoyageEmbedder
from memory.embedding.wordllama_embedder import MODEL_ID as WORDLLAMA_MODEL_ID
from memory.embedding.wordllama_embedder import WordLlamaEmbedder

KNOWN_PROVIDERS = ("offline", "openai", "voyage", "wordllama")
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


def build_embedder(
    model_id: str, settings: Settings, *, http_client: httpx.AsyncClient | None = None
) -> Embedder:
    """Raises ValueError for a malformed id, EmbeddingRejected for one that cannot be served."""
    parsed = EmbeddingModelId.parse(model_id)
    if parsed.provider == "offline":
        offline = OfflineEmbedder(parsed.dimension)
        # The id is the embedding-version fence: it must name exactly what produced the vectors.
        if parsed != offline.model_id:
            raise EmbeddingRejected(
                f"embedding model {parsed} is not an offline model; "
                f"use offline/hashed-ngrams/<dimension>"
            )
        return offline
    if parsed.provider == "wordllama":
        if parsed != WORDLLAMA_MODEL_ID:
            raise EmbeddingRejected(
                f"embedding model {parsed} is not the packaged WordLlama model; use {WORDLLAMA_MODEL_ID}"
            )
        return WordLlamaEmbedder()
    if parsed.provider == "voyage":
        key = _require_key(settings.voyage_api_key, parsed, "VOYAGE_API_KEY")
        return VoyageEmbedder(key, parsed, http_client=http_client)
    if parsed.provider == "openai":
        # A local embedding server (Ollama, vLLM) needs no key; OpenAI itself does.
        local = settings.openai_base_url.rstrip("/") != DEFAULT_OPENAI_BASE_URL
        key = (settings.openai_api_key or "") if local else _require_key(settings.openai_api_key, parsed, "OPENAI_API_KEY")
        return OpenAIEmbedder(key, parsed, http_client=http_client, base_url=settings.openai_base_url)
    raise EmbeddingRejected(
        f"embedding model {parsed} has unknown provider {parsed.provider!r}; "
        f"known providers: {', '.join(KNOWN_PROVIDERS)}"
    )


def _require_key(key: str | None, model_id: EmbeddingModelId, env_var: str) -> str:
    if not key:
        raise EmbeddingRejected(f"embedding model {model_id} needs {env_var} to be set")
    return key
