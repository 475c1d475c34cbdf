"""Schema versions: a data folder from before migrations upgrades in place, a new database is
created at the newest version, and a database that is behind is refused with the command to run."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from assistant.models import Answer
from storage import BucketStore, ContributionStore, SchemaOutOfDate, Stores
from storage.engine import make_engine
from storage.migrations import head, status, upgrade
from storage.schema import metadata
from tests.helpers import run_together

#: The schema the stores created before migrations existed, copied verbatim from
#: bots/stores.py (SCHEMA) and bots/sharing/store.py (SCHEMA) as they were then.
TODAY_STORES = """
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
TODAY_CONTRIBUTIONS = """
CREATE TABLE IF NOT EXISTS contributions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'published', 'rejected')),
    payload TEXT NOT NULL,
    channel TEXT NOT NULL,
    doc_path TEXT,
    reviewer TEXT,
    note TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contributions_status ON contributions(status, created);
"""
#: bots/web/security.py's SharedRateLimiter created this in ratelimit.sqlite3.
TODAY_BUCKETS = (
    "CREATE TABLE IF NOT EXISTS buckets "
    "(client TEXT PRIMARY KEY, tokens REAL NOT NULL, last REAL NOT NULL)"
)

ANSWER = {
    "question": "Hoe kopen we samen in?",
    "language": "nl",
    "answer": "Begin met een marktverkenning [1].",
    "abstained": False,
    "citations": [
        {
            "n": 1,
            "doc_id": "cases/inkoop",
            "title": "Inkoop",
            "url": None,
            "type": "case",
            "snippet": "Samen inkopen…",
            "score": 1.0,
        }
    ],
    "answerer": "extractive",
    "answer_id": "a" * 32,
}


def make_todays_data_folder(data: Path) -> Path:
    """``.opschaal/data`` as the previous version left it, with a row in every table."""
    data.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data / "opschaal.sqlite3", isolation_level=None)
    db.executescript(TODAY_STORES)
    db.executescript(TODAY_CONTRIBUTIONS)
    ts = "2026-11-30T10:00:00+00:00"
    db.execute("INSERT INTO conversations VALUES ('c1', 'slack', 'C1:17.1', 'internal', ?)", (ts,))
    db.execute(
        "INSERT INTO messages (conversation_id, role, content, answer_id, created) VALUES"
        " ('c1', 'user', 'Hoe kopen we samen in?', NULL, ?),"
        " ('c1', 'assistant', 'Begin met een marktverkenning [1].', ?, ?)",
        (ts, ANSWER["answer_id"], ts),
    )
    db.execute(
        "INSERT INTO answers VALUES (?, 'slack', 'c1', ?, 'nl', 0, 'extractive', ?, ?)",
        (ANSWER["answer_id"], ANSWER["question"], json.dumps(ANSWER, ensure_ascii=False), ts),
    )
    db.execute(
        "INSERT INTO answers VALUES ('b', 'web', NULL, 'Paspoort?', 'nl', 1, 'extractive', ?, ?)",
        (json.dumps({**ANSWER, "question": "Paspoort?", "abstained": True, "answer_id": "b"}), ts),
    )
    db.execute(
        "INSERT INTO feedback (answer_id, rating, comment, doc_id, channel, created)"
        " VALUES (?, 'down', 'miste een voorbeeld', 'cases/inkoop', 'slack', ?)",
        (ANSWER["answer_id"], ts),
    )
    db.execute("INSERT INTO events VALUES ('slack:Ev1', ?)", (ts,))
    db.execute(
        "INSERT INTO contributions (id, status, payload, channel, created, updated)"
        " VALUES ('k1', 'pending', ?, 'web', ?, ?)",
        (json.dumps({"title": "Samen inkopen", "email": "fictief@example.org"}), ts, ts),
    )
    db.close()
    buckets = sqlite3.connect(data / "ratelimit.sqlite3", isolation_level=None)
    buckets.execute(TODAY_BUCKETS)
    buckets.execute("INSERT INTO buckets VALUES ('ip:198.51.100.7', 0.0, 1000000.0)")
    buckets.close()
    return data


def test_todays_data_folder_is_refused_until_upgraded_then_reads_back(tmp_path):
    data = make_todays_data_folder(tmp_path / "data")
    path = data / "opschaal.sqlite3"
    with pytest.raises(SchemaOutOfDate, match="opschaal db upgrade"):
        Stores(path)
    engine = make_engine(f"sqlite:///{path}")
    assert status(engine).unversioned
    assert upgrade(engine) == (None, head())

    stores = Stores(path)
    conv = stores.conversation_for("slack", "C1:17.1")
    assert conv == "c1" and stores.conversation(conv)["audience"] == "internal"
    assert [(t.role, t.content) for t in stores.history(conv)] == [
        ("user", "Hoe kopen we samen in?"),
        ("assistant", "Begin met een marktverkenning [1]."),
    ]
    assert stores.messages(conv)[1]["answer_id"] == ANSWER["answer_id"]
    assert stores.answer(ANSWER["answer_id"]) == ANSWER
    assert [
        (f["rating"], f["comment"], f["doc_id"]) for f in stores.feedback_for(ANSWER["answer_id"])
    ] == [("down", "miste een voorbeeld", "cases/inkoop")]
    assert stores.first_time("slack:Ev1") is False, "processed events stay processed"
    assert {(q, reason) for q, _, reason in stores.gap_questions()} == {
        ("Paspoort?", "abstained"),
        ("Hoe kopen we samen in?", "down"),
    }
    (pending,) = ContributionStore(stores).list("pending")
    assert pending["id"] == "k1" and pending["payload"]["title"] == "Samen inkopen"

    # New rows go on after the old ones.
    assert stores.add_feedback(ANSWER["answer_id"], "up", "web") == 2
    follow_up = Answer(question="Vervolg?", language="nl", answer="Ja.", abstained=False)
    stores.save_answer(follow_up, "slack", conv)
    assert [t.content for t in stores.history(conv)][-2:] == ["Vervolg?", "Ja."]


def test_todays_rate_limit_file_keeps_working(tmp_path):
    data = make_todays_data_folder(tmp_path / "data")
    buckets = BucketStore(data / "ratelimit.sqlite3", 2, 2 / 60)
    assert buckets.clients() == {"ip:198.51.100.7"}
    assert buckets.take("ip:198.51.100.7", 1_000_010.0) > 0, "its empty bucket is still empty"


def test_cli_upgrades_todays_data_folder_and_serve_refuses_before(
    tmp_path, fake_settings, mini_corpus
):
    from tests.conftest import build

    report, _, _ = build(mini_corpus, fake_settings)
    assert report.exit_code == 0
    data = make_todays_data_folder(Path(fake_settings.data_dir))
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "HF_HUB_OFFLINE": "1",
        "OPSCHAAL_INDEX_DIR": str(fake_settings.index_dir),
        "OPSCHAAL_DATA_DIR": str(data),
        "OPSCHAAL_EMBEDDER": "fake",
    }

    def opschaal(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", "from bots.cli import main; main()", *args],
            env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip

    refused = opschaal("serve", "--port", "1")
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "opschaal db upgrade" in lines[0], lines
    behind = opschaal("db", "current")
    assert behind.returncode == 1 and "opschaal db upgrade" in behind.stdout

    done = opschaal("db", "upgrade")
    assert done.returncode == 0 and f"versie {head()}" in done.stdout, done.stdout + done.stderr
    now = opschaal("db", "current")
    assert now.returncode == 0 and f"versie {head()} (nieuwste)" in now.stdout
    again = opschaal("db", "upgrade")
    assert again.returncode == 0 and "al bij" in again.stdout
    assert Stores(data / "opschaal.sqlite3").answer(ANSWER["answer_id"]) == ANSWER


def test_a_new_sqlite_database_is_created_at_the_newest_version(tmp_path):
    path = tmp_path / "data" / "opschaal.sqlite3"
    # The workers of one serve start together: whoever comes second waits, then sees it made.
    run_together(lambda: Stores(path).close(), 4)
    assert status(make_engine(f"sqlite:///{path}")).current == head()


def test_an_empty_postgresql_database_is_never_changed_implicitly(postgres_database):
    with pytest.raises(SchemaOutOfDate, match="opschaal db upgrade"):
        Stores(postgres_database)
    engine = make_engine(postgres_database)
    assert status(engine).current is None
    upgrade(engine)
    assert Stores(postgres_database).first_time("k") is True


def test_migrations_build_exactly_the_tables_the_code_uses(database_url):
    """The revisions and storage/schema.py agree, on both databases."""
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(sa.inspect(conn).get_table_names())
    assert diff == []
    assert tables == set(metadata.tables) | {"alembic_version"}


def test_a_database_from_a_newer_version_is_refused(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaOutOfDate, match="nieuwer"):
        Stores(database_url)


def test_a_database_one_version_behind_is_refused_until_upgraded(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0001")
    with pytest.raises(SchemaOutOfDate, match=r"versie 0001, nodig .*'opschaal db upgrade'"):
        Stores(database_url)
    assert upgrade(engine) == ("0001", head())
    assert Stores(database_url).first_time("k") is True
