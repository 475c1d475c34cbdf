"""Which database, and how to connect to it.

``OPSCHAAL_DATABASE_URL`` empty (the default) means one SQLite file in the data folder, as
before migrations existed; ``postgresql+psycopg://user:password@host/db`` is for deployments
with more than one instance.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

#: The SQLite file under ``OPSCHAAL_DATA_DIR`` when no database URL is set.
SQLITE_FILE = "opschaal.sqlite3"
#: Execution option: on SQLite, no ``BEGIN`` (every statement commits by itself).
AUTOCOMMIT = "opschaal_autocommit"


def database_url(settings) -> str:
    """The configured database URL, or the default SQLite file in the data folder."""
    url = getattr(settings, "database_url", None)
    if url is not None and hasattr(url, "get_secret_value"):
        url = url.get_secret_value()
    if url:
        return url
    return sqlite_url(Path(settings.data_dir) / SQLITE_FILE)


def sqlite_url(path: Path | str) -> str:
    return str(URL.create("sqlite", database=str(Path(path))))


def is_sqlite(url: str | URL) -> bool:
    return sa.make_url(url).get_backend_name() == "sqlite"


def autocommit(engine: Engine) -> dict:
    """Execution options under which each statement is its own transaction, on either database
    (SQLite: the driver already runs that way, only the ``BEGIN`` is left out)."""
    return {AUTOCOMMIT: True} if is_sqlite(engine.url) else {"isolation_level": "AUTOCOMMIT"}


def describe(url: str | URL) -> str:
    """Where the database is, for messages: the file, or the server without the password."""
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        return u.database or ":memory:"
    return u.render_as_string(hide_password=True)


def make_engine(url: str | URL, *, timeout: float = 30, synchronous: str = "NORMAL") -> Engine:
    """An engine for ``url``. SQLite runs in WAL mode with foreign keys on; write transactions
    start with ``BEGIN IMMEDIATE`` so two writers queue for ``timeout`` seconds instead of
    failing on a lock upgrade. ``timeout`` also bounds how long PostgreSQL may take to connect
    and to run one statement."""
    u = sa.make_url(url)
    # Payloads keep their accents readable in the database (and in a backup).
    options: dict = {"json_serializer": lambda obj: json.dumps(obj, ensure_ascii=False)}
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            u, connect_args={"timeout": timeout, "check_same_thread": False}, **options
        )
        _sqlite_transactions(engine, synchronous, timeout)
        return engine
    if u.get_backend_name() == "postgresql":
        ms = int(timeout * 1000)
        return sa.create_engine(
            u,
            pool_pre_ping=True,
            connect_args={
                "connect_timeout": max(1, int(timeout)),
                "options": f"-c statement_timeout={ms} -c lock_timeout={ms}",
            },
            **options,
        )
    raise ValueError(
        f"database {describe(u)} wordt niet ondersteund; gebruik sqlite:///pad of "
        "postgresql+psycopg://gebruiker@host/database in OPSCHAAL_DATABASE_URL"
    )


def _wal(cur: sqlite3.Cursor, timeout: float) -> None:
    """Switch to WAL mode. On a new file that takes a lock SQLite does not wait for (its busy
    timeout does not cover it): workers that open a new database together would fail with
    "database is locked", so they retry within ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def _sqlite_transactions(engine: Engine, synchronous: str, timeout: float) -> None:
    # pysqlite's own transaction handling begins late and never IMMEDIATE; take it over, as
    # SQLAlchemy's documentation describes for SQLite.
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        _wal(cur, timeout)
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # Writes take the lock up front. A connection marked AUTOCOMMIT runs each statement as
        # its own transaction (a read, or one atomic upsert), which in WAL mode never waits
        # for a writer and saves a round trip.
        if not conn.get_execution_options().get(AUTOCOMMIT, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
