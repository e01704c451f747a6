"""A semantic embedder that runs offline: WordLlama's static token embeddings.

The wordllama wheel carries its own weights and tokenizer (numpy only, no torch), so a
new install gets vectors that know "works at" from "is employed by" with no key and no
network. It is a bag of learned token vectors, average-pooled: much better than hashed
n-grams at meaning, well short of a hosted model at word order and negation.
"""

from __future__ import annotations

import asyncio
import threading
from functools import cache
from pathlib import Path

from memory.embedding.base import EmbeddingModelId

MODEL_ID = EmbeddingModelId(provider="wordllama", model="l2-supercat", dimension=256)


@cache
def _model():
    # Imported here: only processes that use the model pay for loading it.
    import wordllama

    # The package's own folder holds the weights and the tokenizer; pointing the cache
    # there, with downloads off, is what keeps loading offline (the default cache misses
    # the tokenizer file and would go to the hub).
    package_dir = Path(wordllama.__file__).resolve().parent
    return wordllama.WordLlama.load(
        config="l2_supercat", cache_dir=package_dir, dim=MODEL_ID.dimension, disable_download=True
    )


# Loading is once per process; two first calls racing would load twice.
_load_lock = threading.Lock()


def load_model():
    with _load_lock:
        return _model()


def embed_texts(texts: list[str]) -> list[list[float]]:
    """Unit vectors, one per text; an empty text gets a fixed unit vector."""
    vectors = load_model().embed(texts, norm=True, return_np=True)
    out: list[list[float]] = []
    for vector in vectors.tolist():
        if not any(vector):
            # Nothing the tokenizer knows: a unit vector keeps cosine defined.
            vector = [1.0] + [0.0] * (MODEL_ID.dimension - 1)
        out.append(vector)
    return out


class WordLlamaEmbedder:
    def __init__(self) -> None:
        self.model_id = MODEL_ID

    async def embed(self, texts: list[str], *, purpose: str) -> list[list[float]]:
        # Symmetric: queries and documents are embedded alike. A thread keeps the event
        # loop free while numpy works through a large batch.
        if not texts:
            return []
        return await asyncio.to_thread(embed_texts, list(texts))
