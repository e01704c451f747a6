from memory.embedding.base import (
    Embedder,
    EmbeddingModelId,
    EmbeddingRejected,
    EmbeddingUnavailable,
)

__all__ = ["Embedder", "EmbeddingModelId", "EmbeddingRejected", "EmbeddingUnavailable"]
