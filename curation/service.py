"""Share back: submit, review, publish contributions; knowledge gaps; analytics; AVG rights.

Publishing writes a Markdown document in the contract's format into the corpus's contributions
folder and ingests incrementally. The status moves to ``approved`` before the file is written
and to ``published`` after the ingest, so a crash in between is finished by ``recover()``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

from assistant.knowledge import IndexedDoc, indexed_docs
from assistant.service import Assistant, consenting_people, taxonomy
from assistant.text import detect_language
from storage import ContributionStore, Stores

from .gaps import GapItem, knowledge_gaps
from .models import Contribution, parse_contribution

log = logging.getLogger(__name__)


class SharingError(Exception):
    """One-line user-facing error."""


def slugify(text: str, limit: int = 60) -> str:
    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = re.sub(r"[^a-z0-9]+", "-", t).strip("-")
    return t[:limit].rstrip("-") or "bijdrage"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Sharing:
    def __init__(self, assistant: Assistant, stores: Stores, settings=None) -> None:
        self.assistant = assistant
        self.settings = settings or assistant.settings
        self.stores = stores
        self.contributions = ContributionStore(stores)

    # -- paths -------------------------------------------------------------------------------
    @property
    def corpus(self) -> Path:
        return Path(self.settings.corpus_dir)

    @property
    def folder(self) -> Path:
        return self.corpus / self.settings.contributions_subdir

    # -- submit and review ---------------------------------------------------------------------
    def submit(self, data: dict, channel: str) -> str:
        c = parse_contribution(data, set(taxonomy(self.assistant)))
        cid = self.contributions.add(c.model_dump(), channel)
        log.info("bijdrage %s ontvangen via %s", cid, channel)  # never the contents or contact
        return cid

    def edit(self, cid: str, changes: dict) -> dict:
        current = self.contributions.get(cid)
        merged = {**current["payload"], **{k: v for k, v in changes.items() if v is not None}}
        c = parse_contribution(merged, set(taxonomy(self.assistant)))
        self.contributions.update_payload(cid, c.model_dump())
        return self.contributions.get(cid)

    def reject(self, cid: str, reviewer: str = "curator", note: str | None = None) -> None:
        self.contributions.set_status(
            cid, "rejected", expect=("pending",), reviewer=reviewer, note=note
        )

    def approve(self, cid: str, reviewer: str = "curator") -> Path:
        row = self.contributions.get(cid)
        if row["status"] != "pending":
            raise SharingError(
                f"bijdrage {cid} is al {row['status']}; alleen 'pending' kan worden goedgekeurd"
            )
        c = Contribution.model_validate(row["payload"])
        rel = f"{self.settings.contributions_subdir}/{row['created'][:10]}-{slugify(c.title)}-{cid[:6]}.md"
        self.contributions.set_status(
            cid, "approved", expect=("pending",), reviewer=reviewer, doc_path=rel
        )
        return self._publish(cid)

    def _publish(self, cid: str) -> Path:
        row = self.contributions.get(cid)
        c = Contribution.model_validate(row["payload"])
        path = self.corpus / row["doc_path"]
        person_id = self._upsert_person(c) if c.contact_ok else None
        _write_atomic(path, render_markdown(c, row, person_id))
        report = self.reindex()
        if any(p.path == row["doc_path"] for p in report.invalid):
            raise SharingError(
                f"bijdrage {cid} kon niet worden geïndexeerd: {report.invalid[0].reason}"
            )
        self.contributions.set_status(cid, "published", expect=("approved",))
        return path

    def recover(self) -> list[str]:
        """Finish approvals a crash interrupted. Safe to run at every start."""
        done = []
        for row in self.contributions.list("approved"):
            try:
                self._publish(row["id"])
                done.append(row["id"])
            except Exception as exc:  # keep the rest going; the row stays 'approved'
                log.warning(
                    "bijdrage %s kon niet worden afgerond (%s)", row["id"], type(exc).__name__
                )
        return done

    def reindex(self):
        from ingest.pipeline import ingest

        s = self.settings
        return ingest(
            self.corpus,
            Path(s.index_dir),
            self.assistant.embedder,
            self.assistant.store,
            chunk_size=s.chunk_size,
            chunk_overlap=s.chunk_overlap,
            batch_size=s.embed_batch_size,
        )

    # -- people.yaml ---------------------------------------------------------------------------
    def _people_path(self) -> Path:
        return self.corpus / "people.yaml"

    def _load_people(self) -> tuple[str, list[dict]]:
        path = self._people_path()
        if not path.exists():
            return "", []
        text = path.read_text(encoding="utf-8")
        return _leading_comments(text), yaml.safe_load(text) or []

    def _save_people(self, header: str, people: list[dict]) -> None:
        body = yaml.safe_dump(people, allow_unicode=True, sort_keys=False, width=100)
        _write_atomic(self._people_path(), header + body)

    def _upsert_person(self, c: Contribution) -> str:
        header, people = self._load_people()
        match = next((p for p in people if (p.get("contact") or {}).get("email") == c.email), None)
        if match is None:
            base = slugify(c.name or "bijdrager", 40)
            pid, n = base, 2
            while any(p["id"] == pid for p in people):
                pid, n = f"{base}-{n}", n + 1
            match = {
                "id": pid,
                "name": c.name,
                "consent": True,
                "organisation": c.organisation,
                "contact": {"email": c.email},
                "obstacles": [],
                "phases": [],
                "expertise": "",
            }
            people.append(match)
        # Saying yes in a contribution is explicit consent to be recommended.
        match["consent"] = True
        match.pop("deleted", None)
        match["obstacles"] = list(dict.fromkeys(list(match.get("obstacles") or []) + c.obstacles))
        note = f"Deelde de les '{c.title}'."
        if note not in (match.get("expertise") or ""):
            match["expertise"] = (
                (match.get("expertise") or "") + " " + note + " " + c.learned[:300]
            ).strip()
        self._save_people(header, people)
        return match["id"]

    # -- AVG rights ------------------------------------------------------------------------------
    def export_person(self, person_id: str) -> dict:
        _, people = self._load_people()
        person = next((p for p in people if p.get("id") == person_id), None)
        if person is None:
            raise SharingError(f"persoon '{person_id}' staat niet in {self._people_path()}")
        email = (person.get("contact") or {}).get("email")
        contribs = [
            {k: c[k] for k in ("id", "status", "created", "payload")}
            for c in self.contributions.list()
            if (email and c["payload"].get("email") == email)
            or c["payload"].get("name") == person.get("name")
        ]
        docs = [m.id for m in self._doc_metas() if person_id in m.people]
        return {
            "person": person,
            "contributions": contribs,
            "documents": docs,
            **self._plans_of(person),
        }

    def _plans_of(self, person: dict) -> dict:
        """Scaling plans the person owns, and the plans that invited them (AVG inzage)."""
        from plans.service import PlanService
        from storage import PlanStore

        store = PlanStore(self.stores)
        owned = [p for key in PlanService.owner_keys(person) for p in store.owned_by(key)]
        return {"plans": owned, "plan_invitations": store.invited(person["id"])}

    def delete_person(self, person_id: str) -> dict:
        """Remove a person's data; keep a bare tombstone so their name stays redacted."""
        header, people = self._load_people()
        person = next((p for p in people if p.get("id") == person_id), None)
        if person is None:
            raise SharingError(f"persoon '{person_id}' staat niet in {self._people_path()}")
        email = (person.get("contact") or {}).get("email")
        anonymised = self.contributions.anonymise(email, person.get("name"))
        plans_deleted = self._delete_plans_of(person)
        tomb = {"id": person_id, "name": person["name"], "consent": False, "deleted": True}
        people[people.index(person)] = tomb
        self._save_people(header, people)
        self.reindex()
        docs = [m.id for m in self._doc_metas() if person_id in m.people]
        return {
            "person": person_id,
            "contributions_anonymised": anonymised,
            "documents_mentioning": docs,
            **plans_deleted,
        }

    def _delete_plans_of(self, person: dict) -> dict:
        from plans.service import PlanService
        from storage import PlanStore

        store = PlanStore(self.stores)
        owned = sum(store.delete_owned_by(key) for key in PlanService.owner_keys(person))
        return {
            "plans_deleted": owned,
            "plan_invitations_deleted": store.forget_invitations(person["id"]),
        }

    def _web_owners(self, links) -> list[str]:
        from assistant.service import UserError
        from plans.service import PlanService

        try:
            return sorted({PlanService.web_owner_of_link(link) for link in links})
        except UserError as exc:
            raise SharingError(str(exc)) from None

    def export_web_plans(self, links) -> dict:
        """Plans a web user owns, found through their plan links (AVG inzage). A web owner is
        stored only as a digest of the secret in their link, so the link is the only way in."""
        from storage import PlanStore

        store = PlanStore(self.stores)
        owned = [p for key in self._web_owners(links) for p in store.owned_by(key)]
        for p in owned:
            p["tasks"] = store.tasks(p["id"])
            p["invitations"] = store.invitations(p["id"])
            p["history"] = store.events(p["id"])
        return {"web_plans": owned}

    def delete_web_plans(self, links) -> dict:
        """Delete every plan of the web owners behind these links, with tasks, invitations,
        share links and audit trail (AVG verwijdering)."""
        from storage import PlanStore

        store = PlanStore(self.stores)
        return {"web_plans_deleted": sum(store.delete_owned_by(k) for k in self._web_owners(links))}

    def _doc_metas(self) -> list[IndexedDoc]:
        from assistant.index import read_manifest

        manifest = read_manifest(Path(self.settings.index_dir)) or {"docs": {}}
        return list(indexed_docs(manifest).values())

    # -- gaps and analytics ----------------------------------------------------------------------
    def gap_items(self) -> list[GapItem]:
        return [GapItem(*row) for row in self.stores.gap_questions()]

    def gaps(self) -> list:
        return knowledge_gaps(self.assistant, self.gap_items())

    def analytics(self) -> dict:
        per_day = self.stores.answers_per_day()
        total = sum(d["answers"] for d in per_day)
        abstained = sum(d["abstained"] or 0 for d in per_day)
        fb = self.stores.feedback_counts()
        cited: Counter = Counter()
        recommended: Counter = Counter()
        allowed = consenting_people(self.assistant)
        for a in self.stores.answer_payloads():
            cited.update({c["doc_id"] for c in a.get("citations", [])})
            # Only people who may be shown today; consent can be withdrawn after an answer.
            recommended.update(p["id"] for p in a.get("people", []) if p["id"] in allowed)
        weeks: Counter = Counter()
        for d in per_day:
            y, w, _ = dt.date.fromisoformat(d["day"]).isocalendar()
            weeks[f"{y}-W{w:02d}"] += d["answers"]
        return {
            "answers_total": total,
            "answers_per_day": per_day,
            "answers_per_week": sorted(weeks.items()),
            "abstention_rate": round(abstained / total, 3) if total else 0.0,
            "feedback_up": fb.get("up", 0),
            "feedback_down": fb.get("down", 0),
            "up_ratio": round(fb.get("up", 0) / max(1, fb.get("up", 0) + fb.get("down", 0)), 3),
            "most_cited": cited.most_common(10),
            "most_recommended": [(pid, allowed[pid], n) for pid, n in recommended.most_common(10)],
        }

    def purge(self, days: int | None = None) -> dict:
        days = self.settings.retention_days if days is None else days
        counts = self.stores.purge_older_than(days)
        counts["contributions_rejected"] = self.contributions.purge_rejected_older_than(days)
        from storage import PlanStore

        counts["plans"] = PlanStore(self.stores).purge_older_than(days)
        return counts


def _leading_comments(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#") or (out and not line.strip()):
            out.append(line)
        else:
            break
    return "".join(out)


def render_markdown(c: Contribution, row: dict, person_id: str | None) -> str:
    meta = {
        "title": c.title,
        "type": "lesson",
        "language": detect_language(f"{c.tried} {c.learned}"),
        "date": row["created"][:10],
        "organisation": c.organisation,
        "obstacles": c.obstacles,
        "people": [person_id] if person_id else [],
        "visibility": "public",
        "summary": f"Gedeelde ervaring van {c.organisation}.",
        "contribution": row["id"],
    }
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip()
    return (
        f"---\n{front}\n---\n\n# {c.title}\n\n"
        f"## Wat we hebben geprobeerd\n\n{c.tried}\n\n"
        f"## Wat we hebben geleerd\n\n{c.learned}\n"
    )
