"""Persistent recall store: past exchanges and document chunks, fenced vector search."""
