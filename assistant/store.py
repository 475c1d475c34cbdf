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
        self,
        vector: np.ndarray,
        k: int,
        doc_ids: Sequence[str] | None = None,
        *,
        visibility: str | None = None,
    ) -> list[tuple[str, float]]:
        """Return ``(chunk_id, cosine similarity)`` best first, optionally within ``doc_ids``
        and only chunks whose ``visibility`` metadata equals ``visibility``. The store
        evaluates the visibility filter itself, so its cost does not grow with the corpus."""
        ...

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``ids``; ids the store does not hold are left out."""
        ...

    def reset(self) -> None:
        """Remove every chunk (a rebuild starts from an empty store)."""
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
        self,
        vector: np.ndarray,
        k: int,
        doc_ids: Sequence[str] | None = None,
        *,
        visibility: str | None = None,
    ) -> list[tuple[str, float]]:
        clauses: list[dict] = []
        if doc_ids is not None:
            doc_ids = list(doc_ids)
            if not doc_ids:
                return []
            clauses.append(
                {"doc_id": {"$in": doc_ids}} if len(doc_ids) > 1 else {"doc_id": doc_ids[0]}
            )
        if visibility is not None:
            clauses.append({"visibility": visibility})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        # langchain-chroma's similarity_search_by_vector_with_relevance_scores would do, but it
        # returns whole documents; the hot path only needs ids and distances.
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

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        ids = list(ids)
        got: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), 500):
            res = self.vectorstore.get(ids=ids[i : i + 500], include=["embeddings"])
            got.update(
                (cid, np.asarray(v, dtype=np.float32))
                for cid, v in zip(res["ids"], res["embeddings"], strict=True)
            )
        return got

    def reset(self) -> None:
        try:
            self.vectorstore.delete_collection()
        finally:
            self._vs = None


@dataclass
class MemoryStore:
    """Deterministic in-memory store with exact cosine search: the fake for tests."""

    embedder: Embedder
    by_id: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, dict] = field(default_factory=dict)

    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict]) -> None:
        if not ids:
            return
        vecs = self.embedder.embed(list(texts))
        for cid, v, m in zip(ids, vecs, metadatas, strict=True):
            self.by_id[cid] = v
            self.meta[cid] = m

    def delete(self, ids: Sequence[str]) -> None:
        for cid in ids:
            self.by_id.pop(cid, None)
            self.meta.pop(cid, None)

    def ids(self) -> set[str]:
        return set(self.by_id)

    def search(
        self,
        vector: np.ndarray,
        k: int,
        doc_ids: Sequence[str] | None = None,
        *,
        visibility: str | None = None,
    ) -> list[tuple[str, float]]:
        allowed = set(doc_ids) if doc_ids is not None else None
        scored = [
            (cid, float(np.dot(v, vector)))
            for cid, v in self.by_id.items()
            if (allowed is None or self.meta[cid].get("doc_id") in allowed)
            and (visibility is None or self.meta[cid].get("visibility") == visibility)
        ]
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[:k]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {cid: self.by_id[cid] for cid in ids if cid in self.by_id}

    def reset(self) -> None:
        self.by_id.clear()
        self.meta.clear()


def stored_vectors(store: VectorStore, ids: Sequence[str]) -> dict[str, np.ndarray]:
    """``store.vectors(ids)``, empty when the store fails: callers only lose precision."""
    try:
        return store.vectors(list(ids))
    except Exception as exc:  # noqa: BLE001 - any store failure only costs precision
        log.debug("chunk vectors unavailable (%s)", exc)
        return {}


def store_kind(settings) -> str:
    """``OPSCHAAL_VECTOR_STORE``, or what ``OPSCHAAL_CHROMA_URL`` implied before it existed:
    a URL means a server, ``memory`` with the fake embedder the in-memory store."""
    if settings.vector_store:
        return settings.vector_store
    if settings.chroma_url == "memory":
        return "memory" if (settings.embedder or "").lower() == "fake" else "chroma-server"
    return "chroma-server" if settings.chroma_url else "chroma"


def make_store(settings, embedder: Embedder) -> VectorStore:
    kind = store_kind(settings)
    if kind == "memory":
        return MemoryStore(embedder)
    if kind == "chroma-server" and not settings.chroma_url:
        raise StoreUnavailable(
            "OPSCHAAL_VECTOR_STORE=chroma-server zonder adres; zet OPSCHAAL_CHROMA_URL op "
            "http://host:poort van de Chroma-server"
        )
    url = settings.chroma_url if kind == "chroma-server" else None
    return ChromaStore(embedder, settings.index_dir, url, settings.collection)
