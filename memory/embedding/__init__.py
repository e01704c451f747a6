from memory.embedding.base import (
    Embedder,
    EmbeddingModelId,
    EmbeddingUnavailable,
    EmbeddingRejected,
)

__all__ = ["Embedder", "EmbeddingModelId", "EmbeddingRejected", "EmbeddingUnavailable"]
