"""The scaling step plan: where is the user, and what are sensible next steps?

The phase comes from three signals, like obstacles do: cue words in the question (phases.yaml
may list its own ``keywords``), the phases of the retrieved documents, and the earlier turns.

Next steps follow the question, not only the phase: every step of the plan is a candidate, a
step scores for the question's obstacles it addresses and the words it shares with the
question, and the detected phase only adds a preference. Steps about an obstacle the question
does not have are never used to fill up the list, so a DPIA question does not get "herijk de
businesscase". The plan's order is kept because it is a sequence. Texts are shown in the
question's language when phases.yaml has them (``name_en``, ``steps_en``, …).
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from .knowledge import IndexedDoc, Phase
from .obstacles import Phrase, TokenIndex, tokenize
from .text import Analyzer, detect_language, fold

_START = re.compile(
    r"\b(waar\s+(moet|kan|zou)\s+(ik|je|we|jij|u)\s+(dan\s+|nu\s+|het\s+best\s+)?(mee\s+)?(beginnen|starten)|"
    r"waar\s+(begin|start)\s+(ik|je|we|u)|"
    r"hoe\s+(begin|start)\s+(ik|je|we|u)|hoe\s+(moet|kan)\s+(ik|je|we|u)\s+(beginnen|starten)|"
    # The plural puts the whole verb first: "Hoe beginnen we?", "Waar starten wij?".
    r"(hoe|waar)\s+(beginnen|starten)\s+(we|wij|jullie)\b|"
    r"(hoe|waar)\s+(moeten|kunnen|zullen)\s+(we|wij|jullie)\s+(het\s+best\s+)?(mee\s+)?(beginnen|starten)|"
    r"(eerste|1e)\s+stap(pen)?|stappenplan|waar\s+te\s+beginnen|"
    r"where\s+(do|should|can|to)\s+(i|we|you)?\s*(start|begin)|how\s+(do|should|can)\s+(i|we)\s+(start|begin|get\s+started)|"
    r"first\s+steps?|step[-\s]by[-\s]step\s+plan|step\s+plan|getting\s+started)",
    re.I,
)

# Cue phrases that are not always in phases.yaml's prose; phases.yaml may list its own
# `keywords` (and `keywords_en`), which then replace these. Phrases match in order, word by
# word on stems, like obstacle keywords: "roll out" is one cue, not "roll" and "out".
_DEFAULT_CUES = {
    "verkennen": [
        *("idee", "verkennen", "verkenning", "oriënteren", "oriëntatie", "probleem", "behoefte"),
        *("bestaat al", "wiel", "explore", "exploring", "idea", "problem", "already exists"),
    ],
    "experimenteren": [
        *("pilot", "proef", "experiment", "experimenteren", "proof of concept", "testen"),
        *("prototype", "proeftuin", "challenge", "hackathon", "test", "trial"),
    ],
    "voorbereiden": [
        *("businesscase", "implementatieplan", "aanbesteding", "inkoop", "inkooproute", "dpia"),
        *("voorbereiden", "voorbereiding", "begroting", "besluit", "besluitvorming"),
        *("marktconsultatie", "prepare", "business case", "procurement", "decision"),
    ],
    "opschalen": [
        # Not "andere gemeenten": "heeft een andere gemeente dit al?" is exploring, not scaling.
        *("opschalen", "opschaling", "uitrollen", "uitrol", "landelijk", "regio"),
        *("meer organisaties", "gefaseerd", "golven", "scale", "scaling", "roll out"),
        *("rollout", "next municipality"),
    ],
    "borgen": [
        *("borgen", "borging", "beheer", "onderhoud", "structureel", "overdracht", "overdragen"),
        *("eigenaar", "continuïteit", "lijnorganisatie", "verankeren", "evaluatie"),
        *("maintenance", "ownership", "handover", "structural", "embed"),
    ],
}

# "Na de pilot", "once the pilot is over": the question is past the experiment, so "pilot"
# is no cue for whichever phase lists it.
_PILOT_WORDS = {"pilot", "proef", "trial", "pilots"}
_PAST_PILOT = re.compile(
    r"\b(na\s+(de|het|afloop\s+van\s+de|het\s+einde\s+van\s+de)\s+(pilot|proef)|"
    r"(pilot|proef)\w*\s+(stopt|eindigt|afloopt|loopt\s+af|is\s+afgelopen|is\s+voorbij|op\s+is)|"
    r"(after|once|when)\s+the\s+(pilot|trial)|(pilot|trial)\s+(money\s+)?(ends|stops|is\s+over|runs\s+out)|"
    # A pilot that succeeded is over too: "onze geslaagde pilot", "a successful trial".
    r"(geslaagde|succesvolle|afgeronde)\s+(pilot|proef)|(pilot|proef)\s+is\s+(geslaagd|afgerond)|"
    r"(successful|completed)\s+(pilot|trial)|(pilot|trial)\s+(succeeded|worked))",
    re.I,
)


def is_start_question(question: str) -> bool:
    """ "Waar moet ik beginnen?", "Hoe begin ik?", "Where do I start?"…"""
    return bool(_START.search(question))


class StepPlan:
    """Phases from phases.yaml, in their given order."""

    W_CUES = 1.0
    W_DOCS = 0.8
    W_HISTORY = 0.3
    W_SIMILARITY = 0.4
    W_START = 1.2
    TIE = 0.05

    def __init__(
        self,
        phases: list[Phase],
        analyzer: Analyzer,
        obstacles=None,
        embedder=None,
        passage_share=None,
    ) -> None:
        self.phases = phases
        self.analyzer = analyzer
        self.obstacles = obstacles
        self.embedder = embedder
        #: word → share of the index's passages containing it (``LexicalIndex.passage_share``).
        self.passage_share = passage_share
        self.keys = [p.key for p in phases]
        self._cues: dict[str, list[Phrase]] = {}
        for p in phases:
            own = [*p.keywords, *p.keywords_en]
            cues = own or list(_DEFAULT_CUES.get(p.key, []))
            cues += [x for x in (p.name, p.name_en, p.key) if x]
            self._cues[p.key] = [c for c in (Phrase.compile(x) for x in cues) if c]
        self._vectors: dict[str, np.ndarray] = {}
        self._step_tags: dict[tuple[str, int], set[str]] | None = None

    def cue_hits(self, text: str) -> dict[str, float]:
        """Per phase, the weight of the cue words the text contains ("pilot" after the pilot
        counts not)."""
        toks = tokenize(text, self.analyzer)
        seen = TokenIndex.of(toks)
        past_pilot = bool(_PAST_PILOT.search(text))
        # One word is one cue, however many cue phrases of a phase it matches
        # ("opschaling" is both "opschalen" and "opschaling").
        starts: dict[str, dict[int, Phrase]] = defaultdict(dict)
        for key in self.keys:
            for cue in self._cues.get(key, []):
                at = cue.position(toks) if cue.could_match(seen) else None
                if at is None:
                    continue
                if past_pilot and fold(cue.text) in _PILOT_WORDS:
                    continue
                starts[key].setdefault(at, cue)
        return {k: sum(self._cue_weight(c) for c in v.values()) for k, v in starts.items()}

    #: A word found in more than this share of the index's passages is the corpus' own
    #: subject ("pilot" in a corpus about scaling pilots) and counts as half a cue.
    COMMON_SHARE = 0.2

    def _cue_weight(self, cue: Phrase) -> float:
        """Half for a cue whose every content word is that common (its rarest word decides)."""
        if not self.passage_share:
            return 1.0
        share = min((self.passage_share(p.word) for p in cue.parts if not p.stop), default=0.0)
        return 0.5 if share > self.COMMON_SHARE else 1.0

    def get(self, key: str | None) -> Phase | None:
        return next((p for p in self.phases if p.key == key), None)

    def _phase_vectors(self, language: str = "nl") -> np.ndarray | None:
        """Phase texts embedded in the question's language (English where phases.yaml has
        it): a question is compared with the plan as written in its own language."""
        if self.embedder is None or len(self.phases) < 3:
            return None
        lang = "en" if language == "en" and any(p.name_en for p in self.phases) else "nl"
        if lang not in self._vectors:
            texts = [
                f"{_in(p, 'name', lang) or p.key}. {_in(p, 'description', lang) or ''}"
                for p in self.phases
            ]
            self._vectors[lang] = self.embedder.embed(texts, kind="passage")
        return self._vectors[lang]

    def scores(
        self,
        question: str,
        retrieved: list[IndexedDoc],
        history: list[str] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> dict[str, float]:
        hist = " ".join((history or [])[-2:])
        out: dict[str, float] = defaultdict(float)
        own = self.cue_hits(question)
        before = self.cue_hits(hist) if hist else {}
        for key in self.keys:
            out[key] += self.W_CUES * min(2, own.get(key, 0)) + self.W_HISTORY * min(
                2, before.get(key, 0)
            )
        top = retrieved[:5]
        norm = sum(1.0 / (r + 1) for r in range(len(top))) or 1.0
        for rank, meta in enumerate(top):
            # Every listed phase counts the same: corpora list them in plan order, not the
            # main one first.
            for key in meta.phases:
                if key in self._cues:
                    out[key] += self.W_DOCS / (rank + 1) / norm
        vecs = self._phase_vectors(detect_language(question))
        if vecs is not None and query_vector is not None:
            sims = vecs @ np.asarray(query_vector, dtype=np.float32)
            z = (sims - float(np.mean(sims))) / (float(np.std(sims)) or 1.0)
            for key, zi in zip(self.keys, z, strict=True):
                out[key] += self.W_SIMILARITY * max(0.0, float(zi) - 0.5)
        if is_start_question(question) and self.keys and not any(own.values()):
            # "Waar moet ik beginnen?" alone is the start of the plan; "waar begin ik als ik de
            # pilot wil opschalen?" is the start of the phase the question names.
            out[self.keys[0]] += self.W_START
        return dict(out)

    def detect(
        self,
        question: str,
        retrieved: list[IndexedDoc],
        history: list[str] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> str | None:
        """The phase key the question most likely sits in, or None without any signal."""
        if not self.phases:
            return None
        scores = self.scores(question, retrieved, history, query_vector)
        # Ties, and near-ties within TIE, go to the earlier phase: when in doubt, the user is
        # less far along.
        top = max(scores.get(k, 0.0) for k in self.keys)
        if top <= 0:
            return None
        return next(k for k in self.keys if scores.get(k, 0.0) >= top - self.TIE)

    def name(self, key: str | None, language: str = "nl") -> str | None:
        """The phase's name in ``language`` (Dutch when phases.yaml has no English name)."""
        p = self.get(key)
        if not p:
            return None
        return _in(p, "name", language) or p.key

    def _tags(self) -> dict[tuple[str, int], set[str]]:
        """(phase, step index) → the obstacles the step addresses, from its own words in both
        languages (the English text may name what the Dutch one implies)."""
        if self._step_tags is None:
            tags: dict[tuple[str, int], set[str]] = {}
            for p in self.phases:
                english = p.steps_en
                for i, step in enumerate(p.steps):
                    text = f"{step} {english[i]}" if i < len(english) else step
                    tags[(p.key, i)] = (
                        set(self.obstacles.keyword_hits(text)) if self.obstacles else set()
                    )
            self._step_tags = tags
        return self._step_tags

    #: Relevance of a step: per matching obstacle (the first detected counts most), per word
    #: shared with the question, and a preference for the detected phase over the others.
    W_STEP_OBSTACLE = 2.0
    W_STEP_WORD = 0.5
    W_STEP_PHASE = 0.75

    def next_steps(
        self,
        phase: str | None,
        question: str,
        obstacles: list[str],
        language: str = "nl",
        limit: int = 3,
    ) -> list[str]:
        """2–4 steps for this question, in the plan's order, in ``language`` where available.

        Candidates are all steps of the plan. A step of another phase only comes in when it
        addresses one of the question's obstacles or shares its words; the list is topped up
        with steps of the detected phase that are not about an obstacle the question lacks."""
        p = self.get(phase)
        if not p and not obstacles:
            return []
        limit = max(2, min(4, limit))
        q = set(self.analyzer.query_terms(question))
        wanted = {k: 1.0 / (i + 1) for i, k in enumerate(obstacles)}
        tags = self._tags()
        order = {k: n for n, k in enumerate(self.keys)}

        step_terms = self.__dict__.setdefault("_step_terms", {})

        def relevance(key: str, i: int, step: str) -> float:
            s = self.W_STEP_OBSTACLE * sum(wanted.get(k, 0.0) for k in tags[(key, i)])
            terms = step_terms.get((key, i))
            if terms is None:
                terms = step_terms[(key, i)] = frozenset(self.analyzer.query_terms(step))
            s += self.W_STEP_WORD * len(q & terms)
            return s

        scored: list[tuple[float, str, int]] = []
        for ph in self.phases:
            for i, step in enumerate(ph.steps):
                rel = relevance(ph.key, i, step)
                if rel <= 0:
                    continue
                about_question = bool(tags[(ph.key, i)] & set(wanted))
                if ph.key != (p.key if p else None) and not about_question:
                    # Another phase's step on shared words alone is too loose a link.
                    continue
                bonus = self.W_STEP_PHASE if p and ph.key == p.key else 0.0
                scored.append((rel + bonus, ph.key, i))
        scored.sort(key=lambda x: (-x[0], order[x[1]], x[2]))
        chosen = [(key, i) for _, key, i in scored[:limit]]
        if p and len(chosen) < 2:
            # Top up from the detected phase, in its order. When the question has obstacles,
            # skip steps about one it does not have: they would answer another question.
            for i in range(len(p.steps)):
                if len(chosen) >= 2:
                    break
                off_topic = wanted and (tags[(p.key, i)] - set(wanted))
                if (p.key, i) in chosen or off_topic:
                    continue
                chosen.append((p.key, i))
        chosen.sort(key=lambda x: (order[x[0]], x[1]))
        return [self._step_text(key, i, language) for key, i in chosen]

    def _step_text(self, key: str, i: int, language: str) -> str:
        p = self.get(key)
        steps = p.steps if p else []
        if language == "en" and p and i < len(p.steps_en):
            return p.steps_en[i]
        return steps[i]

    def has_language(self, language: str) -> bool:
        """Whether the plan's fixed texts exist in ``language`` (Dutch always does)."""
        if language != "en":
            return True
        return bool(self.phases) and all(p.name_en and p.steps_en for p in self.phases)

    #: Steps of the detected phase shown in a start question's overview (phases.yaml lists
    #: five per phase; all of them, since they are the phase's own plan).
    OVERVIEW_STEPS = 5

    def overview(self, language: str = "nl", phase: str | None = None) -> str:
        """The step plan for a start question.

        With a detected ``phase``: that phase with its purpose and first steps, and one line
        naming the other phases. A new user reads where they are and what to do first, not
        five phases with ten steps before the answer. Without a phase, every phase with its
        purpose (no steps), so the user can see where they are."""
        en = language == "en"
        p = self.get(phase)
        names = [_in(x, "name", language) or x.key for x in self.phases]
        if p is None:
            lines = [
                f"{i}. {name}" + (f": {s}." if (s := self._purpose(x, language)) else "")
                for i, (x, name) in enumerate(zip(self.phases, names, strict=True), start=1)
            ]
            head = (
                "The scaling step plan has these phases"
                + (":" if self.has_language("en") else " (the steps are in Dutch):")
                if en
                else "Het stappenplan voor opschalen heeft deze fasen:"
            )
            tail = (
                "Start with the first phase unless you have already done it."
                if en
                else "Begin bij de eerste fase, tenzij je die al hebt doorlopen."
            )
            return "\n".join([head, *lines, tail])
        at = self.keys.index(p.key) + 1
        name = names[at - 1]
        purpose = self._purpose(p, language)
        if en:
            head = (
                f"Your question seems to sit in phase {at} of {len(self.phases)} of the scaling step plan, {name}"
                + (f": {purpose}." if purpose else ".")
            )
            if not self.has_language("en"):
                head += " The steps are in Dutch."
            intro = "Steps in this phase:"
        else:
            head = (
                f"Je vraag lijkt in fase {at} van {len(self.phases)} van het stappenplan voor opschalen te zitten, {name}"
                + (f": {purpose}." if purpose else ".")
            )
            intro = "Stappen in deze fase:"
        steps = [f"- {step}" for step in self.overview_steps(language, p.key)]
        # Names with their number after them: "2. Experimenteren, 3. …" on one line reads as
        # a list flattened into prose.
        rest = [f"{n} ({i})" for i, n in enumerate(names, start=1) if i != at]
        joiner = " and " if en else " en "
        others = ", ".join(rest[:-1]) + joiner + rest[-1] if len(rest) > 1 else "".join(rest)
        tail = (
            f"The other phases of the step plan: {others}."
            if en
            else f"De andere fasen van het stappenplan: {others}."
        )
        return "\n".join([head, intro, *steps, tail])

    def overview_steps(self, language: str = "nl", phase: str | None = None) -> list[str]:
        """The steps :meth:`overview` lists for ``phase`` (none without a phase)."""
        p = self.get(phase)
        if p is None:
            return []
        return [
            self._step_text(p.key, j, language)
            for j in range(min(self.OVERVIEW_STEPS, len(p.steps)))
        ]

    @staticmethod
    def _purpose(p: Phase, language: str) -> str:
        desc = (_in(p, "description", language) or "").strip()
        return re.split(r"(?<=[.!?])\s+", desc)[0].rstrip(".") if desc else ""


def _in(item: Phase, field: str, language: str):
    """``item.<field>`` in ``language``: the ``_en`` variant for English when present."""
    english = getattr(item, f"{field}_en", None) if language == "en" else None
    return english or getattr(item, field, None)
