"""Path-routed documents (notebook, skills) with their versions, and ingested documents."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from memory.core.tables.base import metadata

# Path-routed documents (the notebook at /notebook.md, later skills under /skills/).
documents = Table(
    "documents",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("path", String(512), nullable=False),
    # A locked document (an operator's skill) is never rewritten by the agent's reflection.
    Column("locked", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "agent_id", "path", name="uq_documents_owner_path"),
)


document_versions = Table(
    "document_versions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("document_id", BigInteger, ForeignKey("documents.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("document_id", "version", name="uq_document_versions_version"),
)


ingested_documents = Table(
    "ingested_documents",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("name", String(512), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("chars", Integer, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
