"""The stores every channel shares: conversations, answers, feedback, processed events.

One SQLite file under the data folder. Each write is one transaction, and the database runs in
WAL mode, so a crash or restart loses nothing that was acknowledged. Not rebuildable from the
corpus: back it up.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.models import Answer, Turn

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    external_id TEXT,
    audience TEXT NOT NULL DEFAULT 'public',
    created TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS conversations_external
    ON conversations(channel, external_id) WHERE external_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    answer_id TEXT,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation_id, id);
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    conversation_id TEXT,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    answerer TEXT NOT NULL,
    payload TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_created ON answers(created);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT,
    doc_id TEXT,
    channel TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_answer ON feedback(answer_id);
CREATE TABLE IF NOT EXISTS events (
    key TEXT PRIMARY KEY,
    created TEXT NOT NULL
);
"""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class AnswerMismatch(LookupError):
    """The feedback exists, but belongs to another answer."""


class NotFound(LookupError):
    pass


class Stores:
    """Thread-safe; one connection per thread (SQLite connections are not shareable)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # executescript manages its own transaction (it commits first), so not inside tx().
        self._conn().executescript(SCHEMA)

    @classmethod
    def from_settings(cls, settings) -> Stores:
        return cls(Path(settings.data_dir) / "opschaal.sqlite3")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # -- conversations ----------------------------------------------------------------------
    def create_conversation(
        self, channel: str, external_id: str | None = None, audience: str = "public"
    ) -> str:
        cid = uuid.uuid4().hex
        with self.tx() as db:
            db.execute(
                "INSERT INTO conversations (id, channel, external_id, audience, created) VALUES (?, ?, ?, ?, ?)",
                (cid, channel, external_id, audience, now()),
            )
        return cid

    def conversation_for(self, channel: str, external_id: str, audience: str = "public") -> str:
        """The conversation for a channel's own thread/chat id, created on first use."""
        with self.tx() as db:
            row = db.execute(
                "SELECT id FROM conversations WHERE channel = ? AND external_id = ?",
                (channel, external_id),
            ).fetchone()
            if row:
                return row["id"]
            cid = uuid.uuid4().hex
            db.execute(
                "INSERT INTO conversations (id, channel, external_id, audience, created) VALUES (?, ?, ?, ?, ?)",
                (cid, channel, external_id, audience, now()),
            )
            return cid

    def conversation(self, conversation_id: str) -> dict:
        row = (
            self._conn()
            .execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(conversation_id)
        return dict(row)

    def add_message(
        self, conversation_id: str, role: str, content: str, answer_id: str | None = None
    ) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO messages (conversation_id, role, content, answer_id, created) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, role, content, answer_id, now()),
            )

    def history(self, conversation_id: str, limit: int = 8) -> list[Turn]:
        rows = (
            self._conn()
            .execute(
                "SELECT role, content FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
                (conversation_id, limit),
            )
            .fetchall()
        )
        return [Turn(role=r["role"], content=r["content"]) for r in reversed(rows)]

    def messages(self, conversation_id: str) -> list[dict]:
        rows = (
            self._conn()
            .execute(
                "SELECT role, content, answer_id, created FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            )
            .fetchall()
        )
        return [dict(r) for r in rows]

    # -- answers and feedback ----------------------------------------------------------------
    def save_answer(self, answer: Answer, channel: str, conversation_id: str | None = None) -> str:
        """Store an answer (and, with a conversation, the turn pair); returns its answer id."""
        aid = answer.answer_id or uuid.uuid4().hex
        answer.answer_id = aid
        payload = json.dumps(answer.contract_dict(), ensure_ascii=False)
        with self.tx() as db:
            db.execute(
                "INSERT INTO answers (id, channel, conversation_id, question, language, abstained, answerer, payload, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    aid,
                    channel,
                    conversation_id,
                    answer.question,
                    answer.language,
                    int(answer.abstained),
                    answer.answerer,
                    payload,
                    now(),
                ),
            )
            if conversation_id:
                ts = now()
                db.execute(
                    "INSERT INTO messages (conversation_id, role, content, answer_id, created) VALUES (?, 'user', ?, NULL, ?)",
                    (conversation_id, answer.question, ts),
                )
                db.execute(
                    "INSERT INTO messages (conversation_id, role, content, answer_id, created) VALUES (?, 'assistant', ?, ?, ?)",
                    (conversation_id, answer.answer, aid, ts),
                )
        return aid

    def answer(self, answer_id: str) -> dict:
        row = (
            self._conn()
            .execute("SELECT payload FROM answers WHERE id = ?", (answer_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(answer_id)
        return json.loads(row["payload"])

    def add_feedback(
        self,
        answer_id: str,
        rating: str,
        channel: str,
        comment: str | None = None,
        doc_id: str | None = None,
    ) -> int:
        if rating not in ("up", "down"):
            raise ValueError("rating moet 'up' of 'down' zijn")
        with self.tx() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                raise NotFound(answer_id)
            cur = db.execute(
                "INSERT INTO feedback (answer_id, rating, comment, doc_id, channel, created) VALUES (?, ?, ?, ?, ?, ?)",
                (answer_id, rating, comment, doc_id, channel, now()),
            )
            return int(cur.lastrowid)

    def add_feedback_comment(self, feedback_id: int, answer_id: str, comment: str) -> bool:
        """Attach a comment to feedback given earlier (the widget sends 👎 at once and the
        comment after). The answer id must match, so feedback ids cannot be guessed into.
        False when that feedback already has a comment; NotFound when it does not exist;
        AnswerMismatch when it belongs to another answer."""
        with self.tx() as db:
            cur = db.execute(
                "UPDATE feedback SET comment = ? WHERE id = ? AND answer_id = ? AND comment IS NULL",
                (comment, feedback_id, answer_id),
            )
            if cur.rowcount:
                return True
            found = db.execute(
                "SELECT answer_id FROM feedback WHERE id = ?", (feedback_id,)
            ).fetchone()
        if found is None:
            raise NotFound(f"feedback {feedback_id}")
        # Feedback ids count up and are no secret; the answer id (random) is what proves the
        # commenter saw that answer.
        if found[0] != answer_id:
            raise AnswerMismatch(f"feedback {feedback_id}")
        return False

    def feedback_for(self, answer_id: str) -> list[dict]:
        rows = (
            self._conn()
            .execute(
                "SELECT rating, comment, doc_id, channel, created FROM feedback WHERE answer_id = ? ORDER BY id",
                (answer_id,),
            )
            .fetchall()
        )
        return [dict(r) for r in rows]

    # -- idempotency for channels that retry (Slack, Teams) -----------------------------------
    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen; False for every retry after that."""
        with self.tx() as db:
            try:
                db.execute("INSERT INTO events (key, created) VALUES (?, ?)", (key, now()))
            except sqlite3.IntegrityError:
                return False
        return True

    # -- retention (AVG) ------------------------------------------------------------------------
    def purge_older_than(self, days: int) -> dict[str, int]:
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")
        with self.tx() as db:
            counts = {}
            for table in ("feedback", "messages", "answers", "events"):
                cur = db.execute(f"DELETE FROM {table} WHERE created < ?", (cutoff,))  # noqa: S608
                counts[table] = cur.rowcount
            cur = db.execute(
                "DELETE FROM conversations WHERE created < ? AND id NOT IN (SELECT conversation_id FROM messages)",
                (cutoff,),
            )
            counts["conversations"] = cur.rowcount
        return counts
