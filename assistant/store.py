"""Vector stores. This is the only module of the project that imports chromadb.

Chroma is used through langchain-chroma, embedded (a folder under the index) or as a client of a
``chroma run`` server (``OPSCHAAL_CHROMA_URL``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
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


#: Chroma keeps one client system per folder or server for the whole process; two threads that
#: create the first one at the same moment tear each other's down (a server's warm-up thread and
#: its first requests do exactly that). Opening is rare, so one lock for the process.
_OPENING = threading.Lock()


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


#: The audiences a chunk can have (``visibility`` in a document's front matter). Each has its
#: own Chroma collection, so a public search never sees an internal vector.
VISIBILITIES = ("public", "internal")
_PAGE = 500


def _visibility(meta: dict) -> str:
    """A chunk's collection. Unknown values go to the internal one: never public by mistake."""
    v = meta.get("visibility", "public")
    return v if v in VISIBILITIES else "internal"


def _by_visibility(metadatas: Sequence[dict | None]) -> dict[str, list[int]]:
    """The row numbers of each audience's chunks."""
    groups: dict[str, list[int]] = {v: [] for v in VISIBILITIES}
    for i, meta in enumerate(metadatas):
        groups[_visibility(meta or {})].append(i)
    return groups


def _merge(results: list[list[tuple[str, float]]], k: int) -> list[tuple[str, float]]:
    # Each collection returns cosine similarities, so the best k of the union is a plain merge.
    merged = sorted((hit for hits in results for hit in hits), key=lambda h: (-h[1], h[0]))
    return merged[:k]


class ChromaStore:
    """Chroma via langchain-chroma, one collection per audience. Construction is cheap; the
    client opens on first use.

    A public search queries only the public collection and an internal one queries both and
    merges by cosine similarity, so visibility costs nothing per query and nothing grows with
    the corpus: Chroma's ``where`` filter on visibility cost ~180 ms at 50k chunks (issue 18).
    No chunk is stored twice. ``doc_ids`` stay a Chroma ``where`` filter within a collection.
    """

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
        #: The prefix of the audience collections (``<name>-public``, ``<name>-internal``); a
        #: collection of exactly this name is one written before the split (see ``ids``).
        self.collection_name = collection
        self._vs: dict[str, object] | None = None
        self._client = None
        #: Whether the pre-split collection is what a search reads; decided once per opening.
        self._read_legacy: bool | None = None

    @property
    def vectorstores(self) -> dict[str, object]:
        """The langchain-chroma ``Chroma`` object per audience (also used by the naive
        baseline, which merges them)."""
        if self._vs is None:
            from langchain_chroma import Chroma

            with _OPENING:
                if self._vs is None:
                    self._client = _client(self.index_dir, self.chroma_url)
                    self._vs = {
                        v: Chroma(
                            collection_name=f"{self.collection_name}-{v}",
                            embedding_function=LangchainEmbeddings(self.embedder),
                            client=self._client,
                            collection_metadata={"hnsw:space": "cosine"},
                        )
                        for v in VISIBILITIES
                    }
        return self._vs

    def _collection(self, visibility: str):
        return self.vectorstores[visibility]._collection

    def _legacy(self):
        """The single collection of an index written before the split, or ``None``."""
        self.vectorstores  # noqa: B018 - opens the client
        try:
            return self._client.get_collection(self.collection_name)
        except Exception:  # noqa: BLE001 - chromadb raises different types per version
            return None

    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict]) -> None:
        if not ids:
            return
        for v, rows in _by_visibility(metadatas).items():
            if not rows:
                continue
            # A document whose visibility changed keeps its chunk ids: leave no copy behind in
            # the other audience's collection.
            for other in VISIBILITIES:
                if other != v and self._collection(other).count():
                    moved = self._collection(other).get(ids=[ids[i] for i in rows], include=[])
                    if moved["ids"]:
                        self._collection(other).delete(ids=moved["ids"])
            self.vectorstores[v].add_texts(
                texts=[texts[i] for i in rows],
                metadatas=[metadatas[i] for i in rows],
                ids=[ids[i] for i in rows],
            )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for v in VISIBILITIES:
            for i in range(0, len(ids), _PAGE):
                self.vectorstores[v].delete(ids=ids[i : i + _PAGE])

    def ids(self) -> set[str]:
        self._migrate()
        got: set[str] = set()
        for v in VISIBILITIES:
            got.update(self._collection(v).get(include=[]).get("ids", []))
        return got

    def _migrate(self) -> None:
        """Move the vectors of an index written before the split into the audience
        collections, without embedding again. Only ingest lists the ids, under its lock."""
        legacy = self._legacy()
        if legacy is None:
            return
        n = legacy.count()
        log.info("vectoren van %d chunks naar een collectie per doelgroep verplaatst", n)
        for offset in range(0, n, _PAGE):
            got = legacy.get(
                limit=_PAGE, offset=offset, include=["embeddings", "metadatas", "documents"]
            )
            for v, rows in _by_visibility(got["metadatas"]).items():
                if rows:
                    self._collection(v).upsert(
                        ids=[got["ids"][i] for i in rows],
                        embeddings=[got["embeddings"][i] for i in rows],
                        metadatas=[got["metadatas"][i] for i in rows],
                        documents=[got["documents"][i] for i in rows],
                    )
        self._client.delete_collection(self.collection_name)

    def search(
        self,
        vector: np.ndarray,
        k: int,
        doc_ids: Sequence[str] | None = None,
        *,
        visibility: str | None = None,
    ) -> list[tuple[str, float]]:
        where = None
        if doc_ids is not None:
            doc_ids = list(doc_ids)
            if not doc_ids:
                return []
            where = {"doc_id": {"$in": doc_ids}} if len(doc_ids) > 1 else {"doc_id": doc_ids[0]}
        if visibility is not None and visibility not in VISIBILITIES:
            return []
        query = [np.asarray(vector, dtype=np.float32).tolist()]
        if self._read_legacy is None:
            self._read_legacy = not self._filled() and self._legacy() is not None
        legacy = self._legacy() if self._read_legacy else None
        if legacy is not None:
            # Not yet moved by an ingest: the old single collection with a visibility filter.
            clauses = [c for c in (where, visibility and {"visibility": visibility}) if c]
            both = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
            return self._query(legacy, query, k, both)
        self._read_legacy = False
        audiences = [visibility] if visibility else list(VISIBILITIES)
        return _merge([self._query(self._collection(v), query, k, where) for v in audiences], k)

    def _filled(self) -> bool:
        return any(self._collection(v).count() for v in VISIBILITIES)

    @staticmethod
    def _query(collection, query: list, k: int, where: dict | None) -> list[tuple[str, float]]:
        # langchain-chroma's similarity_search_by_vector_with_relevance_scores would do, but it
        # returns whole documents; the hot path only needs ids and distances.
        n = collection.count()
        if n == 0:
            return []
        res = collection.query(
            query_embeddings=query, n_results=min(k, n), where=where, include=["distances"]
        )
        return [
            (cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        ids = list(ids)
        got: dict[str, np.ndarray] = {}
        for v in VISIBILITIES:
            want = [cid for cid in ids if cid not in got]
            for i in range(0, len(want), _PAGE):
                res = self._collection(v).get(ids=want[i : i + _PAGE], include=["embeddings"])
                got.update(
                    (cid, np.asarray(e, dtype=np.float32))
                    for cid, e in zip(res["ids"], res["embeddings"], strict=True)
                )
        return got

    def reset(self) -> None:
        try:
            for v in VISIBILITIES:
                self.vectorstores[v].delete_collection()
            if self._legacy() is not None:
                self._client.delete_collection(self.collection_name)
        finally:
            self._vs = None
            self._read_legacy = None


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
