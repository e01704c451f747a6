"""The types of the failures a caller may see, by name: what a client or a workflow branches on."""

from __future__ import annotations

from typing import Final

CONTEXT_WINDOW_EXCEEDED: Final = "ContextWindowExceeded"
INVALID_INPUT: Final = "InvalidInput"
MODEL_REQUEST_REJECTED: Final = "ModelRequestRejected"
EMBEDDING_REJECTED: Final = "EmbeddingRejected"
INVALID_DATA: Final = "InvalidData"
GRAPH_UNAVAILABLE: Final = "GraphUnavailable"
CACHE_ENTRY_EXPIRED: Final = "CacheEntryExpired"
