"""Obstacles, people matching and consent.

Consent is absolute: people with ``consent: false`` are dropped when the directory is loaded into
:class:`PeopleDirectory`, so no later step can rank, count or show them. Their names are still
known to :class:`Redactor`, which removes them (and every contact detail) from any text a user
sees. See docs/matching.md for how the scores are combined and why.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .conversation import is_follow_up
from .models import PersonCard, Turn
from .text import ALL_STOP, Analyzer, _stemmer, detect_language, fold, words

# ---------------------------------------------------------------------------------------------
# keyword phrases: stemmed, compound-aware, in order


@dataclass
class _Tok:
    word: str
    #: What this token may be matched by, per stemmer: the word and the stems of the word and
    #: of its compound and hyphen parts (``aanbestedingsprocedure`` → ``aanbesteed``).
    nl: set[str]
    en: set[str]


def _nl(w: str) -> str:
    return _stemmer("nl").stemWord(w)


def _en(w: str) -> str:
    return _stemmer("en").stemWord(w)


def tokenize(text: str, analyzer: Analyzer) -> list[_Tok]:
    out: list[_Tok] = []
    for w in words(text):
        pieces = [w]
        parts = [p for p in re.split(r"[-']", w) if p]
        if len(parts) > 1:
            pieces += parts
        for p in list(pieces):
            pieces += list(analyzer.split(p))
        out.append(
            _Tok(
                w,
                {p for p in pieces} | {_nl(p) for p in pieces},
                {p for p in pieces} | {_en(p) for p in pieces},
            )
        )
    return out


@dataclass
class TokenIndex:
    """All match keys of a token list at once, so most phrases are rejected by set lookups."""

    words: set[str]
    nl: set[str]
    en: set[str]
    #: Words long enough to contain a keyword word as prefix or suffix.
    long: list[str]

    @classmethod
    def of(cls, toks: list[_Tok]) -> TokenIndex:
        nl: set[str] = set()
        en: set[str] = set()
        for t in toks:
            nl |= t.nl
            en |= t.en
        words_ = {t.word for t in toks}
        return cls(words_, nl, en, [w for w in words_ if len(w) > _AFFIX_MIN])


#: Affix matches (``datastandaard`` ↔ ``standaard``) need a keyword word at least this long and a
#: remaining part long enough to be a word of its own, so ``ontdekking`` never means ``dekking``.
_AFFIX_MIN = 5
_REST_MIN = 4


@dataclass
class _KwWord:
    word: str
    stop: bool

    def __post_init__(self) -> None:
        self.nl = _nl(self.word)
        # The English stemmer is only trusted for light endings: it turns the Dutch "pilotitis"
        # into "pilot", which would make every pilot question one about innovation fatigue.
        en = _en(self.word)
        self.en = en if len(self.word) - len(en) <= 3 else self.word

    def could_match(self, seen: TokenIndex) -> bool:
        """False only when :meth:`matches` is false for every token of ``seen``."""
        if self.stop:
            return self.word in seen.words
        if self.word in seen.nl or self.nl in seen.nl or self.en in seen.en:
            return True
        return len(self.word) >= _AFFIX_MIN and any(self.word in w for w in seen.long)

    def matches(self, tok: _Tok) -> bool:
        if self.stop:
            return tok.word == self.word
        if self.word in tok.nl or self.nl in tok.nl or self.en in tok.en:
            return True
        w = tok.word
        if len(self.word) >= _AFFIX_MIN and len(w) > len(self.word):
            if w.startswith(self.word) and len(w) - len(self.word) >= 2:
                return True
            if w.endswith(self.word) and len(w) - len(self.word) >= _REST_MIN:
                return True
        return False


@dataclass
class Phrase:
    text: str
    parts: list[_KwWord]

    @classmethod
    def compile(cls, text: str) -> Phrase | None:
        ws = words(text)
        parts = [_KwWord(w, w in ALL_STOP or len(w) < 3) for w in ws]
        if not parts or all(p.stop for p in parts):
            return None
        return cls(text, parts)

    @property
    def n_content(self) -> int:
        return sum(not p.stop for p in self.parts)

    def could_match(self, seen: TokenIndex) -> bool:
        """A cheap first check: can the phrase's first word match any of the tokens?"""
        return self.parts[0].could_match(seen)

    def find(self, toks: list[_Tok]) -> bool:
        """True when the phrase occurs in order. Stop words must follow their neighbour
        directly ("na de pilot" is not "pilot"); content words may have up to two words
        between them ("het management nog overtuigen")."""
        return self.position(toks) is not None

    def position(self, toks: list[_Tok]) -> int | None:
        """Index of the token where the phrase's first occurrence starts, or None."""
        n = len(self.parts)
        for start in range(len(toks)):
            if not self.parts[0].matches(toks[start]):
                continue
            i, ok = start, True
            for j in range(1, n):
                gap = 0 if (self.parts[j].stop or self.parts[j - 1].stop) else 2
                nxt = next(
                    (
                        k
                        for k in range(i + 1, min(len(toks), i + 2 + gap))
                        if self.parts[j].matches(toks[k])
                    ),
                    None,
                )
                if nxt is None:
                    ok = False
                    break
                i = nxt
            if ok:
                return start
        return None


# ---------------------------------------------------------------------------------------------
# obstacle detection


@dataclass
class ObstacleModel:
    key: str
    label: str
    label_en: str
    description: str
    phrases: list[Phrase]

    def label_for(self, language: str) -> str:
        return self.label_en if language == "en" else self.label


@dataclass
class ObstacleSignals:
    """The internal scores behind a detection, kept for ranking, tests and docs/matching.md."""

    keyword: dict[str, float] = field(default_factory=dict)
    matched: dict[str, list[str]] = field(default_factory=dict)
    similarity: dict[str, float] = field(default_factory=dict)
    documents: dict[str, float] = field(default_factory=dict)
    history: dict[str, float] = field(default_factory=dict)
    total: dict[str, float] = field(default_factory=dict)


class ObstacleDetector:
    """Keywords (stemmed, compound-aware) + similarity to descriptions + retrieved documents.

    Each signal is scaled to roughly 0..1 and the three are added; an obstacle is reported when
    its total clears ``threshold`` and is not far behind the best one (``relative``).
    """

    # Weights chosen on a labelled development set (docs/matching.md); keywords lead because a
    # word like "aanbesteding" is unambiguous, the other two catch paraphrases.
    W_KEYWORD = 1.0
    W_SIMILARITY = 0.5
    #: Only descriptions that stand out (z-score above SIM_Z0) count; full weight at Z0 + SPAN.
    SIM_Z0 = 1.5
    SIM_SPAN = 1.5
    W_DOCUMENTS = 1.0
    W_HISTORY = 0.8
    W_HISTORY_OWN = 0.35
    W_HISTORY_NEW = 0.15
    THRESHOLD = 0.55
    RELATIVE = 0.7
    DOC_DEPTH = 5

    def __init__(
        self, obstacles: list[dict], analyzer: Analyzer, embedder=None, glossary=None
    ) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
        #: English → Dutch domain terms: an English question also matches Dutch keywords.
        self.glossary = glossary
        self.items: list[ObstacleModel] = []
        for o in obstacles:
            kws = (
                list(o.get("keywords") or [])
                + list(o.get("keywords_en") or [])
                + [o["label"]]
                + ([o["label_en"]] if o.get("label_en") else [])
            )
            seen: set[str] = set()
            unique = [k for k in kws if not (fold(k).strip() in seen or seen.add(fold(k).strip()))]
            phrases = [p for p in (Phrase.compile(k) for k in unique) if p]
            self.items.append(
                ObstacleModel(
                    key=o["key"],
                    label=o["label"],
                    label_en=o.get("label_en") or o["label"],
                    description=o.get("description") or "",
                    phrases=phrases,
                )
            )
        self.by_key = {o.key: o for o in self.items}
        self._vectors: np.ndarray | None = None
        self.last: ObstacleSignals | None = None

    def label(self, key: str | None, language: str = "nl") -> str | None:
        o = self.by_key.get(key or "")
        return o.label_for(language) if o else None

    def _desc_vectors(self) -> np.ndarray | None:
        if self.embedder is None or not self.items:
            return None
        if self._vectors is None:
            texts = [f"{o.label} ({o.label_en}). {o.description}" for o in self.items]
            self._vectors = self.embedder.embed(texts, kind="passage")
        return self._vectors

    # -- the three signals ------------------------------------------------------------------
    def keyword_hits(self, text: str) -> dict[str, list[str]]:
        if self.glossary is not None and detect_language(text) == "en":
            dutch = self.glossary.expand(text)
            if dutch:
                # Separated, so a phrase cannot run from the question into its translations.
                text = f"{text} . {' . '.join(dutch)}"
        toks = tokenize(text, self.analyzer)
        seen = TokenIndex.of(toks)
        out: dict[str, list[str]] = {}
        for o in self.items:
            hits = [p.text for p in o.phrases if p.could_match(seen) and p.find(toks)]
            if hits:
                out[o.key] = hits
        return out

    def keyword_scores(
        self, text: str, found: dict[str, list[str]] | None = None
    ) -> dict[str, float]:
        """0..1 per obstacle: one keyword is a clear signal, more keywords make it surer.
        ``found``: ``keyword_hits(text)`` when the caller already has it."""
        out = {}
        for key, hits in (self.keyword_hits(text) if found is None else found).items():
            # A phrase of several words is more specific than a single word.
            miss = 1.0
            for h in hits:
                p = Phrase.compile(h)
                miss *= 1.0 - (0.8 if p and p.n_content > 1 else 0.7)
            out[key] = 1.0 - miss
        return out

    def similarity_scores(self, query_vector: np.ndarray | None) -> dict[str, float]:
        """0..1 per obstacle: how far the description stands out from the others (z-score)."""
        vecs = self._desc_vectors()
        if vecs is None or query_vector is None or len(self.items) < 3:
            return {}
        sims = vecs @ np.asarray(query_vector, dtype=np.float32)
        spread = float(np.std(sims)) or 1.0
        z = (sims - float(np.mean(sims))) / spread
        lo, span = self.SIM_Z0, self.SIM_SPAN
        return {
            o.key: min(1.0, max(0.0, (float(zi) - lo) / span))
            for o, zi in zip(self.items, z, strict=True)
        }

    def document_scores(self, retrieved: list[dict] | None) -> dict[str, float]:
        """0..1 per obstacle: rank-weighted share of the top documents tagged with it."""
        out: dict[str, float] = defaultdict(float)
        top = (retrieved or [])[: self.DOC_DEPTH]
        norm = sum(1.0 / (r + 1) for r in range(len(top))) or 1.0
        for rank, meta in enumerate(top):
            for pos, k in enumerate(meta.get("obstacles", []) or []):
                if k in self.by_key:
                    # Authors list the main obstacle first.
                    out[k] += (1.0 if pos == 0 else 0.75) / (rank + 1) / norm
        return dict(out)

    def own_topics(self, text: str, query_vector: np.ndarray | None = None) -> set[str]:
        """Obstacles the text names by itself: keywords and description similarity only,
        without documents or history."""
        total: dict[str, float] = defaultdict(float)
        for k, s in self.keyword_scores(text).items():
            total[k] += self.W_KEYWORD * s
        for k, s in self.similarity_scores(query_vector).items():
            total[k] += self.W_SIMILARITY * s
        return {k for k, s in total.items() if s >= self.THRESHOLD * self.W_SIMILARITY}

    def shifts_topic(
        self,
        question: str,
        previous: str,
        question_vector: np.ndarray | None = None,
        previous_vector: np.ndarray | None = None,
    ) -> bool:
        """True when a follow-up names an obstacle of its own that the previous question did
        not ("en hoe krijg ik de bestuurders mee?" after a budget question): its people, steps
        and sources should then follow the new topic, not the old one."""
        own = self.own_topics(question, question_vector)
        return bool(own) and not (own & self.own_topics(previous, previous_vector))

    def strip_topic(self, text: str) -> str:
        """The text without the words that name an obstacle: what remains says what it was
        about otherwise (a case, an organisation), for a follow-up that changes the obstacle."""
        hits = [Phrase.compile(h) for hs in self.keyword_hits(text).values() for h in hs]
        parts = [p for h in hits if h for p in h.parts if not p.stop]
        kept = [
            t.word for t in tokenize(text, self.analyzer) if not any(p.matches(t) for p in parts)
        ]
        return " ".join(kept)

    # -- combined ----------------------------------------------------------------------------
    def detect(
        self,
        question: str,
        history: list[str] | None = None,
        retrieved: list[dict] | None = None,
        query_vector: np.ndarray | None = None,
        limit: int = 3,
    ) -> list[tuple[str, float]]:
        """Obstacles of the question, best first, with their combined score."""
        sig = ObstacleSignals()
        sig.matched = self.keyword_hits(question)
        sig.keyword = self.keyword_scores(question, sig.matched)
        sig.similarity = self.similarity_scores(query_vector)
        sig.documents = self.document_scores(retrieved)
        # Earlier user turns count when the question builds on them ("en wie kan ik daarover
        # spreken?"), most when it names nothing itself, and hardly when it starts afresh.
        own = bool(sig.keyword)
        follow = bool(history) and is_follow_up(
            question, [Turn(role="user", content=h) for h in history]
        )
        hist: dict[str, float] = defaultdict(float)
        for age, turn in enumerate(reversed((history or [])[-3:])):
            for k, s in self.keyword_scores(turn).items():
                hist[k] = max(hist[k], s * (0.5**age))
        sig.history = dict(hist)
        w_hist = (self.W_HISTORY_OWN if own else self.W_HISTORY) if follow else self.W_HISTORY_NEW
        total: dict[str, float] = defaultdict(float)
        for k, s in sig.keyword.items():
            total[k] += self.W_KEYWORD * s
        for k, s in sig.similarity.items():
            total[k] += self.W_SIMILARITY * s
        for k, s in sig.documents.items():
            total[k] += self.W_DOCUMENTS * s
        for k, s in sig.history.items():
            total[k] += w_hist * s
        sig.total = dict(total)
        self.last = sig
        if not total:
            return []
        best = max(total.values())
        ranked = sorted(
            (
                (k, round(s, 4))
                for k, s in total.items()
                if s >= self.THRESHOLD and s >= self.RELATIVE * best
            ),
            key=lambda x: (-x[1], x[0]),
        )
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
        self, people: list[dict], docs: dict[str, dict], analyzer: Analyzer, embedder=None
    ) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
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
            person.terms = set(analyzer.query_terms(f"{person.role or ''} {person.expertise}"))
            self.people[person.id] = person
        self.docs_of: dict[str, list[str]] = defaultdict(list)
        for doc_id, meta in docs.items():
            for pid in meta.get("people", []) or []:
                if pid in self.people:
                    self.docs_of[pid].append(doc_id)
        # How many people mention a term: "gemeente" says little about who to call, "drones" a lot.
        self._df: dict[str, int] = defaultdict(int)
        for person in self.people.values():
            for t in person.terms:
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
                f"{p.role or ''}, {p.organisation or ''}. {p.expertise}"
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
            pid: min(1.0, sum(math.log(1 + n / self._df[t]) for t in q & p.terms) / 6.0)
            for pid, p in self.people.items()
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
        docs: dict[str, dict],
        audience: str = "public",
    ) -> str | None:
        """The document the reason names: one they took part in, about the obstacle, preferably
        retrieved for this question and preferably a case or lesson. Internal documents are
        only named to an internal audience."""
        own = [
            d
            for d in self.docs_of.get(person.id, [])
            if audience == "internal" or docs.get(d, {}).get("visibility", "public") == "public"
        ]
        if not own:
            return None

        def score(d: str) -> float:
            meta = docs.get(d, {})
            s = 2.0 if obstacle and obstacle in (meta.get("obstacles") or []) else 0.0
            s += 1.5 / (1 + rank_of[d]) if d in rank_of else 0.0
            return s + _TYPE_PREF.get(meta.get("type", ""), 0.4)

        return max(own, key=lambda d: (score(d), d))

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
                    (k for k in docs.get(best_doc, {}).get("obstacles", []) if k in p.obstacles),
                    None,
                )
            doc = self.best_doc(
                p, obstacle or (p.obstacles[0] if p.obstacles else None), rank_of, docs, audience
            )
            if obstacle is None and p.obstacles:
                # The reason always names a concrete obstacle: the one the person met in that document.
                in_doc = (docs.get(doc or "", {}).get("obstacles") or []) if doc else []
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


_KIND_NL = {"case": "de case", "lesson": "de les", "guide": "de handreiking", "blog": "de blog"}
_KIND_EN = {
    "case": "the case",
    "lesson": "the lesson",
    "guide": "the guide",
    "blog": "the blog post",
}
#: A guide or blog is written: the people listed with it contributed their knowledge, they did
#: not "run into" anything there. Cases and lessons are lived.
_WRITTEN = {"guide", "blog"}


def _lower_label(label: str | None) -> str | None:
    # "Privacy en AVG" → "privacy en AVG": only the first letter, acronyms stay.
    return _lower_first(label) if label else label


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
    lesson = doc_type == "lesson"
    if language == "en":
        kind = _KIND_EN.get(doc_type or "", "the document")
        did = "Shared" if lesson else "Was involved in"
        if title and obst:
            if written:
                tail = ", the obstacle your question is about" if shared else ""
                return f"Contributed to {kind} “{title}” on {obst}{tail}."
            if shared:
                return f"{did} {kind} “{title}” and ran into the same obstacle there: {obst}."
            return f"{did} {kind} “{title}”, which dealt with {obst}."
        if obst:
            same = "the same obstacle, " if shared else ""
            return f"Has hands-on experience with {same}{obst}."
        if title:
            verb = "Contributed to" if written else did
            return f"{verb} {kind} “{title}”, which matches your question."
        return "Has experience that matches your question."
    kind = _KIND_NL.get(doc_type or "", "het document")
    did = "Deelde" if lesson else "Was betrokken bij"
    if title and obst:
        if written:
            tail = ", waar je vraag over gaat" if shared else ""
            return f"Werkte mee aan {kind} “{title}” over {obst}{tail}."
        if shared:
            return f"{did} {kind} “{title}” en liep daar tegen hetzelfde obstakel aan: {obst}."
        return f"{did} {kind} “{title}”, die over {obst} ging."
    if obst:
        same = "hetzelfde obstakel: " if shared else ""
        return f"Heeft praktijkervaring met {same}{obst}."
    if title:
        verb = "Werkte mee aan" if written else did
        return f"{verb} {kind} “{title}”, die aansluit op je vraag."
    return "Heeft ervaring die aansluit op je vraag."


def people_first_text(cards: list[PersonCard], obstacle_label: str | None, language: str) -> str:
    """The opening of a people-first answer ("wie kan ik spreken over …").

    It points at the people cards without naming anyone: people appear once, as cards (with
    their reason and an introduction button), never again in the answer text."""
    topic = _lower_label(obstacle_label)
    n = len(cards)
    if language == "en":
        if not cards:
            return (
                "I found nobody in the directory of people who agreed to be contacted with proven "
                "experience in this. What the knowledge base says:"
            )
        who = "One person has" if n == 1 else f"{_EN_COUNT.get(n, n)} people have".capitalize()
        about = f"experience with {topic}" if topic else "relevant experience"
        return (
            f"{who} {about}: see the people below, with why each is a good match. Ask for an "
            "introduction to get a draft message.\n\nWhat the knowledge base says:"
        )
    if not cards:
        return (
            "Ik vond in de lijst van mensen die benaderd willen worden niemand met aantoonbare "
            "ervaring hiermee. Dit zegt de kennisbank erover:"
        )
    who = "Eén persoon heeft" if n == 1 else f"{_NL_COUNT.get(n, n)} mensen hebben".capitalize()
    about = f"ervaring met {topic}" if topic else "relevante ervaring"
    return (
        f"{who} {about}: je vindt ze hieronder, met waarom ze passen. Vraag om een introductie "
        "voor een conceptbericht.\n\nDit zegt de kennisbank erover:"
    )


_NL_COUNT = {2: "twee", 3: "drie", 4: "vier", 5: "vijf"}
_EN_COUNT = {2: "two", 3: "three", 4: "four", 5: "five"}


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
    if language == "en":
        name = asker_name or "[your name]"
        me = f"My name is {name}" + (
            f" and I work at {asker_organisation}." if asker_organisation else "."
        )
        kind = _KIND_EN.get(doc_type or "", "")
        why = "Opschaalwijzer pointed me to you"
        if topic and title and written:
            why += (
                f": you contributed to {kind} “{title}” on {topic}, the obstacle we are facing now."
            )
        elif topic and title:
            why += f": in {kind} “{title}” you dealt with {topic}, the same obstacle we are facing now."
        elif topic:
            why += f", because you have hands-on experience with {topic}, the same obstacle we are facing now."
        else:
            why += ", because your experience matches what we are working on."
        lines = [
            f"Dear {first},",
            "",
            f"{me} {why}".replace("  ", " "),
            "",
            f"Our question is: “{q}” I would like to learn how you approached "
            + (f"{topic}" if topic else "it")
            + ", what worked and what you would do differently now.",
            "",
            "Would you have half an hour for a short (video) call in the coming weeks? I am happy to fit in with your schedule.",
            "",
            "Kind regards,",
            name,
        ]
    else:
        name = asker_name or "[je naam]"
        me = f"Mijn naam is {name}" + (
            f" en ik werk bij {asker_organisation}." if asker_organisation else "."
        )
        kind = _KIND_NL.get(doc_type or "", "")
        why = "Via de Opschaalwijzer kwam ik bij jou uit"
        if topic and title and written:
            why += f": jij werkte mee aan {kind} “{title}” over {topic}, het obstakel waar wij nu mee zitten."
        elif topic and title:
            why += f": bij {kind} “{title}” liep jij tegen hetzelfde obstakel aan waar wij nu mee zitten, {topic}."
        elif topic:
            why += f", omdat jij praktijkervaring hebt met hetzelfde obstakel waar wij nu mee zitten, {topic}."
        else:
            why += ", omdat jouw ervaring aansluit op waar wij mee bezig zijn."
        lines = [
            f"Beste {first},",
            "",
            f"{me} {why}".replace("  ", " "),
            "",
            f"Onze vraag is: “{q}” Ik zou graag van je leren hoe jullie "
            + (f"{topic} hebben aangepakt" if topic else "dat hebben aangepakt")
            + ", wat werkte en wat je achteraf anders zou doen.",
            "",
            "Heb je de komende weken een half uur voor een kort (video)gesprek? Ik pas me graag aan jouw agenda aan.",
            "",
            "Met vriendelijke groet,",
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
        contact=dict(person.contact),
    )


# ---------------------------------------------------------------------------------------------
# redaction


NAME_PARTICLES = {
    "van",
    "de",
    "der",
    "den",
    "het",
    "ten",
    "ter",
    "te",
    "el",
    "la",
    "le",
    "di",
    "da",
    "von",
    "in",
    "'t",
}
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+31|0031|0)[\s-]?(?:\d[\s-]?){8}\d(?!\d)")
_PROTECT = "\ue000{}\ue001"
_DIGIT = re.compile(r"\d")
_WORDLIKE = re.compile(r"\w+")


def _any_word(words: list[str]) -> re.Pattern | None:
    """One case-insensitive pass that finds any of ``words`` as a whole word (the name rules
    only ever match whole words, so this never misses one of their matches); None for none."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?![\w-])", re.I)


@dataclass
class _Rule:
    pattern: re.Pattern
    #: ``None`` = a full name, replaced whatever its case; otherwise only a capitalised mention
    #: counts ("Prins" the surname, not "prins" the word).
    needs_capital: bool
    nl: str
    en: str


class Redactor:
    """Removes names of non-consenting people and all contact details from user-facing text.

    A name becomes the person's role ("de teamleider klantcontactcentrum van Gemeente Haverdam")
    or "een collega van <organisatie>". Full names, surname-only and first-name-only mentions are
    caught; a role written right before the name is absorbed so it is not said twice. Names of
    consenting people are protected first, so "Willem" is redacted but "Jan-Willem Kok" is not.
    """

    def __init__(self, people: list[dict]) -> None:
        self.rules: list[_Rule] = []
        self.person_rules: list[tuple[str, list[_Rule]]] = []
        self.hidden: list[dict] = [
            p for p in people if p.get("consent") is not True and (p.get("name") or "").strip()
        ]
        shown = [p["name"] for p in people if p.get("consent") is True and p.get("name")]
        self._protect = [
            re.compile(r"(?<![\w-])" + r"\s+".join(map(re.escape, n.split())) + r"(?![\w-])", re.I)
            for n in sorted(shown, key=len, reverse=True)
        ]
        # Every protected name contains its first word and every rule's match contains its
        # variant's last word (same engine, same re.I), so a text without any of them is left
        # unchanged by the loops below; these one-pass checks skip them for most passages.
        self._protect_any = _any_word([n.split()[0] for n in shown])
        self._protect_first = [n.split()[0].lower() for n in sorted(shown, key=len, reverse=True)]
        self.contacts: set[str] = set()
        for p in people:
            for v in (p.get("contact") or {}).values():
                if v and len(str(v)) >= 5:
                    self.contacts.add(str(v))
        rule_words: list[str] = []
        for p in self.hidden:
            name = p["name"].strip()
            org, role = p.get("organisation"), p.get("role")
            role_l = _lower_first(role) if role else None
            if role_l and org:
                nl, en = f"de {role_l} van {org}", f"the {role_l} at {org}"
            elif role_l:
                nl, en = f"de {role_l}", f"the {role_l}"
            elif org:
                nl, en = f"een collega van {org}", f"a colleague at {org}"
            else:
                nl, en = "een collega", "a colleague"
            parts = name.split()
            variants: list[tuple[str, bool]] = [(name, False)]
            if len(parts) > 1:
                surname = " ".join(parts[1:])
                variants.append((surname, True))
                core = " ".join(w for w in parts[1:] if w.lower() not in NAME_PARTICLES)
                if core and core != surname and len(core) >= 3:
                    variants.append((core, True))
                if len(parts[0]) >= 3:
                    variants.append((parts[0], True))
            # "Teamleider klantcontactcentrum Bart Hendriks", "directeur Gerrit van Dam": the role
            # before the name is swallowed by the replacement, which already says it.
            role_words = (
                [role] + ([role.split()[0]] if role and len(role.split()) > 1 else [])
                if role
                else []
            )
            role_alt = "|".join(r"\s+".join(map(re.escape, r.split())) for r in role_words)
            lead = rf"(?:(?:de|het|the|onze|our)\s+)?(?:{role_alt})\s+" if role_alt else ""
            mine = []
            for v, cap in variants:
                rule_words.append(v.split()[-1])
                body = r"\s+".join(re.escape(w) for w in v.split())
                pat = (
                    rf"(?<![\w-])(?:{lead})?(?P<name>{body})(?![\w-])"
                    if lead
                    else rf"(?<![\w-])(?P<name>{body})(?![\w-])"
                )
                mine.append(_Rule(re.compile(pat, re.I), cap, nl, en))
            self.rules += mine
            self.person_rules.append((name, mine))
        self._rules_any = _any_word(rule_words)

    @staticmethod
    def _capitalised(m: re.Match) -> bool:
        name = m.group("name")
        core = [w for w in name.split() if w.lower() not in NAME_PARTICLES] or name.split()
        return core[-1][:1].isupper()

    def _protect_shown(self, text: str) -> tuple[str, list[str]]:
        kept: list[str] = []
        found = (
            {m.group(0).lower() for m in self._protect_any.finditer(text)}
            if self._protect_any is not None
            else set()
        )
        if not found:
            return text, kept
        patterns = self._protect
        # Only the names whose first word occurs can match. Matches are whole words, so a
        # missed overlapping occurrence needs a found word with a non-word character (or a
        # case form lower() does not map back): then all patterns run.
        if found <= set(self._protect_first) and all(_WORDLIKE.fullmatch(w) for w in found):
            patterns = [
                p for p, w in zip(self._protect, self._protect_first, strict=True) if w in found
            ]

        def keep(m: re.Match) -> str:
            kept.append(m.group(0))
            return _PROTECT.format(len(kept) - 1)

        for pat in patterns:
            text = pat.sub(keep, text)
        return text, kept

    @staticmethod
    def _restore(text: str, kept: list[str]) -> str:
        for i, s in enumerate(kept):
            text = text.replace(_PROTECT.format(i), s)
        return text

    def strip_contacts(self, text: str, language: str = "nl") -> str:
        repl = "[contactgegevens weggelaten]" if language != "en" else "[contact details removed]"
        for c in sorted(self.contacts, key=len, reverse=True):
            if c in text:
                text = text.replace(c, repl)
        if "@" in text:
            text = _EMAIL.sub(repl, text)
        return _PHONE.sub(repl, text) if _DIGIT.search(text) else text

    def __call__(self, text: str | None, language: str = "nl") -> str | None:
        if not text:
            return text
        text, kept = self._protect_shown(text)
        if self._rules_any is None or not self._rules_any.search(text):
            return self.strip_contacts(self._restore(text, kept), language)
        for rule in self.rules:

            def sub(m: re.Match, rule: _Rule = rule, s: str = text) -> str:
                if rule.needs_capital and not self._capitalised(m):
                    return m.group(0)
                out = rule.en if language == "en" else rule.nl
                if _sentence_start(s[: m.start()]):
                    out = out[:1].upper() + out[1:]
                return out

            text = rule.pattern.sub(sub, text)
        text = self._restore(text, kept)
        return self.strip_contacts(text, language)

    def evidence(self, evidence: list) -> list:
        """Answerer evidence with names redacted in each document's own language.

        The same units come back question after question, so their redacted text is kept
        (this redactor lives as long as its index generation)."""
        memo = self.__dict__.setdefault("_evidence_memo", {})
        if len(memo) > 50_000:
            memo.clear()

        def redacted(text: str, lang: str) -> str:
            key = (text, lang)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = self(text, lang) or text
            return hit

        return [ev.map_text(lambda t, lang=ev.language: redacted(t, lang)) for ev in evidence]

    def scrub(self, text: str) -> str:
        """The text with non-consenting names removed outright, for use as a search query: a
        question naming them is then treated exactly like one naming a stranger."""
        if not text:
            return text
        text, kept = self._protect_shown(text)
        for rule in self.rules:
            text = rule.pattern.sub(
                lambda m, rule=rule: (
                    m.group(0) if rule.needs_capital and not self._capitalised(m) else " "
                ),
                text,
            )
        return re.sub(r"[ \t]{2,}", " ", self._restore(text, kept)).strip()

    def leaks(self, text: str | None) -> list[str]:
        """Names (full, surname or first name) of non-consenting people still in ``text``, and
        contact details of anyone. Used by tests and the evaluation."""
        if not text:
            return []
        found = [c for c in self.contacts if c in text]
        found += _EMAIL.findall(text) + _PHONE.findall(text)
        text, _ = self._protect_shown(text)
        for name, rules in self.person_rules:
            for rule in rules:
                if any(
                    not rule.needs_capital or self._capitalised(m)
                    for m in rule.pattern.finditer(text)
                ):
                    found.append(name)
                    break
        return list(dict.fromkeys(found))


def _lower_first(s: str) -> str:
    # "Directeur" → "directeur", but "CEO" and "CIO" stay as they are.
    return s[:1].lower() + s[1:] if len(s) > 1 and not s[1].isupper() else s


def _sentence_start(before: str) -> bool:
    b = before.rstrip(" \t\"'“‘(")
    return not b or b[-1] in ".!?:\n" or before.endswith("\n")
