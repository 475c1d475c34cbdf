"""Vector stores. This is the only module of the project that imports chromadb.

Chroma is used through langchain-chroma, embedded (a folder under the index) or as a client of a
``chroma run`` server (``OPSCHAAL_CHROMA_URL``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlparse

import numpy as np

from .embeddings import Embedder

log = logging.getLogger(__name__)


class StoreUnavailable(RuntimeError):
    pass


@runtime_checkable
class VectorStore(Protocol):
    """Chunk vectors keyed by chunk id. ``search`` is the one hot-path method."""

    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def ids(self) -> set[str]: ...

    def search(
        self, vector: np.ndarray, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Return ``(chunk_id, cosine similarity)`` best first, optionally within ``doc_ids``."""
        ...


class LangchainEmbeddings:
    """Adapter: our Embedder as a LangChain ``Embeddings`` (duck-typed, as LangChain does)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(list(texts), kind="passage").tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text], kind="query")[0].tolist()


def _client(index_dir: Path, chroma_url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    # Offline by default: Chroma's telemetry would try to phone home.
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        u = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        try:
            return chromadb.HttpClient(
                host=u.hostname or "localhost",
                port=u.port or (443 if u.scheme == "https" else 8000),
                ssl=u.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise StoreUnavailable(
                f"Chroma-server op {chroma_url} is niet bereikbaar ({exc}); start hem met "
                "'chroma run' of maak OPSCHAAL_CHROMA_URL leeg voor de ingebouwde opslag"
            ) from exc
    path = index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class ChromaStore:
    """Chroma via langchain-chroma. Construction is cheap; the client opens on first use."""

    def __init__(
        self,
        embedder: Embedder,
        index_dir: Path,
        chroma_url: str | None = None,
        collection: str = "opschaal",
    ) -> None:
        self.embedder = embedder
        self.index_dir = Path(index_dir)
        self.chroma_url = chroma_url
        if chroma_url:
            # One server serves many index folders: keep them apart by name.
            tag = hashlib.sha1(str(self.index_dir.resolve()).encode()).hexdigest()[:10]
            collection = f"{collection}-{tag}"
        self.collection_name = collection
        self._vs = None

    @property
    def vectorstore(self):
        """The langchain-chroma ``Chroma`` object (also used by the naive baseline)."""
        if self._vs is None:
            from langchain_chroma import Chroma

            self._vs = Chroma(
                collection_name=self.collection_name,
                embedding_function=LangchainEmbeddings(self.embedder),
                client=_client(self.index_dir, self.chroma_url),
                collection_metadata={"hnsw:space": "cosine"},
            )
        return self._vs

    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict]) -> None:
        if ids:
            self.vectorstore.add_texts(texts=texts, metadatas=metadatas, ids=ids)

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), 500):
            self.vectorstore.delete(ids=ids[i : i + 500])

    def ids(self) -> set[str]:
        got = self.vectorstore.get(include=[])
        return set(got.get("ids", []))

    def search(
        self, vector: np.ndarray, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        where = None
        if doc_ids is not None:
            doc_ids = list(doc_ids)
            if not doc_ids:
                return []
            where = {"doc_id": {"$in": doc_ids}} if len(doc_ids) > 1 else {"doc_id": doc_ids[0]}
        collection = self.vectorstore._collection
        n = collection.count()
        if n == 0:
            return []
        res = collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
            n_results=min(k, n),
            where=where,
            include=["distances"],
        )
        ids = res["ids"][0]
        dists = res["distances"][0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, dists, strict=True)]

    def reset(self) -> None:
        try:
            self.vectorstore.delete_collection()
        finally:
            self._vs = None


@dataclass
class MemoryStore:
    """Deterministic in-memory store with exact cosine search: the fake for tests."""

    embedder: Embedder
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, dict] = field(default_factory=dict)

    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict]) -> None:
        if not ids:
            return
        vecs = self.embedder.embed(list(texts))
        for cid, v, m in zip(ids, vecs, metadatas, strict=True):
            self.vectors[cid] = v
            self.meta[cid] = m

    def delete(self, ids: Sequence[str]) -> None:
        for cid in ids:
            self.vectors.pop(cid, None)
            self.meta.pop(cid, None)

    def ids(self) -> set[str]:
        return set(self.vectors)

    def search(
        self, vector: np.ndarray, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        allowed = set(doc_ids) if doc_ids is not None else None
        scored = [
            (cid, float(np.dot(v, vector)))
            for cid, v in self.vectors.items()
            if allowed is None or self.meta[cid].get("doc_id") in allowed
        ]
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[:k]


def stored_vectors(store: VectorStore, ids: Sequence[str]) -> dict[str, np.ndarray]:
    """The stored vectors of ``ids`` (missing ones left out); empty for a store that cannot
    return its vectors, so callers only lose precision."""
    ids = list(ids)
    got: dict[str, np.ndarray] = {}
    try:
        if isinstance(getattr(store, "vectors", None), dict):  # the in-memory store
            return {cid: store.vectors[cid] for cid in ids if cid in store.vectors}
        if hasattr(store, "vectorstore"):  # langchain-chroma
            for i in range(0, len(ids), 500):
                res = store.vectorstore.get(ids=ids[i : i + 500], include=["embeddings"])
                got.update(
                    (cid, np.asarray(v, dtype=np.float32))
                    for cid, v in zip(res["ids"], res["embeddings"], strict=True)
                )
    except Exception as exc:  # noqa: BLE001 - any store failure only costs precision
        log.debug("chunk vectors unavailable (%s)", exc)
        return {}
    return got


def make_store(settings, embedder: Embedder) -> VectorStore:
    if (settings.embedder or "").lower() == "fake" and settings.chroma_url == "memory":
        return MemoryStore(embedder)
    return ChromaStore(embedder, settings.index_dir, settings.chroma_url, settings.collection)
