"""Baselines that run side by side with the project, on the same index and the same questions.

- ``bm25``: the project's lexical index alone (``Retriever.search(mode="lexical")``).
- ``dense``: the project's vectors alone (``mode="dense"``).
- ``naive_answer`` (not a ranking): the best-ranked chunk's text as the whole answer, scored
  on nuggets beside the project's answer.
- ``langchain``: what a first LangChain tutorial builds: ``Chroma.similarity_search(question, k)``
  on the raw question, document ids from chunk metadata, no fusion, no follow-up handling,
  no visibility filter and no abstention.

The first two use the same standalone query as the project (follow-ups condensed), so the
comparison isolates the fusion; the naive pipeline gets the question as typed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from assistant.service import Assistant

K_DOCS = 10
#: Chunks fetched by the naive pipeline: enough to fill ten distinct documents most of the time.
NAIVE_CHUNKS = 40

#: (standalone query, question as typed, audience, query vector of the standalone query) → doc ids.
Baseline = Callable[[str, str, str, np.ndarray], list[str]]


def _lexical(assistant: Assistant) -> Baseline:
    def run(query: str, question: str, audience: str, qvec: np.ndarray) -> list[str]:
        return assistant.runtime.retriever.search(
            query, audience=audience, k_docs=K_DOCS, mode="lexical"
        ).doc_ids

    return run


def _dense(assistant: Assistant) -> Baseline:
    def run(query: str, question: str, audience: str, qvec: np.ndarray) -> list[str]:
        return assistant.runtime.retriever.search(
            query, audience=audience, k_docs=K_DOCS, mode="dense", query_vector=qvec
        ).doc_ids

    return run


def naive_chunks(store, vector: np.ndarray, k: int) -> list | None:
    """LangChain's ``similarity_search_by_vector`` over the whole index: the store's Chroma
    collections (one per audience) merged by distance. ``None`` for a store without them."""
    vectorstores = getattr(store, "vectorstores", None)
    if vectorstores is None:
        return None
    vec = np.asarray(vector, dtype=float).tolist()
    hits = [
        hit
        for vs in vectorstores.values()
        for hit in vs.similarity_search_by_vector_with_relevance_scores(vec, k=k)
    ]
    hits.sort(key=lambda h: h[1])  # cosine distance: smaller is nearer
    return [doc for doc, _ in hits[:k]]


def _langchain(assistant: Assistant) -> Baseline | None:
    if getattr(assistant.store, "vectorstores", None) is None:
        return None

    def run(query: str, question: str, audience: str, qvec: np.ndarray) -> list[str]:
        # Same call as similarity_search(question, k); the vector is reused when the question
        # is its own standalone query, because embedding is the slow part of an eval run.
        vec = qvec if question == query else assistant.embedder.embed([question], kind="query")[0]
        out: list[str] = []
        for doc in naive_chunks(assistant.store, vec, NAIVE_CHUNKS) or []:
            doc_id = (doc.metadata or {}).get("doc_id")
            if doc_id and doc_id not in out:
                out.append(doc_id)
        return out[:K_DOCS]

    return run


def naive_answer(
    assistant: Assistant, query: str, audience: str, qvec: np.ndarray | None, lang: str
) -> dict:
    """The naive extractive answer: the text of the best-ranked chunk, nothing composed.

    Same retrieval as the project (hybrid, same standalone query, same audience), so the
    nugget ratio project / this isolates what selection and composition add. It never
    abstains. Redacted like every answer, because it lands in the report.
    """
    rt = assistant.runtime
    hits = rt.retriever.search(query, audience=audience, k_docs=K_DOCS, query_vector=qvec).docs
    chunks = [c for d in hits for c in d.chunks]
    if not chunks:
        return {"doc_id": None, "chunk_id": None, "answer": ""}
    chunk_id = max(chunks, key=lambda c: c[1])[0]
    chunk = rt.index.chunks[chunk_id]
    return {"doc_id": chunk.doc_id, "chunk_id": chunk_id, "answer": rt.redact(chunk.text, lang)}


def make_baselines(assistant: Assistant) -> dict[str, Baseline]:
    """Name → ``Baseline`` returning ranked doc ids."""
    out = {"bm25": _lexical(assistant), "dense": _dense(assistant)}
    naive = _langchain(assistant)
    if naive is not None:
        out["langchain"] = naive
    return out
