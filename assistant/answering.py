"""Answerers turn selected evidence units into a cited, structured answer.

The default, :class:`ExtractiveAnswerer`, needs no model. It composes from the evidence units
(assistant/units.py, chosen per question by assistant/selection.py):

1. a **lead** of one to three sentences from the unit that best answers the question, plus at
   most two further units that add to it (about 120–220 words in all);
2. then only the sections that apply, each a Markdown list under a label line of its own:
   "Wat je kunt doen" (steps from guides and lessons), "Zo deden anderen het" (cases, one line
   each, from the document's summary), "Let op" (pitfalls, never offered as advice).

For a start question ("Waar begin ik?") the lead, the paragraphs and the steps come from guides
and lessons only, never from a case or an example (see ``ADVICE_TYPES``, ``STORY_KINDS``).

Each ``[n]`` sits on the unit it came from, and only documents that contribute text are cited.
A generative answerer implements the same Protocol, gets the same units, writes the same
sections, and falls back to this one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from .crosslingual import sources_line
from .guidance import is_start_question
from .knowledge import IndexedDoc
from .messages import message
from .models import Citation, Turn
from .retrieval import LoadedIndex, Retrieval
from .selection import ScoredUnit, Selector, question_focus, states_fact
from .text import Analyzer, split_sentences, words
from .units import UnitCache, build_units, points_back

#: Section labels, per language. A label is a line of its own ending in ":"; channels render it
#: as a heading (see assistant/markup.py).
SECTIONS = {
    "nl": {"steps": "Wat je kunt doen", "cases": "Zo deden anderen het", "pitfalls": "Let op"},
    "en": {"steps": "What you can do", "cases": "How others did it", "pitfalls": "Watch out"},
}

#: "1. " opening a paragraph that is one of a numbered series in its source.
_SERIES_NUMBER = re.compile(r"^\d{1,2}\.\s+(?=[^\W\d])")

#: Characters that open a quotation.
_QUOTES = frozenset("\"'‘“„«")

#: Word budget before the sections.
LEAD_MAX_WORDS = 90
LEAD_MAX_SENTENCES = 3
BODY_MAX_WORDS = 220
#: The lead and up to three paragraphs that add to it, within BODY_MAX_WORDS.
MAX_PARAGRAPHS = 4
MAX_ITEMS = 6
MAX_PITFALLS = 4
MAX_CASES = 2
#: A unit that scores at least this share of the best one may be preferred to it: a list over a
#: paragraph, the steps of the source the answer quotes over another's.
NEAR = 0.85

#: Document types whose text is general advice. A case is one organisation's story, and a unit
#: of kind ``example`` or ``result`` tells one in any document ("Bij Waterschap X testte …").
ADVICE_TYPES = ("guide", "lesson")
STORY_KINDS = ("example", "result")
#: A start question's lead is advice scoring at least this share of the best unit; without such a
#: unit the answer opens with its steps (or, with no steps either, as any other question).
ADVICE_LEAD_SHARE = 0.5


@dataclass
class Evidence:
    """One numbered source offered to an answerer, with its selected units best first."""

    n: int
    doc_id: str
    title: str
    type: str
    url: str | None
    language: str
    score: float
    passages: list[tuple[str, str, int | None]]  # (text, heading, page): the units as text
    units: list[ScoredUnit] = field(default_factory=list)
    summary: str | None = None
    organisation: str | None = None
    #: Relevance of the document relative to the best one, in [0, 1].
    rel: float = 1.0

    def __post_init__(self) -> None:
        if not self.units and self.passages:
            # Built by hand (tests, callers of the old shape): every passage becomes units.
            from .index import ChunkRecord

            chunks = [
                ChunkRecord(f"{self.doc_id}-{i}", self.doc_id, t, h or "", p, i)
                for i, (t, h, p) in enumerate(self.passages)
            ]
            self.units = [
                ScoredUnit(u, 1.0 - 0.01 * u.ordinal, 1.0)
                for u in build_units(self.doc_id, chunks, self.type, self.title)
            ]

    def map_text(self, fn: Callable[[str], str]) -> Evidence:
        """A copy with every text (title, passages, units) passed through ``fn``."""

        def unit(u):
            return replace(
                u,
                text=fn(u.text) if u.text else u.text,
                items=[fn(i) for i in u.items],
                heading=fn(u.heading) if u.heading else u.heading,
            )

        return replace(
            self,
            title=fn(self.title) or self.title,
            summary=fn(self.summary) if self.summary else self.summary,
            passages=[(fn(t) or t, fn(h) if h else h, pg) for t, h, pg in self.passages],
            units=[
                replace(
                    su,
                    unit=unit(su.unit),
                    antecedent=unit(su.antecedent) if su.antecedent else None,
                )
                for su in self.units
            ],
        )


@dataclass
class Draft:
    text: str
    citations: list[Citation]
    abstained: bool = False
    answerer: str = "extractive"
    extra: dict = field(default_factory=dict)


@runtime_checkable
class Answerer(Protocol):
    """What the service needs from an answerer. ``stream`` yields text deltas, then one final
    :class:`Draft`; ``condense`` may rewrite a follow-up into a standalone question (``None``:
    use the heuristic); ``fallback`` is the answerer behind it, or ``None``. ``paragraph``
    writes one checked paragraph of a plan section when ``writes_paragraphs`` says it can
    (``None``: the section keeps its template)."""

    name: str
    fallback: Answerer | None
    writes_paragraphs: bool

    def answer(self, question: str, language: str, evidence: list[Evidence]) -> Draft: ...

    def stream(
        self, question: str, language: str, evidence: list[Evidence]
    ) -> Iterator[str | Draft]: ...

    def condense(self, question: str, history: Sequence[Turn], language: str) -> str | None: ...

    def paragraph(
        self,
        section: str,
        facts: str,
        language: str,
        evidence: list[Evidence],
        fallback: str,
        names: Callable[[str], list[str]] | None = None,
    ) -> Draft | None: ...


def select_evidence(
    index: LoadedIndex,
    units: UnitCache,
    selector: Selector,
    retrieval: Retrieval,
    question: str,
    language: str,
    max_docs: int = 5,
    per_doc: int = 4,
) -> list[Evidence]:
    """The top documents with their best units for this question."""
    hits = retrieval.docs[:max_docs]
    if not hits:
        return []
    top = hits[0].score
    low = min(h.score for h in retrieval.docs[: max(max_docs, 10)])
    span = (top - low) or 1.0
    qwords = selector.query_words(question)
    focus = question_focus(question)
    out = []
    for hit in hits:
        meta = index.docs[hit.doc_id]
        lang = meta.language
        rel = max(0.0, min(1.0, (hit.score - low) / span))
        scored = selector.score(
            question,
            units.of(hit.doc_id),
            language=lang,
            doc_rel=rel,
            headline=f"{meta.title}. {meta.summary or ''}",
            chunk_scores=dict(hit.chunks),
            qwords=qwords,
            focus=focus,
        )[:per_doc]
        out.append(
            _evidence(
                hit,
                meta,
                len(out) + 1,
                lang,
                [(s.unit.markdown(), s.unit.heading, s.unit.page) for s in scored],
                units=scored,
                summary=meta.summary,
                organisation=meta.organisation,
                rel=round(rel, 4),
            )
        )
    return out


def _evidence(hit, meta: IndexedDoc, n: int, language: str, passages: list, **extra) -> Evidence:
    return Evidence(
        n=n,
        doc_id=hit.doc_id,
        title=meta.title,
        type=meta.type,
        url=meta.url,
        language=language,
        score=round(float(hit.score), 4),
        passages=passages,
        **extra,
    )


def gather_evidence(
    index: LoadedIndex, retrieval: Retrieval, max_docs: int = 5, per_doc: int = 2
) -> list[Evidence]:
    """Evidence from the retrieved chunks as they are (for baselines and old callers)."""
    out = []
    for hit in retrieval.docs[:max_docs]:
        meta = index.docs[hit.doc_id]
        passages = []
        for cid, _ in hit.chunks[:per_doc]:
            c = index.chunks[cid]
            passages.append((c.text, c.heading, c.page))
        out.append(_evidence(hit, meta, len(out) + 1, meta.language, passages))
    return out


def snippet(text: str, limit: int = 240) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def citation_for(ev: Evidence, n: int, text: str | None = None) -> Citation:
    body, heading, page = ev.passages[0] if ev.passages else ("", "", None)
    if text is None and ev.units:
        body = ev.units[0].unit.plain()
    return Citation(
        n=n,
        doc_id=ev.doc_id,
        title=ev.title,
        url=ev.url,
        type=ev.type,
        snippet=snippet(text or body),
        score=ev.score,
        heading=heading or None,
        page=page,
    )


def _words(text: str) -> int:
    return len(text.split())


def _end(s: str) -> str:
    s = s.rstrip()
    bare = s.rstrip("\"'”’)")
    return s if bare.endswith((".", "!", "?", ":", ";")) else s + "."


# A sentence that announces what comes next in its source.
_POINTS_AHEAD = re.compile(
    r"\b(?:hieronder|hierna|als volgt|de volgende|below|as follows|the following)\b|:\s*$", re.I
)
_CONNECTIVE = re.compile(r"^[\"'‘“„«]?(?:en|maar|ook|toch|and|but|also|yet)\b", re.I)


def _continues(sentence: str) -> bool:
    """A sentence that carries on from the one before: it opens with "En", "Maar", "And" …, or
    with a quotation mark, the speaker going on ("Dan heb je betaald," zegt Vos. "En …").
    It may end a window, never start one."""
    s = sentence.lstrip()
    return bool(_CONNECTIVE.match(s)) or s[:1] in _QUOTES


def _window(
    sentences: list[str],
    facts_at: int | None,
    max_sentences: int | None,
    max_words: int,
    titled: bool = False,
) -> list[str]:
    """Up to ``max_sentences`` consecutive sentences (``None``: as many as ``max_words`` allow):
    from the start of the paragraph, or, when the asked-for fact comes later, from the sentence
    that states it (or the one before, when it leans on it). Never starting on a sentence that
    points back. With ``titled`` the first sentence is a run-in title: a label that does not
    count as one of the sentences when the window shows it."""

    def limit(start: int) -> int:
        if max_sentences is None:
            return len(sentences)
        return max_sentences + (titled and start == 0)  # the title shows only from the start

    def run(start: int) -> list[str]:
        out: list[str] = []
        for s in sentences[start:]:
            if out and (len(out) >= limit(start) or _words(" ".join(out + [s])) > max_words):
                break
            out.append(s)
        return out

    def closed(out: list[str]) -> list[str]:
        while len(out) > 1 and not _balanced(" ".join(out)):
            out.pop()  # never stop inside a quotation
        return out

    out = closed(run(0))
    # Without a sentence limit the window reaches as far as the words allow from the start.
    reach = len(out) if max_sentences is None else limit(0)
    if facts_at is not None and facts_at >= reach:
        start = facts_at
        while start > 0 and (points_back(sentences[start]) or _continues(sentences[start])):
            start -= 1
        later = closed(run(start))
        # A window that opens inside a quotation would show its closing mark without the
        # opening one, and the words without the speaker: the start is kept then.
        if _balanced(" ".join(later)):
            out = later
    return out


#: A list item's first sentence of at most this many words is its label, not its content.
LABEL_WORDS = 4


def _item(text: str, max_words: int = 32) -> str:
    """A list item kept whole when short; otherwise its first sentences up to ``max_words``."""
    sents = split_sentences(text)
    out: list[str] = []
    for s in sents:
        # A label of a few words ("Zoek systematisch.") says nothing alone: the sentence that
        # says how comes with it, whatever its length.
        labelled = len(out) == 1 and _words(out[0]) <= LABEL_WORDS
        if out and not labelled and _words(" ".join(out + [s])) > max_words:
            break
        out.append(s)
    while len(out) > 1 and not _balanced(" ".join(out)):
        out.pop()  # never end inside a quotation
    short = " ".join(out) if out else text
    return short if _balanced(short) else text


def _balanced(text: str) -> bool:
    """No quotation left open (’ doubles as an apostrophe, so only too few of them count)."""
    return (
        text.count('"') % 2 == 0
        and text.count("“") == text.count("”")
        and text.count("‘") <= text.count("’")
    )


class _Composer:
    """Builds one answer; numbers sources in order of first use."""

    def __init__(
        self, language: str, evidence: list[Evidence], asked: frozenset[str] = frozenset()
    ) -> None:
        self.language = language
        #: The question's stems: which item of a list, which sentence of a case answers it.
        self.asked = asked
        self.numbers: dict[str, int] = {}
        self.snippets: dict[str, str] = {}
        self.by_doc = {ev.doc_id: ev for ev in evidence}

    def mark(self, ev: Evidence, text: str) -> str:
        if ev.doc_id not in self.numbers:
            self.numbers[ev.doc_id] = len(self.numbers) + 1
            self.snippets[ev.doc_id] = text
        return f"[{self.numbers[ev.doc_id]}]"

    def citations(self) -> list[Citation]:
        return [
            citation_for(self.by_doc[d], n, self.snippets[d])
            for d, n in sorted(self.numbers.items(), key=lambda x: x[1])
        ]


class ExtractiveAnswerer:
    """Composes the answer from the evidence units, without a model."""

    name = "extractive"
    fallback = None
    writes_paragraphs = False

    def __init__(self, analyzer: Analyzer | None = None) -> None:
        self.analyzer = analyzer or Analyzer()

    def stream(
        self, question: str, language: str, evidence: list[Evidence]
    ) -> Iterator[str | Draft]:
        # Nothing to stream while composing: the service streams the finished text word by word.
        yield self.answer(question, language, evidence)

    def condense(self, question: str, history: Sequence[Turn], language: str) -> str | None:
        return None

    def paragraph(
        self,
        section: str,
        facts: str,
        language: str,
        evidence: list[Evidence],
        fallback: str,
        names: Callable[[str], list[str]] | None = None,
    ) -> Draft | None:
        # Without a model a plan section is its template; there is nothing to draft.
        return None

    # -- composition ---------------------------------------------------------------------------
    def answer(self, question: str, language: str, evidence: list[Evidence]) -> Draft:
        # "Waar begin ik?" asks for advice to act on: the lead, the paragraphs and the steps
        # come from guides and lessons, not from one organisation's story (a case, an example).
        if is_start_question(question):
            draft = self._compose(question, language, evidence, advice=True)
            if draft is not None:
                return draft
        # Without ``advice`` composition always has something to say (at worst "no answer").
        return self._compose(question, language, evidence, advice=False) or _no_answer(language)

    def _compose(
        self, question: str, language: str, evidence: list[Evidence], advice: bool
    ) -> Draft | None:
        """The answer; ``None`` when ``advice`` leaves nothing to say."""
        lang = "en" if language == "en" else "nl"
        focus = question_focus(question)
        c = _Composer(lang, evidence, frozenset(self.analyzer.query_terms(question)))
        pool = [(ev, su) for ev in evidence for su in ev.units]
        pool.sort(key=lambda x: -x[1].score)
        if not pool:
            return _no_answer(lang)
        used: set[tuple[str, int]] = set()
        used_terms: list[set[str]] = []

        def terms(su: ScoredUnit, ev: Evidence) -> set[str]:
            return set(self.analyzer.terms(su.unit.plain(), ev.language))

        def redundant(t: set[str]) -> bool:
            return any(len(t & u) / max(1, len(t | u)) > 0.5 for u in used_terms)

        advised: set[str] = set()  # documents quoted for what they advise, not for a story

        def take(ev: Evidence, su: ScoredUnit) -> None:
            used.add((ev.doc_id, su.unit.ordinal))
            used_terms.append(terms(su, ev))
            if ev.type != "case" and su.unit.kind not in STORY_KINDS:
                advised.add(ev.doc_id)

        # 1. lead ------------------------------------------------------------------------------
        lead_ev, lead_su = self._lead_unit(pool, focus, advice=advice)
        paragraphs: list[str] = []
        sources: list[str] = []  # the document of each paragraph
        best = pool[0][1].score
        if lead_su is not None:
            paragraphs.append(self._prose(c, lead_ev, lead_su, LEAD_MAX_WORDS))
            sources.append(lead_ev.doc_id)
            take(lead_ev, lead_su)
        body_words = _words(" ".join(paragraphs))
        # 2. what adds to it: up to three units, lists kept whole -------------------------------
        asks_story = bool(focus & {"example", "result"})
        for ev, su in pool:
            if len(paragraphs) >= MAX_PARAGRAPHS or body_words >= 160:
                break
            u = su.unit
            if (ev.doc_id, u.ordinal) in used or u.kind in ("pitfalls", "steps", "lessons"):
                continue
            # A unit from a source already cited adds facts without adding a source.
            floor = 0.4 if ev.doc_id in c.numbers else 0.7
            # A source the answer already quotes is known to be on topic: its next paragraph
            # need not repeat the question's words ("En toen kwam het geld …" in the case).
            min_cover = 0.0 if ev.doc_id in c.numbers else 0.25
            if su.score < floor * best or su.coverage < min_cover:
                continue
            if ev.type == "case" and ev.doc_id not in c.numbers:
                continue  # a case joins the text only when it leads; otherwise one line below
            if u.kind in STORY_KINDS and ev.doc_id not in c.numbers and not asks_story:
                continue  # so does another source's example, unless the question asks for one
            if advice and not _is_advice(ev, su):
                continue
            if not self._usable(su) or redundant(terms(su, ev)):
                continue
            # The answer may already show the sentence this paragraph leans on (the lead's last).
            last = su.antecedent.last_sentence if su.antecedent is not None else ""
            shown = bool(last) and _shown_in(paragraphs, last)
            if _leans_on_a_chain(su) and not shown:
                continue  # "She also followed …" only right after the sentence that says who
            if u.last_sentence and _shown_in(paragraphs, u.last_sentence):
                # Its last sentence already stands in front of the paragraph that leans on it:
                # only the sentences before it add anything.
                piece = _unshown_start(c, ev, su, paragraphs)
                if piece is None:
                    continue
            else:
                piece = self._prose(c, ev, su, 70, antecedent_shown=shown, max_sentences=None)
            if body_words + _words(piece) > BODY_MAX_WORDS:
                continue
            # Paragraphs of one source stay together, in the order the answer first cites them.
            at = max((i for i, d in enumerate(sources) if d == ev.doc_id), default=None)
            at = len(paragraphs) if at is None else at + 1
            paragraphs.insert(at, piece)
            sources.insert(at, ev.doc_id)
            body_words += _words(piece)
            take(ev, su)
        # The lead keeps to three sentences; where room is left, the rest of its paragraph
        # follows it, in the source's order ("… Die kostte €14.000 in plaats van een app.").
        rest = self._rest_of(c, lead_ev, lead_su, paragraphs) if lead_su is not None else None
        if (
            rest is not None
            and len(paragraphs) < MAX_PARAGRAPHS
            and body_words + _words(rest) <= BODY_MAX_WORDS
        ):
            paragraphs.insert(1, rest)
            sources.insert(1, lead_ev.doc_id)

        sections: list[str] = []
        labels = SECTIONS[lang]
        # 3. what you can do --------------------------------------------------------------------
        # When no steps share the question's words, those of a source the answer already cites
        # may come without: "Doe dit morgen" under the lesson that answers is that lesson's
        # advice, however it is worded ("Zoek de datum op …" for a question about geld).
        steps = self._pick(
            pool,
            used,
            ("steps", "lessons"),
            0.55 * best,
            0.2,
            types=ADVICE_TYPES if advice else ("guide", "lesson", "blog"),
            cited=set(c.numbers),
            strict=advice,
            prefer=frozenset(advised),
        )
        if steps is not None and not steps[1].unit.is_list and steps[0].type in ("blog", "case"):
            steps = None  # a blogger's paragraph is an opinion, a case's paragraph its story
        if steps is not None:
            ev, su = steps
            sections.append(f"{labels['steps']}:\n" + self._items(c, ev, su, MAX_ITEMS))
            take(ev, su)
        # 4. how others did it ------------------------------------------------------------------
        lines = []
        for ev in evidence:
            if len(lines) >= MAX_CASES:
                break
            if ev.type != "case" or ev.doc_id in c.numbers or not ev.units:
                continue
            top = ev.units[0]
            if ev.rel < 0.5 or top.coverage < 0.3 or top.score < 0.55 * best:
                continue
            line = self._case_line(c, ev)
            if line:
                lines.append(line)
        if lines:
            sections.append(f"{labels['cases']}:\n" + "\n".join(lines))
        # 5. watch out --------------------------------------------------------------------------
        floor = 0.45 * best if "pitfalls" in focus else 0.6 * best
        pit = self._pick(pool, used, ("pitfalls",), floor, 0.15 if "pitfalls" in focus else 0.25)
        if pit is not None:
            ev, su = pit
            sections.append(f"{labels['pitfalls']}:\n" + self._items(c, ev, su, MAX_PITFALLS))
            take(ev, su)

        if advice and not paragraphs and steps is None:
            return None  # no advice to open with or to act on
        if not paragraphs and sections:
            # Only sections apply (a pure checklist question): a one-line lead names the source.
            ev = self.by_number(c, 1)
            lead = (
                f"De bron die het best past is ‘{ev.title}’."
                if lang == "nl"
                else f"The best-matching source is ‘{ev.title}’."
            )
            paragraphs.append(lead)
        note = sources_line(lang, [c.by_doc[d].language for d in c.numbers])
        text = "\n\n".join(([note] if note else []) + paragraphs + sections)
        return Draft(text=text, citations=c.citations())

    @staticmethod
    def by_number(c: _Composer, n: int) -> Evidence:
        doc = next(d for d, k in c.numbers.items() if k == n)
        return c.by_doc[doc]

    @staticmethod
    def _usable(su: ScoredUnit) -> bool:
        u = su.unit
        if u.refers_back and (su.antecedent is None or su.antecedent.is_list):
            return False
        if not _balanced(u.text):
            return False  # one paragraph of a quotation that runs over several
        return bool(u.text or u.items)

    def _lead_unit(self, pool, focus: set[str], advice: bool = False):
        """The best prose unit; a pitfall only when the question asks what goes wrong. With
        ``advice``, only a guide's or lesson's own statement that shares the question's words
        and scores at least ``ADVICE_LEAD_SHARE`` of the best unit."""
        quoted = None
        best = pool[0][1].score if pool else 0.0
        for ev, su in pool:
            u = su.unit
            if advice and (
                not _is_advice(ev, su) or su.score < ADVICE_LEAD_SHARE * best or su.coverage < 0.25
            ):
                continue
            if u.is_list and not u.text:
                continue
            if su.coverage == 0.0:
                # A paragraph that shares no word with the question scores only through its
                # neighbours' passage ("Samenwerken in de helix is geen doel op zich" under
                # the list that does answer): it cannot be the answer.
                continue
            if (u.kind == "pitfalls" and "pitfalls" not in focus) or not self._usable(su):
                continue
            if _leans_on_a_chain(su):
                continue
            if len(u.text.split()) < 6:
                continue
            if u.text.lstrip()[:1] in _QUOTES:
                # A quotation opens with a speaker the reader has not met ("‘When I started …,’
                # Rossi says"); it may follow the lead, not be it.
                quoted = quoted or (ev, su)
                continue
            return ev, su
        return quoted or (None, None)

    def _prose(
        self,
        c: _Composer,
        ev: Evidence,
        su: ScoredUnit,
        max_words: int,
        antecedent_shown: bool = False,
        max_sentences: int | None = LEAD_MAX_SENTENCES,
    ) -> str:
        u = su.unit
        if u.is_list and not _lone_item(u):
            return self._list(c, ev, su)
        sents, chosen = _shown(su, max_sentences, max_words)
        # "**1. Kies minder en beter.** …" is one numbered paragraph of a series: alone in the
        # answer the number would read as a list of one item.
        text = _SERIES_NUMBER.sub("", " ".join(chosen), count=1)
        if (
            u.refers_back
            and su.antecedent is not None
            and not antecedent_shown
            and chosen
            and chosen[0] == sents[0]
        ):
            # The antecedent's last sentence goes in front, unless the answer shows it already.
            text = " ".join(x for x in (su.antecedent.last_sentence, text) if x)
        return f"{_end(text)} {c.mark(ev, text)}"

    def _rest_of(
        self, c: _Composer, ev: Evidence, su: ScoredUnit, paragraphs: list[str]
    ) -> str | None:
        """The sentences of the lead's unit after those the lead shows from its start, up to 70
        words and up to one that another paragraph already shows; None when it was shown whole
        or from a later sentence."""
        if su.unit.is_list and not _lone_item(su.unit):
            return None
        sents, chosen = _shown(su, LEAD_MAX_SENTENCES, LEAD_MAX_WORDS)
        k = len(chosen)
        if not chosen or chosen[0] != sents[0] or k >= len(sents):
            return None
        rest = _window(_until_shown(sents[k:], paragraphs), None, None, 70)
        while rest and _POINTS_AHEAD.search(rest[-1]):
            rest.pop()  # "… set up the approach below": what it announces is not shown
        text = " ".join(rest)
        return f"{_end(text)} {c.mark(ev, text)}" if text else None

    def _list(self, c: _Composer, ev: Evidence, su: ScoredUnit) -> str:
        u = su.unit
        head = _end(u.text) if u.text else ""
        items = self._items(c, ev, su, MAX_ITEMS)
        return f"{head}\n{items}" if head else items

    def _items(self, c: _Composer, ev: Evidence, su: ScoredUnit, limit: int) -> str:
        """A list unit as list lines, the source marker on the last one."""
        u = su.unit
        if not u.items:
            # Prose stays prose: a paragraph under the label, never cut into fake list items.
            return self._prose(c, ev, su, 70)
        raw = [i for i in u.items if i.strip()][:limit]
        answering = self._answering_item(c, raw, ev.language)
        # The item that answers the question keeps the words that say how; the others stay short.
        items = [_item(x, 70 if k == answering else 32) for k, x in enumerate(raw)]
        # The marker closes the list, like it closes a paragraph: it supports the whole unit.
        marker = c.mark(ev, u.plain())
        out = []
        for i, item in enumerate(items, start=1):
            bullet = f"{i}." if u.ordered else "-"
            out.append(f"{bullet} {_end(item)}" + (f" {marker}" if i == len(items) else ""))
        return "\n".join(out)

    def _answering_item(self, c: _Composer, items: list[str], language: str) -> int | None:
        """The one item that shares clearly most of the question's words ("Location data. …"
        for "How did they deal with the location data?"), or None."""
        if not c.asked or len(items) < 2:
            return None
        shared = [len(c.asked & set(self.analyzer.terms(x, language))) for x in items]
        ranked = sorted(shared, reverse=True)
        best = shared.index(ranked[0])
        return best if ranked[0] >= 2 and ranked[0] > ranked[1] else None

    def _pick(
        self,
        pool,
        used,
        kinds,
        floor,
        min_coverage,
        types=None,
        cited=frozenset(),
        strict=False,
        prefer=frozenset(),
    ):
        """The best unit of ``kinds`` that clears the bars; a list wins over a paragraph that
        scores at most 15 % better, because steps and pitfalls read best as a list."""

        def candidates(waive: frozenset | set) -> list:
            found = []
            for ev, su in pool:
                u = su.unit
                if u.kind not in kinds or (ev.doc_id, u.ordinal) in used:
                    continue
                if types is not None and ev.type not in types and (strict or u.kind != "lessons"):
                    # A case's "Lessen" may answer how; advice (``strict``) never comes from what
                    # one organisation learnt.
                    continue
                uncovered = su.coverage < min_coverage and ev.doc_id not in waive
                if su.score < floor or uncovered or not self._usable(su):
                    continue
                found.append((ev, su))
            return found

        # Units that share the question's words first; only when there are none, those of a
        # source already cited without that bar.
        found = candidates(frozenset()) or (candidates(cited) if cited else [])
        if not found:
            return None
        # Steps from a source whose advice the answer already quotes (``prefer``) follow on from
        # it; another source's checklist, even one that scores higher, would change the subject.
        own = [x for x in found if x[0].doc_id in prefer]
        if own:
            found = own
        best = found[0]
        if not best[1].unit.is_list:
            lists = [x for x in found if x[1].unit.is_list and x[1].score >= NEAR * best[1].score]
            if lists:
                return lists[0]
        return best

    def _case_line(self, c: _Composer, ev: Evidence) -> str | None:
        """One line for a case: its short title and the sentence of its summary that says most
        about the question (on a tie the later one, which tends to tell how it ended)."""
        short = re.split(r":\s", ev.title, maxsplit=1)[0].strip()
        source = ev.summary or next((s.unit.text for s in ev.units if s.unit.text), "")
        sents = [s for s in split_sentences(source) if _words(s) <= 45] or split_sentences(source)
        if not sents:
            return None
        line = max(
            enumerate(sents),
            key=lambda x: (len(c.asked & set(self.analyzer.terms(x[1], ev.language))), x[0]),
        )[1]
        org = ev.organisation
        org = f" ({org})" if org and org not in short and org not in line else ""
        return f"- {short}{org}: {_end(line)} {c.mark(ev, source)}"


def _lone_item(unit) -> bool:
    """One numbered paragraph of a series in its source ("1. Kies minder en beter. …"), with no
    lead-in: as a list it would read as a list of one item, so it is composed as a paragraph."""
    return unit.is_list and not unit.text and len(unit.items) == 1


def _shown(
    su: ScoredUnit, max_sentences: int | None, max_words: int
) -> tuple[list[str], list[str]]:
    """A prose unit's sentences, and the window of them a paragraph of the answer shows: from
    the start, or from the asked-for fact when it comes later."""
    u = su.unit
    sents = split_sentences(u.items[0]) if _lone_item(u) else u.sentences()
    facts = [f for f in su.facts if f not in ("counted", "definition")]
    facts_at = next((i for i, s in enumerate(sents) if any(states_fact(s, f) for f in facts)), None)
    if facts_at is None and su.defining is not None and not u.items:
        facts_at = su.defining  # "what is X?" starts at the sentence that says what X is
    return sents, _window(sents, facts_at, max_sentences, max_words, titled=u.run_in)


def _no_answer(language: str) -> Draft:
    return Draft(
        text=message("no_answer", "en" if language == "en" else "nl"), citations=[], abstained=True
    )


def _shown_in(paragraphs: list[str], sentence: str) -> bool:
    return any(sentence in p for p in paragraphs)


def _until_shown(sentences: list[str], paragraphs: list[str]) -> list[str]:
    """The sentences up to the first one the answer already shows."""
    return list(itertools.takewhile(lambda s: not _shown_in(paragraphs, s), sentences))


def _unshown_start(
    c: _Composer, ev: Evidence, su: ScoredUnit, paragraphs: list[str], max_words: int = 70
) -> str | None:
    """The sentences of a prose unit before the first one the answer already shows, as a
    paragraph; None when that leaves nothing that stands on its own."""
    u = su.unit
    if u.is_list or u.refers_back:
        return None
    text = " ".join(_window(_until_shown(u.sentences(), paragraphs), None, None, max_words))
    return f"{_end(text)} {c.mark(ev, text)}" if text else None


def _leans_on_a_chain(su: ScoredUnit) -> bool:
    """A unit whose antecedent's last sentence points back too, carries on from the one before
    it ("En voor een kleine leverancier …", a speaker going on) or ends a quotation it did not
    open ('Anders was het nooit goedgekeurd."'): the one sentence put in front of it would need
    another, unless the answer already shows the antecedent just before (never so for the
    lead)."""
    if not su.unit.refers_back or su.antecedent is None:
        return False
    last = su.antecedent.last_sentence
    return bool(last) and (points_back(last) or _continues(last) or not _balanced(last))


def _is_advice(ev: Evidence, su: ScoredUnit) -> bool:
    """A unit of a guide or lesson that states advice, not an example or a result."""
    return ev.type in ADVICE_TYPES and su.unit.kind not in STORY_KINDS


def abstention_text(language: str, nearby: list[Evidence]) -> tuple[str, list[Citation]]:
    text = message("no_answer", language)
    cites = []
    if nearby:
        lines = []
        for i, ev in enumerate(nearby[:3], start=1):
            cites.append(citation_for(ev, i))
            lines.append(f"- {ev.title} [{i}]")
        text += "\n\n" + message("nearby", language) + "\n" + "\n".join(lines)
    return text, cites


__all__ = [
    "ADVICE_TYPES",
    "SECTIONS",
    "Answerer",
    "Draft",
    "Evidence",
    "ExtractiveAnswerer",
    "abstention_text",
    "citation_for",
    "gather_evidence",
    "select_evidence",
    "words",
]
