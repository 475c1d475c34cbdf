"""Answerers turn retrieved passages into a cited answer.

The default, :class:`ExtractiveAnswerer`, needs no model: it picks the most relevant,
non-redundant sentences across the top documents and ties each to a numbered source. A
generative answerer implements the same Protocol and falls back to this one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from .models import Citation
from .retrieval import LoadedIndex, Retrieval
from .text import Analyzer, split_sentences


@dataclass
class Evidence:
    """One numbered source offered to an answerer."""

    n: int
    doc_id: str
    title: str
    type: str
    url: str | None
    language: str
    score: float
    passages: list[tuple[str, str, int | None]]  # (text, heading, page)


@dataclass
class Draft:
    text: str
    citations: list[Citation]
    abstained: bool = False
    answerer: str = "extractive"
    extra: dict = field(default_factory=dict)


@runtime_checkable
class Answerer(Protocol):
    name: str

    def answer(self, question: str, language: str, evidence: list[Evidence]) -> Draft: ...


def gather_evidence(
    index: LoadedIndex, retrieval: Retrieval, max_docs: int = 5, per_doc: int = 2
) -> list[Evidence]:
    out = []
    for hit in retrieval.docs[:max_docs]:
        meta = index.docs[hit.doc_id]
        passages = []
        for cid, _ in hit.chunks[:per_doc]:
            c = index.chunks[cid]
            passages.append((c.text, c.heading, c.page))
        out.append(
            Evidence(
                n=len(out) + 1,
                doc_id=hit.doc_id,
                title=meta["title"],
                type=meta.get("type", "blog"),
                url=meta.get("url"),
                language=meta.get("language", "nl"),
                score=round(float(hit.score), 4),
                passages=passages,
            )
        )
    return out


def snippet(text: str, limit: int = 240) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def citation_for(ev: Evidence, n: int, text: str | None = None) -> Citation:
    body, heading, page = ev.passages[0] if ev.passages else ("", "", None)
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


_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def _clean(sentence: str) -> str:
    s = _LIST_MARK.sub("", sentence).strip()
    s = re.sub(r"\*\*|__|`", "", s)
    s = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", s)  # markdown links → their text
    # Bracketed numbers in source text would be mistaken for our citation markers.
    s = re.sub(r"\[(\d+)\]", r"(\1)", s)
    return s


NO_ANSWER = {
    "nl": "Daar heb ik in de kennisbank geen goed onderbouwd antwoord op gevonden.",
    "en": "I could not find a well-supported answer to that in the knowledge base.",
}
NEARBY = {
    "nl": "Misschien helpen deze documenten, die er het dichtst bij liggen:",
    "en": "These documents come closest and may still help:",
}
DUTCH_SOURCES = {
    "en": "(The sources are in Dutch; quoted as written.) ",
    "nl": "",
}


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, analyzer: Analyzer | None = None, max_sentences: int = 4) -> None:
        self.analyzer = analyzer or Analyzer()
        self.max_sentences = max_sentences

    def answer(self, question: str, language: str, evidence: list[Evidence]) -> Draft:
        q_terms = set(self.analyzer.query_terms(question))
        candidates = []
        for ev in evidence:
            for p_rank, (text, _heading, _page) in enumerate(ev.passages):
                for s_rank, raw in enumerate(split_sentences(text)):
                    s = _clean(raw)
                    if len(s) < 40 or len(s) > 420 or s.endswith(":"):
                        continue
                    terms = set(self.analyzer.terms(s, ev.language))
                    overlap = len(q_terms & terms)
                    lexical = overlap / math.sqrt(len(q_terms) + 1)
                    # Passage order carries the document's own emphasis; the first sentences of
                    # a well-matched passage tend to state its point.
                    score = (
                        1.2 * lexical
                        + 1.0 * ev.score / max(evidence[0].score, 1e-9)
                        - 0.15 * p_rank
                        - 0.03 * s_rank
                    )
                    if ev.language == language:
                        score += 0.15
                    candidates.append((score, ev, s, terms))
        candidates.sort(key=lambda c: -c[0])
        chosen: list[tuple[Evidence, str]] = []
        used_terms: list[set[str]] = []
        per_doc: dict[str, int] = {}
        for _score, ev, s, terms in candidates:
            if len(chosen) >= self.max_sentences:
                break
            if per_doc.get(ev.doc_id, 0) >= 2:
                continue
            if any(len(terms & u) / max(1, len(terms | u)) > 0.45 for u in used_terms):
                continue
            chosen.append((ev, s))
            used_terms.append(terms)
            per_doc[ev.doc_id] = per_doc.get(ev.doc_id, 0) + 1
        if len(chosen) < 2:
            # Two sentences minimum: take the lead sentence of the next source.
            for ev in evidence:
                if len(chosen) >= 2:
                    break
                if any(e.doc_id == ev.doc_id for e, _ in chosen) and len(evidence) > 1:
                    continue
                sents = (
                    [_clean(x) for x in split_sentences(ev.passages[0][0])] if ev.passages else []
                )
                sents = [x for x in sents if len(x) >= 30]
                if sents:
                    chosen.append((ev, sents[0]))
        # Number sources in order of first use, keep document rank order in the text.
        rank = {ev.doc_id: i for i, ev in enumerate(evidence)}
        chosen.sort(key=lambda x: rank[x[0].doc_id])
        numbers: dict[str, int] = {}
        citations: list[Citation] = []
        parts = []
        for ev, s in chosen:
            if ev.doc_id not in numbers:
                numbers[ev.doc_id] = len(numbers) + 1
                citations.append(citation_for(ev, numbers[ev.doc_id], s))
            if not s.endswith((".", "!", "?")):
                s += "."
            parts.append(f"{s} [{numbers[ev.doc_id]}]")
        prefix = ""
        if language == "en" and chosen and all(ev.language != "en" for ev, _ in chosen):
            prefix = DUTCH_SOURCES["en"]
        return Draft(text=prefix + " ".join(parts), citations=citations)


def abstention_text(language: str, nearby: list[Evidence]) -> tuple[str, list[Citation]]:
    text = NO_ANSWER[language]
    cites = []
    if nearby:
        lines = []
        for i, ev in enumerate(nearby[:3], start=1):
            cites.append(citation_for(ev, i))
            lines.append(f"{ev.title} [{i}]")
        text += " " + NEARBY[language] + " " + "; ".join(lines) + "."
    return text, cites
