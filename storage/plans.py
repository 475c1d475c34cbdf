"""Scaling plans, their tasks, invitations, share links and audit trail.

Every change is written together with its audit event in one transaction, so the history never
misses a change that was stored. Plans hold roles, not private persons; invited people are kept
as a directory id only (their details are looked up, with consent, when the plan is read).
"""

from __future__ import annotations

import secrets
import uuid

import sqlalchemy as sa

from .schema import TASK_STATUSES, plan_events, plan_invitations, plan_shares, plan_tasks, plans
from .stores import NotFound, Stores, cutoff, now

_TASK_FIELDS = ("title", "owner", "due", "status")


class PlanStore:
    def __init__(self, stores: Stores) -> None:
        self.stores = stores

    @staticmethod
    def _event(db, plan_id: str, actor: str, action: str, detail: dict, ts: str) -> None:
        db.execute(
            plan_events.insert().values(
                plan_id=plan_id, actor=actor, action=action, detail=detail, created=ts
            )
        )

    # -- plans -----------------------------------------------------------------------------------
    def create(self, owner: str, payload: dict) -> str:
        pid = uuid.uuid4().hex[:16]
        ts = now()
        with self.stores.tx() as db:
            db.execute(
                plans.insert().values(id=pid, owner=owner, payload=payload, created=ts, updated=ts)
            )
            self._event(db, pid, owner, "created", {"fields": sorted(payload)}, ts)
        return pid

    def get(self, plan_id: str) -> dict:
        return self.stores.row(sa.select(plans).where(plans.c.id == plan_id), plan_id)

    def owned_by(self, owner: str) -> list[dict]:
        return self.stores.rows(
            sa.select(plans).where(plans.c.owner == owner).order_by(plans.c.updated.desc())
        )

    def update(self, plan_id: str, payload: dict, actor: str, changed: list[str]) -> None:
        ts = now()
        with self.stores.tx() as db:
            n = db.execute(
                plans.update().where(plans.c.id == plan_id).values(payload=payload, updated=ts)
            ).rowcount
            if n == 0:
                raise NotFound(plan_id)
            self._event(db, plan_id, actor, "edited", {"fields": sorted(changed)}, ts)

    def delete(self, plan_id: str) -> None:
        with self.stores.tx() as db:
            for table in (plan_events, plan_tasks, plan_invitations, plan_shares):
                db.execute(table.delete().where(table.c.plan_id == plan_id))
            db.execute(plans.delete().where(plans.c.id == plan_id))

    def events(self, plan_id: str) -> list[dict]:
        return self.stores.rows(
            sa.select(
                plan_events.c.actor,
                plan_events.c.action,
                plan_events.c.detail,
                plan_events.c.created,
            )
            .where(plan_events.c.plan_id == plan_id)
            .order_by(plan_events.c.id)
        )

    # -- tasks -----------------------------------------------------------------------------------
    def add_task(
        self,
        plan_id: str,
        actor: str,
        title: str,
        *,
        source: str = "eigen",
        owner: str | None = None,
        due: str | None = None,
        status: str = "open",
        obstacle: str | None = None,
    ) -> str:
        if status not in TASK_STATUSES:
            raise ValueError(status)
        tid = uuid.uuid4().hex[:10]
        ts = now()
        with self.stores.tx() as db:
            last = db.execute(
                sa.select(sa.func.max(plan_tasks.c.position)).where(plan_tasks.c.plan_id == plan_id)
            ).scalar()
            db.execute(
                plan_tasks.insert().values(
                    id=tid,
                    plan_id=plan_id,
                    position=(last or 0) + 1,
                    title=title,
                    owner=owner,
                    due=due,
                    status=status,
                    source=source,
                    obstacle=obstacle,
                    created=ts,
                    updated=ts,
                )
            )
            self._event(db, plan_id, actor, "task_added", {"task": tid, "title": title}, ts)
        return tid

    def tasks(self, plan_id: str) -> list[dict]:
        return self.stores.rows(
            sa.select(plan_tasks)
            .where(plan_tasks.c.plan_id == plan_id)
            .order_by(plan_tasks.c.position)
        )

    def update_task(self, plan_id: str, task_id: str, actor: str, **fields) -> None:
        values = {k: v for k, v in fields.items() if k in _TASK_FIELDS and v is not None}
        if values.get("status") not in (None, *TASK_STATUSES):
            raise ValueError(values["status"])
        ts = now()
        with self.stores.tx() as db:
            n = db.execute(
                plan_tasks.update()
                .where(plan_tasks.c.id == task_id, plan_tasks.c.plan_id == plan_id)
                .values(updated=ts, **values)
            ).rowcount
            if n == 0:
                raise NotFound(task_id)
            self._event(db, plan_id, actor, "task_updated", {"task": task_id, **values}, ts)

    # -- invitations -----------------------------------------------------------------------------
    def add_invitation(
        self, plan_id: str, actor: str, person_id: str, channel: str, question: str
    ) -> None:
        ts = now()
        with self.stores.tx() as db:
            db.execute(
                plan_invitations.insert().values(
                    plan_id=plan_id,
                    person_id=person_id,
                    channel=channel,
                    question=question,
                    created=ts,
                )
            )
            self._event(
                db, plan_id, actor, "invited", {"person": person_id, "channel": channel}, ts
            )

    def invitations(self, plan_id: str) -> list[dict]:
        return self.stores.rows(
            sa.select(plan_invitations)
            .where(plan_invitations.c.plan_id == plan_id)
            .order_by(plan_invitations.c.id)
        )

    # -- share links -----------------------------------------------------------------------------
    def share(self, plan_id: str, actor: str) -> str:
        token = secrets.token_urlsafe(24)
        ts = now()
        with self.stores.tx() as db:
            db.execute(plan_shares.insert().values(token=token, plan_id=plan_id, created=ts))
            # The event names the link by a prefix only: the audit trail is no way in.
            self._event(db, plan_id, actor, "shared", {"token": token[:6]}, ts)
        return token

    def revoke(self, plan_id: str, token: str, actor: str) -> bool:
        ts = now()
        with self.stores.tx() as db:
            n = db.execute(
                plan_shares.update()
                .where(
                    plan_shares.c.token == token,
                    plan_shares.c.plan_id == plan_id,
                    plan_shares.c.revoked.is_(None),
                )
                .values(revoked=ts)
            ).rowcount
            if n:
                self._event(db, plan_id, actor, "share_revoked", {"token": token[:6]}, ts)
        return bool(n)

    def shared_plan(self, token: str) -> str | None:
        """The plan a live share token opens, or None."""
        rows = self.stores.rows(
            sa.select(plan_shares.c.plan_id).where(
                plan_shares.c.token == token, plan_shares.c.revoked.is_(None)
            )
        )
        return rows[0]["plan_id"] if rows else None

    # -- AVG -------------------------------------------------------------------------------------
    def delete_owned_by(self, owner: str) -> int:
        ids = [p["id"] for p in self.owned_by(owner)]
        for pid in ids:
            self.delete(pid)
        return len(ids)

    def invited(self, person_id: str) -> list[dict]:
        """Every invitation of one directory person (AVG inzage)."""
        return self.stores.rows(
            sa.select(
                plan_invitations.c.plan_id,
                plan_invitations.c.channel,
                plan_invitations.c.question,
                plan_invitations.c.created,
            )
            .where(plan_invitations.c.person_id == person_id)
            .order_by(plan_invitations.c.id)
        )

    def forget_invitations(self, person_id: str) -> int:
        with self.stores.tx() as db:
            return db.execute(
                plan_invitations.delete().where(plan_invitations.c.person_id == person_id)
            ).rowcount

    def purge_older_than(self, days: int) -> int:
        """Delete plans nobody changed for ``days`` days (retention)."""
        old = self.stores.rows(sa.select(plans.c.id).where(plans.c.updated < cutoff(days)))
        for row in old:
            self.delete(row["id"])
        return len(old)
