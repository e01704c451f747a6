"""The graph's reranker: lexical overlap, not a model.

graphiti calls it a cross-encoder; this is no such thing. A passage scores by how
many of the query's content words it contains (after dropping common words and a
plural or -ing ending), with a small share for how little else it says. It knows
nothing of meaning or synonyms. It is deterministic, runs locally and costs
nothing, which is why it serves every configuration.
"""

from __future__ import annotations

import re

from graphiti_core.cross_encoder.client import CrossEncoderClient

from memory.graph.models import GraphCall
from memory.graph.recording import record

PROVIDER = "offline"
MODEL = "lexical-overlap"

# Coverage of the query is what matters; precision only breaks ties toward focused facts.
_RECALL_WEIGHT = 0.8

_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(
    """a an the is are was were be been being do does did doing what where who whom which
    when why how at in on of to for with and or but not i me my mine you your we us our he
    him his she her it its they them their this that these those there here has have had
    will would can could should shall may might must about from by as into than then so
    if any some all s""".split()
)


def terms(text: str) -> set[str]:
    return {_stem(word) for word in _WORD.findall(text.lower()) if word not in _STOPWORDS}


def _stem(word: str) -> str:
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def overlap(query_terms: set[str], passage: str) -> float:
    passage_terms = terms(passage)
    if not query_terms or not passage_terms:
        return 0.0
    shared = len(query_terms & passage_terms)
    return _RECALL_WEIGHT * shared / len(query_terms) + (1 - _RECALL_WEIGHT) * shared / len(passage_terms)


class LexicalReranker(CrossEncoderClient):
    async def rank(self, query: str, passages: list[str]) -> list[tuple[str, float]]:
        query_terms = terms(query)
        scored = sorted(
            ((passage, overlap(query_terms, passage)) for passage in passages),
            key=lambda item: item[1],
            reverse=True,
        )
        # Recorded so the ledger shows every ranking step; no tokens, since no model ran.
        record(GraphCall(kind="rerank", purpose="rerank", provider=PROVIDER, model=MODEL))
        return scored
