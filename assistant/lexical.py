"""BM25 over chunks (bm25s), with Dutch/English stemming and compound splitting.

Persisted in its own folder inside the index; ingest writes a new folder and the manifest points
to it, so a half-written lexical index is never read.

Besides plain BM25 the index answers weighted queries and proposes expansion terms from a set of
feedback chunks (pseudo-relevance feedback, RM3-style). Both work directly on bm25s's precomputed
term × chunk score matrix, so an expanded query costs one more sparse pass, not a re-analysis.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from pathlib import Path

import bm25s
import numpy as np
from bm25s.tokenization import Tokenized

from .text import Analyzer, char_ngrams

log = logging.getLogger(__name__)

#: Bumped whenever analysis or scoring changes what a saved index contains; an index saved by
#: another version is rebuilt in memory from its chunks (see ``retrieval.LoadedIndex``).
VERSION = 3


@dataclass
class LexicalParams:
    # Chosen on the Kamervragen benchmark (docs/retrieval.md): b=0.9 normalises harder for
    # length than the textbook 0.75, which suits answers of very different lengths.
    k1: float = 1.2
    b: float = 0.9
    #: How often the title and heading path count, relative to body text (field weighting).
    title_weight: int = 2
    #: Words seen this often in the corpus count as known parts for compound splitting.
    min_count: int = 1
    #: Length of the character n-grams of the second lexical view; 0 builds none. 5 beat 4 on
    #: Kamervragen (docs/retrieval.md); that view keeps bm25s's textbook b = 0.75.
    ngram: int = 5
    ngram_b: float = 0.75


def _token_ids(token_lists: Iterable[list[str]]) -> Tokenized:
    """Each chunk's tokens as an int32 array over one vocabulary, built one chunk at a time.

    Ingest used to hold every chunk's 5-gram strings at once (≈60 bytes per gram: 2 GB at 50k
    chunks, issue 18); four bytes per gram is what bm25s needs to build the same matrix.
    """
    vocab: dict[str, int] = {}
    ids = [
        np.fromiter(
            (vocab.setdefault(t, len(vocab)) for t in (tokens or ["__leeg__"])), dtype=np.int32
        )
        for tokens in token_lists
    ]
    return Tokenized(ids=ids, vocab=vocab)


class LexicalIndex:
    def __init__(
        self,
        ids: list[str],
        retriever: bm25s.BM25 | None,
        analyzer: Analyzer,
        params: LexicalParams | None = None,
        version: int = VERSION,
        grams: bm25s.BM25 | None = None,
    ):
        self.ids = ids
        self.pos = {cid: i for i, cid in enumerate(ids)}
        self.retriever = retriever
        #: BM25 over character n-grams of the same chunks (``None`` when disabled or empty).
        self.grams = grams
        self.analyzer = analyzer
        self.params = params or LexicalParams()
        self.version = version

    @property
    def stale(self) -> bool:
        """True when this index was saved by an older analyser or scorer."""
        return self.version != VERSION

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
        analyzer = Analyzer(
            Analyzer.count_vocab(list(bodies) + list(titles)), min_count=params.min_count
        )
        retriever = grams = None
        if ids:
            retriever = bm25s.BM25(k1=params.k1, b=params.b)
            retriever.index(
                _token_ids(
                    analyzer.terms(body, lang) + analyzer.terms(title, lang) * params.title_weight
                    for body, title, lang in zip(bodies, titles, langs, strict=True)
                ),
                show_progress=False,
            )
            if params.ngram:
                grams = bm25s.BM25(k1=params.k1, b=params.ngram_b)
                grams.index(
                    _token_ids(
                        char_ngrams(f"{title} {body}", params.ngram)
                        for body, title in zip(bodies, titles, strict=True)
                    ),
                    show_progress=False,
                )
        return cls(list(ids), retriever, analyzer, params, grams=grams)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(folder / "bm25"), show_progress=False)
        if self.grams is not None:
            self.grams.save(str(folder / "grams"), show_progress=False)
        (folder / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        (folder / "vocab.json").write_text(
            json.dumps(self.analyzer.vocab, ensure_ascii=False), encoding="utf-8"
        )
        (folder / "params.json").write_text(
            json.dumps({"version": VERSION, **asdict(self.params)}), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = False) -> LexicalIndex:
        """``mmap`` maps bm25s's score matrices instead of reading them: workers of one machine
        then share one copy through the page cache."""
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        meta_path = folder / "params.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        version = int(meta.pop("version", 1))
        known = {f.name for f in fields(LexicalParams)}
        params = LexicalParams(**{k: v for k, v in meta.items() if k in known})
        retriever = (
            bm25s.BM25.load(str(folder / "bm25"), mmap=mmap, show_progress=False) if ids else None
        )
        grams = None
        if ids and (folder / "grams").is_dir():
            grams = bm25s.BM25.load(str(folder / "grams"), mmap=mmap, show_progress=False)
        return cls(
            ids, retriever, Analyzer(Counter(vocab), min_count=1), params, version, grams=grams
        )

    # -- scoring ------------------------------------------------------------------------------
    def query_weights(self, query: str) -> dict[str, float]:
        """The query's index terms, weight 1 each (terms absent from the index are dropped)."""
        if self.retriever is None:
            return {}
        vocab = self.retriever.vocab_dict
        return {t: 1.0 for t in self.analyzer.query_terms(query) if t in vocab}

    def weighted_scores(
        self, weights: Mapping[str, float], allowed: Sequence[str] | None = None
    ) -> np.ndarray:
        """BM25 score per chunk for a weighted bag of index terms; disallowed chunks score 0."""
        return self._scores(self.retriever, weights, allowed)

    def ngram_scores(self, query: str, allowed: Sequence[str] | None = None) -> np.ndarray:
        """BM25 score per chunk over character n-grams (all zero when the index has none)."""
        if self.grams is None:
            return np.zeros(len(self.ids) if self.retriever is not None else 0, dtype=np.float32)
        vocab = self.grams.vocab_dict
        wanted = dict.fromkeys(g for g in char_ngrams(query, self.params.ngram) if g in vocab)
        return self._scores(self.grams, dict.fromkeys(wanted, 1.0), allowed)

    def _scores(
        self,
        retriever: bm25s.BM25 | None,
        weights: Mapping[str, float],
        allowed: Sequence[str] | None,
    ) -> np.ndarray:
        if retriever is None:
            return np.zeros(0, dtype=np.float32)
        mat = retriever.scores
        data, indices, indptr = mat["data"], mat["indices"], mat["indptr"]
        vocab = retriever.vocab_dict
        s = np.zeros(len(self.ids), dtype=np.float32)
        for term, w in weights.items():
            t = vocab.get(term)
            if t is None or w == 0:
                continue
            lo, hi = indptr[t], indptr[t + 1]
            # Within one term's column every chunk appears once, so fancy-index adding is exact.
            s[indices[lo:hi]] += np.float32(w) * data[lo:hi]
        if allowed is not None:
            s = np.where(self.mask(allowed), s, np.float32(0.0))
        return s

    def mask(self, allowed: Sequence[str]) -> np.ndarray:
        # Retrieval passes the same cached tuple for the same audience: reuse its mask.
        memo = getattr(self, "_mask_memo", None)
        if memo is not None and memo[0] is allowed:
            return memo[1]
        m = np.zeros(len(self.ids), dtype=bool)
        for cid in allowed:
            i = self.pos.get(cid)
            if i is not None:
                m[i] = True
        if isinstance(allowed, tuple):
            self._mask_memo = (allowed, m)
        return m

    def scores(self, query: str, allowed: Sequence[str] | None = None) -> np.ndarray:
        """BM25 score per chunk (in ``self.ids`` order); disallowed chunks score 0."""
        if self.retriever is None:
            return np.zeros(0, dtype=np.float32)
        return self.weighted_scores(self.query_weights(query), allowed)

    def top(
        self, query: str, k: int, allowed: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        return self.top_of(self.scores(query, allowed), k)

    def top_of(self, s: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, score)`` of a score vector, zero scores left out."""
        if s.size == 0 or k <= 0:
            return []
        k = min(k, s.size)
        idx = np.argpartition(-s, k - 1)[:k]
        idx = idx[np.argsort(-s[idx], kind="stable")]
        return [(self.ids[i], float(s[i])) for i in idx if s[i] > 0]

    def passage_share(self, word: str) -> float:
        """Share of the chunks that contain the word (its most common stem), 0..1."""
        if self.retriever is None or not self.ids:
            return 0.0
        vocab = self.retriever.vocab_dict
        ptr = self.retriever.scores["indptr"]
        counts = [
            int(ptr[vocab[t] + 1] - ptr[vocab[t]])
            for t in self.analyzer.query_terms(word)[:2]
            if t in vocab
        ]
        return max(counts, default=0) / len(self.ids)

    # -- pseudo-relevance feedback ------------------------------------------------------------
    @cached_property
    def _by_chunk(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The score matrix chunk-major: (term ids, BM25 weights, chunk pointer)."""
        mat = self.retriever.scores
        data, indices, indptr = mat["data"], mat["indices"], mat["indptr"]
        term_of = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        order = np.argsort(indices, kind="stable")
        ptr = np.zeros(len(self.ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(indices, minlength=len(self.ids)), out=ptr[1:])
        return term_of[order], data[order], ptr

    @cached_property
    def _terms(self) -> list[str]:
        inv = [""] * len(self.retriever.vocab_dict)
        for term, t in self.retriever.vocab_dict.items():
            inv[t] = term
        return inv

    def expansion(
        self, feedback: Sequence[tuple[str, float]], n_terms: int = 20
    ) -> dict[str, float]:
        """Expansion terms from feedback chunks ``(chunk_id, weight)``, weights summing to 1.

        RM3-style: each chunk's terms weighted by their share of the chunk's BM25 mass (so rare,
        repeated terms lead), mixed over the chunks by their feedback weight.
        """
        if self.retriever is None or not feedback:
            return {}
        terms, weights, ptr = self._by_chunk
        total = sum(max(w, 0.0) for _, w in feedback) or 1.0
        acc: dict[int, float] = {}
        for cid, w in feedback:
            i = self.pos.get(cid)
            if i is None or w <= 0:
                continue
            lo, hi = ptr[i], ptr[i + 1]
            mass = float(weights[lo:hi].sum())
            if mass <= 0:
                continue
            share = (w / total) / mass
            for t, x in zip(terms[lo:hi].tolist(), weights[lo:hi].tolist(), strict=True):
                acc[t] = acc.get(t, 0.0) + share * x
        best = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[:n_terms]
        norm = sum(v for _, v in best) or 1.0
        inv = self._terms
        return {inv[t]: v / norm for t, v in best}
