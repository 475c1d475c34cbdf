"""Connecting to SQLite (storage/engine.py)."""

from __future__ import annotations

import sqlite3

import pytest

from storage.engine import _wal


class _Cursor:
    """A cursor whose first ``locked`` calls fail the way SQLite does on a new file."""

    def __init__(self, locked: int, message: str = "database is locked") -> None:
        self.locked, self.message, self.calls = locked, message, 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.calls <= self.locked:
            raise sqlite3.OperationalError(self.message)


def test_switching_a_new_file_to_wal_waits_for_the_worker_that_holds_it() -> None:
    # Four workers open one new database at once; SQLite's busy timeout does not cover the
    # switch to WAL, so the ones that come second retry instead of failing (CI saw 2 in 60).
    cur = _Cursor(locked=3)
    _wal(cur, timeout=5)  # type: ignore[arg-type]
    assert cur.calls == 4


def test_a_lock_that_outlasts_the_timeout_and_other_errors_are_raised() -> None:
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _wal(_Cursor(locked=10**6), timeout=0.05)  # type: ignore[arg-type]
    cur = _Cursor(locked=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        _wal(cur, timeout=5)  # type: ignore[arg-type]
    assert cur.calls == 1
