"""The knowledge-graph layer: graphiti behind a small, typed interface."""

from memory.graph.clients import GraphClientsFactory
from memory.graph.errors import GraphIngestFailed, GraphUnavailable
from memory.graph.memory import GraphMemory
from memory.graph.models import (
    GraphCall,
    GraphEpisode,
    GraphFact,
    GraphSearchResult,
    IngestOutcome,
    episode_uuid,
)

__all__ = [
    "GraphCall",
    "GraphClientsFactory",
    "GraphEpisode",
    "GraphFact",
    "GraphIngestFailed",
    "GraphMemory",
    "GraphSearchResult",
    "GraphUnavailable",
    "IngestOutcome",
    "episode_uuid",
]
