"""Score statistics of one index, measured at ingest, so thresholds transfer between corpora.

A dense similarity means nothing on its own: e5 puts almost any two Dutch government texts
above 0.8, MiniLM puts related texts at 0.5, and a corpus about water boards sits at another
level than one about procurement. A floor tuned on one corpus therefore fails on the next.
Ingest measures, for the index it just built and with its own embedder:

- ``off_topic``: the best similarity of a fixed set of clearly unrelated questions (weather,
  recipes, sport, …) per question language: the level an off-topic question reaches here;
- ``in_domain``: the best similarity of pseudo-questions made from sampled chunks to any chunk
  but the one they were taken from: the level a question reaches when the corpus holds a
  passage close to it. (A first version only looked at *other* documents; that level depends
  on how alike the documents are: a corpus of twelve unrelated subjects got a level so low that
  off-topic questions looked in-scope. Excluding only the source chunk gave spans of 0.056 to
  0.065 on three very different corpora, against 0.039 to 0.056.)
- ``centroids``: the mean chunk vector per document language. ``q · centroid`` is the mean
  similarity of a question to all chunks of that language, i.e. how much the model favours
  a language for this question regardless of topic (used by ``retrieval`` to balance
  languages).

Abstention then works on the position of a question's best similarity between the two levels
(``assistant/abstention.py``), not on a raw number. The probe questions are written for this
purpose and are not the evaluation's out-of-scope questions.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embeddings import Embedder

log = logging.getLogger(__name__)

FILE = "calibration.json"
VERSION = 2

#: Unrelated questions, per language. Everyday topics far from any policy corpus, in the
#: form users type. Adding or changing one changes every index's calibration: keep them stable.
PROBES = {
    "nl": [
        "Hoe lang moet een zacht gekookt ei koken?",
        "Wie heeft de Tour de France van vorig jaar gewonnen?",
        "Welke film draait er vanavond in de bioscoop?",
        "Hoe vaak moet ik mijn cactus water geven?",
        "Wat is een goed recept voor erwtensoep?",
        "Hoe laat gaat de laatste trein naar Groningen?",
        "Welke kleur verf past bij een grijze bank?",
        "Hoe leer ik mijn hond om te gaan zitten?",
        "Waar kan ik in de zomer het beste kamperen in Frankrijk?",
        "Hoe vervang ik de ketting van mijn fiets?",
        "Wat is de hoofdstad van Australië?",
        "Welke sterrenbeelden zie je in de winter?",
    ],
    "en": [
        "How long should I boil a soft egg?",
        "Who won the Tour de France last year?",
        "Which movie is showing at the cinema tonight?",
        "How often should I water my cactus?",
        "What is a good recipe for pea soup?",
        "When does the last train to Manchester leave?",
        "Which paint colour goes with a grey sofa?",
        "How do I teach my dog to sit?",
        "Where is the best place to go camping in France in summer?",
        "How do I replace the chain on my bicycle?",
        "What is the capital of Australia?",
        "Which constellations can you see in winter?",
    ],
}

#: At most this many chunks become pseudo-questions (spread evenly over the index).
PSEUDO_QUERIES = 80
_WORDS = re.compile(r"\w+", re.UNICODE)


@dataclass
class Level:
    mean: float
    sd: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Level:
        v = np.asarray(values, dtype=np.float64)
        return cls(float(v.mean()), float(v.std()), int(v.size)) if v.size else cls(0.0, 0.0, 0)


@dataclass
class Calibration:
    embedder: str
    off_topic: dict[str, Level] = field(default_factory=dict)
    in_domain: Level | None = None
    centroids: dict[str, np.ndarray] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def off_topic_level(self, language: str) -> Level | None:
        return self.off_topic.get(language) or self.off_topic.get("nl")

    def language_means(self, query_vector: np.ndarray) -> dict[str, float]:
        """Mean similarity of the question to all chunks of each document language."""
        q = np.asarray(query_vector, dtype=np.float32)
        return {lang: float(c @ q) for lang, c in self.centroids.items()}

    # -- persistence ----------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "version": VERSION,
            "embedder": self.embedder,
            "off_topic": {k: vars(v) for k, v in self.off_topic.items()},
            "in_domain": vars(self.in_domain) if self.in_domain else None,
            "centroids": {k: [round(float(x), 6) for x in v] for k, v in self.centroids.items()},
            "counts": self.counts,
        }

    @classmethod
    def from_json(cls, data: dict) -> Calibration:
        return cls(
            embedder=data["embedder"],
            off_topic={k: Level(**v) for k, v in (data.get("off_topic") or {}).items()},
            in_domain=Level(**data["in_domain"]) if data.get("in_domain") else None,
            centroids={
                k: np.asarray(v, dtype=np.float32) for k, v in (data.get("centroids") or {}).items()
            },
            counts=dict(data.get("counts") or {}),
        )

    @classmethod
    def load(cls, folder: Path, embedder_name: str) -> Calibration | None:
        """The calibration of an index generation; None when absent (an index built before
        calibration existed), damaged, or measured with another embedder."""
        path = Path(folder) / FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("version") != VERSION or data.get("embedder") != embedder_name:
            return None
        try:
            return cls.from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("kalibratie in %s is onleesbaar (%s); genegeerd", path, exc)
            return None

    @staticmethod
    def is_current(folder: Path, embedder_name: str) -> bool:
        """Whether ``folder`` holds a calibration this code can use for this embedder."""
        return Calibration.load(folder, embedder_name) is not None

    def save(self, folder: Path) -> None:
        from .index import write_json_atomic

        write_json_atomic(Path(folder) / FILE, self.to_json())


def pseudo_question(text: str, max_words: int = 24) -> str | None:
    """The first full sentence of a chunk, as a stand-in for a question about it."""
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        sentence = sentence.strip(" #*-•[]")
        if len(_WORDS.findall(sentence)) >= 6:
            return " ".join(sentence.split()[:max_words])
    return None


def measure(
    embedder: Embedder,
    ids: list[str],
    vectors: np.ndarray,
    language_of: list[str],
    texts: list[str],
) -> Calibration:
    """The calibration of an index whose chunks are ``ids`` with these stored ``vectors``."""
    text = dict(zip(ids, texts, strict=True))
    cal, _ = measure_stream(
        embedder, lambda: iter([(list(ids), vectors, list(language_of))]), text.__getitem__
    )
    return cal


Blocks = Callable[[], Iterable[tuple[list[str], np.ndarray, list[str]]]]


def measure_stream(
    embedder: Embedder, blocks: Blocks, text_of: Callable[[str], str]
) -> tuple[Calibration, int]:
    """The calibration, and the number of chunks it saw, from ``blocks()``: ``(ids, vectors,
    languages)`` a page of chunks at a time, in index order. ``blocks`` is called twice (the
    pseudo-questions are picked after the first pass), so no step holds every vector: at 500k
    chunks that was over 1 GB at ingest (issue 18). ``text_of`` reads a picked chunk's text."""
    cal = Calibration(embedder=embedder.name)
    probes = {lang: embedder.embed(p, kind="query") for lang, p in PROBES.items()}
    sums: dict[str, np.ndarray] = {}
    off: dict[str, np.ndarray] = {}
    seen: list[str] = []
    for ids, vectors, langs in blocks():
        mat = np.asarray(vectors, dtype=np.float32)
        seen += ids
        by_lang: dict[str, list[int]] = defaultdict(list)
        for i, lang in enumerate(langs):
            by_lang[lang].append(i)
        for lang, rows in by_lang.items():
            part = mat[rows].sum(axis=0, dtype=np.float64)
            sums[lang] = sums[lang] + part if lang in sums else part
            cal.counts[lang] = cal.counts.get(lang, 0) + len(rows)
        for lang, qv in probes.items():
            best = (mat @ qv.T).max(axis=0)
            off[lang] = np.maximum(off[lang], best) if lang in off else best
    if not seen:
        return cal, 0
    for lang, total in sums.items():
        cal.centroids[lang] = (total / cal.counts[lang]).astype(np.float32)
    for lang, best in off.items():
        cal.off_topic[lang] = Level.of([float(x) for x in best])
    step = max(1, len(seen) // PSEUDO_QUERIES)
    picked = [(i, q) for i in range(0, len(seen), step) if (q := pseudo_question(text_of(seen[i])))]
    picked = picked[:PSEUDO_QUERIES]
    if picked and len(seen) > 1:
        qv = embedder.embed([q for _, q in picked], kind="query")
        best = np.full(len(picked), -np.inf, dtype=np.float32)
        start = 0
        for ids, vectors, _ in blocks():
            sims = np.asarray(vectors, dtype=np.float32) @ qv.T  # chunks × pseudo-questions
            for j, (i, _) in enumerate(picked):
                if start <= i < start + len(ids):
                    sims[i - start, j] = -np.inf  # the chunk the sentence was taken from
            best = np.maximum(best, sims.max(axis=0))
            start += len(ids)
        cal.in_domain = Level.of([float(x) for x in best])
    return cal, len(seen)
