"""Hybrid retrieval: BM25 and dense candidates, fused, filtered and ranked per document.

Fusion is a weighted sum of min-max-normalised scores. On Dutch text this beats reciprocal rank
fusion, which lets a weak dense list drag good lexical hits down; the weights come from the
Kamervragen measurements in docs/retrieval.md.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embeddings import Embedder
from .index import ChunkRecord, IndexMissing, gen_dir, read_chunks, read_manifest
from .lexical import LexicalIndex
from .models import Audience, Filters
from .store import VectorStore

MODES = ("hybrid", "lexical", "dense", "rrf")


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
        self.manifest = manifest
        folder = gen_dir(index_dir, manifest["generation"])
        self.docs: dict[str, dict] = {k: v["meta"] for k, v in manifest["docs"].items()}
        self.chunks: dict[str, ChunkRecord] = {c.id: c for c in read_chunks(folder)}
        self.knowledge = json.loads((folder / "knowledge.json").read_text(encoding="utf-8"))
        self.lexical = LexicalIndex.load(folder / "lexical")
        self.embedder_name: str = manifest["embedder"]

    def allowed_docs(self, audience: Audience, filters: Filters | None) -> list[str] | None:
        """Doc ids a request may see, or None when everything is allowed."""
        if audience == "internal" and (filters is None or filters.is_empty()):
            return None
        out = []
        for doc_id, m in self.docs.items():
            if audience != "internal" and m.get("visibility", "public") != "public":
                continue
            if filters is not None and not _matches(m, filters):
                continue
            out.append(doc_id)
        return out


def _matches(meta: dict, f: Filters) -> bool:
    def anyof(values: Iterable[str], wanted: list[str]) -> bool:
        return not wanted or bool(set(values) & set(wanted))

    org = meta.get("organisation") or ""
    return (
        anyof([meta.get("type", "")], f.type)
        and anyof(meta.get("phases", []), f.phases)
        and anyof(meta.get("obstacles", []), f.obstacles)
        and (not f.organisation or any(o.lower() in org.lower() for o in f.organisation))
        and anyof([meta.get("language", "nl")], f.language)
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
    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        store: VectorStore,
        *,
        candidates: int = 60,
        weight_lexical: float = 1.0,
        weight_dense: float = 1.5,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.store = store
        self.candidates = candidates
        self.weight_lexical = weight_lexical
        self.weight_dense = weight_dense

    def search(
        self,
        query: str,
        *,
        audience: Audience = "public",
        filters: Filters | None = None,
        k_docs: int = 10,
        mode: str = "hybrid",
        query_vector: np.ndarray | None = None,
    ) -> Retrieval:
        timings: dict[str, float] = {}
        allowed_docs = self.index.allowed_docs(audience, filters)
        allowed_chunks = None
        if allowed_docs is not None:
            allowed_set = set(allowed_docs)
            allowed_chunks = [c.id for c in self.index.chunks.values() if c.doc_id in allowed_set]
            if not allowed_chunks:
                return Retrieval(docs=[], timings_ms=timings)

        lex: dict[str, float] = {}
        if mode in ("hybrid", "lexical", "rrf"):
            t = time.perf_counter()
            lex = dict(self.index.lexical.top(query, self.candidates, allowed_chunks))
            timings["lexical"] = (time.perf_counter() - t) * 1000
        dense: dict[str, float] = {}
        if mode in ("hybrid", "dense", "rrf"):
            t = time.perf_counter()
            vec = query_vector if query_vector is not None else self.embedder.embed([query], kind="query")[0]
            timings["embed"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            hits = self.store.search(vec, self.candidates, allowed_docs)
            timings["dense"] = (time.perf_counter() - t) * 1000
            # Chunks of a killed ingest may linger in the store until the next ingest: only the
            # manifest's chunks are live.
            dense = {cid: s for cid, s in hits if cid in self.index.chunks}

        if mode == "lexical":
            fused = _minmax(lex)
        elif mode == "dense":
            fused = _minmax(dense)
        elif mode == "rrf":
            fused = defaultdict(float)
            for ranking in (lex, dense):
                for rank, cid in enumerate(sorted(ranking, key=ranking.get, reverse=True)):
                    fused[cid] += 1.0 / (60 + rank + 1)
        else:
            nl, nd = _minmax(lex), _minmax(dense)
            fused = {
                cid: self.weight_lexical * nl.get(cid, 0.0) + self.weight_dense * nd.get(cid, 0.0)
                for cid in set(nl) | set(nd)
            }

        per_doc: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for cid, s in fused.items():
            per_doc[self.index.chunks[cid].doc_id].append((cid, s))
        docs = []
        for doc_id, chunks in per_doc.items():
            chunks.sort(key=lambda x: (-x[1], x[0]))
            # A second strong passage is extra evidence, but one long document must not win
            # on length alone.
            score = chunks[0][1] + (0.1 * chunks[1][1] if len(chunks) > 1 else 0.0)
            docs.append(DocHit(doc_id, score, chunks))
        docs.sort(key=lambda d: (-d.score, d.doc_id))
        return Retrieval(
            docs=docs[:k_docs],
            dense_top=max(dense.values(), default=0.0),
            lexical_top=max(lex.values(), default=0.0),
            timings_ms=timings,
        )
