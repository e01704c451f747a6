"""The model, embedder and reranker graphiti works with.

Always all three, always ours: graphiti falls back to OpenAI for any it is not given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graphiti_core.cross_encoder.client import CrossEncoderClient
from graphiti_core.embedder.client import EmbedderClient
from graphiti_core.llm_client.client import LLMClient

from memory.core.config import Settings
from memory.embedding.base import Embedder, EmbeddingModelId, EmbeddingRejected
from memory.embedding.offline import OfflineEmbedder
from memory.embedding.registry import build_embedder
from memory.graph.anthropic_llm import RecordedAnthropicClient
from memory.graph.embedder import GraphEmbedder
from memory.graph.offline_llm import OfflineGraphLLM
from memory.graph.reranker import LexicalReranker


@dataclass(frozen=True)
class GraphClients:
    llm: LLMClient
    embedder: EmbedderClient
    reranker: CrossEncoderClient


def offline_embedder(model_id: str) -> Embedder:
    """The hashed n-gram embedder an id of the form offline/hashed-ngrams/<dimension> names."""
    parsed = EmbeddingModelId.parse(model_id)
    if parsed.provider != "offline":
        raise EmbeddingRejected(f"embedding model {parsed} is not an offline model; no provider is configured here")
    embedder = OfflineEmbedder(parsed.dimension)
    if parsed != embedder.model_id:
        raise EmbeddingRejected(
            f"embedding model {parsed} is not an offline model; use offline/hashed-ngrams/<dimension>"
        )
    return embedder


class GraphClientsFactory:
    """Clients for the default model, and for any other model a tenant has moved to.

    embedders turns a model id into its embedder; without it only offline ids
    (besides the default's) can be served.
    """

    def __init__(
        self, llm: LLMClient, embedder: Embedder, *, embedders: Callable[[str], Embedder] | None = None
    ) -> None:
        self._llm = llm
        self._embedder = embedder
        self._embedders = embedders or offline_embedder

    @classmethod
    def offline(cls, embedding_dimension: int = 256) -> "GraphClientsFactory":
        """The rule-based extractor and the hashed n-gram embedder: no network, no keys."""
        return cls(OfflineGraphLLM(), OfflineEmbedder(embedding_dimension), embedders=offline_embedder)

    @classmethod
    def from_settings(cls, settings: Settings, *, embedding_model: str | None = None) -> "GraphClientsFactory":
        """Claude when a key is configured, else the offline extractor.

        embedding_model defaults to the settings' model for new tenants; pass a tenant's
        own model so its graph and its recall store embed alike.
        """
        embedder = build_embedder(embedding_model or settings.embedding_model, settings)
        if settings.anthropic_api_key:
            llm: LLMClient = RecordedAnthropicClient(settings.anthropic_api_key, settings.anthropic_model)
        else:
            llm = OfflineGraphLLM()
        return cls(llm, embedder, embedders=lambda model_id: build_embedder(model_id, settings))

    @property
    def embedding_model(self) -> str:
        return str(self._embedder.model_id)

    def embedder(self, model_id: str | None = None) -> Embedder:
        """The embedder of model_id (None: the default model)."""
        if model_id is None or model_id == self.embedding_model:
            return self._embedder
        embedder = self._embedders(model_id)
        # The id is the fence: the vectors must come from exactly the model asked for.
        if str(embedder.model_id) != str(EmbeddingModelId.parse(model_id)):
            raise EmbeddingRejected(f"asked for embedding model {model_id}, got {embedder.model_id}")
        return embedder

    def build(self, model_id: str | None = None) -> GraphClients:
        """The clients for model_id (None: the default model); the model and reranker are shared."""
        return GraphClients(llm=self._llm, embedder=GraphEmbedder(self.embedder(model_id)), reranker=LexicalReranker())
