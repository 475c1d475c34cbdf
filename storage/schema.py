"""The tables the product cannot rebuild from the corpus, as SQLAlchemy Core tables.

Column types follow the schema the SQLite stores had before migrations existed, so a database
from then upgrades in place: timestamps are ISO-8601 UTC text (they sort as they read), ids are
text, payloads are the answer or contribution as JSON. The Alembic revisions in
``storage/migrations`` create exactly these tables; ``tests/storage`` checks that they agree.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: A 64-bit serial on PostgreSQL; SQLite only auto-numbers a column declared ``INTEGER``.
Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: Answers and contributions as JSON: text on SQLite, json (not jsonb: keeps key order) on PostgreSQL.
Payload = sa.JSON()

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("external_id", sa.Text),
    sa.Column("audience", sa.Text, nullable=False, server_default="public"),
    sa.Column("created", sa.Text, nullable=False),
    sa.Index(
        "conversations_external",
        "channel",
        "external_id",
        unique=True,
        sqlite_where=sa.text("external_id IS NOT NULL"),
        postgresql_where=sa.text("external_id IS NOT NULL"),
    ),
)

messages = sa.Table(
    "messages",
    metadata,
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
    sa.Index("messages_conversation", "conversation_id", "id"),
    sqlite_autoincrement=True,
)

answers = sa.Table(
    "answers",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("conversation_id", sa.Text),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    # Boolean reads the 0/1 integers of the old SQLite schema as well.
    sa.Column("abstained", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("answerer", sa.Text, nullable=False),
    sa.Column("payload", Payload, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Index("answers_created", "created"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", Serial, primary_key=True, autoincrement=True),
    sa.Column(
        "answer_id", sa.Text, sa.ForeignKey("answers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("rating", sa.Text, nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("doc_id", sa.Text),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.CheckConstraint("rating IN ('up', 'down')", name="feedback_rating"),
    sa.Index("feedback_answer", "answer_id"),
    sqlite_autoincrement=True,
)

#: Keys of channel events already handled (Slack and Teams retry deliveries).
events = sa.Table(
    "events",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("created", sa.Text, nullable=False),
)

CONTRIBUTION_STATUSES = ("pending", "approved", "published", "rejected")

contributions = sa.Table(
    "contributions",
    metadata,
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
        "status IN ('pending', 'approved', 'published', 'rejected')", name="contributions_status"
    ),
    sa.Index("contributions_status", "status", "created"),
)

#: Rate-limit token buckets, one row per client (an IP address is personal data: rows are
#: swept once their bucket has refilled). Unlogged on PostgreSQL (revision 0002): a bucket is
#: not worth a WAL record, and after a crash a client at worst gets a fresh bucket.
buckets = sa.Table(
    "buckets",
    metadata,
    sa.Column("client", sa.Text, primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("last", sa.Float, nullable=False),
)

# -- scaling plans (revision 0003) ---------------------------------------------------------------
#: A plan: its owner (a channel user key, never shown to others) and the plan as JSON. People are
#: not stored in a plan: who may be invited is computed from the live, consenting directory.
plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("payload", Payload, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("updated", sa.Text, nullable=False),
    sa.Index("plans_owner", "owner", "updated"),
)

#: The audit trail: who changed what in which plan, and when.
plan_events = sa.Table(
    "plan_events",
    metadata,
    sa.Column("id", Serial, primary_key=True, autoincrement=True),
    sa.Column("plan_id", sa.Text, sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("detail", Payload, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Index("plan_events_plan", "plan_id", "id"),
)

TASK_STATUSES = ("open", "bezig", "klaar")

plan_tasks = sa.Table(
    "plan_tasks",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("plan_id", sa.Text, sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
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
    sa.Index("plan_tasks_plan", "plan_id", "position"),
)

#: Who was invited to think along, and when. Only the person's id: their name and contact come
#: from the directory at read time, and vanish from the plan when they withdraw consent.
plan_invitations = sa.Table(
    "plan_invitations",
    metadata,
    sa.Column("id", Serial, primary_key=True, autoincrement=True),
    sa.Column("plan_id", sa.Text, sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
    sa.Column("person_id", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Index("plan_invitations_plan", "plan_id", "id"),
)

#: Share links: an unguessable token gives read access until it is revoked.
plan_shares = sa.Table(
    "plan_shares",
    metadata,
    sa.Column("token", sa.Text, primary_key=True),
    sa.Column("plan_id", sa.Text, sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("revoked", sa.Text),
    sa.Index("plan_shares_plan", "plan_id"),
)
