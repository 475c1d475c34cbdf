"""The plan service: every channel's way to create, read, change, share and export a plan.

Access: a plan is visible to its owner, and to whoever holds a live share token. A plan that
does not exist and one the caller may not see raise the same :class:`PlanNotFound`, so an id
reveals nothing. People are never stored in a plan's text: who faced an obstacle is asked of the
assistant at read time (consenting people only), and invitations keep a directory id whose name
is looked up then — a person who withdraws consent disappears from every view.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import urllib.parse
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import ValidationError

from assistant.answering import Evidence
from assistant.service import Assistant, UserError, consenting_people
from assistant.text import ALL_STOP, fold
from storage import NotFound, PlanStore

from .drafts import TITLES, fingerprint, section_inputs
from .export import phase_reasons_text
from .models import AMBITIONS, CaseRow, Intake, Stakeholder

RULES_FILE = Path(__file__).with_name("stakeholders.yaml")

#: The intake, one short question at a time (seven answers and a last check: at most eight).
QUESTIONS: list[tuple[str, str, str]] = [
    (
        "innovation",
        "Hoe heet de innovatie, en wat doet ze in één zin?",
        "What is the innovation called, and what does it do in one sentence?",
    ),
    (
        "problem",
        "Welk probleem lost ze op, en voor wie?",
        "Which problem does it solve, and for whom?",
    ),
    (
        "where",
        "Waar draait ze nu (organisatie, team, regio)?",
        "Where does it run now (organisation, team, region)?",
    ),
    ("owner", "Wie is eigenaar na de pilot?", "Who owns it after the pilot?"),
    ("budget", "Hoe staat het met het budget?", "What is the budget status?"),
    ("blocker", "Wat houdt de opschaling nu tegen?", "What is blocking the scaling now?"),
    (
        "ambition",
        "Welke soort opschaling is de ambitie: in, out, up, deep of beyond?",
        "Which kind of scaling is the ambition: in, out, up, deep or beyond?",
    ),
]
CONFIRM = (
    "Klopt wat ik heb herkend? Pas fase of obstakels aan als het niet klopt.",
    "Is what I detected right? Correct the phase or obstacles if not.",
)

AMBITION_NAMES = {
    "nl": {
        "in": "Scaling in (verankeren in de eigen organisatie)",
        "out": "Scaling out (verspreiden naar andere plekken)",
        "up": "Scaling up (regels, beleid en instituties)",
        "deep": "Scaling deep (cultuur en werkwijze)",
        "beyond": "Scaling beyond (andere domeinen en sectoren)",
    },
    "en": {
        "in": "Scaling in (embedding in your own organisation)",
        "out": "Scaling out (spreading to other places)",
        "up": "Scaling up (rules, policy and institutions)",
        "deep": "Scaling deep (culture and ways of working)",
        "beyond": "Scaling beyond (other domains and sectors)",
    },
}

_WORD = re.compile(r"[a-z0-9]+")
_DONE = re.compile(
    r"\b(hebben|heeft|is|zijn|gedaan|geregeld|klaar|rond|gelukt|have|has|got|done|agreed|signed)\b",
    re.I,
)
_NOT = re.compile(r"\b(geen|niet|nog niet|no|not|don't|haven't)\b", re.I)
_WHAT_NEXT = re.compile(r"\bwat\s+nu\b|\bwat\s+is\s+de\s+volgende\b|\bwhat\s+(now|next)\b", re.I)


# Every intake asks who owns the pilot afterwards and how the budget stands, so "eigenaar" or
# "structureel" in those answers is the question echoed, not a sign of the phase ("nog geen
# eigenaar" says nothing about embedding). They count for the phase only when they state an
# arrangement that is settled.
_UNSETTLED = re.compile(
    r"\b(geen|niet|niemand|nog|onduidelijk|alleen|tijdelijk|no|not|nobody|none|yet|only|"
    r"temporary|unclear|decided)\b",
    re.I,
)
# "Where does it run now?" answered with several organisations that use it today: the pilot is
# past preparing, it is scaling ("draait in drie gemeenten", "used by fourteen towns"). Wishes
# ("drie buurgemeenten willen aansluiten") do not count: no punctuation between verb and count.
_COUNT = (
    r"(\d+|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|"
    r"twintig|tientallen|meerdere|several|two|three|four|five|six|seven|eight|nine|ten|dozens|many)"
)
_ORGS = (
    r"(gemeenten|organisaties|waterschappen|provincies|regio's|diensten|ministeries|"
    r"municipalities|organisations|organizations|water\s+boards|provinces|regions|agencies|"
    r"towns|cities|councils)"
)
_REACH = re.compile(
    r"\b(draait|werkt|gebruikt|in\s+gebruik|runs|running|used|in\s+use|live)\b[^;.,]{0,30}\b"
    + _COUNT
    + r"\s+(\w+\s+)?"
    + _ORGS
    + r"\b",
    re.I,
)
SCALING_PHASE = "opschalen"
#: Fallbacks that say nothing about the text (the model was down or slow): the next
#: :meth:`PlanService.draft` tries those sections again; a rejected text is not retried.
RETRY = {
    "timeout",
    "breaker_open",
    "connection_error",
    "http_error",
    "bad_response",
    "unavailable",
    "cancelled",
    "error",
}


class PlanNotFound(UserError):
    """Unknown plan, or one the caller may not see (the same words for both)."""


class TaskNotFound(UserError):
    """A task id that is not in the plan."""


def plan_people(view: dict) -> list[tuple[dict, dict]]:
    """Each consenting person of a plan view once, with the first obstacle they faced: a person
    who met several of the plan's obstacles is listed, and invited, once."""
    people, seen = [], set()
    for ob in view["obstacles"]:
        for person in ob["people"]:
            if person["id"] not in seen:
                seen.add(person["id"])
                people.append((person, ob))
    return people


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(fold(text)) if len(w) >= 4 and w not in ALL_STOP}


def _shares(a: set[str], b: set[str]) -> int:
    """Words in common, counting a shared first five letters (``eigenaar``/``eigenaarschap``)."""
    return sum(1 for x in a if any(x == y or (x[:5] == y[:5] and len(x) >= 5) for y in b))


class PlanService:
    def __init__(self, assistant: Assistant, store: PlanStore) -> None:
        self.assistant = assistant
        self.store = store

    @cached_property
    def rules(self) -> list[dict]:
        return yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))

    # -- create and access ---------------------------------------------------------------------
    @staticmethod
    def parse_intake(data: dict) -> Intake:
        try:
            return Intake.model_validate(data)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "intake"
            raise UserError(
                f"intake: veld '{where}': {err['msg']}; geldige velden zijn "
                f"{', '.join(Intake.model_fields)} en ambitie een van {', '.join(AMBITIONS)}"
            ) from None

    def create(self, owner: str, intake: Intake | dict) -> str:
        if not (owner or "").strip():
            raise UserError("een plan heeft een eigenaar nodig")
        if not isinstance(intake, Intake):
            intake = self.parse_intake(intake)
        found = self.assistant.analyse(intake.text() or intake.innovation, intake.language)
        phase, reasons = self._phase(intake, found)
        payload = {
            "intake": intake.model_dump(),
            "phase": phase,
            "phase_reasons": reasons,
            "obstacles": [k for k, _, _ in found["obstacles"]],
            "obstacle_words": {k: w for k, _, w in found["obstacles"]},
            "stakeholders": [],
            "business_case": self._skeleton(intake.language),
        }
        pid = self.store.create(owner, payload)
        for task in self._initial_tasks(payload, intake):
            self.store.add_task(
                pid, owner, task["title"], source=task["source"], obstacle=task.get("obstacle")
            )
        if self.assistant.drafts_paragraphs:
            self.draft(pid, owner)
        return pid

    def _phase(self, intake: Intake, found: dict) -> tuple[str | None, list[str]]:
        """The intake's phase: the assistant's detection over the answers that describe the
        pilot (owner and budget only when settled), and the reach of the "where" answer."""
        keys = [intake.problem, intake.where, intake.blocker]
        keys += [x for x in (intake.owner, intake.budget) if x and not _UNSETTLED.search(x)]
        text = " ".join(x for x in keys if x)
        if text and text != intake.text():
            found = self.assistant.analyse(text, intake.language)
        phase, reasons = found["phase"], list(found["phase_reasons"])
        known = {s["key"] for s in self.assistant.step_plan()}
        if SCALING_PHASE in known and _REACH.search(intake.where):
            phase, reasons = SCALING_PHASE, ["reach"]
        return phase, reasons

    def _access(self, plan_id: str, viewer: str | None, token: str | None) -> dict:
        try:
            row = self.store.get(plan_id)
        except NotFound:
            row = None
        if row is not None and (
            (viewer and row["owner"] == viewer)
            or (token and self.store.shared_plan(token) == plan_id)
        ):
            return row
        raise PlanNotFound(f"plan '{plan_id}' bestaat niet of is niet met je gedeeld")

    def owned(self, plan_id: str, owner: str) -> dict:
        """The plan row when ``owner`` owns it (changes need the owner, a share link only reads)."""
        return self._access(plan_id, owner, None)

    # -- rules ---------------------------------------------------------------------------------
    def _fired(self, payload: dict) -> list[dict]:
        intake = payload["intake"]
        text = fold(
            " ".join(
                str(intake.get(k, ""))
                for k in ("innovation", "problem", "where", "owner", "budget", "blocker")
            )
        )
        obstacles = set(payload["obstacles"])
        out = []
        for rule in self.rules:
            why = []
            if obstacles & set(rule.get("obstacles", [])):
                why.append("obstacle")
            if intake["ambition"] in rule.get("ambitions", []):
                why.append("ambition")
            if any(fold(w) in text for w in rule.get("words", [])):
                why.append("words")
            if why:
                out.append({**rule, "because": why})
        return out

    def _initial_tasks(self, payload: dict, intake: Intake) -> list[dict]:
        lang = intake.language
        tasks = []
        plan = {p["key"]: p for p in self.assistant.step_plan(lang)}
        phase = plan.get(payload["phase"] or "")
        for i, step in enumerate(phase["steps"] if phase else []):
            tasks.append({"title": step, "source": f"fase:{phase['key']}:{i}"})
        for rule in self._fired(payload):
            ob = next((o for o in payload["obstacles"] if o in rule.get("obstacles", [])), None)
            tasks.append(
                {
                    "title": rule["task_en" if lang == "en" else "task"],
                    "source": f"rol:{rule['key']}",
                    "obstacle": ob,
                }
            )
        return tasks

    @staticmethod
    def _skeleton(lang: str) -> list[dict]:
        en = lang == "en"
        rows = [
            ("One-off implementation costs" if en else "Eenmalige implementatiekosten", "eenmalig"),
            ("Licences and operations" if en else "Licenties en beheer", "jaarlijks"),
            ("Time saved" if en else "Bespaarde tijd", "baten"),
        ]
        return [CaseRow(item=i, kind=k).model_dump() for i, k in rows]

    # -- read ----------------------------------------------------------------------------------
    def view(self, plan_id: str, viewer: str | None = None, token: str | None = None) -> dict:
        """The whole plan as the channels show it, with its numbered sources. Never calls a
        language model: drafted paragraphs are the stored ones (see :meth:`draft`)."""
        row = self._access(plan_id, viewer, token)
        view = self._compose(plan_id, row)[0]
        # Derived from the row already read: channels need not read the plan a second time.
        view["access"] = "owner" if viewer and row["owner"] == viewer else "shared"
        return view

    def _compose(self, plan_id: str, row: dict) -> tuple[dict, dict[int, Evidence]]:
        """The view, and the evidence behind each of its source numbers (for drafting)."""
        p = row["payload"]
        intake = p["intake"]
        lang = intake["language"]
        a = self.assistant
        sources: list[dict] = []
        evidence: dict[int, Evidence] = {}

        def cite(query: str, types: list[str], k: int = 1) -> list[int]:
            ns = []
            for e in a.cited_evidence(query, lang, k=k, types=types):
                known = next((s for s in sources if s["doc_id"] == e.doc_id), None)
                if known is None:
                    known = {
                        "n": len(sources) + 1,
                        "doc_id": e.doc_id,
                        "title": e.title,
                        "url": e.url,
                        "type": e.type,
                        "snippet": (e.passages[0][0] if e.passages else "")[:400],
                    }
                    sources.append(known)
                    # Renumbered to the plan's own numbering, which the paragraph cites.
                    evidence[known["n"]] = dataclasses.replace(e, n=known["n"])
                ns.append(known["n"])
            return ns

        own_roles = [s["role"] for s in p["stakeholders"]]
        suggestions = []
        for rule in self._fired(p):
            role = rule["role_en" if lang == "en" else "role"]
            if any(_shares(_content_words(role), _content_words(r)) >= 1 for r in own_roles):
                continue
            suggestions.append(
                {
                    "key": rule["key"],
                    "role": role,
                    "why": rule["why_en" if lang == "en" else "why"],
                    "because": rule["because"],
                    "sources": cite(rule["query"], ["guide", "lesson"]),
                }
            )
        labels = {k: (a.analyse_label(k, lang) or k) for k in p["obstacles"]}
        people_text = " ".join(x for x in (intake["problem"], intake["blocker"]) if x)
        obstacles = []
        for key in p["obstacles"]:
            cards = a.people_for(people_text, [key], lang, limit=3)
            obstacles.append(
                {
                    "key": key,
                    "label": labels[key],
                    "words": p["obstacle_words"].get(key, []),
                    "what_others_did": cite(labels[key], ["case", "lesson"], k=2),
                    "people": [c.model_dump() for c in cards],
                }
            )
        names = consenting_people(a)
        invitations = [
            {
                "person_id": i["person_id"],
                "name": names[i["person_id"]],
                "channel": i["channel"],
                "question": i["question"],
                "created": i["created"],
            }
            for i in self.store.invitations(plan_id)
            if i["person_id"] in names
        ]
        tasks = self.store.tasks(plan_id)
        case = self._business_case(p["business_case"], lang, cite)
        phase_name = a.phase_name(p["phase"], lang)
        phase_sources = (
            cite(f"{phase_name} {p['phase']} stappen", ["guide", "lesson"]) if phase_name else []
        )
        view = {
            "id": plan_id,
            "language": lang,
            "intake": intake,
            "ambition": intake["ambition"],
            "ambition_name": AMBITION_NAMES[lang][intake["ambition"]],
            "ambition_sources": cite("vijf soorten opschalen in out up deep beyond", ["guide"]),
            "phase": p["phase"],
            "phase_name": phase_name,
            "phase_reasons": p["phase_reasons"],
            "phase_reason_text": phase_reasons_text(p["phase_reasons"], lang),
            "phase_sources": phase_sources,
            "obstacles": obstacles,
            "stakeholders": p["stakeholders"],
            "suggested_stakeholders": suggestions,
            "business_case": case,
            "tasks": [self._task_out(t) for t in tasks],
            "next_steps": [self._task_out(t) for t in tasks if t["status"] != "klaar"][:3],
            "invitations": invitations,
            "history": self._history(plan_id, names),
            "sources": sources,
            "created": row["created"],
            "updated": row["updated"],
        }
        view["paragraphs"] = self._paragraphs(view, p.get("drafts") or {})
        return view, evidence

    def _history(self, plan_id: str, names: dict[str, str]) -> list[dict]:
        """The audit trail; an invited person who withdrew consent is no longer named in it."""
        out = []
        for e in self.store.events(plan_id):
            person = e["detail"].get("person")
            if person and person not in names:
                e = {**e, "detail": {**e["detail"], "person": None}}
            out.append(e)
        return out

    @staticmethod
    def _task_out(t: dict) -> dict:
        keys = ("id", "title", "owner", "due", "status", "source", "obstacle")
        return {k: t[k] for k in keys}

    def _business_case(self, rows: list[dict], lang: str, cite) -> dict:
        totals = {
            kind: [sum(r["years"][y] for r in rows if r["kind"] == kind) for y in range(5)]
            for kind in ("eenmalig", "jaarlijks", "baten")
        }
        net = [
            totals["baten"][y] - totals["eenmalig"][y] - totals["jaarlijks"][y] for y in range(5)
        ]
        payers = {fold(r["payer"]).strip() for r in rows if r["kind"] != "baten" and r["payer"]}
        gainers = {
            fold(r["beneficiary"]).strip()
            for r in rows
            if r["kind"] == "baten" and r["beneficiary"]
        }
        split = bool(gainers and payers and not (gainers <= payers))
        out = {
            "rows": rows,
            "totals": totals,
            "net": net,
            "split_incentive": split,
            "split_text": None,
            "split_sources": [],
            "reference_cases": cite(
                "businesscase kosten baten besparing euro per jaar", ["case"], k=2
            ),
        }
        if split:
            out["split_text"] = (
                "The benefits land with another party than the one paying: agree a cost sharing "
                "or a joint budget before scaling."
                if lang == "en"
                else "De baten komen bij een andere partij terecht dan die betaalt: maak afspraken "
                "over kostenverdeling of een gezamenlijk budget voordat je opschaalt."
            )
            out["split_sources"] = cite(
                "baten bij een andere partij dan die betaalt kostenverdeling gezamenlijk budget",
                ["lesson", "case", "guide"],
                k=2,
            )
        return out

    # -- change --------------------------------------------------------------------------------
    def edit(self, plan_id: str, actor: str, changes: dict) -> None:
        """Change intake fields, phase, obstacles, stakeholders or business-case rows."""
        row = self.owned(plan_id, actor)
        p = row["payload"]
        changed = []
        intake_changes = {k: v for k, v in changes.items() if k in Intake.model_fields}
        if intake_changes:
            p["intake"] = self.parse_intake({**p["intake"], **intake_changes}).model_dump()
            changed += list(intake_changes)
        if "phase" in changes:
            keys = [s["key"] for s in self.assistant.step_plan()]
            if changes["phase"] not in keys:
                raise UserError(
                    f"fase '{changes['phase']}' bestaat niet; kies uit {', '.join(keys)}"
                )
            p["phase"], p["phase_reasons"] = changes["phase"], ["corrected"]
            changed.append("phase")
        if "obstacles" in changes:
            known = set(self.assistant.obstacle_keys())
            bad = [o for o in changes["obstacles"] if o not in known]
            if bad:
                raise UserError(
                    f"onbekend obstakel {bad[0]!r}; kies uit {', '.join(sorted(known))}"
                )
            p["obstacles"] = list(changes["obstacles"])
            changed.append("obstacles")
        for key, model in (("stakeholders", Stakeholder), ("business_case", CaseRow)):
            if key in changes:
                try:
                    p[key] = [model.model_validate(x).model_dump() for x in changes[key]]
                except ValidationError as e:
                    err = e.errors()[0]
                    raise UserError(
                        f"{key}: {'.'.join(map(str, err['loc']))}: {err['msg']}"
                    ) from None
                changed.append(key)
        unknown = (
            set(changes)
            - set(Intake.model_fields)
            - {"phase", "obstacles", "stakeholders", "business_case"}
        )
        if unknown:
            raise UserError(f"onbekend veld {sorted(unknown)[0]!r} in de wijziging")
        self.store.update(plan_id, p, actor, changed)
        if self.assistant.drafts_paragraphs:
            self.draft(plan_id, actor)  # only the sections the change outdated

    def add_task(
        self, plan_id: str, actor: str, title: str, owner: str | None = None, due: str | None = None
    ) -> str:
        self.owned(plan_id, actor)
        title = (title or "").strip()
        if not title:
            raise UserError("een taak heeft een titel nodig")
        return self.store.add_task(plan_id, actor, title[:300], owner=owner, due=due)

    def set_task(self, plan_id: str, actor: str, task_id: str, **fields) -> None:
        self.owned(plan_id, actor)
        try:
            self.store.update_task(plan_id, task_id, actor, **fields)
        except NotFound:
            raise TaskNotFound(f"taak '{task_id}' bestaat niet in dit plan") from None
        except ValueError:
            raise UserError("status moet open, bezig of klaar zijn") from None

    def chat(self, plan_id: str, actor: str, text: str) -> dict:
        """A chat line about the plan: "wat nu?" gives the next open steps; a line that says
        something is done ("we hebben nu een eigenaar in de lijn") ticks off the matching task."""
        self.owned(plan_id, actor)
        tasks = self.store.tasks(plan_id)
        open_tasks = [t for t in tasks if t["status"] != "klaar"]
        updated = None
        if not _WHAT_NEXT.search(text) and _DONE.search(text) and not _NOT.search(text):
            said = _content_words(text)
            scored = [(_shares(said, _content_words(t["title"])), t) for t in open_tasks]
            best = max(scored, key=lambda x: x[0], default=(0, None))
            if best[0] >= 2 or (best[0] == 1 and len(said) <= 2):
                updated = best[1]
                self.store.update_task(plan_id, updated["id"], actor, status="klaar")
                open_tasks.remove(updated)
        return {
            "updated": self._task_out({**updated, "status": "klaar"}) if updated else None,
            "next_steps": [self._task_out(t) for t in open_tasks[:3]],
        }

    # -- drafted paragraphs ----------------------------------------------------------------------
    def _paragraphs(self, view: dict, stored: dict) -> list[dict]:
        """Per section its paragraph: the stored draft when it was written from the section as
        it is now, else the template. A draft that would name anyone is never shown."""
        out = []
        for key, (template, ns) in section_inputs(view).items():
            d = stored.get(key)
            current = bool(d) and d["fingerprint"] == fingerprint(view, template, ns)
            if current and d["drafted"] and self.assistant.names_in(d["text"]):
                current = False
            item = {
                "section": key,
                "title": TITLES[view["language"]][key],
                "text": template,
                "drafted": False,
                "answerer": "template",
                "fallback_reason": None,
                "sources": ns,
                "outdated": bool(d) and not current,
            }
            if current:
                item.update(
                    text=d["text"],
                    drafted=d["drafted"],
                    answerer=d["answerer"],
                    fallback_reason=d["fallback_reason"],
                    sources=d["sources"],
                    created=d["created"],
                )
            out.append(item)
        return out

    def draft(self, plan_id: str, actor: str, force: bool = False) -> list[dict]:
        """Let the configured language model draft the paragraph of every section whose stored
        draft is missing or outdated (all of them with ``force``), and store the results: a
        draft that passed its checks, or the template with the reason it fell back. Without a
        model nothing is stored and the paragraphs are the templates. Drafts are stored, not
        drafted per view, so that showing a plan never waits for a model."""
        row = self.owned(plan_id, actor)
        view, evidence = self._compose(plan_id, row)
        if not self.assistant.drafts_paragraphs:
            return view["paragraphs"]
        p = row["payload"]
        stored = dict(p.get("drafts") or {})
        lang = view["language"]
        redrafted = []
        for key, (template, ns) in section_inputs(view).items():
            fp = fingerprint(view, template, ns)
            old = stored.get(key) or {}
            if (
                not force
                and old.get("fingerprint") == fp
                and old.get("fallback_reason") not in RETRY
            ):
                continue
            d = self.assistant.draft_paragraph(
                TITLES[lang][key],
                template,
                lang,
                [evidence[n] for n in ns if n in evidence],
                template,
            )
            if d is None:  # the model was switched off meanwhile
                break
            drafted = not d.extra.get("fallback_reason")
            stored[key] = {
                "fingerprint": fp,
                "text": d.text,
                "drafted": drafted,
                "answerer": d.answerer,
                "fallback_reason": d.extra.get("fallback_reason"),
                "sources": [c.n for c in d.citations] if drafted else ns,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            redrafted.append(key)
        if redrafted:
            p["drafts"] = stored
            self.store.update(plan_id, p, actor, ["drafts"])
        return self._paragraphs(view, stored)

    # -- invitations and sharing ------------------------------------------------------------------
    def invite(self, plan_id: str, actor: str, person_id: str, question: str) -> dict:
        """Draft an invitation to think along, and record who was invited and how."""
        row = self.owned(plan_id, actor)
        intake = row["payload"]["intake"]
        lang = intake["language"]
        question = (question or "").strip()
        if not question:
            raise UserError("beschrijf kort de vraag waarover je wilt meedenken")
        lead = (
            f"For our innovation '{intake['innovation']}': "
            if lang == "en"
            else f"Voor onze innovatie '{intake['innovation']}': "
        )
        text = self.assistant.intro(person_id, lead + question, language=lang)
        contact = self.assistant.person_contact(person_id) or {}
        channel = "slack" if contact.get("slack") else "teams" if contact.get("teams") else "mailto"
        subject = "Invitation to think along" if lang == "en" else "Uitnodiging om mee te denken"
        out = {
            "person_id": person_id,
            "text": text,
            "channel": channel,
            "slack": contact.get("slack"),
            "teams": contact.get("teams"),
            "mailto": None,
        }
        if contact.get("email"):
            out["mailto"] = "mailto:{}?{}".format(
                contact["email"],
                urllib.parse.urlencode(
                    {"subject": subject, "body": text}, quote_via=urllib.parse.quote
                ),
            )
        self.store.add_invitation(plan_id, actor, person_id, channel, question[:500])
        return out

    def share(self, plan_id: str, actor: str) -> str:
        self.owned(plan_id, actor)
        return self.store.share(plan_id, actor)

    def revoke(self, plan_id: str, actor: str, token: str) -> bool:
        self.owned(plan_id, actor)
        return self.store.revoke(plan_id, token, actor)

    # -- AVG -------------------------------------------------------------------------------------
    @staticmethod
    def web_owner(secret: str) -> str:
        """The owner a web owner secret stands for. Only this digest is stored, so a copy of the
        database opens no plan, and a web user is found again only through their secret."""
        return "web:" + hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()

    @staticmethod
    def web_owner_of_link(link: str) -> str:
        """The owner behind a plan link as the widget gives it (``…/plan/ID#eigenaar=SECRET``)
        or the bare secret: what a web user can hand in for AVG inzage or verwijdering."""
        link = link.strip()
        if "#" in link:
            secret = urllib.parse.parse_qs(link.split("#", 1)[1]).get("eigenaar", [""])[0]
        elif "://" in link or "/plan/" in link:
            secret = ""
        else:
            secret = link
        if len(secret) < 20 or len(secret) > 200:
            raise UserError(
                "geef de planlink met #eigenaar=… (of het eigenaarsgeheim zelf); "
                "een deellink of een link zonder geheim wijst geen eigenaar aan"
            )
        return PlanService.web_owner(secret)

    @staticmethod
    def owner_keys(person: dict) -> list[str]:
        """The owner keys a directory person's own plans are stored under, per channel."""
        contact = person.get("contact") or {}
        keys = [f"cli:{person['id']}"]
        keys += [f"{ch}:{contact[ch]}" for ch in ("slack", "teams", "email") if contact.get(ch)]
        return keys

    def export_owner(self, owner: str) -> list[dict]:
        return [
            {
                **r["payload"],
                "id": r["id"],
                "created": r["created"],
                "updated": r["updated"],
                "tasks": self.store.tasks(r["id"]),
                "invitations": self.store.invitations(r["id"]),
                "history": self.store.events(r["id"]),
            }
            for r in self.store.owned_by(owner)
        ]

    def delete_owner(self, owner: str) -> int:
        return self.store.delete_owned_by(owner)

    @staticmethod
    def questions(language: str = "nl") -> list[dict]:
        i = 2 if language == "en" else 1
        return [{"key": q[0], "text": q[i]} for q in QUESTIONS] + [
            {"key": "confirm", "text": CONFIRM[i - 1]}
        ]

    # --- channel helpers (i17chat) ---
    def plans_of(self, owner: str) -> list[dict]:
        """The owner's plans, most recently changed first, as a list the channels can show
        (id, innovation, phase, language, updated). Nothing from other owners."""
        return (
            [
                {
                    "id": r["id"],
                    "innovation": r["payload"]["intake"]["innovation"],
                    "phase": r["payload"]["phase"],
                    "language": r["payload"]["intake"]["language"],
                    "updated": r["updated"],
                }
                for r in self.store.owned_by(owner)
            ]
            if owner
            else []
        )

    def invited(self, plan_id: str, actor: str) -> set[str]:
        """The directory ids invited on this plan (the owner only), e.g. to confirm a send."""
        self.owned(plan_id, actor)
        return {i["person_id"] for i in self.store.invitations(plan_id)}

    @staticmethod
    def privacy_note(language: str = "nl") -> str:
        """The warning every intake shows: roles, never other people's personal data."""
        if language == "en":
            return (
                "Write roles, not names: do not enter personal data of other people (GDPR). "
                "Your plan is only visible to you and to whoever you share it with."
            )
        return (
            "Schrijf rollen, geen namen: vul geen persoonsgegevens van anderen in (AVG). "
            "Je plan is alleen zichtbaar voor jou en voor wie je het deelt."
        )
