"""Obstacles: phrase matching (stemmed, compound-aware, in order) and obstacle detection.

The detector combines keyword phrases, similarity to the obstacle descriptions, the retrieved
documents and earlier turns; see docs/matching.md for how the scores are combined and why.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .conversation import is_follow_up
from .knowledge import IndexedDoc, Obstacle
from .models import Turn
from .text import ALL_STOP, Analyzer, _stemmer, detect_language, fold, words


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
    """The internal scores behind a detection (``ObstacleDetector.signals``), per obstacle key."""

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
        self, obstacles: list[Obstacle], analyzer: Analyzer, embedder=None, glossary=None
    ) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
        #: English → Dutch domain terms: an English question also matches Dutch keywords.
        self.glossary = glossary
        self.items: list[ObstacleModel] = []
        for o in obstacles:
            kws = [*o.keywords, *o.keywords_en, o.label, *([o.label_en] if o.label_en else [])]
            seen: set[str] = set()
            unique = [k for k in kws if not (fold(k).strip() in seen or seen.add(fold(k).strip()))]
            phrases = [p for p in (Phrase.compile(k) for k in unique) if p]
            self.items.append(
                ObstacleModel(
                    key=o.key,
                    label=o.label,
                    label_en=o.label_en or o.label,
                    description=o.description or "",
                    phrases=phrases,
                )
            )
        self.by_key = {o.key: o for o in self.items}
        self._vectors: np.ndarray | None = None

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

    def document_scores(self, retrieved: list[IndexedDoc] | None) -> dict[str, float]:
        """0..1 per obstacle: rank-weighted share of the top documents tagged with it."""
        out: dict[str, float] = defaultdict(float)
        top = (retrieved or [])[: self.DOC_DEPTH]
        norm = sum(1.0 / (r + 1) for r in range(len(top))) or 1.0
        for rank, meta in enumerate(top):
            for pos, k in enumerate(meta.obstacles):
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
    def signals(
        self,
        question: str,
        history: list[str] | None = None,
        retrieved: list[IndexedDoc] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> ObstacleSignals:
        """Every score behind a detection of ``question``, per obstacle."""
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
        return sig

    def detect(
        self,
        question: str,
        history: list[str] | None = None,
        retrieved: list[IndexedDoc] | None = None,
        query_vector: np.ndarray | None = None,
        limit: int = 3,
    ) -> list[tuple[str, float]]:
        """Obstacles of the question, best first, with their combined score."""
        total = self.signals(question, history, retrieved, query_vector).total
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
