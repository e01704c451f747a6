"""graphiti's embedder interface over the project's own embedder.

The graph must embed with the very model the recall store uses for the tenant (the
embedding fence), so it never gets an embedder of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphiti_core.embedder.client import EmbedderClient, EmbedderConfig

from memory.core.tokens import estimate_tokens
from memory.embedding.base import Embedder
from memory.graph.models import GraphCall
from memory.graph.recording import embed_purpose, record


class GraphEmbedder(EmbedderClient):
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.config = EmbedderConfig(embedding_dim=embedder.model_id.dimension)

    async def create(
        self, input_data: str | list[str] | Iterable[int] | Iterable[Iterable[int]]
    ) -> list[float]:
        if isinstance(input_data, str):
            texts = [input_data]
        elif isinstance(input_data, list) and all(isinstance(item, str) for item in input_data):
            texts = input_data
        else:
            # Token ids only mean something to the tokenizer of one particular model.
            raise TypeError("the graph embedder embeds text, not token ids")
        vectors = await self._embed(texts[:1])
        return vectors[0]

    async def create_batch(self, input_data_list: list[str]) -> list[list[float]]:
        return await self._embed(input_data_list)

    async def _embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        # The provider does not report usage through our interface; the estimate is
        # what the budgets elsewhere use too.
        vectors = await self.embedder.embed(texts, purpose=embed_purpose())
        model_id = self.embedder.model_id
        record(
            GraphCall(
                kind="embedding",
                purpose="embed",
                provider=model_id.provider,
                # The full id, as the recall store's ledger rows and the fence name it.
                model=str(model_id),
                input_tokens=sum(estimate_tokens(text) for text in texts),
            )
        )
        return vectors
