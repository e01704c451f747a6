"""The knowledge-graph layer: graphiti behind a small, typed interface."""

from memory.graph.clients import GraphClientsFactory
from memory.graph.errors import GraphIngestFailed, GraphModelChanged, GraphUnavailable
from memory.graph.graphiti_store import GraphMemory
from memory.graph.models import (
    GraphCall,
    GraphEpisode,
    GraphFact,
    GraphSearchResult,
    IngestOutcome,
    ReembedBatch,
    episode_uuid,
)

__all__ = [
    "GraphCall",
    "GraphClientsFactory",
    "GraphEpisode",
    "GraphFact",
    "GraphIngestFailed",
    "GraphMemory",
    "GraphModelChanged",
    "GraphSearchResult",
    "GraphUnavailable",
    "IngestOutcome",
    "ReembedBatch",
    "episode_uuid",
]
