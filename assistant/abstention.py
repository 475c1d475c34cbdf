"""When the knowledge base has no well-founded answer: a decision that transfers between corpora.

Two signals, both scaled so that one setting holds on a corpus it was not tuned on:

- **dense position**: where the question's best dense similarity falls between the index's own
  off-topic level and its in-domain level (``assistant/calibration.py``, measured at ingest
  with the same embedder). 0 is "as close as a question about pancakes", 1 is "as close as a
  question about this corpus' subject". The off-topic level is taken for the question's
  language, so an English question on a Dutch corpus is not held to Dutch similarities;
- **coverage**: the rarity-weighted share of the question's content words that the top
  sources contain (English words also through their glossary translations). Off-topic
  questions ("Hoe verleng ik mijn rijbewijs?") often land semantically near government prose,
  but rarely share its rare words.

The decision is ``position + COVERAGE_WEIGHT * coverage < THRESHOLD``. Both parameters were
chosen on the bundled question set only; docs/evaluation.md says how, and the figures on the
corpora they were not tuned on. An embedder whose similarities carry no meaning (the hashing
fake) or an index without a calibration uses coverage alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .calibration import Calibration
from .glossary import Glossary
from .retrieval import LoadedIndex, Retrieval
from .text import Analyzer

#: Chosen on the bundled question set (docs/evaluation.md).
THRESHOLD = 1.0
COVERAGE_WEIGHT = 0.75
#: Without a usable dense signal: abstain below this coverage alone.
COVERAGE_ONLY_FLOOR = 0.3
#: How many top documents, and passages of each, count for coverage.
COVERAGE_DOCS = 3
COVERAGE_PASSAGES = 2


@dataclass
class Signals:
    """The inputs of one decision, kept for evaluation and docs."""

    position: float | None
    coverage: float
    score: float
    abstain: bool


def dense_position(dense_top: float, calibration: Calibration, language: str) -> float | None:
    """0 at the off-topic level of ``language``, 1 at the in-domain level of the index.

    The span between the two is measured in the corpus' main language (the in-domain level is
    made of questions in that language); a question in another language keeps the span and
    starts from its own, lower, off-topic level."""
    off = calibration.off_topic_level(language)
    home = calibration.off_topic_level(_main_language(calibration))
    ind = calibration.in_domain
    if off is None or home is None or ind is None or ind.n == 0:
        return None
    span = ind.mean - home.mean
    if span <= 1e-6:
        return None
    return (dense_top - off.mean) / span


def _main_language(calibration: Calibration) -> str:
    if not calibration.counts:
        return "nl"
    return max(calibration.counts, key=lambda k: (calibration.counts[k], k))


def coverage(
    query: str,
    retrieval: Retrieval,
    index: LoadedIndex,
    analyzer: Analyzer,
    glossary: Glossary | None = None,
) -> float:
    """Share of the question's content words found in the top sources, weighted by rarity.

    A word counts as found when one of its stems, or of its glossary translations, occurs in
    the title, headings or best passages of the top documents."""
    doc_terms: set[str] = set()
    # Chunk terms never change within an index generation: analysed once (this ran on every
    # question and cost more than the fusion itself).
    cache: dict[str, frozenset[str]] = index.__dict__.setdefault("_coverage_terms", {})
    for hit in retrieval.docs[:COVERAGE_DOCS]:
        meta = index.docs.get(hit.doc_id)
        lang = meta.language if meta else "nl"
        keys = [f"title:{hit.doc_id}"] + [cid for cid, _ in hit.chunks[:COVERAGE_PASSAGES]]
        for key in keys:
            terms = cache.get(key)
            if terms is None:
                if key.startswith("title:"):
                    text = meta.title if meta else ""
                else:
                    c = index.chunks[key]
                    text = f"{c.heading} {c.text}"
                terms = frozenset(analyzer.terms(text, lang))
                if len(cache) < 50_000:
                    cache[key] = terms
            doc_terms |= terms
    if not doc_terms:
        return 0.0
    vocab = analyzer.vocab
    total = covered = 0.0
    for w in analyzer.content_words(query):
        # Rarer words weigh more; a word the corpus never uses weighs most, since it is the
        # plainest sign that the question is about something else.
        weight = 1.0 / math.log(2.0 + vocab.get(w, 0))
        total += weight
        terms = set(analyzer.query_terms(w))
        if glossary is not None:
            for dutch in glossary.expand(w):
                terms |= set(analyzer.query_terms(dutch))
        if terms & doc_terms:
            covered += weight
    return covered / total if total else 0.0


def decide(
    retrieval: Retrieval,
    cover: float,
    calibration: Calibration | None,
    language: str,
    *,
    calibrated: bool = True,
    threshold: float = THRESHOLD,
    coverage_weight: float = COVERAGE_WEIGHT,
) -> Signals:
    """The abstention decision for one retrieval. ``calibrated`` is the embedder's own
    statement whether its similarities mean anything (``EmbedderProfile.calibrated``)."""
    if not retrieval.docs:
        return Signals(None, 0.0, 0.0, True)
    position = (
        dense_position(retrieval.dense_top, calibration, language)
        if calibrated and calibration is not None
        else None
    )
    if position is None:
        return Signals(None, cover, cover, cover < COVERAGE_ONLY_FLOOR)
    score = position + coverage_weight * cover
    return Signals(position, cover, score, score < threshold)
