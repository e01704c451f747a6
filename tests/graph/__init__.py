"""The knowledge graph: graphiti on FalkorDB, gates, ingestion, re-embedding."""
