"""Rate-limit buckets in the database, so that instances behind one proxy share a client's limit.

With SQLite the buckets of one machine's workers stay in their own small file
(``ratelimit.sqlite3``, safe to delete); this table is what PostgreSQL deployments use.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buckets",
        sa.Column("client", sa.Text, primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("last", sa.Float, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Not worth a WAL record: after a crash a client at worst gets a fresh bucket.
        op.execute("ALTER TABLE buckets SET UNLOGGED")


def downgrade() -> None:
    op.drop_table("buckets")
