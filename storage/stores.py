"""The stores every channel shares: conversations, answers, feedback, processed events, and the
queries that curation's gaps and analytics need.

Each write is one transaction. With SQLite (the default) the database runs in WAL mode, so a
crash or restart loses nothing that was acknowledged. Not rebuildable from the corpus: back it
up (docs/deployment.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from assistant.models import Answer, Rating, Turn

from . import migrations
from .engine import autocommit, database_url, is_sqlite, make_engine, sqlite_url
from .schema import answers, conversations, events, feedback, messages


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def cutoff(days: int) -> str:
    """The ``created`` value ``days`` ago, in the same ISO form (so text comparison works)."""
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")


class AnswerMismatch(LookupError):
    """The feedback exists, but belongs to another answer."""


class NotFound(LookupError):
    pass


def upsert(bind: Connection | Engine, table: sa.Table):
    """An ``INSERT`` that can say ``ON CONFLICT``: both supported databases spell it alike."""
    dialect = sqlite if bind.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


# The statements of the request path, built once: SQLAlchemy then reuses their compiled form
# and cache key, which keeps a store call within a few tenths of a millisecond.
_CONVERSATION = sa.select(conversations).where(conversations.c.id == sa.bindparam("id"))
_HISTORY = (
    sa.select(messages.c.role, messages.c.content)
    .where(messages.c.conversation_id == sa.bindparam("cid"))
    .order_by(messages.c.id.desc())
    .limit(sa.bindparam("limit"))
)
_MESSAGES = (
    sa.select(messages.c.role, messages.c.content, messages.c.answer_id, messages.c.created)
    .where(messages.c.conversation_id == sa.bindparam("cid"))
    .order_by(messages.c.id)
)
_PAYLOAD = sa.select(answers.c.payload).where(answers.c.id == sa.bindparam("id"))
_FEEDBACK_FOR = (
    sa.select(
        feedback.c.rating,
        feedback.c.comment,
        feedback.c.doc_id,
        feedback.c.channel,
        feedback.c.created,
    )
    .where(feedback.c.answer_id == sa.bindparam("aid"))
    .order_by(feedback.c.id)
)
_INSERT_CONVERSATION = conversations.insert()
_INSERT_MESSAGE = messages.insert()
_INSERT_ANSWER = answers.insert()
_INSERT_FEEDBACK = feedback.insert()


class Stores:
    """Thread-safe (the engine pools connections). ``target`` is a SQLite file, a database URL
    or an engine; opening checks the schema version (see ``storage.migrations``)."""

    def __init__(self, target: Path | str | Engine) -> None:
        if isinstance(target, Engine):
            self.engine = target
        else:
            url = str(target) if "://" in str(target) else sqlite_url(target)
            self.engine = make_engine(url)
        self._autocommit = autocommit(self.engine)
        migrations.ensure_current(self.engine)

    @classmethod
    def from_settings(cls, settings) -> Stores:
        return cls(database_url(settings))

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on a database server."""
        if not is_sqlite(self.engine.url):
            return None
        return Path(self.engine.url.database)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(**self._autocommit) as conn:
            yield conn

    def tx(self):
        """One write transaction (committed on leaving, rolled back on an exception)."""
        return self.engine.begin()

    def rows(self, query: sa.Select, params: dict | None = None) -> list[dict]:
        """The rows of a read query, as dicts keyed by column name."""
        with self.read() as db:
            return [dict(r) for r in db.execute(query, params).mappings().all()]

    def row(self, query: sa.Select, missing: str, params: dict | None = None) -> dict:
        """The first row of a read query; NotFound(``missing``) when there is none."""
        with self.read() as db:
            found = db.execute(query, params).mappings().first()
        if found is None:
            raise NotFound(missing)
        return dict(found)

    # -- conversations ----------------------------------------------------------------------
    def create_conversation(
        self, channel: str, external_id: str | None = None, audience: str = "public"
    ) -> str:
        cid = uuid.uuid4().hex
        with self.tx() as db:
            db.execute(
                _INSERT_CONVERSATION,
                dict(
                    id=cid,
                    channel=channel,
                    external_id=external_id,
                    audience=audience,
                    created=now(),
                ),
            )
        return cid

    def conversation_for(self, channel: str, external_id: str, audience: str = "public") -> str:
        """The conversation for a channel's own thread/chat id, created on first use (also when
        two instances see the thread's first message at the same moment)."""
        find = sa.select(conversations.c.id).where(
            conversations.c.channel == channel, conversations.c.external_id == external_id
        )
        with self.tx() as db:
            found = db.execute(find).scalar()
            if found:
                return found
            db.execute(
                upsert(db, conversations)
                .values(
                    id=uuid.uuid4().hex,
                    channel=channel,
                    external_id=external_id,
                    audience=audience,
                    created=now(),
                )
                .on_conflict_do_nothing()
            )
            return db.execute(find).scalar_one()

    def conversation(self, conversation_id: str) -> dict:
        return self.row(_CONVERSATION, conversation_id, {"id": conversation_id})

    def add_message(
        self, conversation_id: str, role: str, content: str, answer_id: str | None = None
    ) -> None:
        with self.tx() as db:
            db.execute(
                _INSERT_MESSAGE,
                dict(
                    conversation_id=conversation_id,
                    role=role,
                    content=content,
                    answer_id=answer_id,
                    created=now(),
                ),
            )

    def history(self, conversation_id: str, limit: int = 8) -> list[Turn]:
        with self.read() as db:
            rows = db.execute(_HISTORY, {"cid": conversation_id, "limit": limit}).all()
        return [Turn(role=r.role, content=r.content) for r in reversed(rows)]

    def messages(self, conversation_id: str) -> list[dict]:
        return self.rows(_MESSAGES, {"cid": conversation_id})

    # -- answers and feedback ----------------------------------------------------------------
    def save_answer(
        self, answer: Answer, channel: str, conversation_id: str | None = None
    ) -> Answer:
        """Store an answer (and, with a conversation, the turn pair). Returns a copy of
        ``answer`` that carries its answer id; ``answer`` itself is left as it was."""
        stored = answer.model_copy(update={"answer_id": answer.answer_id or uuid.uuid4().hex})
        ts = now()
        with self.tx() as db:
            db.execute(
                _INSERT_ANSWER,
                dict(
                    id=stored.answer_id,
                    channel=channel,
                    conversation_id=conversation_id,
                    question=stored.question,
                    language=stored.language,
                    abstained=bool(stored.abstained),
                    answerer=stored.answerer,
                    payload=stored.contract_dict(),
                    created=ts,
                ),
            )
            if conversation_id:
                db.execute(
                    _INSERT_MESSAGE,
                    [
                        dict(
                            conversation_id=conversation_id,
                            role="user",
                            content=stored.question,
                            answer_id=None,
                            created=ts,
                        ),
                        dict(
                            conversation_id=conversation_id,
                            role="assistant",
                            content=stored.answer,
                            answer_id=stored.answer_id,
                            created=ts,
                        ),
                    ],
                )
        return stored

    def answer(self, answer_id: str) -> dict:
        with self.read() as db:
            payload = db.execute(_PAYLOAD, {"id": answer_id}).scalar()
        if payload is None:
            raise NotFound(answer_id)
        return payload

    def add_feedback(
        self,
        answer_id: str,
        rating: Rating,
        channel: str,
        comment: str | None = None,
        doc_id: str | None = None,
    ) -> int:
        if rating not in ("up", "down"):
            raise ValueError("rating moet 'up' of 'down' zijn")
        with self.tx() as db:
            if db.execute(_PAYLOAD, {"id": answer_id}).first() is None:
                raise NotFound(answer_id)
            result = db.execute(
                _INSERT_FEEDBACK,
                dict(
                    answer_id=answer_id,
                    rating=rating,
                    comment=comment,
                    doc_id=doc_id,
                    channel=channel,
                    created=now(),
                ),
            )
            return int(result.inserted_primary_key[0])

    def add_feedback_comment(self, feedback_id: int, answer_id: str, comment: str) -> bool:
        """Attach a comment to feedback given earlier (the widget sends 👎 at once and the
        comment after). The answer id must match, so feedback ids cannot be guessed into.
        False when that feedback already has a comment; NotFound when it does not exist;
        AnswerMismatch when it belongs to another answer."""
        mine = sa.and_(feedback.c.id == feedback_id, feedback.c.answer_id == answer_id)
        with self.tx() as db:
            updated = db.execute(
                feedback.update().where(mine, feedback.c.comment.is_(None)).values(comment=comment)
            ).rowcount
            if updated:
                return True
            found = db.execute(
                sa.select(feedback.c.answer_id).where(feedback.c.id == feedback_id)
            ).first()
        if found is None:
            raise NotFound(f"feedback {feedback_id}")
        # Feedback ids count up and are no secret; the answer id (random) is what proves the
        # commenter saw that answer.
        if found[0] != answer_id:
            raise AnswerMismatch(f"feedback {feedback_id}")
        return False

    def feedback_for(self, answer_id: str) -> list[dict]:
        return self.rows(_FEEDBACK_FOR, {"aid": answer_id})

    # -- idempotency for channels that retry (Slack, Teams) -----------------------------------
    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen; False for every retry after that (whichever
        instance the retry reaches)."""
        with self.tx() as db:
            inserted = db.execute(
                upsert(db, events)
                .values(key=key, created=now())
                .on_conflict_do_nothing()
                .returning(events.c.key)
            ).first()
        return inserted is not None

    # -- gaps and analytics (curation) ---------------------------------------------------------
    def gap_questions(self) -> list[tuple[str, str, str]]:
        """(question, created, reason) of every answer that abstained (``abstained``) or got a
        👎 (``down``), oldest first."""
        downvoted = sa.exists().where(
            feedback.c.answer_id == answers.c.id, feedback.c.rating == "down"
        )
        reason = sa.case((answers.c.abstained, "abstained"), else_="down")
        with self.read() as db:
            rows = db.execute(
                sa.select(answers.c.question, answers.c.created, reason)
                .where(sa.or_(answers.c.abstained, downvoted))
                .order_by(answers.c.created)
            ).all()
        return [tuple(r) for r in rows]

    def answers_per_day(self) -> list[dict]:
        """``{"day", "answers", "abstained"}`` per day with answers, oldest first."""
        day = sa.func.substr(answers.c.created, 1, 10).label("day")
        rows = self.rows(
            sa.select(
                day,
                sa.func.count().label("answers"),
                sa.func.sum(sa.case((answers.c.abstained, 1), else_=0)).label("abstained"),
            )
            .group_by(day)
            .order_by(day)
        )
        return [
            {"day": r["day"], "answers": r["answers"], "abstained": int(r["abstained"] or 0)}
            for r in rows
        ]

    def feedback_counts(self) -> dict[str, int]:
        """Number of feedback rows per rating."""
        with self.read() as db:
            rows = db.execute(
                sa.select(feedback.c.rating, sa.func.count()).group_by(feedback.c.rating)
            ).all()
        return {rating: n for rating, n in rows}

    def answer_payloads(self, batch: int = 500) -> Iterator[dict]:
        """Every stored answer (contract form), in id order, fetched ``batch`` at a time."""
        last = ""
        while True:
            with self.read() as db:
                rows = db.execute(
                    sa.select(answers.c.id, answers.c.payload)
                    .where(answers.c.id > last)
                    .order_by(answers.c.id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for row in rows:
                yield row.payload
            last = rows[-1].id

    # -- retention (AVG) ------------------------------------------------------------------------
    def purge_older_than(self, days: int) -> dict[str, int]:
        before = cutoff(days)
        counts = {}
        with self.tx() as db:
            for table in (feedback, messages, answers, events):
                counts[table.name] = db.execute(
                    table.delete().where(table.c.created < before)
                ).rowcount
            counts["conversations"] = db.execute(
                conversations.delete().where(
                    conversations.c.created < before,
                    conversations.c.id.not_in(sa.select(messages.c.conversation_id)),
                )
            ).rowcount
        return counts
