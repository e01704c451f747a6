"""The Postgres tables, one module per layer; memory.core.schema gathers them."""
