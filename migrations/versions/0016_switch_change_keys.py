"""Switch and plan changes run as a workflow: each change carries the key of the workflow that
made it, so a retried activity writes its row once; plan changes get a history of their own
(who, why, when), as switch changes already have.

Revision ID: 0016
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("switch_settings", sa.Column("change_key", sa.String(300)))
    op.create_unique_constraint("uq_switch_settings_change_key", "switch_settings", ["change_key"])
    op.create_table(
        "plan_changes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("change_key", sa.String(300), unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("plan_changes")
    op.drop_constraint("uq_switch_settings_change_key", "switch_settings")
    op.drop_column("switch_settings", "change_key")
