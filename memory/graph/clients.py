"""The model, embedder and reranker graphiti works with.

Always all three, always ours: graphiti falls back to OpenAI for any it is not given.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphiti_core.cross_encoder.client import CrossEncoderClient
from graphiti_core.embedder.client import EmbedderClient
from graphiti_core.llm_client.client import LLMClient

from memory.config import Settings
from memory.embedding.base import Embedder
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


class GraphClientsFactory:
    def __init__(self, llm: LLMClient, embedder: Embedder) -> None:
        self._llm = llm
        self._embedder = embedder

    @classmethod
    def offline(cls, embedding_dimension: int = 256) -> "GraphClientsFactory":
        """The rule-based extractor and the hashed n-gram embedder: no network, no keys."""
        return cls(OfflineGraphLLM(), OfflineEmbedder(embedding_dimension))

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
        return cls(llm, embedder)

    @property
    def embedding_model(self) -> str:
        return str(self._embedder.model_id)

    def build(self) -> GraphClients:
        return GraphClients(llm=self._llm, embedder=GraphEmbedder(self._embedder), reranker=LexicalReranker())
