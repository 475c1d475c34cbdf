"""Checks on a generated answer before a user sees it, and the LLM figures for the eval report.

:func:`check_answer` takes the model's raw text and the numbered sources it was given:

- citation markers are normalised (``[1, 2]`` and ``[bron 1]`` become ``[1][2]`` and ``[1]``)
  and markers naming a source that does not exist are removed;
- every sentence that carries content is checked against the passages it cites (a sentence
  without its own marker borrows the markers of its paragraph): lexically, by the share of its
  content words found there (Dutch and English stems, compound parts), and, only when the
  sentence and its source differ in language (an English answer from Dutch sources) and an
  embedder is given, semantically by the best cosine similarity to a sentence of those passages;
- a web address the sources do not contain is an invented one: the answer is rejected
  (``invented_url``), however well the rest reads;
- the result says whether the text may be shown, and if not, why.

:func:`llm_metrics` summarises many answers for ``opschaal eval``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .answering import Evidence
from .embeddings import profile_of
from .prompts import _EMAIL, _PHONE, NO_ANSWER_SENTENCE, PARAGRAPH_MAX_WORDS
from .text import Analyzer, detect_language, fold, split_sentences, words

#: Share of content sentences that must be supported by their cited passages.
MIN_SUPPORTED = 0.5
#: Share of a sentence's content words that must occur in its cited passages.
MIN_WORD_COVERAGE = 0.5
# The best-sentence cosine that counts as support is the embedder's
# ``EmbedderProfile.support_floor``. Only used across
#: languages (an English sentence citing a Dutch source), where words cannot match: within one
#: language e5 scores unrelated sentences of this corpus 0.82-0.90, no better than chance, while
#: the lexical check separates them. Measured on English paraphrases of Dutch corpus sentences
#: (docs/llm.md): e5 0.88-0.94 supported, 0.76-0.81 unrelated; the English MiniLM 0.06-0.50
#: against at most 0.31, so it rescues only some translations. The hashing fake is not used.
#: Passage sentences compared per cited passage in the semantic check (cost bound).
MAX_PIECES = 6
#: A sentence needs this many content words to be checked; "Kort gezegd:" carries no claim.
MIN_CONTENT_WORDS = 3

_GROUP = re.compile(
    r"\[\s*(?:(?:bron|bronnen|source|sources)\s*:?\s*)?(\d+(?:\s*(?:,|;|en|and|&)\s*\d+)*)\s*\]",
    re.I,
)
_MARKER = re.compile(r"\[(\d+)\]")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+", re.I)
# A marker after the full stop ("… gedaan. [2]") belongs to the sentence before it.
_TRAILING = re.compile(r"([.!?])((?:\s*\[\d+\])+)")

_NO_ANSWER_PATTERNS = [fold(s).rstrip(".") for s in NO_ANSWER_SENTENCE.values()] + [
    "bronnen geven geen antwoord",
    "bronnen bevatten geen antwoord",
    "bronnen beantwoorden deze vraag niet",
    "sources do not contain an answer",
    "sources don't answer",
    "sources do not answer",
]


@dataclass
class Check:
    """The verdict on one generated answer."""

    text: str
    #: Source numbers cited, in order of first use (all exist).
    cited: list[int] = field(default_factory=list)
    markers: int = 0
    invalid_markers: int = 0
    sentences: int = 0
    supported: int = 0
    unsupported_sentences: list[str] = field(default_factory=list)
    #: Web addresses in the answer that no source contains.
    invented_urls: list[str] = field(default_factory=list)
    says_no_answer: bool = False
    #: ``None`` when the text may be shown; otherwise a short reason for the fallback.
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def citation_validity(self) -> float | None:
        """Share of the model's markers that named an existing source."""
        return None if not self.markers else round(1 - self.invalid_markers / self.markers, 4)

    @property
    def supported_ratio(self) -> float | None:
        return None if not self.sentences else round(self.supported / self.sentences, 4)


def _normalise_markers(text: str) -> str:
    def expand(m: re.Match) -> str:
        return "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1)))

    return _GROUP.sub(expand, text)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _url_key(url: str) -> str:
    url = url.rstrip(".,;:!?'\"").lower()
    url = re.sub(r"^https?://", "", url)
    return url.removeprefix("www.").rstrip("/")


def invented_urls(text: str, evidence: Sequence[Evidence]) -> list[str]:
    """Web addresses in ``text`` that appear in none of the sources (text, title or address)."""
    known = {
        _url_key(u)
        for ev in evidence
        for part in (ev.title, ev.url or "", *(p[0] for p in ev.passages))
        for u in _URL.findall(part or "")
    }
    known |= {_url_key(ev.url) for ev in evidence if ev.url}
    return [u.rstrip(".,;:!?'\"") for u in _URL.findall(text) if _url_key(u) not in known]


def says_no_answer(text: str) -> bool:
    folded = re.sub(r"\s+", " ", fold(text))
    return any(p in folded for p in _NO_ANSWER_PATTERNS)


class SupportChecker:
    """Is a sentence backed by given passages? Lexical first, semantic as a second chance."""

    def __init__(self, analyzer: Analyzer | None = None, embedder=None) -> None:
        self.analyzer = analyzer or Analyzer()
        self.embedder = embedder
        self.floor = profile_of(embedder).support_floor if embedder is not None else None
        self._passage_terms: dict[str, set[str]] = {}

    def _terms_of(self, text: str) -> set[str]:
        hit = self._passage_terms.get(text)
        if hit is None:
            # Both stemmers: the answer may be English while the passage is Dutch.
            hit = set(self.analyzer.terms(text, "nl")) | set(self.analyzer.terms(text, "en"))
            hit |= set(words(text))
            self._passage_terms[text] = hit
        return hit

    def content_words(self, sentence: str) -> list[str]:
        return self.analyzer.content_words(_MARKER.sub(" ", sentence))

    def coverage(self, sentence: str, passages: Sequence[tuple[int, str]]) -> float:
        content = self.content_words(sentence)
        if not content:
            return 1.0
        pool: set[str] = set()
        for _, text in passages:
            pool |= self._terms_of(text)
        covered = 0
        for w in content:
            cands = {w, *self.analyzer.query_terms(w)}
            if cands & pool:
                covered += 1
        return covered / len(content)

    def semantic(self, items: Sequence[tuple[str, Sequence[tuple[int, str]]]]) -> list[float]:
        """For each ``(sentence, passages)``: the best cosine to a sentence of those passages.

        One embedding call for the whole answer, and at most :data:`MAX_PIECES` sentences per
        passage (those sharing most words with the sentence, then the first ones): embedding is
        the expensive part of the check. Zeros without a meaningful embedder.
        """
        if self.embedder is None or self.floor is None or not items:
            return [0.0] * len(items)
        piece_index: dict[str, int] = {}
        per_item: list[list[int]] = []
        for sentence, passages in items:
            terms = set(self.analyzer.query_terms(sentence))
            idxs: list[int] = []
            for _, text in passages:
                sents = [s for s in split_sentences(text) if len(s) >= 20]
                ranked = sorted(
                    range(len(sents)),
                    key=lambda i: (-len(terms & set(self.analyzer.query_terms(sents[i]))), i),
                )[:MAX_PIECES]
                for i in ranked:
                    idxs.append(piece_index.setdefault(sents[i], len(piece_index)))
            per_item.append(idxs)
        if not piece_index:
            return [0.0] * len(items)
        texts = [_MARKER.sub("", s) for s, _ in items] + list(piece_index)
        vecs = np.asarray(self.embedder.embed(texts, kind="passage"))
        q, p = vecs[: len(items)], vecs[len(items) :]
        return [float((p[idxs] @ q[i]).max()) if idxs else 0.0 for i, idxs in enumerate(per_item)]


def _sentences_with_markers(text: str) -> list[tuple[str, list[int]]]:
    """Content sentences and the markers that apply to each (own, else its paragraph's)."""
    out: list[tuple[str, list[int]]] = []
    analysis = _TRAILING.sub(lambda m: m.group(2) + m.group(1), text)
    for para in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)", analysis):
        sents = []
        for line in para.split("\n"):
            sents += split_sentences(re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line))
        own = [[int(n) for n in _MARKER.findall(s)] for s in sents]
        for i, s in enumerate(sents):
            marks = own[i]
            if not marks:
                later = [m for m in own[i + 1 :] if m]
                earlier = [m for m in own[:i] if m]
                marks = later[0] if later else (earlier[-1] if earlier else [])
            out.append((s, marks))
    return out


def check_answer(
    raw: str,
    evidence: Sequence[Evidence],
    checker: SupportChecker | None = None,
    min_supported: float = MIN_SUPPORTED,
    language: str | None = None,
) -> Check:
    """Normalise ``raw``'s citations, drop invalid ones, and judge the answer's support."""
    checker = checker or SupportChecker()
    text = _normalise_markers(raw or "").strip()
    # Contact details never leave through a generated answer either.
    text = _PHONE.sub("", _EMAIL.sub("", text))
    valid = {ev.n for ev in evidence}
    numbers = [int(n) for n in _MARKER.findall(text)]
    check = Check(
        text="", markers=len(numbers), invalid_markers=sum(n not in valid for n in numbers)
    )
    text = _MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", text)
    # A source cited twice in a row ("[1][1]") reads as a glitch.
    text = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", text)
    text = _tidy(text)
    check.text = text
    for n in (int(x) for x in _MARKER.findall(text)):
        if n not in check.cited:
            check.cited.append(n)
    if not words(text):
        check.problem = "empty"
        return check
    if says_no_answer(text) and len(split_sentences(text)) <= 2:
        check.says_no_answer = True
        return check

    by_n = {ev.n: ev for ev in evidence}
    to_check: list[tuple[str, list[tuple[int, str]], bool]] = []
    pairs = _sentences_with_markers(text)
    # Short sentences carry no claim, unless the answer is nothing but short sentences
    # ("HACKED [1]" must still be judged).
    floor = MIN_CONTENT_WORDS
    if not any(len(checker.content_words(s)) >= floor for s, _ in pairs):
        floor = 1
    for sentence, marks in pairs:
        if len(checker.content_words(sentence)) < floor:
            continue
        ns = [n for n in marks if n in by_n] or list(by_n)  # uncited: any source may back it
        passages = [
            (n * 1000 + i, f"{by_n[n].title}. {p[0]}")
            for n in ns
            for i, p in enumerate(by_n[n].passages)
        ]
        lang = detect_language(sentence, default=language or "nl")
        to_check.append((sentence, passages, any(by_n[n].language != lang for n in ns)))
    check.sentences = len(to_check)
    weak: list[tuple[str, list[tuple[int, str]]]] = []
    for sentence, passages, cross in to_check:
        if checker.coverage(sentence, passages) >= MIN_WORD_COVERAGE:
            check.supported += 1
        elif cross:
            weak.append((sentence, passages))
        else:
            check.unsupported_sentences.append(sentence)
    for (sentence, _), sim in zip(weak, checker.semantic(weak), strict=True):
        if checker.floor is not None and sim >= checker.floor:
            check.supported += 1
        else:
            check.unsupported_sentences.append(sentence)

    check.invented_urls = invented_urls(text, evidence)
    if check.invented_urls:
        # A made-up address sends a user somewhere no source vouches for.
        check.problem = "invented_url"
    elif not check.cited:
        check.problem = "no_citations"
    elif check.invalid_markers > check.markers - check.invalid_markers:
        check.problem = "invalid_citations"
    elif check.sentences and check.supported / check.sentences < min_supported:
        check.problem = "unsupported"
    return check


# --- drafted plan paragraphs ------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w\[])\d+(?:[.,]\d+)*")


def _number_key(raw: str) -> str:
    """``1.200`` and ``1,200`` and ``1200`` are one number; ``2,5`` and ``2.5`` another."""
    raw = re.sub(r"[.,](?=\d{3}(?!\d))", "", raw)
    return raw.replace(",", ".")


def invented_numbers(text: str, evidence: Sequence[Evidence], facts: str = "") -> list[str]:
    """Numbers in ``text`` (citation markers aside) found in neither the sources nor ``facts``:
    a figure no one can trace is worse than none in a business case."""
    known: set[str] = set()
    for part in (facts, *(ev.title for ev in evidence), *(ev.summary or "" for ev in evidence)):
        known |= {_number_key(n) for n in _NUMBER.findall(part or "")}
    for ev in evidence:
        for p in ev.passages:
            known |= {_number_key(n) for n in _NUMBER.findall(p[0])}
        for su in ev.units:
            known |= {_number_key(n) for n in _NUMBER.findall(su.unit.markdown())}
    return [n for n in _NUMBER.findall(_MARKER.sub(" ", text)) if _number_key(n) not in known]


def check_paragraph(
    raw: str,
    evidence: Sequence[Evidence],
    facts: str,
    language: str,
    *,
    names: Callable[[str], list[str]] | None = None,
    checker: SupportChecker | None = None,
    max_words: int = PARAGRAPH_MAX_WORDS,
) -> Check:
    """The checks on a drafted plan paragraph: those of :func:`check_answer`, with the plan's own
    facts as support beside the cited sources, and stricter ones besides. Any marker naming a
    source the section does not have rejects it (a paragraph is short: one wrong number is a
    wrong paragraph), and so do the wrong language, more than ``max_words`` words, a number found
    in neither the facts nor the sources, a contact detail, and any name ``names`` finds."""
    # The plan's facts back a sentence like a source does, but cannot be cited themselves.
    backed = [replace(ev, passages=[*ev.passages, (facts, "", None)]) for ev in evidence]
    check = check_answer(raw, backed, checker, language=language)
    if check.problem == "empty":
        return check
    body = _MARKER.sub(" ", check.text)
    # First: a paragraph in the other language would not be supported word for word either,
    # and the language is the clearer reason.
    # Source titles are names: an English paragraph may quote a Dutch title.
    prose = body
    for ev in evidence:
        if ev.title:
            prose = prose.replace(ev.title, " ")
    if detect_language(prose, default=language) != language:
        check.problem = "wrong_language"
    elif check.invalid_markers:
        check.problem = "invalid_citations"
    elif check.says_no_answer:
        check.problem = "no_answer"
    elif check.problem:
        pass
    elif _EMAIL.search(raw or "") or _PHONE.search(raw or ""):
        check.problem = "contact_details"
    elif names is not None and names(check.text):
        check.problem = "person_named"
    elif invented_numbers(check.text, evidence, facts):
        check.problem = "invented_number"
    elif len(words(body)) > max_words:
        check.problem = "too_long"
    return check


# --- eval ---------------------------------------------------------------------------------------

_ANSWER_MARK = re.compile(r"\[(\d+)\]")


def _get(a, key: str):
    return a.get(key) if isinstance(a, dict) else getattr(a, key, None)


def llm_metrics(answers: Iterable, configured: str | None = None) -> dict:
    """The LLM part of an eval report, from ``Answer`` objects or their contract dicts.

    - ``answerers``: how many answers each answerer produced (``llm:openai:gpt-4o-mini``,
      ``extractive (fallback: timeout)``, ``extractive``…);
    - ``llm_attempts``: answers for which the model was asked (not the ones the retrieval
      already abstained on); ``fallback_rate``: share of those that fell back, with the
      reasons in ``fallback_reasons``;
    - ``citation_validity``: mean over answers of the share of the model's ``[n]`` markers
      that named an existing source (every attempt that produced text, also the ones that then
      fell back);
    - ``supported_ratio``: mean over the same answers of the share of the model's content
      sentences supported by their cited passages (a faithfulness proxy);
    - ``answer_citations_valid``: share of the final answers in which every ``[n]`` has a
      citation (must be 1.0 whatever the answerer).
    """
    answers = list(answers)
    used: Counter = Counter()
    reasons: Counter = Counter()
    attempts = fallbacks = 0
    validity: list[float] = []
    support: list[float] = []
    final_ok = 0
    for a in answers:
        name = _get(a, "answerer") or "extractive"
        used[name] += 1
        reason = _get(a, "fallback_reason")
        if name.startswith("llm:") or reason:
            attempts += 1
        if reason:
            fallbacks += 1
            reasons[reason] += 1
        if _get(a, "citation_validity") is not None:
            validity.append(float(_get(a, "citation_validity")))
        if _get(a, "supported_ratio") is not None:
            support.append(float(_get(a, "supported_ratio")))
        cited = {int(n) for n in _ANSWER_MARK.findall(_get(a, "answer") or "")}
        have = {_get(c, "n") for c in (_get(a, "citations") or [])}
        final_ok += cited <= have
    n = len(answers)
    return {
        "configured": configured,
        "answerers": dict(used.most_common()),
        "llm_attempts": attempts,
        "fallback_rate": round(fallbacks / attempts, 4) if attempts else None,
        "fallback_reasons": dict(reasons.most_common()),
        "citation_validity": round(sum(validity) / len(validity), 4) if validity else None,
        "supported_ratio": round(sum(support) / len(support), 4) if support else None,
        "answer_citations_valid": round(final_ok / n, 4) if n else None,
    }
