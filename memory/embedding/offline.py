"""An offline stand-in embedder: hashed word and character n-grams.

This is NOT a semantic model. It knows nothing of meaning or synonyms; texts come
out close only when they share words or word fragments. It exists so the runtime,
its tests and its benchmarks can run with no network and no API key, and give the
same vectors on every machine and every run.
"""

from __future__ import annotations

import hashlib
import math
import re

from memory.embedding.base import EmbeddingModelId

_WORD = re.compile(r"\w+")

# Whole words and word pairs carry more meaning than fragments; trigrams only
# soften the blow of inflections and typos.
_WORD_WEIGHT = 1.0
_BIGRAM_WEIGHT = 0.7
_TRIGRAM_WEIGHT = 0.25


def _features(text: str) -> list[tuple[str, float]]:
    words = _WORD.findall(text.lower())
    features: list[tuple[str, float]] = [(f"w:{w}", _WORD_WEIGHT) for w in words]
    features += [(f"b:{a} {b}", _BIGRAM_WEIGHT) for a, b in zip(words, words[1:])]
    for word in words:
        marked = f"<{word}>"
        features += [(f"c:{marked[i:i + 3]}", _TRIGRAM_WEIGHT) for i in range(len(marked) - 2)]
    return features


def _bucket_and_sign(feature: str, dimension: int) -> tuple[int, float]:
    # blake2b, not hash(): Python salts str hashes per process, which would make
    # stored vectors incomparable with ones computed after a restart.
    digest = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")
    sign = 1.0 if digest >> 63 else -1.0
    return digest % dimension, sign


class OfflineEmbedder:
    def __init__(self, dimension: int = 256) -> None:
        if dimension < 1:
            raise ValueError(f"dimension must be positive, not {dimension}")
        self.model_id = EmbeddingModelId(provider="offline", model="hashed-ngrams", dimension=dimension)

    async def embed(self, texts: list[str], *, purpose: str) -> list[list[float]]:
        # purpose is ignored: the hashing is symmetric for queries and documents.
        return [self.embed_one(text) for text in texts]

    def embed_one(self, text: str) -> list[float]:
        dimension = self.model_id.dimension
        vector = [0.0] * dimension
        for feature, weight in _features(text):
            bucket, sign = _bucket_and_sign(feature, dimension)
            vector[bucket] += sign * weight
        norm = math.sqrt(sum(x * x for x in vector))
        if norm == 0.0:
            # Text with no words (or colliding features that cancel out) still gets a
            # unit vector, so cosine similarity is defined instead of dividing by zero.
            vector[0] = 1.0
            return vector
        return [x / norm for x in vector]
