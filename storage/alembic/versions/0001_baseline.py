"""Baseline: the schema the SQLite stores created before migrations existed.

Every table and index is created only when missing, so a data folder from before migrations
upgrades in place: its tables are kept as they are (with their rows) and the version is
recorded. ``contributions`` existed only once someone had shared a lesson; it is created here
otherwise.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Payload = sa.JSON()


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("external_id", sa.Text),
        sa.Column("audience", sa.Text, nullable=False, server_default="public"),
        sa.Column("created", sa.Text, nullable=False),
        if_not_exists=True,
    )
    op.create_index(
        "conversations_external",
        "conversations",
        ["channel", "external_id"],
        unique=True,
        sqlite_where=sa.text("external_id IS NOT NULL"),
        postgresql_where=sa.text("external_id IS NOT NULL"),
        if_not_exists=True,
    )
    op.create_table(
        "messages",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.Text,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("answer_id", sa.Text),
        sa.Column("created", sa.Text, nullable=False),
        sa.CheckConstraint("role IN ('user', 'assistant')", name="messages_role"),
        sqlite_autoincrement=True,
        if_not_exists=True,
    )
    op.create_index(
        "messages_conversation", "messages", ["conversation_id", "id"], if_not_exists=True
    )
    op.create_table(
        "answers",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.Text),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("abstained", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("answerer", sa.Text, nullable=False),
        sa.Column("payload", Payload, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        if_not_exists=True,
    )
    op.create_index("answers_created", "answers", ["created"], if_not_exists=True)
    op.create_table(
        "feedback",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column(
            "answer_id",
            sa.Text,
            sa.ForeignKey("answers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("rating", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("doc_id", sa.Text),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sa.CheckConstraint("rating IN ('up', 'down')", name="feedback_rating"),
        sqlite_autoincrement=True,
        if_not_exists=True,
    )
    op.create_index("feedback_answer", "feedback", ["answer_id"], if_not_exists=True)
    op.create_table(
        "events",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("created", sa.Text, nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "contributions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("payload", Payload, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("doc_path", sa.Text),
        sa.Column("reviewer", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("updated", sa.Text, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'published', 'rejected')",
            name="contributions_status",
        ),
        if_not_exists=True,
    )
    op.create_index(
        "contributions_status", "contributions", ["status", "created"], if_not_exists=True
    )


def downgrade() -> None:
    # The baseline is where this database started: there is nothing older to go back to.
    raise NotImplementedError("no downgrade below the baseline")
