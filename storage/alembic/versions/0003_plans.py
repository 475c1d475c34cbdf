"""Scaling plans: the plan, its audit trail, tasks, invitations and share links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _plan_fk() -> sa.Column:
    return sa.Column(
        "plan_id", sa.Text, sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("updated", sa.Text, nullable=False),
    )
    op.create_index("plans_owner", "plans", ["owner", "updated"])
    op.create_table(
        "plan_events",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        _plan_fk(),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
    )
    op.create_index("plan_events_plan", "plan_events", ["plan_id", "id"])
    op.create_table(
        "plan_tasks",
        sa.Column("id", sa.Text, primary_key=True),
        _plan_fk(),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("due", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("obstacle", sa.Text),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("updated", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('open', 'bezig', 'klaar')", name="plan_tasks_status"),
    )
    op.create_index("plan_tasks_plan", "plan_tasks", ["plan_id", "position"])
    op.create_table(
        "plan_invitations",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        _plan_fk(),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
    )
    op.create_index("plan_invitations_plan", "plan_invitations", ["plan_id", "id"])
    op.create_table(
        "plan_shares",
        sa.Column("token", sa.Text, primary_key=True),
        _plan_fk(),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("revoked", sa.Text),
    )
    op.create_index("plan_shares_plan", "plan_shares", ["plan_id"])


def downgrade() -> None:
    for table in ("plan_shares", "plan_invitations", "plan_tasks", "plan_events", "plans"):
        op.drop_table(table)
