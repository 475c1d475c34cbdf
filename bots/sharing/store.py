"""Contributions and their review status, in the shared SQLite database.

Status flow: ``pending`` → ``approved`` (a curator said yes; the file may not be written yet) →
``published`` (written and ingested), or ``pending`` → ``rejected``. ``approved`` is the
recovery point: whatever is still ``approved`` at start-up is finished then.
"""

from __future__ import annotations

import json
import uuid

from bots.stores import NotFound, Stores, now

SCHEMA = """
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


class ContributionStore:
    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        # Channels build one per submission: create the table once per database handle.
        # executescript commits on its own, so it runs outside Stores.tx().
        if not getattr(stores, "_contributions_ready", False):
            stores._conn().executescript(SCHEMA)
            stores._contributions_ready = True

    def add(self, payload: dict, channel: str) -> str:
        cid = uuid.uuid4().hex[:12]
        ts = now()
        with self.stores.tx() as db:
            db.execute(
                "INSERT INTO contributions (id, status, payload, channel, created, updated) VALUES (?, 'pending', ?, ?, ?, ?)",
                (cid, json.dumps(payload, ensure_ascii=False), channel, ts, ts),
            )
        return cid

    def get(self, cid: str) -> dict:
        row = (
            self.stores._conn()
            .execute("SELECT * FROM contributions WHERE id = ?", (cid,))
            .fetchone()
        )
        if row is None:
            raise NotFound(cid)
        return _row(row)

    def list(self, status: str | None = None) -> list[dict]:
        conn = self.stores._conn()
        if status:
            rows = conn.execute(
                "SELECT * FROM contributions WHERE status = ? ORDER BY created", (status,)
            ).fetchall()
        else:
            rows = conn.execute("SELECT * FROM contributions ORDER BY created").fetchall()
        return [_row(r) for r in rows]

    def update_payload(self, cid: str, payload: dict) -> None:
        with self.stores.tx() as db:
            cur = db.execute(
                "UPDATE contributions SET payload = ?, updated = ? WHERE id = ? AND status = 'pending'",
                (json.dumps(payload, ensure_ascii=False), now(), cid),
            )
            if cur.rowcount == 0:
                raise NotFound(cid)

    def set_status(
        self,
        cid: str,
        status: str,
        *,
        expect: tuple[str, ...],
        reviewer: str | None = None,
        doc_path: str | None = None,
        note: str | None = None,
    ) -> None:
        marks = ",".join("?" for _ in expect)
        with self.stores.tx() as db:
            cur = db.execute(
                f"UPDATE contributions SET status = ?, updated = ?, reviewer = COALESCE(?, reviewer),"
                f" doc_path = COALESCE(?, doc_path), note = COALESCE(?, note) WHERE id = ? AND status IN ({marks})",
                (status, now(), reviewer, doc_path, note, cid, *expect),
            )
            if cur.rowcount == 0:
                raise NotFound(cid)

    def anonymise(self, email: str | None, name: str | None) -> int:
        """Strip name and e-mail from every contribution that carries them (AVG erasure)."""
        n = 0
        for c in self.list():
            p = c["payload"]
            if (email and p.get("email") == email) or (name and p.get("name") == name):
                p.update(name=None, email=None, contact_ok=False)
                with self.stores.tx() as db:
                    db.execute(
                        "UPDATE contributions SET payload = ?, updated = ? WHERE id = ?",
                        (json.dumps(p, ensure_ascii=False), now(), c["id"]),
                    )
                n += 1
        return n

    def purge_rejected_older_than(self, days: int) -> int:
        import datetime as dt

        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")
        with self.stores.tx() as db:
            return db.execute(
                "DELETE FROM contributions WHERE status = 'rejected' AND updated < ?", (cutoff,)
            ).rowcount


def _row(row) -> dict:
    d = dict(row)
    d["payload"] = json.loads(d["payload"])
    return d
