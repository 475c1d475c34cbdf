"""Hybrid retrieval: BM25 and dense candidates, fused, filtered and ranked per document.

Fusion is a weighted sum of min-max-normalised scores. On Dutch text this beats reciprocal rank
fusion, which lets a weak dense list drag good lexical hits down; the weights come from the
Kamervragen measurements in docs/retrieval.md.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from .calibration import Calibration
from .embeddings import Embedder, profile_of
from .glossary import Glossary, default_glossary
from .index import ChunkTable, IndexMissing, gen_dir, read_manifest
from .knowledge import IndexedDoc, Knowledge, indexed_docs
from .lexical import LexicalIndex
from .models import Audience, Filters
from .store import VectorStore, stored_vectors
from .text import detect_language

log = logging.getLogger(__name__)

#: How :meth:`Retriever.search` ranks: the fused default, one view alone, or reciprocal-rank
#: fusion (the baselines of ``opschaal eval``).
Mode = Literal["hybrid", "lexical", "dense", "rrf"]
MODES: tuple[Mode, ...] = get_args(Mode)

#: Pseudo-relevance feedback defaults (docs/retrieval.md): how many top fused chunks feed the
#: expansion, how many terms it adds and their total weight relative to the query.
PRF_DOCS = 0
PRF_TERMS = 20
PRF_WEIGHT = 0.3

#: Weight of each glossary translation of an English question, relative to the question's own
#: terms (chosen on the bundled English questions, docs/retrieval.md).
TRANSLATION_WEIGHT = 0.5
#: Shrinkage of the per-language dense offset: a language with n chunks in the index has
#: n / (n + LANGUAGE_SHRINK) of its offset removed, so a language of one or two chunks is
#: barely moved.
LANGUAGE_SHRINK = 5.0


@dataclass
class DocHit:
    doc_id: str
    score: float
    chunks: list[tuple[str, float]]  # (chunk_id, fused score), best first


@dataclass
class Retrieval:
    docs: list[DocHit]
    #: Raw signals for the abstention decision.
    dense_top: float = 0.0
    lexical_top: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def doc_ids(self) -> list[str]:
        return [d.doc_id for d in self.docs]


def _rank_documents(chunk_scores: dict[str, float], doc_of: Callable[[str], str]) -> list[DocHit]:
    """Documents best first, each with its passages best first. A second strong passage is
    extra evidence, but one long document must not win on length alone."""
    per_doc: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for cid, s in chunk_scores.items():
        per_doc[doc_of(cid)].append((cid, s))
    docs = []
    for doc_id, chunks in per_doc.items():
        chunks.sort(key=lambda x: (-x[1], x[0]))
        score = chunks[0][1] + (0.1 * chunks[1][1] if len(chunks) > 1 else 0.0)
        docs.append(DocHit(doc_id, score, chunks))
    docs.sort(key=lambda d: (-d.score, d.doc_id))
    return docs


def merge_retrievals(readings: list[Retrieval], k_docs: int) -> Retrieval:
    """One ranking from several readings of the same question (a follow-up read with and
    without the turn before it): each passage keeps the best of its fused scores, so what either
    reading ranks first stays near the top, and a reading that did not return a passage counts
    its own lowest score. (The mean was tried first: it let the earlier turn's case fall to
    fourth place behind general documents on the new subject.)"""
    if len(readings) == 1:
        return readings[0]
    scores = [{cid: s for d in r.docs for cid, s in d.chunks} for r in readings]
    floors = [min(s.values(), default=0.0) for s in scores]
    doc_of = {cid: d.doc_id for r in readings for d in r.docs for cid, _ in d.chunks}
    best = {cid: max(s.get(cid, f) for s, f in zip(scores, floors, strict=True)) for cid in doc_of}
    docs = _rank_documents(best, doc_of.__getitem__)
    timings: dict[str, float] = defaultdict(float)
    for r in readings:
        for k, v in r.timings_ms.items():
            timings[k] += v
    return Retrieval(
        docs=docs[:k_docs],
        dense_top=max(r.dense_top for r in readings),
        lexical_top=max(r.lexical_top for r in readings),
        timings_ms=dict(timings),
    )


class LoadedIndex:
    """Everything ingest wrote, read once. Cheap to keep in memory for corpora up to ~100k chunks."""

    def __init__(self, index_dir: Path) -> None:
        manifest = read_manifest(index_dir)
        if manifest is None:
            raise IndexMissing(
                f"geen index gevonden in {index_dir}; bouw hem met 'opschaal ingest'"
                + (f" --index {index_dir}" if str(index_dir) != ".opschaal/index" else "")
            )
        self.dir = index_dir
        _compact_docs(manifest["docs"])
        self.docs: dict[str, IndexedDoc] = indexed_docs(manifest)
        for d in manifest["docs"].values():
            d.pop("meta", None)  # held once, typed, in self.docs
        self.manifest = manifest
        folder = gen_dir(index_dir, manifest["generation"])
        doc_of_chunk = {
            cid: doc_id for doc_id, d in manifest["docs"].items() for cid in d.get("chunks", [])
        }
        self.chunks = ChunkTable(folder, doc_of_chunk)
        del doc_of_chunk
        self.knowledge = Knowledge.model_validate_json((folder / "knowledge.json").read_bytes())
        self.lexical = LexicalIndex.load(folder / "lexical", mmap=True)
        if self.lexical.stale:
            # Written by an older analyser: rebuild it from the chunks (seconds, no embedding)
            # so retrieval always runs the current analysis; the next ingest persists it.
            log.info(
                "lexicale index in %s is van een oudere versie; opnieuw opgebouwd in het geheugen",
                folder,
            )
            self.lexical = self.rebuild_lexical()
        if self.lexical.ids == self.chunks.ids:
            # Same chunks in the same order (ingest writes both from chunks.jsonl): one id list
            # and one position table per worker instead of two.
            self.lexical.ids, self.lexical.pos = self.chunks.ids, self.chunks.pos
        self.embedder_name: str = manifest["embedder"]
        self.calibration: Calibration | None = Calibration.load(folder, self.embedder_name)
        self.glossary: Glossary = default_glossary().with_obstacles(self.knowledge.obstacles)

    def language_of(self, chunk_id: str) -> str:
        """The language of a chunk's document, for the language balance of dense scores."""
        doc = self.docs.get(self.chunks.doc_id(chunk_id))
        return doc.language if doc else "nl"

    def of_doc(self, doc_id: str) -> list:
        """A document's chunk records in reading order."""
        ids = self.manifest["docs"].get(doc_id, {}).get("chunks", [])
        return sorted((self.chunks[c] for c in ids if c in self.chunks), key=lambda c: c.ordinal)

    def rebuild_lexical(self) -> LexicalIndex:
        """The lexical index as the current code builds it, from this generation's chunks."""
        recs = list(self.chunks.values())
        # Every chunk's document is in the manifest the chunk table was built from.
        meta = [self.docs[c.doc_id] for c in recs]
        return LexicalIndex.build(
            [c.id for c in recs],
            [c.text for c in recs],
            [f"{m.title} {c.heading}" for c, m in zip(recs, meta, strict=True)],
            [m.language for m in meta],
        )

    def allowed(
        self, audience: Audience, filters: Filters | None
    ) -> tuple[list[str] | None, tuple[str, ...] | None]:
        """``(doc ids, chunk ids)`` a request may see, ``(None, None)`` for everything.

        Cached per audience and filter: the same few combinations come back on every request,
        and at 10k chunks recomputing them cost more than the search itself.
        """
        key = (audience, filters.model_dump_json() if filters is not None else "")
        cache = self.__dict__.setdefault("_allowed_cache", {})
        hit = cache.get(key)
        if hit is None:
            docs = self.allowed_docs(audience, filters)
            chunks = None
            if docs is not None:
                chunks = self.chunks.of_docs(set(docs))
            hit = (docs, chunks)
            if len(cache) < 256:
                cache[key] = hit
        return hit

    def allowed_docs(self, audience: Audience, filters: Filters | None) -> list[str] | None:
        """Doc ids a request may see, or None when everything is allowed."""
        if audience == "internal" and (filters is None or filters.is_empty()):
            return None
        out = []
        for doc_id, m in self.docs.items():
            if audience != "internal" and m.visibility != "public":
                continue
            if filters is not None and not _matches(m, filters):
                continue
            out.append(doc_id)
        return out


def _compact_docs(docs: dict[str, dict]) -> None:
    """Keep only what serving reads of each document's manifest entry (its chunk ids and
    metadata, which becomes ``LoadedIndex.docs``) and share the short values many documents repeat (type, language, visibility,
    phase and obstacle keys): every worker holds this for every document (issue 18)."""

    def share(v):
        return sys.intern(v) if isinstance(v, str) and len(v) <= 64 else v

    for d in docs.values():
        for k in ("hash", "path", "chunking"):
            d.pop(k, None)
        meta = d.get("meta") or {}
        for k, v in meta.items():
            meta[k] = [share(x) for x in v] if isinstance(v, list) else share(v)


def _matches(meta: IndexedDoc, f: Filters) -> bool:
    def anyof(values: Iterable[str], wanted: list[str]) -> bool:
        return not wanted or bool(set(values) & set(wanted))

    org = meta.organisation or ""
    return (
        anyof([meta.type], f.type)
        and anyof(meta.phases, f.phases)
        and anyof(meta.obstacles, f.obstacles)
        and (not f.organisation or any(o.lower() in org.lower() for o in f.organisation))
        and anyof([meta.language], f.language)
    )


def _minmax(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    vals = np.fromiter(scores.values(), dtype=np.float64)
    lo, hi = float(vals.min()), float(vals.max())
    if hi - lo < 1e-9:
        return {k: 1.0 for k in scores}
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


class Retriever:
    """Hybrid retrieval; ``search`` is the one hot-path method.

    Hybrid mode, in order:

    1. BM25 over every allowed chunk (a full score vector; cheap with bm25s) and the dense top
       ``candidates`` from the vector store;
    2. candidate pool = lexical top ∪ dense top ∪ character-n-gram top. Every pooled chunk gets
       its exact BM25 and n-gram scores and, from its stored vector, its exact dense similarity;
    3. fusion: weighted sum of the scores standardised over the pool (z-scores);
    4. pseudo-relevance feedback (``prf_docs`` > 0): the top fused chunks propose expansion terms
       (RM3-style), the expanded query is scored with BM25 once more, and step 3 is repeated;
    5. chunks are grouped per document: best chunk plus a little for a second good chunk.
    """

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        store: VectorStore,
        *,
        candidates: int = 60,
        weight_lexical: float = 1.0,
        weight_dense: float | None = None,
        weight_ngram: float = 0.5,
        prf_docs: int = PRF_DOCS,
        prf_terms: int = PRF_TERMS,
        prf_weight: float = PRF_WEIGHT,
        translation_weight: float = TRANSLATION_WEIGHT,
        language_shrink: float | None = LANGUAGE_SHRINK,
        vector_cache_size: int = 20_000,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.store = store
        self.candidates = candidates
        self.weight_lexical = weight_lexical
        self.weight_dense = (
            weight_dense if weight_dense is not None else profile_of(embedder).dense_weight
        )
        self.weight_ngram = weight_ngram
        self.prf_docs = prf_docs
        self.prf_terms = prf_terms
        self.prf_weight = prf_weight
        self.translation_weight = translation_weight
        #: ``None`` turns the language balance off.
        self.language_shrink = language_shrink
        #: Least recently used stored vectors, at most ``vector_cache_size`` (≈1.5 kB each).
        self._vec_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.vector_cache_size = vector_cache_size

    @classmethod
    def from_settings(
        cls, index: LoadedIndex, embedder: Embedder, store: VectorStore, settings
    ) -> Retriever:
        """The retriever as configured: candidates and fusion weights from ``Settings``."""
        return cls(
            index,
            embedder,
            store,
            candidates=settings.candidates,
            weight_lexical=settings.weight_lexical,
            weight_dense=settings.weight_dense,
            weight_ngram=settings.weight_ngram,
            vector_cache_size=settings.vector_cache_size,
        )

    def _dense_hits(
        self,
        vec: np.ndarray,
        audience: Audience,
        filters: Filters | None,
        allowed_docs: list[str] | None,
    ) -> list[tuple[str, float]]:
        # Visibility is evaluated by the store itself (Chroma: one collection per audience), so
        # its cost does not grow with the number of documents, unlike an id list (issue 18).
        visibility = None if audience == "internal" else "public"
        if allowed_docs is None:
            return self.store.search(vec, self.candidates, None)
        if filters is None or filters.is_empty():
            return self.store.search(vec, self.candidates, None, visibility=visibility)
        if len(allowed_docs) * 2 > len(self.index.docs):
            # A broad filter: a long $in list makes Chroma slow, so search with some slack and
            # drop what the filter excludes.
            keep = set(allowed_docs)
            hits = [
                (cid, s)
                for cid, s in self.store.search(
                    vec, 2 * self.candidates, None, visibility=visibility
                )
                if cid in self.index.chunks and self.index.chunks.doc_id(cid) in keep
            ]
            if len(hits) >= self.candidates // 2:
                return hits[: self.candidates]
        return self.store.search(vec, self.candidates, allowed_docs, visibility=visibility)

    def search(
        self,
        query: str,
        *,
        audience: Audience = "public",
        filters: Filters | None = None,
        k_docs: int = 10,
        mode: Mode = "hybrid",
        query_vector: np.ndarray | None = None,
    ) -> Retrieval:
        if mode not in MODES:
            raise ValueError(f"onbekende zoekmodus {mode!r}; kies uit {', '.join(MODES)}")
        timings: dict[str, float] = {}
        allowed_docs, allowed_chunks = self.index.allowed(audience, filters)
        if allowed_chunks is not None and not allowed_chunks:
            return Retrieval(docs=[], timings_ms=timings)

        lexical = self.index.lexical
        lex_scores = np.zeros(0, dtype=np.float32)
        lex: dict[str, float] = {}
        qweights: dict[str, float] = {}
        gram_scores: np.ndarray | None = None
        language = detect_language(query)
        if mode in ("hybrid", "lexical", "rrf"):
            t = time.perf_counter()
            qweights = lexical.query_weights(query)
            gram_query = query
            translations = (
                self.index.glossary.expand(query)
                if language == "en" and self.translation_weight
                else []
            )
            if translations:
                # An English question about a Dutch corpus: its domain terms in Dutch too.
                dutch = " ".join(translations)
                for term in lexical.query_weights(dutch):
                    qweights.setdefault(term, self.translation_weight)
                gram_query = f"{query} {dutch}"
            lex_scores = lexical.weighted_scores(qweights, allowed_chunks)
            lex = dict(lexical.top_of(lex_scores, self.candidates))
            if mode == "hybrid" and self.weight_ngram and lexical.grams is not None:
                gram_scores = lexical.ngram_scores(gram_query, allowed_chunks)
            timings["lexical"] = (time.perf_counter() - t) * 1000
        dense: dict[str, float] = {}
        vec = None
        if mode in ("hybrid", "dense", "rrf"):
            t = time.perf_counter()
            vec = (
                query_vector
                if query_vector is not None
                else self.embedder.embed([query], kind="query")[0]
            )
            timings["embed"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            hits = self._dense_hits(vec, audience, filters, allowed_docs)
            timings["dense"] = (time.perf_counter() - t) * 1000
            # Chunks of a killed ingest may linger in the store until the next ingest: only the
            # manifest's chunks are live.
            dense = {cid: s for cid, s in hits if cid in self.index.chunks}

        if mode == "lexical":
            fused = _minmax(lex)
        elif mode == "dense":
            fused = _minmax(dense)
        elif mode == "rrf":
            fused = _rrf(lex, dense)
        else:
            t = time.perf_counter()
            fused = self._fuse(lex_scores, lex, dense, vec, gram_scores)
            if self.prf_docs > 0 and qweights and fused:
                feedback = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[: self.prf_docs]
                expansion = lexical.expansion(feedback, self.prf_terms)
                if expansion:
                    # Expansion terms together weigh prf_weight × the original query's weight.
                    scale = self.prf_weight * len(qweights)
                    weights = dict(qweights)
                    for term, w in expansion.items():
                        weights[term] = weights.get(term, 0.0) + scale * w
                    lex_scores = lexical.weighted_scores(weights, allowed_chunks)
                    lex = dict(lexical.top_of(lex_scores, self.candidates))
                    fused = self._fuse(lex_scores, lex, dense, vec, gram_scores)
            timings["fuse"] = (time.perf_counter() - t) * 1000

        docs = _rank_documents(fused, self.index.chunks.doc_id)
        return Retrieval(
            docs=docs[:k_docs],
            dense_top=max(dense.values(), default=0.0),
            lexical_top=max(lex.values(), default=0.0),
            timings_ms=timings,
        )

    def _fuse(
        self,
        lex_scores: np.ndarray,
        lex: dict[str, float],
        dense: dict[str, float],
        query_vector: np.ndarray | None = None,
        gram_scores: np.ndarray | None = None,
    ) -> dict[str, float]:
        pool = set(lex) | set(dense)
        if gram_scores is not None and gram_scores.size:
            pool |= {cid for cid, _ in self.index.lexical.top_of(gram_scores, self.candidates)}
        if not pool:
            return {}
        pos = self.index.lexical.pos
        lex_full: dict[str, float] = {}
        for cid in pool:
            i = pos.get(cid)
            lex_full[cid] = float(lex_scores[i]) if i is not None and lex_scores.size else 0.0
        dense_full = dict(dense)
        missing = [cid for cid in pool if cid not in dense]
        if dense and missing and query_vector is not None:
            # The exact similarity of a lexical-only candidate, from its stored vector: worth
            # +0.04 R@10 on Kamervragen over giving it the lowest returned dense score.
            for cid, vec in self._vectors(missing).items():
                dense_full[cid] = float(np.dot(vec, query_vector))
        floor = min(dense.values(), default=0.0)
        for cid in pool:
            dense_full.setdefault(cid, floor)
        if dense and self.language_shrink is not None:
            dense_full = self._balance_languages(dense_full, query_vector)
        nl = _zscore(lex_full) if any(lex_full.values()) else dict.fromkeys(pool, 0.0)
        nd = _zscore(dense_full) if dense else dict.fromkeys(pool, 0.0)
        fused = {cid: self.weight_lexical * nl[cid] + self.weight_dense * nd[cid] for cid in pool}
        if gram_scores is not None and gram_scores.size:
            ng = _zscore({cid: float(gram_scores[pos[cid]]) if cid in pos else 0.0 for cid in pool})
            for cid in pool:
                fused[cid] += self.weight_ngram * ng[cid]
        return fused

    def _balance_languages(
        self, dense: dict[str, float], query_vector: np.ndarray | None
    ) -> dict[str, float]:
        """Dense similarities with each document language's offset for this question removed.

        A multilingual model still scores text in the question's own language higher: an
        English question ranks every English document above the Dutch one about its topic.
        The offset of a language is the question's mean similarity to *all* chunks of that
        language (one dot product with the centroid measured at ingest) minus the mean over
        all chunks. It is shrunk towards zero for a language with few chunks, whose centroid
        is mostly the topic of those chunks rather than their language.
        """
        cal = self.index.calibration
        if cal is None or len(cal.centroids) < 2 or query_vector is None:
            return dense
        means = cal.language_means(query_vector)
        total = sum(cal.counts.values()) or 1
        overall = sum(means[lang] * cal.counts.get(lang, 0) for lang in means) / total
        offset = {
            lang: (m - overall)
            * cal.counts.get(lang, 0)
            / (cal.counts.get(lang, 0) + self.language_shrink)
            for lang, m in means.items()
        }
        lang_of = self.index.language_of
        return {cid: s - offset.get(lang_of(cid), 0.0) for cid, s in dense.items()}

    def _vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored chunk vectors through a bounded LRU cache (per index generation)."""
        cache = self._vec_cache
        out = {}
        for cid in ids:
            v = cache.get(cid)
            if v is not None:
                cache.move_to_end(cid)
                out[cid] = v
        todo = [cid for cid in ids if cid not in out]
        if not todo:
            return out
        got = stored_vectors(self.store, todo)
        out.update(got)
        if self.vector_cache_size > 0:
            cache.update(got)
            while len(cache) > self.vector_cache_size:
                cache.popitem(last=False)
        return out


def _zscore(scores: dict[str, float]) -> dict[str, float]:
    """Standard scores over the candidate pool; robust to one outlier, unlike min-max."""
    vals = np.fromiter(scores.values(), dtype=np.float64)
    sd = float(vals.std())
    if sd < 1e-9:
        return dict.fromkeys(scores, 0.0)
    mean = float(vals.mean())
    return {k: (v - mean) / sd for k, v in scores.items()}


def _rrf(*rankings: dict[str, float], k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion with equal weights (the textbook baseline)."""
    fused: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, cid in enumerate(sorted(ranking, key=lambda c: (-ranking[c], c))):
            fused[cid] += 1.0 / (k + rank + 1)
    return dict(fused)
