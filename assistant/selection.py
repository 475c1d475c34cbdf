"""Query-focused selection of evidence units.

Every unit of the top documents (assistant/units.py) is scored against the question; the
answerers (extractive and generative) get the best few units per document instead of raw chunks.

The score adds up what a careful reader would look for:

- **coverage**: the share of the question's content words the unit contains, weighted by rarity
  in the corpus (a rare word like "RegioRit" says more than "gemeente"), its heading counting a
  little too;
- **the document's rank** in retrieval, relative to the best document;
- **the retriever's own view**: units inside the chunks the retriever ranked best get a bonus;
- **the asked-for fact**: a question asking "hoeveel", "hoe lang", "wanneer" or "wie" wants a
  number, a duration, a date or an actor. A unit that states one wins over a generally related
  one; a number right before the word the question counts ("elf van de vijftien gemeenten" for
  "met hoeveel gemeenten") wins most;
- **the asked-for kind**: a question about pitfalls prefers the pitfalls, a "hoe" question
  steps.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .glossary import Glossary, _stems
from .text import Analyzer, detect_language, fold, words
from .units import Unit

_NUMBER_WORDS = {
    "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien", "elf",
    "twaalf", "dertien", "veertien", "vijftien", "zestien", "twintig", "dertig", "veertig",
    "vijftig", "honderd", "duizend", "miljoen", "anderhalf", "half", "dubbel", "helft",
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "fifteen", "twenty", "hundred", "thousand", "million", "dozen",
}  # fmt: skip
_STRONG_NUMBER_WORDS = _NUMBER_WORDS - {"een", "one", "half"}
_DURATION_UNITS = re.compile(
    r"\b(?:dag|dagen|week|weken|maand|maanden|jaar|jaren|kwartaal|uur|uren|minuten|"
    r"days?|weeks?|months?|years?|hours?|minutes?|quarters?)\b"
)
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_MONTHS = re.compile(
    r"\b(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
    r"december|january|february|march|june|july|august|october)\b"
)
# "Wanneer moet ik beginnen?" is answered by a moment in the work ("al in de verkenning"), not
# by the year of somebody's pilot; a year answers a question about the past or about the year.
_MOMENTS = re.compile(
    r"\b(?:voorjaar|najaar|zomer|winter|spring|autumn|summer|zo vroeg|vroeg in|"
    r"al tijdens|aan het begin|bij de start|vanaf de|uiterlijk|halverwege|early|at the start|"
    r"from the start|at the latest|halfway|in de verkenning|in de eerste weken?|"
    r"during (?:the )?exploration|in the first weeks?)\b"
)
_ACTORS = re.compile(
    r"\b(?:gemeente|provincie|ministerie|waterschap|afdeling|team|leverancier|inkoper|"
    r"adviseur|manager|eigenaar|bestuurder|wethouder|cio|functionaris|officer|directeur|"
    r"municipality|ministry|department|supplier|owner|advisor|adviser)\w*"
)

# Question focus: what kind of fact the question asks for (folded text).
_FOCUS = {
    "number": re.compile(
        r"\b(?:hoeveel|how (?:many|much)|wat kost|wat kostte|welk bedrag|what does it cost|"
        r"hoe groot|hoe hoog|what share|welk percentage)\b"
    ),
    "duration": re.compile(r"\b(?:hoe lang|how long|doorlooptijd|duurt|duurde|took|take)\b"),
    # "wanneer" and "when" ask only where they open the question or a clause of it; elsewhere
    # they join two clauses ("Who owns the data when a supplier installs the sensors?").
    "when": re.compile(
        r"(?:^|[.?!,;:]\s+|\b(?:en|and|maar|but)\s+)(?:wanneer|when)\b|"
        r"\b(?:in welk jaar|what year|hoe vroeg|how early|op welk moment|"
        r"at what (?:point|stage|moment))\b"
    ),
    "who": re.compile(
        r"\b(?:wie|who|welke (?:partij|partijen|organisatie|rol)|which (?:party|organisation|role))\b"
    ),
    "year": re.compile(
        r"\b(?:in welk jaar|what year|when (?:did|was|were)|wanneer (?:begon|startte|ging|kwam|"
        r"was|werd|waren|werden|stopte|besloot))\b"
    ),
    "how": re.compile(
        r"\b(?:hoe|how|stappen|steps|aanpak|approach|wat moet ik|what should|wat kan ik|what can i)\b"
    ),
    "pitfalls": re.compile(
        r"\b(?:valkuil\w*|fout\w*|mis|misgaan|misgegaan|misging|risico\w*|let op|pitfall\w*|"
        r"mistake\w*|wrong|avoid|voorkom\w*|vermijd\w*|op letten|aandachtspunt\w*|"
        r"watch out|look out|careful)\b"
    ),
    "example": re.compile(
        r"\b(?:voorbeeld\w*|example\w*|andere (?:gemeenten|organisaties)|others|other "
        r"(?:municipalities|organisations)|ervaring\w*|experience\w*|praktijk)"
    ),
    "result": re.compile(
        r"\b(?:resulta\w*|opgeleverd|opbrengst\w*|effect\w*|outcome\w*|bespaard|besparing|"
        r"saved|savings|wat leverde|what did .* deliver)"
    ),
}
_KIND_FOR_FOCUS = {
    "pitfalls": {"pitfalls"},
    "how": {"steps", "lessons"},
    "example": {"example"},
    "result": {"result"},
}


#: The focuses a unit answers by stating a fact (``states_fact``), not by being of a kind.
FACT_FOCUSES = frozenset({"number", "duration", "when", "year", "who"})


def question_focus(question: str) -> set[str]:
    """The kinds of fact a question asks for (``number``, ``duration``, ``how``…)."""
    q = fold(question)
    found = {name for name, rx in _FOCUS.items() if rx.search(q)}
    if "year" in found:
        found.discard("when")
    if found & (FACT_FOCUSES - {"who"}):
        # "hoe lang", "hoeveel": the "hoe" is not a request for steps.
        found.discard("how")
    return found


# "Wat is een experimenteerbepaling?", "What is publiccode.yml?": the question asks what a
# term means. The term is the words after the opening up to "en"/"and", a comma or the end.
_DEFINITION = re.compile(
    r"^\s*(?:wat\s+(?:is|zijn|betekent|betekenen)|what\s+(?:is|are|does))\s+"
    r"(?:een\s+|de\s+|het\s+|a\s+|an\s+|the\s+)?"
    r"(?P<term>[^\s?,]+(?:\s+[^\s?,]+){0,2}?)\s*(?:\?|,|\s+(?:en|and|mean|voor|precies)\b|$)",
    re.I,
)
#: Openings that ask for something else than a meaning ("Wat is het verschil …", "Wat is er …").
_NOT_A_TERM = frozenset(["er", "dat", "dit", "there", "verschil", "difference"])


def defined_term(question: str) -> str | None:
    """The term a "what is X?" question asks to explain, or None."""
    m = _DEFINITION.match(question or "")
    if not m:
        return None
    term = m.group("term").strip(" .")
    low = term.lower()
    if low.split()[0] in _NOT_A_TERM:
        return None
    return term


def defines(sentence: str, term_stems: frozenset[str], stem) -> bool:
    """Whether a sentence says what the term is: the term among its first words, then "is",
    "zijn", "betekent", "houdt in", "is a", "means" …, a colon or an apposition ("Het
    innovatiepartnerschap, een procedure uit de Aanbestedingswet …"); or a label that is the
    term ("Innovatiepartnerschap. Een procedure …")."""
    text = fold(sentence)
    # A word ends on a letter or digit: "innovatiepartnerschap." leaves its full stop behind.
    spans = list(re.finditer(r"\w(?:[\w.-]*\w)?", text))[:4]
    at = next((m for m in spans if any(stem(w) in term_stems for w in words(m.group(0)))), None)
    if at is None:
        return False
    rest = text[at.end() :]
    return bool(
        re.match(r"\s*(?:\w+\s+)?(?:is|zijn|betekent|houdt|staat voor|are|means|refers)\b", rest)
        or re.match(r"\s*[,:.]\s+\S", rest)
    )


def _counted_word(question: str) -> str | None:
    """The noun a counting question asks about ("hoeveel gemeenten" → "gemeenten")."""
    toks = words(question)
    for i, t in enumerate(toks):
        if t == "hoeveel" or (t == "many" and i and toks[i - 1] == "how"):
            for nxt in toks[i + 1 : i + 3]:
                if len(nxt) >= 3:
                    return nxt
    return None


def states_fact(text: str, focus: str) -> bool:
    t = fold(text)
    toks = set(words(t))
    if focus == "number":
        return bool(_DIGIT.search(t)) or bool(toks & _STRONG_NUMBER_WORDS)
    if focus == "duration":
        return bool(_DURATION_UNITS.search(t)) and (
            bool(_DIGIT.search(t)) or bool(toks & _NUMBER_WORDS)
        )
    if focus == "when":
        return bool(_MOMENTS.search(t))
    if focus == "year":
        return bool(_YEAR.search(t) or _MONTHS.search(t))
    if focus == "who":
        return bool(_ACTORS.search(t))
    return False


def counts(text: str, noun_stem: str, stem) -> set[str]:
    """Numbers within four words before the counted noun ("elf van de vijftien gemeenten")."""
    toks = words(text)
    found: set[str] = set()
    for i, t in enumerate(toks):
        if stem(t) != noun_stem:
            continue
        before = toks[max(0, i - 4) : i]
        found |= {b for b in before if _DIGIT.search(b) or b in _STRONG_NUMBER_WORDS}
    return found


@dataclass
class ScoredUnit:
    unit: Unit
    score: float
    coverage: float
    #: The facts of the question's focus this unit states.
    facts: set[str] = field(default_factory=set)
    antecedent: Unit | None = None
    #: For "what is X?": the sentence (or list item) that says what X is.
    defining: int | None = None


class Selector:
    """Scores the units of retrieved documents against a question."""

    W_COVERAGE = 1.0
    W_SECTION = 0.5
    W_HEADING = 0.3
    W_DOC = 0.6
    W_CHUNK = 1.0
    W_FACT = 0.35
    W_COUNTED = 0.6
    W_KIND = 0.3
    W_DEFINES = 0.6

    def __init__(self, analyzer: Analyzer, glossary: Glossary | None = None) -> None:
        self.analyzer = analyzer
        #: English → Dutch domain terms: an English question's words also count where a Dutch
        #: unit uses their translation, as they do in retrieval and in abstention's coverage.
        self.glossary = glossary
        self._terms: dict[tuple, frozenset[str]] = {}

    def _unit_terms(self, unit: Unit, lang: str) -> frozenset[str]:
        key = (unit.doc_id, unit.ordinal)
        hit = self._terms.get(key)
        if hit is None:
            hit = frozenset(self.analyzer.terms(unit.plain(), lang))
            if len(self._terms) > 50_000:
                self._terms.clear()
            self._terms[key] = hit
        return hit

    def _heading_terms(self, heading: str, lang: str) -> frozenset[str]:
        key = ("#heading", heading, lang)
        hit = self._terms.get(key)
        if hit is None:
            hit = frozenset(self.analyzer.terms(heading, lang)) if heading else frozenset()
            self._terms[key] = hit
        return hit

    def query_words(self, question: str) -> list[tuple[frozenset[str], float]]:
        """Each content word of the question as (its stems, its rarity weight)."""
        vocab = self.analyzer.vocab
        dutch = self._translations(question)
        out = []
        for w in dict.fromkeys(self.analyzer.content_words(question)):
            stems = frozenset(self.analyzer.query_terms(w))
            if stems and w in dutch:
                stems |= frozenset(self.analyzer.query_terms(" ".join(dutch[w])))
            if not stems:
                continue
            # A translated word is as rare as the concept: "rollout" is rare in a Dutch corpus
            # only because the corpus says "uitrol", and would otherwise make an English unit
            # that happens to use it outweigh the Dutch ones on the question's real subject.
            count = max([vocab.get(w, 0), *(vocab.get(d, 0) for d in dutch.get(w, ()))])
            out.append((stems, 1.0 / math.log(2.0 + count) if count else 0.5))
        return out

    def _translations(self, question: str) -> dict[str, list[str]]:
        """For an English question: each word → the Dutch words of the glossary phrases it is
        part of ("hand over" → overdracht for both "hand" and "over"), longest phrase first."""
        if self.glossary is None or not self.glossary.entries or detect_language(question) != "en":
            return {}
        toks = words(question.replace("-", " "))
        keys = _stems(" ".join(toks))
        if len(keys) != len(toks):
            return {}
        longest = max(len(k) for k in self.glossary.entries)
        used = [False] * len(toks)
        out: dict[str, list[str]] = {}
        for n in range(min(longest, len(toks)), 0, -1):
            for i in range(len(toks) - n + 1):
                if any(used[i : i + n]):
                    continue
                nl = self.glossary.entries.get(keys[i : i + n])
                if nl is None:
                    continue
                used[i : i + n] = [True] * n
                for t in toks[i : i + n]:
                    out.setdefault(t, []).extend(nl)
        return out

    def score(
        self,
        question: str,
        units: list[Unit],
        *,
        language: str,
        doc_rel: float,
        headline: str = "",
        chunk_scores: dict[str, float] | None = None,
        qwords: list[tuple[frozenset[str], float]] | None = None,
        focus: set[str] | None = None,
    ) -> list[ScoredUnit]:
        """Scored units of one document (``doc_rel`` in [0, 1]: 1 for the best document).

        ``headline`` is the document's title and summary: when it counts the asked noun
        ("kostendeling met elf gemeenten"), the unit that gives the same count states the
        document's own answer to the question."""
        qwords = self.query_words(question) if qwords is None else qwords
        focus = question_focus(question) if focus is None else focus
        total = sum(w for _, w in qwords) or 1.0
        counted = _counted_word(question) if "number" in focus else None
        term = defined_term(question)
        term_stems = frozenset(self.analyzer.terms(term, language)) if term else frozenset()
        stem = self.analyzer.terms
        counted_stem = next(iter(stem(counted, language)), None) if counted else None
        chunk_scores = chunk_scores or {}

        def stem1(t: str) -> str:
            return next(iter(stem(t, language)), t)

        headline_counts = counts(headline, counted_stem, stem1) if counted_stem else set()
        top_chunk = max(chunk_scores.values(), default=0.0)
        out = []
        asked_facts = focus & FACT_FOCUSES
        by_ordinal = {u.ordinal: u for u in units}
        # A unit's section says what it is about even when the unit itself does not repeat it
        # ("Dat hielp: elf van de vijftien gemeenten tekenden" under "kostendelingsmodel").
        section_terms: dict[str, set[str]] = {}
        for u in units:
            section_terms.setdefault(u.heading, set()).update(self._unit_terms(u, language))
        for u in units:
            if not u.plain() or (not u.items and u.text.rstrip().endswith(":")):
                continue  # a lead-in whose table or list did not survive
            terms = self._unit_terms(u, language)
            head = self._heading_terms(u.last_heading, language)
            covered = sum(w for stems, w in qwords if stems & terms) / total
            in_head = sum(w for stems, w in qwords if stems & head) / total
            in_section = sum(w for stems, w in qwords if stems & section_terms[u.heading]) / total
            best_chunk = max((chunk_scores.get(c, 0.0) for c in u.chunk_ids), default=0.0)
            chunk_part = best_chunk / top_chunk if top_chunk > 0 else 0.0
            facts = {f for f in asked_facts if states_fact(u.plain(), f)}
            s = (
                self.W_COVERAGE * covered
                + self.W_SECTION * in_section
                + self.W_HEADING * in_head
                + self.W_CHUNK * max(0.0, chunk_part)
                + self.W_FACT * len(facts)
            )
            defining = None
            if term_stems:
                # A list defines the term in one of its items; prose in one of its sentences.
                parts = u.items if u.items else u.sentences()
                defining = next(
                    (i for i, x in enumerate(parts) if defines(x, term_stems, stem1)), None
                )
                if defining is not None:
                    s += self.W_DEFINES
                    facts.add("definition")
            found = counts(u.plain(), counted_stem, stem1) if counted_stem else set()
            if found:
                s += self.W_COUNTED * (2 if found & headline_counts else 1)
                facts.add("counted")
            if any(u.kind in _KIND_FOR_FOCUS.get(f, ()) for f in focus):
                s += self.W_KIND
            # A unit in a marginal document is less likely to be what the asker means, however
            # many of the question's words it shares.
            s *= 1.0 - self.W_DOC + self.W_DOC * doc_rel
            ante = by_ordinal.get(u.antecedent) if u.antecedent is not None else None
            out.append(ScoredUnit(u, round(s, 4), round(covered, 4), facts, ante, defining))
        out.sort(key=lambda x: -x.score)
        return out
