"""People: the directory of consenting people and their ranking for a question.

Consent is absolute: people with ``consent: false`` are dropped when the directory is loaded into
:class:`PeopleDirectory`, so no later step can rank, count or show them. Their names are still
known to :class:`assistant.consent.Redactor`, which removes them (and every contact detail) from
any text a user sees. See docs/matching.md for how the scores are combined and why.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import NamedTuple

import numpy as np

from .knowledge import IndexedDoc, Person
from .messages import count_word, lower_first, message
from .models import PersonCard
from .text import Analyzer


class Match(NamedTuple):
    person: Person
    score: float
    #: The obstacle the reason names (shared with the question when there is one).
    obstacle: str | None
    #: The case, lesson or other document the person took part in that the reason names.
    doc: str | None
    shared: list[str]
    #: 0..1: rare words the question shares with the person's role and expertise.
    words: float = 0.0


_WHO = re.compile(
    r"\b(wie\s+(kan|kun|kunnen|heeft|hebben|weet|weten|zou|moet|is|zijn|ken|kent|benader)|met\s+wie|"
    r"bij\s+wie|welke\s+(collega|collega's|persoon|personen|mensen|experts?|deskundigen?|organisaties?)|"
    r"contact\s*(met|opnemen|gegevens|persoon)|contactpersoon|in\s+contact|"
    r"(ken\s+je|is\s+er|zoek|zoeken)\s+(iemand|mensen|een\s+collega)|iemand\s+die|mensen\s+die|collega's\s+die|"
    r"experts?\b|ervaringsdeskundige|e-?mail(adres)?\s+van|telefoonnummer|"
    r"who\s+(can|could|has|have|should|knows?|did|to)|whom|someone\s+who|anyone\s+who|"
    r"(is\s+there|find|know)\s+(someone|anybody|anyone)|talk\s+to|speak\s+(to|with)|"
    r"get\s+in\s+touch|people\s+who|contact\s+details|e-?mail\s+address)",
    re.I,
)


def is_people_question(question: str) -> bool:
    """True for "wie kan ik spreken over…", "wie heeft ervaring met…", "who can I talk to…"."""
    return bool(_WHO.search(question))


_TYPE_PREF = {"case": 1.0, "lesson": 0.9, "guide": 0.6, "blog": 0.5}


class PeopleDirectory:
    """Consenting people only; the non-consenting ones never enter this object."""

    # Weights of the ranking; see docs/matching.md.
    W_OBSTACLE = 1.0
    W_DOCS = 0.9
    W_EXPERTISE = 0.6
    W_PHASE = 0.15
    W_NAMED = 3.0
    SAME_ORG_PENALTY = 0.35

    def __init__(
        self, people: list[Person], docs: dict[str, IndexedDoc], analyzer: Analyzer, embedder=None
    ) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
        self.people: dict[str, Person] = {p.id: p for p in people if p.consent is True}
        #: Words of each person's role and expertise, for :meth:`word_scores`.
        self.terms: dict[str, set[str]] = {
            pid: set(analyzer.query_terms(f"{p.role or ''} {p.expertise or ''}"))
            for pid, p in self.people.items()
        }
        self.docs_of: dict[str, list[str]] = defaultdict(list)
        for doc_id, meta in docs.items():
            for pid in meta.people:
                if pid in self.people:
                    self.docs_of[pid].append(doc_id)
        # How many people mention a term: "gemeente" says little about who to call, "drones" a lot.
        self._df: dict[str, int] = defaultdict(int)
        for terms in self.terms.values():
            for t in terms:
                self._df[t] += 1
        self._ids = list(self.people)
        self._vectors: np.ndarray | None = None
        self._name_pats = {
            pid: re.compile(
                r"(?<!\w)" + r"\s+".join(map(re.escape, p.name.split())) + r"(?!\w)", re.I
            )
            for pid, p in self.people.items()
        }

    def _expertise_vectors(self) -> np.ndarray | None:
        if self.embedder is None or not self._ids:
            return None
        if self._vectors is None:
            texts = [
                f"{p.role or ''}, {p.organisation or ''}. {p.expertise or ''}"
                for p in self.people.values()
            ]
            self._vectors = self.embedder.embed(texts, kind="passage")
        return self._vectors

    def named_in(self, text: str) -> list[str]:
        return [pid for pid, pat in self._name_pats.items() if pat.search(text)]

    def word_scores(self, question: str) -> dict[str, float]:
        """0..1 per person: rare words shared by the question and their role and expertise."""
        q = set(self.analyzer.query_terms(question))
        n = max(len(self.people), 1)
        return {
            pid: min(1.0, sum(math.log(1 + n / self._df[t]) for t in q & terms) / 6.0)
            for pid, terms in self.terms.items()
        }

    def _expertise_scores(self, question: str, query_vector: np.ndarray | None) -> dict[str, float]:
        """0..1: rare shared words (IDF-weighted) and, when there is a model, how much this
        person's expertise stands out in similarity to the question."""
        lex = self.word_scores(question)
        dense: dict[str, float] = {}
        vecs = self._expertise_vectors()
        if vecs is not None and query_vector is not None and len(self._ids) >= 3:
            sims = vecs @ np.asarray(query_vector, dtype=np.float32)
            z = (sims - float(np.mean(sims))) / (float(np.std(sims)) or 1.0)
            dense = {
                pid: min(1.0, max(0.0, (float(zi) - 0.5) / 2.0))
                for pid, zi in zip(self._ids, z, strict=True)
            }
        return {pid: 0.5 * lex[pid] + 0.5 * dense.get(pid, lex[pid]) for pid in self.people}

    def best_doc(
        self,
        person: Person,
        obstacle: str | None,
        rank_of: dict[str, int],
        docs: dict[str, IndexedDoc],
        audience: str = "public",
    ) -> str | None:
        """The document the reason names: one they took part in, about the obstacle, preferably
        retrieved for this question and preferably a case or lesson. Internal documents are
        only named to an internal audience."""
        own = [
            d
            for d in self.docs_of.get(person.id, [])
            if audience == "internal" or docs[d].visibility == "public"
        ]
        if not own:
            return None

        def score(d: str) -> float:
            meta = docs[d]
            s = 2.0 if obstacle and obstacle in meta.obstacles else 0.0
            s += 1.5 / (1 + rank_of[d]) if d in rank_of else 0.0
            return s + _TYPE_PREF.get(meta.type, 0.4)

        return max(own, key=lambda d: (score(d), d))

    def recommend(
        self,
        question: str,
        obstacles: list[tuple[str, float]],
        retrieved: list[str],
        docs: dict[str, IndexedDoc],
        *,
        phase: str | None = None,
        asker: str | None = None,
        limit: int = 3,
        people_first: bool = False,
        query_vector: np.ndarray | None = None,
        audience: str = "public",
    ) -> list[Match]:
        """Up to ``limit`` people, best first, from different organisations where possible."""
        top = max((s for _, s in obstacles), default=0.0) or 1.0
        wanted = {k: s / top for k, s in obstacles}
        rank_of = {d: i for i, d in enumerate(retrieved)}
        named = set(self.named_in(question))
        expertise = self._expertise_scores(question, query_vector)
        lexical = self.word_scores(question)
        scored: list[Match] = []
        for p in self.people.values():
            if asker and p.id == asker:
                continue
            shared = sorted((k for k in p.obstacles if k in wanted), key=lambda k: -wanted[k])
            s_obst = min(1.0, sum(wanted[k] for k in shared)) if shared else 0.0
            involved = [d for d in self.docs_of.get(p.id, []) if d in rank_of and rank_of[d] < 10]
            s_docs = min(1.0, sum(1.0 / (1 + rank_of[d]) for d in involved))
            s_phase = 1.0 if phase and phase in p.phases else 0.0
            score = (
                self.W_OBSTACLE * s_obst
                + self.W_DOCS * s_docs
                + self.W_EXPERTISE * expertise.get(p.id, 0.0)
                + self.W_PHASE * s_phase
                + (self.W_NAMED if p.id in named else 0.0)
            )
            if score < 0.3:
                continue
            obstacle = shared[0] if shared else None
            if obstacle is None and involved:
                # No shared obstacle: name the one the retrieved document and the person share.
                best_doc = min(involved, key=lambda d: rank_of[d])
                obstacle = next(
                    (k for k in docs[best_doc].obstacles if k in p.obstacles),
                    None,
                )
            doc = self.best_doc(
                p, obstacle or (p.obstacles[0] if p.obstacles else None), rank_of, docs, audience
            )
            if obstacle is None and p.obstacles:
                # The reason always names a concrete obstacle: the one the person met in that document.
                in_doc = docs[doc].obstacles if doc else []
                obstacle = next((k for k in p.obstacles if k in in_doc), p.obstacles[0])
            scored.append(Match(p, round(score, 4), obstacle, doc, shared, lexical.get(p.id, 0.0)))
        scored.sort(key=lambda m: (-m.score, m.person.id))
        if not scored:
            return []
        evidence = (
            bool(obstacles)
            or bool(named)
            or any(
                d in rank_of and rank_of[d] < 3 for d in self.docs_of.get(scored[0].person.id, [])
            )
        )
        if not people_first and not evidence:
            return []
        picked: list[Match] = []
        orgs: set[str] = set()
        pool = list(scored)
        while pool and len(picked) < limit:
            # Diversity: a second person from an organisation already shown must clearly win.
            best = max(
                pool,
                key=lambda m: (
                    m.score
                    - (self.SAME_ORG_PENALTY if (m.person.organisation or "") in orgs else 0.0),
                    -len(m.person.id),
                ),
            )
            pool.remove(best)
            if picked and best.score < 0.45 * picked[0].score:
                break
            picked.append(best)
            orgs.add(best.person.organisation or "")
        return picked


#: A guide or blog is written: the people listed with it contributed their knowledge, they did
#: not "run into" anything there. Cases and lessons are lived.
_WRITTEN = {"guide", "blog"}
_KINDS = {"case", "lesson", "guide", "blog"}


def _lower_label(label: str | None) -> str | None:
    # "Privacy en AVG" → "privacy en AVG": only the first letter, acronyms stay.
    return lower_first(label) if label else label


def _kind(doc_type: str | None, language: str, unknown: str | None = "kind_other") -> str:
    """ "de case", "the guide": the document kind as the sentence names it."""
    if doc_type in _KINDS:
        return message(f"kind_{doc_type}", language)
    return message(unknown, language) if unknown else ""


def reason_for(
    person: Person,
    obstacle_label: str | None,
    doc_title: str | None,
    doc_type: str | None,
    language: str,
    shared: bool = True,
) -> str:
    """One sentence in the question's language: what the person did (the case or lesson they
    took part in, the guide or blog they contributed to, by its full title) and what they ran
    into there. It does not repeat the name and role, which the card shows beside it.
    ``shared`` says whether the question has that obstacle too; only then does the sentence
    say "the same obstacle"."""
    obst = _lower_label(obstacle_label)
    title = " ".join(doc_title.split()) if doc_title else None
    written = (doc_type or "") in _WRITTEN
    kind = _kind(doc_type, language)
    did = message("did_lesson" if doc_type == "lesson" else "did_other", language)
    same = "_shared" if shared else ""
    if title and obst:
        key = f"reason_written{same}" if written else f"reason_lived{same}"
        return message(key, language, kind=kind, title=title, obstacle=obst, did=did)
    if obst:
        return message(f"reason_obstacle{same}", language, obstacle=obst)
    if title:
        verb = message("contributed", language) if written else did
        return message("reason_document", language, did=verb, kind=kind, title=title)
    return message("reason_none", language)


def people_first_text(cards: list[PersonCard], obstacle_label: str | None, language: str) -> str:
    """The opening of a people-first answer ("wie kan ik spreken over …").

    It points at the people cards without naming anyone: people appear once, as cards (with
    their reason and an introduction button), never again in the answer text."""
    if not cards:
        return message("people_first_none", language)
    topic = _lower_label(obstacle_label)
    n = len(cards)
    if n == 1:
        who = message("people_first_one", language)
    else:
        who = message("people_first_many", language, count=count_word(n, language)).capitalize()
    about = (
        message("people_first_topic", language, topic=topic)
        if topic
        else message("people_first_any", language)
    )
    return message("people_first", language, who=who, about=about)


def draft_intro(
    person: Person,
    question: str,
    obstacle_label: str | None,
    doc_title: str | None,
    doc_type: str | None,
    asker_name: str | None,
    asker_organisation: str | None,
    language: str,
) -> str:
    """A short, polite message the asker can send: who asks, the shared obstacle, what they
    would like to learn. Unknown details become visible placeholders, never guesses."""
    first = person.name.split()[0]
    q = " ".join(question.split())
    if len(q) > 300:
        q = q[:300].rsplit(" ", 1)[0] + " …"
    topic = _lower_label(obstacle_label)
    title = " ".join(doc_title.split()) if doc_title else None
    written = (doc_type or "") in _WRITTEN
    name = asker_name or message("intro_name", language)
    me = (
        message("intro_me_at", language, name=name, organisation=asker_organisation)
        if asker_organisation
        else message("intro_me", language, name=name)
    )
    kind = _kind(doc_type, language, unknown=None)
    if topic and title:
        key = "intro_why_written" if written else "intro_why_lived"
        why = message(key, language, kind=kind, title=title, topic=topic)
    elif topic:
        why = message("intro_why_topic", language, topic=topic)
    else:
        why = message("intro_why", language)
    asked = (
        message("intro_question_topic", language, question=q, topic=topic)
        if topic
        else message("intro_question", language, question=q)
    )
    lines = [
        message("intro_greeting", language, first=first),
        "",
        f"{me} {why}".replace("  ", " "),
        "",
        asked,
        "",
        message("intro_call", language),
        "",
        message("intro_closing", language),
        name,
    ]
    if asker_organisation:
        lines.append(asker_organisation)
    return "\n".join(lines)


def person_card(person: Person, reason: str, obstacles: list[str]) -> PersonCard:
    return PersonCard(
        id=person.id,
        name=person.name,
        role=person.role,
        organisation=person.organisation,
        reason=reason,
        obstacles=obstacles,
        contact=person.contact.given(),
    )
