"""Contributions and their review status.

Status flow: ``pending`` → ``approved`` (a curator said yes; the file may not be written yet) →
``published`` (written and ingested), or ``pending`` → ``rejected``. ``approved`` is the
recovery point: whatever is still ``approved`` at start-up is finished then.
"""

from __future__ import annotations

import uuid
from typing import Literal

import sqlalchemy as sa

from .schema import contributions
from .stores import NotFound, Stores, cutoff, now

#: The review state machine: pending → approved → published, or pending → rejected.
ContributionStatus = Literal["pending", "approved", "published", "rejected"]


class ContributionStore:
    def __init__(self, stores: Stores) -> None:
        self.stores = stores

    def add(self, payload: dict, channel: str) -> str:
        cid = uuid.uuid4().hex[:12]
        ts = now()
        with self.stores.tx() as db:
            db.execute(
                contributions.insert().values(
                    id=cid,
                    status="pending",
                    payload=payload,
                    channel=channel,
                    created=ts,
                    updated=ts,
                )
            )
        return cid

    def get(self, cid: str) -> dict:
        return self.stores.row(sa.select(contributions).where(contributions.c.id == cid), cid)

    def list(self, status: ContributionStatus | None = None) -> list[dict]:
        query = sa.select(contributions).order_by(contributions.c.created)
        if status:
            query = query.where(contributions.c.status == status)
        return self.stores.rows(query)

    def update_payload(self, cid: str, payload: dict) -> None:
        with self.stores.tx() as db:
            changed = db.execute(
                contributions.update()
                .where(contributions.c.id == cid, contributions.c.status == "pending")
                .values(payload=payload, updated=now())
            ).rowcount
        if changed == 0:
            raise NotFound(cid)

    def set_status(
        self,
        cid: str,
        status: ContributionStatus,
        *,
        expect: tuple[ContributionStatus, ...],
        reviewer: str | None = None,
        doc_path: str | None = None,
        note: str | None = None,
    ) -> None:
        """Move ``cid`` to ``status`` if it is in one of the ``expect``ed states (so two
        curators, or two instances, cannot both approve it)."""
        values: dict = {"status": status, "updated": now()}
        values.update(
            {
                k: v
                for k, v in (("reviewer", reviewer), ("doc_path", doc_path), ("note", note))
                if v is not None
            }
        )
        with self.stores.tx() as db:
            changed = db.execute(
                contributions.update()
                .where(contributions.c.id == cid, contributions.c.status.in_(expect))
                .values(**values)
            ).rowcount
        if changed == 0:
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
                        contributions.update()
                        .where(contributions.c.id == c["id"])
                        .values(payload=p, updated=now())
                    )
                n += 1
        return n

    def purge_rejected_older_than(self, days: int) -> int:
        with self.stores.tx() as db:
            return db.execute(
                contributions.delete().where(
                    contributions.c.status == "rejected", contributions.c.updated < cutoff(days)
                )
            ).rowcount
