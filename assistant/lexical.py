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
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from pathlib import Path

import bm25s
import numpy as np
from bm25s import scoring

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


#: Entries (chunk × distinct term) per sorted run of the first pass, and per term range of the
#: merge: what the on-disk build holds in memory at once (≈16 bytes an entry).
RUN_ENTRIES = 2_000_000
MERGE_ENTRIES = 4_000_000


def _npy_writer(path: Path, dtype: str, n: int):
    """An open .npy file of ``n`` items whose header is written; the data is appended."""
    fh = path.open("wb")
    np.lib.format.write_array_header_1_0(
        fh, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": (n,)}
    )
    return fh


def write_bm25(folder: Path, token_lists: Iterable[list[str]], k1: float, b: float) -> None:
    """Write what ``bm25s.BM25(k1, b).index(token_lists).save(folder)`` writes, in bounded memory.

    bm25s builds its matrix from every chunk's token ids at once and needs ≈36 bytes per
    (chunk, term) entry to sort them: 2 GB at 50k chunks for the 5-gram view (issue 18). Here
    the first pass counts each chunk's terms and writes them to disk in runs sorted by term;
    the second merges the runs one term range at a time into bm25s's CSC files, with bm25s's
    own scoring functions, so the files are identical and ``BM25.load(mmap=True)`` reads them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".runs"
    tmp.mkdir(exist_ok=True)
    method = "lucene"  # bm25s's default, which BM25(k1, b) uses
    vocab: dict[str, int] = {}
    df = np.zeros(1024, dtype=np.int64)
    lengths: list[int] = []
    files = {k: (tmp / f"{k}.bin").open("wb") for k in ("term", "doc", "tf")}
    runs: list[tuple[int, int]] = []  # (first entry, end) of each sorted run
    buf: list[tuple[np.ndarray, np.ndarray, int]] = []
    held = written = 0

    def flush() -> None:
        nonlocal buf, held, written
        if not buf:
            return
        terms = np.concatenate([t for t, _, _ in buf])
        tfs = np.concatenate([c for _, c, _ in buf]).astype(np.float32)
        docs = np.repeat(
            np.asarray([d for _, _, d in buf], dtype=np.int32), [len(t) for t, _, _ in buf]
        )
        # Stable: within a term the chunks stay in order, as in bm25s's CSC columns.
        order = np.argsort(terms, kind="stable")
        for key, arr in (("term", terms), ("doc", docs), ("tf", tfs)):
            files[key].write(arr[order].tobytes())
        runs.append((written, written + len(terms)))
        written += len(terms)
        buf, held = [], 0

    for doc, tokens in enumerate(token_lists):
        tokens = tokens or ["__leeg__"]
        ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), dtype=np.int32)
        lengths.append(len(ids))
        uniq, counts = np.unique(ids, return_counts=True)
        if len(vocab) > len(df):
            df = np.concatenate([df, np.zeros(max(len(vocab), len(df)), dtype=np.int64)])
        df[uniq] += 1
        buf.append((uniq, counts, doc))
        held += len(uniq)
        if held >= RUN_ENTRIES:
            flush()
    flush()
    for fh in files.values():
        fh.close()

    n_docs, n_vocab = len(lengths), len(vocab)
    df = df[:n_vocab]
    avg_len = np.array(lengths).mean()
    doc_len = np.asarray(lengths, dtype=np.int64)
    del lengths
    idf_fn = scoring._select_idf_scorer(method)
    idf = np.fromiter((idf_fn(int(d), N=n_docs) for d in df), dtype=np.float32, count=n_vocab)
    tfc_fn = scoring._select_tfc_scorer(method)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    nnz = int(indptr[-1])
    data_fh = _npy_writer(folder / "data.csc.index.npy", "float32", nnz)
    index_fh = _npy_writer(folder / "indices.csc.index.npy", "int32", nnz)
    t0 = 0
    while t0 < n_vocab:
        # The next term range: about MERGE_ENTRIES entries, at least one term.
        t1 = int(np.searchsorted(indptr, indptr[t0] + MERGE_ENTRIES, side="right")) - 1
        t1 = min(max(t1, t0 + 1), n_vocab)
        parts = {"term": [], "doc": [], "tf": []}
        for lo_run, hi_run in runs:
            # Mapped only while read: the pages leave this process's RSS when the map closes.
            terms = np.memmap(tmp / "term.bin", np.int32, "r", lo_run * 4, (hi_run - lo_run,))
            lo, hi = np.searchsorted(terms, [t0, t1])
            if hi > lo:
                parts["term"].append(np.array(terms[lo:hi]))
                for key, dt in (("doc", np.int32), ("tf", np.float32)):
                    arr = np.memmap(tmp / f"{key}.bin", dt, "r", (lo_run + lo) * 4, (hi - lo,))
                    parts[key].append(np.array(arr))
                    del arr
            del terms
        terms = np.concatenate(parts["term"])
        order = np.argsort(terms, kind="stable")  # runs are in chunk order: (term, chunk)
        terms = terms[order]
        docs = np.concatenate(parts["doc"])[order]
        tfs = np.concatenate(parts["tf"])[order]
        del parts, order
        scores = idf[terms] * tfc_fn(
            tf_array=tfs, l_d=doc_len[docs], l_avg=avg_len, k1=k1, b=b, delta=None
        )
        data_fh.write(scores.astype(np.float32).tobytes())
        index_fh.write(docs.astype(np.int32).tobytes())
        t0 = t1
    data_fh.close()
    index_fh.close()
    shutil.rmtree(tmp, ignore_errors=True)
    np.save(folder / "indptr.csc.index.npy", indptr)
    if "" not in vocab:  # as bm25s's index() does (create_empty_token)
        vocab[""] = n_vocab
    (folder / "vocab.index.json").write_text(
        json.dumps(vocab, ensure_ascii=False), encoding="utf-8"
    )
    MappedVocab.write(folder, vocab)
    params = dict(
        k1=k1,
        b=b,
        delta=0.5,
        method=method,
        idf_method=method,
        dtype="float32",
        int_dtype="int32",
        num_docs=n_docs,
        version=bm25s.__version__,
        backend="numpy",
    )
    (folder / "params.index.json").write_text(json.dumps(params, indent=4), encoding="utf-8")


class MappedVocab(Mapping[str, int]):
    """A bm25s vocabulary (term → column) as two memory-mapped arrays, sorted terms and their
    columns, looked up by binary search. The workers of a machine share it through the page
    cache; as a dict it is a private ~100 bytes a term in every worker (issue 18)."""

    TERMS, IDS = "vocab.terms.npy", "vocab.ids.npy"

    def __init__(self, folder: Path) -> None:
        self._terms = np.load(folder / self.TERMS, mmap_mode="r")
        self._ids = np.load(folder / self.IDS, mmap_mode="r")

    @classmethod
    def write(cls, folder: Path, vocab: Mapping[str, int]) -> None:
        keys = np.array([t.encode("utf-8") for t in vocab], dtype=bytes)
        order = np.argsort(keys, kind="stable")
        np.save(folder / cls.TERMS, keys[order])
        np.save(folder / cls.IDS, np.fromiter(vocab.values(), np.int32, len(vocab))[order])

    @classmethod
    def exists(cls, folder: Path) -> bool:
        return (folder / cls.TERMS).exists() and (folder / cls.IDS).exists()

    def lookup(self, terms: Sequence[str]) -> np.ndarray:
        """The column of each term, -1 for a term not in the vocabulary."""
        out = np.full(len(terms), -1, dtype=np.int64)
        n = len(self._terms)
        if not n or not len(terms):
            return out
        width = self._terms.dtype.itemsize
        raw = [t.encode("utf-8") for t in terms]
        fits = np.array([len(b) <= width and not b.endswith(b"\0") for b in raw], dtype=bool)
        query = np.array([b if f else b"" for b, f in zip(raw, fits, strict=True)], dtype=bytes)
        at = np.minimum(np.searchsorted(self._terms, query), n - 1)
        hit = fits & (np.asarray(self._terms[at]) == query)
        out[hit] = np.asarray(self._ids[at[hit]])
        return out

    def get(self, term: str, default=None):
        col = int(self.lookup([term])[0])
        return default if col < 0 else col

    def __getitem__(self, term: str) -> int:
        col = self.get(term)
        if col is None:
            raise KeyError(term)
        return col

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __iter__(self) -> Iterator[str]:
        return (bytes(t).decode("utf-8") for t in self._terms)

    def __len__(self) -> int:
        return len(self._terms)


def _columns(vocab: Mapping[str, int], terms: Sequence[str]) -> np.ndarray:
    """The bm25s column of each term, -1 for one not in the vocabulary: one vectorised search
    for a mapped vocabulary, dict lookups otherwise."""
    if isinstance(vocab, MappedVocab):
        return vocab.lookup(terms)
    return np.fromiter((vocab.get(t, -1) for t in terms), dtype=np.int64, count=len(terms))


def _load_bm25(folder: Path, mmap: bool) -> bm25s.BM25:
    """bm25s's own loader; with ``mmap`` and a mapped vocabulary, without its vocabulary dict
    (and the set of its ids bm25s builds, which only its own ``retrieve`` uses)."""
    mapped = mmap and MappedVocab.exists(folder)
    retriever = bm25s.BM25.load(str(folder), mmap=mmap, load_vocab=not mapped, show_progress=False)
    if mapped:
        retriever.vocab_dict = MappedVocab(folder)
    return retriever


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
        """An index in memory, built as :meth:`write` builds it on disk."""
        rows = list(zip(ids, bodies, titles, langs, strict=True))
        with tempfile.TemporaryDirectory(prefix="opschaal-lexical-") as tmp:
            cls.write(Path(tmp), lambda: iter(rows), params)
            return cls.load(Path(tmp))

    @classmethod
    def write(
        cls,
        folder: Path,
        rows: Callable[[], Iterable[tuple[str, str, str, str]]],
        params: LexicalParams | None = None,
    ) -> None:
        """Write the index of the chunks ``rows()`` yields as ``(id, body, title, language)``.

        ``rows`` is called once per pass (vocabulary, words, n-grams), so the chunks can be
        read from disk each time instead of all being held (issue 18).
        """
        params = params or LexicalParams()
        folder.mkdir(parents=True, exist_ok=True)
        ids: list[str] = []
        vocab: Counter = Counter()
        for cid, body, title, _ in rows():
            ids.append(cid)
            vocab.update(Analyzer.count_vocab((body, title)))
        analyzer = Analyzer(vocab, min_count=params.min_count)
        if ids:
            write_bm25(
                folder / "bm25",
                (
                    analyzer.terms(body, lang) + analyzer.terms(title, lang) * params.title_weight
                    for _, body, title, lang in rows()
                ),
                params.k1,
                params.b,
            )
            if params.ngram:
                write_bm25(
                    folder / "grams",
                    (char_ngrams(f"{title} {body}", params.ngram) for _, body, title, _ in rows()),
                    params.k1,
                    params.ngram_b,
                )
        cls._write_meta(folder, ids, analyzer.vocab, params)

    @staticmethod
    def _write_meta(folder: Path, ids: list[str], vocab: Mapping, params: LexicalParams) -> None:
        (folder / "ids.json").write_text(json.dumps(ids), encoding="utf-8")
        (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        (folder / "params.json").write_text(
            json.dumps({"version": VERSION, **asdict(params)}), encoding="utf-8"
        )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(folder / "bm25"), show_progress=False)
        if self.grams is not None:
            self.grams.save(str(folder / "grams"), show_progress=False)
        self._write_meta(folder, self.ids, self.analyzer.vocab, self.params)

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
        retriever = _load_bm25(folder / "bm25", mmap) if ids else None
        grams = None
        if ids and (folder / "grams").is_dir():
            grams = _load_bm25(folder / "grams", mmap)
        return cls(
            ids, retriever, Analyzer(Counter(vocab), min_count=1), params, version, grams=grams
        )

    # -- scoring ------------------------------------------------------------------------------
    def query_weights(self, query: str) -> dict[str, float]:
        """The query's index terms, weight 1 each (terms absent from the index are dropped)."""
        if self.retriever is None:
            return {}
        terms = self.analyzer.query_terms(query)
        cols = _columns(self.retriever.vocab_dict, terms)
        return {t: 1.0 for t, c in zip(terms, cols, strict=True) if c >= 0}

    def weighted_scores(
        self, weights: Mapping[str, float], allowed: Sequence[str] | None = None
    ) -> np.ndarray:
        """BM25 score per chunk for a weighted bag of index terms; disallowed chunks score 0."""
        return self._scores(self.retriever, weights, allowed)

    def ngram_scores(self, query: str, allowed: Sequence[str] | None = None) -> np.ndarray:
        """BM25 score per chunk over character n-grams (all zero when the index has none)."""
        if self.grams is None:
            return np.zeros(len(self.ids) if self.retriever is not None else 0, dtype=np.float32)
        grams = list(dict.fromkeys(char_ngrams(query, self.params.ngram)))
        cols = _columns(self.grams.vocab_dict, grams)
        wanted = [g for g, c in zip(grams, cols, strict=True) if c >= 0]
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
        s = np.zeros(len(self.ids), dtype=np.float32)
        cols = _columns(retriever.vocab_dict, list(weights))
        for t, w in zip(cols.tolist(), weights.values(), strict=True):
            if t < 0 or w == 0:
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
