"""BM25 over chunks (bm25s), with Dutch/English stemming and compound splitting.

Persisted in its own folder inside the index; ingest writes a new folder and the manifest points
to it, so a half-written lexical index is never read.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from .text import Analyzer


@dataclass
class LexicalParams:
    k1: float = 1.2
    b: float = 0.75
    #: How often the title and heading path count, relative to body text (field weighting).
    title_weight: int = 2


class LexicalIndex:
    def __init__(self, ids: list[str], retriever: bm25s.BM25 | None, analyzer: Analyzer):
        self.ids = ids
        self.pos = {cid: i for i, cid in enumerate(ids)}
        self.retriever = retriever
        self.analyzer = analyzer

    @classmethod
    def build(
        cls,
        ids: list[str],
        bodies: list[str],
        titles: list[str],
        langs: list[str],
        params: LexicalParams | None = None,
    ) -> LexicalIndex:
        params = params or LexicalParams()
        analyzer = Analyzer(Analyzer.count_vocab(list(bodies) + list(titles)))
        corpus_tokens = []
        for body, title, lang in zip(bodies, titles, langs, strict=True):
            toks = analyzer.terms(body, lang)
            toks += analyzer.terms(title, lang) * params.title_weight
            corpus_tokens.append(toks or ["__leeg__"])
        retriever = None
        if ids:
            retriever = bm25s.BM25(k1=params.k1, b=params.b)
            retriever.index(corpus_tokens, show_progress=False)
        return cls(list(ids), retriever, analyzer)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(folder / "bm25"), show_progress=False)
        (folder / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        (folder / "vocab.json").write_text(
            json.dumps(self.analyzer.vocab, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(folder / "bm25")) if ids else None
        return cls(ids, retriever, Analyzer(Counter(vocab), min_count=1))

    def scores(self, query: str, allowed: Sequence[str] | None = None) -> np.ndarray:
        """BM25 score per chunk (in ``self.ids`` order); disallowed chunks score 0."""
        if self.retriever is None:
            return np.zeros(0, dtype=np.float32)
        terms = [t for t in self.analyzer.query_terms(query) if t in self.retriever.vocab_dict]
        if not terms:
            return np.zeros(len(self.ids), dtype=np.float32)
        s = np.asarray(self.retriever.get_scores(terms), dtype=np.float32)
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            for cid in allowed:
                i = self.pos.get(cid)
                if i is not None:
                    mask[i] = True
            s = np.where(mask, s, 0.0)
        return s

    def top(self, query: str, k: int, allowed: Sequence[str] | None = None) -> list[tuple[str, float]]:
        s = self.scores(query, allowed)
        if s.size == 0:
            return []
        k = min(k, s.size)
        idx = np.argpartition(-s, k - 1)[:k]
        idx = idx[np.argsort(-s[idx], kind="stable")]
        return [(self.ids[i], float(s[i])) for i in idx if s[i] > 0]
