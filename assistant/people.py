"""Obstacles, people matching and consent.

Consent is absolute: people with ``consent: false`` are dropped when the directory is loaded into
:class:`PeopleDirectory`, so no later step can rank, count or show them. Their names are still
known to :class:`Redactor`, which removes them from any text a user sees.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .models import PersonCard
from .text import Analyzer, fold, words

# ---------------------------------------------------------------------------------------------
# obstacle detection


@dataclass
class ObstacleModel:
    key: str
    label: str
    label_en: str
    description: str
    keyword_terms: list[tuple[str, ...]]


class ObstacleDetector:
    """Keywords (stemmed, compound-aware) + similarity to descriptions + retrieved documents."""

    def __init__(self, obstacles: list[dict], analyzer: Analyzer, embedder=None) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
        self.items: list[ObstacleModel] = []
        for o in obstacles:
            kws = list(o.get("keywords") or []) + [o["label"]] + ([o["label_en"]] if o.get("label_en") else [])
            terms = []
            for kw in kws:
                t = tuple(dict.fromkeys(analyzer.query_terms(kw)))
                if t:
                    terms.append(t)
            self.items.append(
                ObstacleModel(
                    key=o["key"],
                    label=o["label"],
                    label_en=o.get("label_en") or o["label"],
                    description=o.get("description") or "",
                    keyword_terms=terms,
                )
            )
        self.by_key = {o.key: o for o in self.items}
        self._vectors: np.ndarray | None = None

    def _desc_vectors(self) -> np.ndarray | None:
        if self.embedder is None or not self.items:
            return None
        if self._vectors is None:
            texts = [f"{o.label}. {o.description}" for o in self.items]
            self._vectors = self.embedder.embed(texts, kind="passage")
        return self._vectors

    def keyword_scores(self, text: str) -> dict[str, float]:
        q = set(self.analyzer.query_terms(text))
        out: dict[str, float] = {}
        for o in self.items:
            hits = sum(1 for kw in o.keyword_terms if all(t in q for t in kw))
            if hits:
                out[o.key] = min(1.0, 0.6 + 0.2 * (hits - 1))
        return out

    def detect(
        self,
        question: str,
        history: list[str] | None = None,
        retrieved: list[dict] | None = None,
        query_vector: np.ndarray | None = None,
        limit: int = 3,
    ) -> list[tuple[str, float]]:
        scores: dict[str, float] = defaultdict(float)
        for k, s in self.keyword_scores(question).items():
            scores[k] += s
        for turn in (history or [])[-2:]:
            for k, s in self.keyword_scores(turn).items():
                scores[k] += 0.4 * s
        vecs = self._desc_vectors()
        if vecs is not None and query_vector is not None:
            sims = vecs @ query_vector
            centred = sims - float(np.mean(sims))
            spread = float(np.std(sims)) or 1.0
            for o, z in zip(self.items, centred / spread, strict=True):
                if z > 1.0:
                    scores[o.key] += 0.25 * (z - 1.0)
        for rank, meta in enumerate((retrieved or [])[:3]):
            for k in meta.get("obstacles", []):
                if k in self.by_key:
                    scores[k] += 0.22 / (rank + 1)
        ranked = sorted(((k, s) for k, s in scores.items() if s >= 0.5), key=lambda x: (-x[1], x[0]))
        return ranked[:limit]


# ---------------------------------------------------------------------------------------------
# people


@dataclass
class Person:
    id: str
    name: str
    role: str | None
    organisation: str | None
    contact: dict[str, str]
    obstacles: list[str]
    phases: list[str]
    expertise: str
    terms: set[str] = field(default_factory=set)


_WHO = re.compile(
    r"\b(wie\s+(kan|kun|heeft|hebben|weet|zou|moet)|met\s+wie|welke\s+(collega|persoon|personen|mensen|experts?)|"
    r"contact\s+(met|opnemen)|in\s+contact|iemand\s+die|mensen\s+die|experts?\b|"
    r"who\s+(can|has|have|should|knows?|could)|someone\s+who|talk\s+to|get\s+in\s+touch|people\s+who)",
    re.I,
)


def is_people_question(question: str) -> bool:
    return bool(_WHO.search(question))


class PeopleDirectory:
    """Consenting people only; the non-consenting ones never enter this object."""

    def __init__(self, people: list[dict], docs: dict[str, dict], analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.people: dict[str, Person] = {}
        for p in people:
            if p.get("consent") is not True:
                continue
            contact = {k: v for k, v in (p.get("contact") or {}).items() if v}
            person = Person(
                id=p["id"],
                name=p["name"],
                role=p.get("role"),
                organisation=p.get("organisation"),
                contact=contact,
                obstacles=list(p.get("obstacles") or []),
                phases=list(p.get("phases") or []),
                expertise=p.get("expertise") or "",
            )
            person.terms = set(analyzer.terms(f"{person.role or ''} {person.expertise}", "nl"))
            self.people[person.id] = person
        self.docs_of: dict[str, list[str]] = defaultdict(list)
        for doc_id, meta in docs.items():
            for pid in meta.get("people", []):
                if pid in self.people:
                    self.docs_of[pid].append(doc_id)

    def recommend(
        self,
        question: str,
        obstacles: list[tuple[str, float]],
        retrieved: list[str],
        docs: dict[str, dict],
        *,
        phase: str | None = None,
        asker: str | None = None,
        limit: int = 3,
        people_first: bool = False,
    ) -> list[tuple[Person, float, str | None, str | None]]:
        """Ranked ``(person, score, shared obstacle, doc they took part in)``."""
        wanted = dict(obstacles)
        rank_of = {d: i for i, d in enumerate(retrieved)}
        q_terms = set(self.analyzer.query_terms(question))
        scored = []
        for p in self.people.values():
            if asker and p.id == asker:
                continue
            shared = [k for k in p.obstacles if k in wanted]
            s_obst = sum(wanted[k] for k in shared)
            involved = [d for d in self.docs_of.get(p.id, []) if d in rank_of]
            s_docs = sum(1.0 / (1 + rank_of[d]) for d in involved)
            s_phase = 0.2 if phase and phase in p.phases else 0.0
            s_text = 0.15 * len(q_terms & p.terms)
            score = 1.0 * s_obst + 0.8 * s_docs + s_phase + min(s_text, 0.6)
            if score <= 0.25:
                continue
            best_obst = max(shared, key=lambda k: wanted[k]) if shared else None
            doc = None
            if involved:
                doc = min(involved, key=lambda d: rank_of[d])
            elif self.docs_of.get(p.id):
                own = self.docs_of[p.id]
                doc = next((d for d in own if best_obst in docs.get(d, {}).get("obstacles", [])), own[0])
            scored.append((p, score, best_obst, doc))
        scored.sort(key=lambda x: (-x[1], x[0].id))
        if not people_first and (not obstacles and not any(x[3] in rank_of for x in scored[:1])):
            return []
        picked: list[tuple[Person, float, str | None, str | None]] = []
        orgs: set[str] = set()
        pool = list(scored)
        while pool and len(picked) < limit:
            # Diversity: a second person from an organisation already shown must clearly win.
            best = max(
                pool,
                key=lambda x: x[1] - (0.5 if (x[0].organisation or "") in orgs else 0.0),
            )
            pool.remove(best)
            if picked and best[1] < 0.35 * picked[0][1]:
                break
            picked.append(best)
            orgs.add(best[0].organisation or "")
        return picked


def reason_for(
    person: Person, obstacle_label: str | None, doc_title: str | None, doc_type: str | None, language: str
) -> str:
    where = f"{person.role} bij {person.organisation}" if person.role and person.organisation else (person.role or person.organisation or "")
    if language == "en":
        where_en = f"{person.role} at {person.organisation}" if person.role and person.organisation else where
        if obstacle_label and doc_title:
            return f"{person.name} ({where_en}) dealt with the same obstacle, {obstacle_label.lower()}, in “{doc_title}”."
        if obstacle_label:
            return f"{person.name} ({where_en}) has hands-on experience with {obstacle_label.lower()}."
        if doc_title:
            return f"{person.name} ({where_en}) was involved in “{doc_title}”, which matches your question."
        return f"{person.name} ({where_en}) has relevant experience."
    kind = {"case": "de case", "lesson": "de les", "guide": "de handreiking", "blog": "de blog"}.get(doc_type or "", "")
    if obstacle_label and doc_title:
        return f"{person.name} ({where}) liep bij {kind} “{doc_title}” tegen hetzelfde obstakel aan: {obstacle_label.lower()}."
    if obstacle_label:
        return f"{person.name} ({where}) heeft praktijkervaring met {obstacle_label.lower()}."
    if doc_title:
        return f"{person.name} ({where}) was betrokken bij {kind} “{doc_title}”, die aansluit op je vraag."
    return f"{person.name} ({where}) heeft relevante ervaring."


def person_card(person: Person, reason: str, obstacles: list[str]) -> PersonCard:
    return PersonCard(
        id=person.id,
        name=person.name,
        role=person.role,
        organisation=person.organisation,
        reason=reason,
        obstacles=obstacles,
        contact=dict(person.contact),
    )


# ---------------------------------------------------------------------------------------------
# redaction


_PARTICLES = {"van", "de", "der", "den", "het", "ten", "ter", "te", "el", "la", "le", "di", "da", "von"}


class Redactor:
    """Replaces names of non-consenting people by their role or "een collega van <org>"."""

    def __init__(self, people: list[dict]) -> None:
        self.rules: list[tuple[re.Pattern, str, str]] = []
        for p in people:
            if p.get("consent") is True:
                continue
            name = (p.get("name") or "").strip()
            if not name:
                continue
            org = p.get("organisation")
            role = p.get("role")
            if role and org:
                repl_nl, repl_en = f"de {role} van {org}", f"the {role} at {org}"
            elif org:
                repl_nl, repl_en = f"een collega van {org}", f"a colleague at {org}"
            else:
                repl_nl, repl_en = "een collega", "a colleague"
            parts = name.split()
            surname = " ".join(parts[1:]) if len(parts) > 1 else ""
            variants = [name]
            if surname:
                variants.append(surname)
                core = " ".join(w for w in parts[1:] if w.lower() not in _PARTICLES)
                if core and core != surname:
                    variants.append(core)
            if parts and len(parts[0]) >= 3:
                variants.append(parts[0])
            for v in variants:
                pat = re.compile(r"(?<![\w])" + r"\s+".join(re.escape(w) for w in v.split()) + r"(?![\w])", re.I)
                self.rules.append((pat, repl_nl, repl_en))
        self.names = [fold(p.get("name") or "") for p in people if p.get("consent") is not True]

    def __call__(self, text: str | None, language: str = "nl") -> str | None:
        if not text:
            return text
        for pat, nl, en in self.rules:
            text = pat.sub(en if language == "en" else nl, text)
        return text

    def leaks(self, text: str) -> list[str]:
        folded = " " + " ".join(words(text)) + " "
        return [n for n in self.names if n and f" {' '.join(words(n))} " in folded]
