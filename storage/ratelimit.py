"""Rate-limit token buckets shared by every process that opens the same database.

One statement per request takes a token: ``INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING``.
The database applies it atomically per client row (SQLite holds its write lock, PostgreSQL the
row lock), so instances and workers never hand out the same token twice. When the bucket is
empty the ``WHERE`` leaves the row as it was and nothing is returned.

A row holds the client's IP address, which is personal data (AVG): :meth:`BucketStore.sweep`
deletes every bucket that has refilled, since it carries no information any more.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from .engine import autocommit, is_sqlite, make_engine, sqlite_url
from .errors import DatabaseUnavailable
from .schema import buckets
from .stores import upsert

#: Seconds a limiter may wait for the database before the request is let through.
TIMEOUT = 2.0


class BucketStore:
    """Buckets of ``capacity`` tokens refilled at ``rate`` per second. ``target`` is a SQLite
    file (a throw-away cache next to the data, created on open) or a migrated database URL."""

    def __init__(self, target: Path | str, capacity: float, rate: float) -> None:
        self.capacity = float(capacity)
        self.rate = float(rate)
        url = str(target) if "://" in str(target) else sqlite_url(target)
        # Buckets are not worth an fsync: after a crash clients at worst get a fresh bucket.
        self.engine = make_engine(url, timeout=TIMEOUT, synchronous="OFF")
        if is_sqlite(self.engine.url):
            # Not migrated: the file holds nothing worth keeping and may be deleted any time.
            buckets.create(self.engine, checkfirst=True)
        # Every request runs these: built once, with the time and the client as parameters.
        b = buckets.c
        now = sa.bindparam("now", type_=sa.Float)
        # A clock step back counts as no time passed.
        elapsed = sa.case((now > b.last, now - b.last), else_=0.0)
        tokens = b.tokens + elapsed * self.rate
        refilled = sa.case((tokens > self.capacity, self.capacity), else_=tokens)
        self._take = (
            upsert(self.engine, buckets)
            .values(client=sa.bindparam("client"), tokens=self.capacity - 1.0, last=now)
            .on_conflict_do_update(
                index_elements=[b.client],
                set_={"tokens": refilled - 1.0, "last": now},
                where=refilled >= 1.0,
            )
            .returning(b.tokens)
        )
        self._left = sa.select(refilled).where(b.client == sa.bindparam("client"))
        self._sweep = buckets.delete().where(refilled >= self.capacity)

    def _connect(self):
        # One statement is atomic by itself: no transaction around it, one round trip less.
        return self.engine.connect().execution_options(**autocommit(self.engine))

    def take(self, client: str, now: float) -> float:
        """Take one token at time ``now``; 0 when allowed, else the seconds until the next.
        Raises :class:`DatabaseUnavailable` when the buckets cannot be read or written."""
        params = {"client": client, "now": now}
        try:
            with self._connect() as db:
                if db.execute(self._take, params).first() is not None:
                    return 0.0
                left = db.execute(self._left, params).scalar()
        except sa.exc.SQLAlchemyError as exc:
            # Only the type: SQLAlchemy's message repeats the parameters (the client's address).
            raise DatabaseUnavailable(f"rate-limit buckets: {type(exc).__name__}") from None
        return (1.0 - (left or 0.0)) / self.rate

    def sweep(self, now: float) -> int:
        """Delete the buckets that are full again at ``now``."""
        try:
            with self._connect() as db:
                return db.execute(self._sweep, {"now": now}).rowcount
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseUnavailable(f"rate-limit buckets: {type(exc).__name__}") from None

    def clients(self) -> set[str]:
        """The clients that have a bucket right now (what the database holds about them)."""
        with self._connect() as db:
            return set(db.execute(sa.select(buckets.c.client)).scalars())

    def close(self) -> None:
        self.engine.dispose()
