"""End users: the user a thread belongs to, user columns on the private layers, the forget
audit, and per-tenant data keys for crypto-shredding.

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "thread_users",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.String(64), primary_key=True),
        sa.Column("thread_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_thread_users_user", "thread_users", ["tenant_id", "user_id"])
    # Nullable: rows written before users existed, and user-less threads, stay agent-wide.
    op.add_column("recall_items", sa.Column("user_id", sa.String(64)))
    op.create_index("ix_recall_items_user", "recall_items", ["tenant_id", "user_id"])
    op.add_column("episodes", sa.Column("user_id", sa.String(64)))
    op.create_index("ix_episodes_user", "episodes", ["tenant_id", "user_id"])
    op.create_table(
        "forget_runs",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("forget_key", sa.String(300), nullable=False, unique=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64)),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("dry_run", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("counts", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "tenant_data_keys",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False, unique=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("wrapping_key_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("tenant_data_keys")
    op.drop_table("forget_runs")
    op.drop_index("ix_episodes_user", "episodes")
    op.drop_column("episodes", "user_id")
    op.drop_index("ix_recall_items_user", "recall_items")
    op.drop_column("recall_items", "user_id")
    op.drop_index("ix_thread_users_user", "thread_users")
    op.drop_table("thread_users")
