"""One VectorStore contract, run over MemoryStore, embedded Chroma and a Chroma server."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import HashingEmbedder
from assistant.store import ChromaStore, MemoryStore, VectorStore, make_store
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
TEXTS = {
    "a#1-0000": ("a", "gezamenlijke aanbesteding van een meldingensysteem door gemeenten"),
    "a#1-0001": ("a", "raamovereenkomst en leverancier kiezen bij inkoop"),
    "b#1-0000": ("b", "privacy officer schrijft een dpia voor camerabeelden"),
    "c#1-0000": ("c", "structureel budget voor beheer na de pilot"),
    "c#1-0001": ("c", "businesscase met kosten en baten van de uitrol"),
}


@pytest.fixture(
    params=["memory", "chroma", pytest.param("chroma-server", marks=pytest.mark.server)]
)
def store(request, tmp_path) -> VectorStore:
    emb = HashingEmbedder()
    if request.param == "memory":
        return MemoryStore(emb)
    url = request.getfixturevalue("chroma_server") if request.param == "chroma-server" else None
    return ChromaStore(emb, tmp_path / "index", chroma_url=url)


#: Document "b" is internal; the others are public.
VISIBILITY = {"a": "public", "b": "internal", "c": "public"}


def fill(store: VectorStore) -> None:
    ids = list(TEXTS)
    store.upsert(
        ids,
        [TEXTS[i][1] for i in ids],
        [{"doc_id": TEXTS[i][0], "visibility": VISIBILITY[TEXTS[i][0]]} for i in ids],
    )


def qvec(text: str) -> np.ndarray:
    return HashingEmbedder().embed([text], kind="query")[0]


def test_is_a_vector_store(store) -> None:
    assert isinstance(store, VectorStore)


def test_upsert_then_ids(store) -> None:
    assert store.ids() == set()
    fill(store)
    assert store.ids() == set(TEXTS)
    fill(store)  # idempotent
    assert store.ids() == set(TEXTS)


def test_search_is_ordered_by_cosine(store) -> None:
    fill(store)
    hits = store.search(qvec(TEXTS["b#1-0000"][1]), k=3)
    assert hits[0][0] == "b#1-0000"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-3)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    assert len(store.search(qvec("budget"), k=50)) == len(TEXTS)


def test_search_within_doc_ids(store) -> None:
    fill(store)
    q = qvec("aanbesteding budget dpia")
    assert {d for d, _ in store.search(q, k=10, doc_ids=["c"])} == {"c#1-0000", "c#1-0001"}
    got = {d for d, _ in store.search(q, k=10, doc_ids=["a", "b"])}
    assert got == {"a#1-0000", "a#1-0001", "b#1-0000"}
    assert store.search(q, k=10, doc_ids=[]) == []


def test_search_by_visibility_is_filtered_by_the_store(store) -> None:
    fill(store)
    q = qvec(TEXTS["b#1-0000"][1])
    public = store.search(q, k=10, visibility="public")
    assert {d for d, _ in public} == set(TEXTS) - {"b#1-0000"}
    assert [d for d, _ in store.search(q, k=10, visibility="internal")] == ["b#1-0000"]
    both = store.search(q, k=10, doc_ids=["a", "b"], visibility="public")
    assert {d for d, _ in both} == {"a#1-0000", "a#1-0001"}
    assert store.search(q, k=10, visibility="geheim") == []


def test_vectors_returns_what_search_scores(store) -> None:
    fill(store)
    q = qvec("raamovereenkomst leverancier")
    got = store.vectors(["a#1-0001", "c#1-0000", "bestaat-niet"])
    assert set(got) == {"a#1-0001", "c#1-0000"}
    scores = dict(store.search(q, k=10))
    for cid, v in got.items():
        assert float(np.dot(v, q)) == pytest.approx(scores[cid], abs=1e-4)
    assert store.vectors([]) == {}


def test_reset_empties_the_store_and_it_stays_usable(store) -> None:
    fill(store)
    store.reset()
    assert store.ids() == set()
    assert store.search(qvec("budget"), k=5) == []
    fill(store)
    assert store.ids() == set(TEXTS)


def test_delete(store) -> None:
    fill(store)
    store.delete(["a#1-0000", "c#1-0001"])
    assert store.ids() == {"a#1-0001", "b#1-0000", "c#1-0000"}
    assert "a#1-0000" not in {d for d, _ in store.search(qvec(TEXTS["a#1-0000"][1]), k=10)}
    store.delete([])


def test_upsert_replaces_the_vector(store) -> None:
    fill(store)
    store.upsert(["b#1-0000"], ["nieuwe tekst over werkplekken"], [{"doc_id": "b"}])
    assert store.ids() == set(TEXTS)
    best = store.search(qvec("nieuwe tekst over werkplekken"), k=1)[0]
    assert best[0] == "b#1-0000" and best[1] == pytest.approx(1.0, abs=1e-3)
    old = dict(store.search(qvec(TEXTS["b#1-0000"][1]), k=10))
    assert old.get("b#1-0000", 0.0) < 0.5


def test_a_document_that_changes_visibility_leaves_no_copy_behind(store) -> None:
    fill(store)
    q = qvec(TEXTS["b#1-0000"][1])
    store.upsert(["b#1-0000"], [TEXTS["b#1-0000"][1]], [{"doc_id": "b", "visibility": "public"}])
    assert store.search(q, k=10, visibility="internal") == []
    assert store.search(q, k=1, visibility="public")[0][0] == "b#1-0000"
    store.upsert(["a#1-0000"], [TEXTS["a#1-0000"][1]], [{"doc_id": "a", "visibility": "internal"}])
    assert "a#1-0000" not in {d for d, _ in store.search(q, k=10, visibility="public")}
    assert [d for d, _ in store.search(q, k=10, visibility="internal")] == ["a#1-0000"]
    everything = store.search(q, k=10)
    assert sorted(d for d, _ in everything) == sorted(TEXTS)
    assert store.ids() == set(TEXTS)


def test_an_unfiltered_search_merges_the_audiences_by_score(store) -> None:
    fill(store)
    q = qvec("privacy dpia budget beheer")
    hits = store.search(q, k=10)
    public = dict(store.search(q, k=10, visibility="public"))
    internal = dict(store.search(q, k=10, visibility="internal"))
    assert dict(hits) == pytest.approx({**public, **internal}, abs=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert len(store.search(q, k=2)) == 2


def test_empty_store_searches_to_nothing(store) -> None:
    assert store.search(qvec("budget"), k=5) == []


# --- Chroma specifics ---------------------------------------------------------------------------


def test_embedded_chroma_persists_under_the_index(tmp_path) -> None:
    emb = HashingEmbedder()
    fill(ChromaStore(emb, tmp_path / "index"))
    assert (tmp_path / "index" / "chroma" / "chroma.sqlite3").exists()
    assert ChromaStore(emb, tmp_path / "index").ids() == set(TEXTS)
    assert ChromaStore(emb, tmp_path / "other").ids() == set()


def fresh_process() -> None:
    """Forget the Chroma clients this process opened, as a server starting up has none."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def test_threads_that_first_use_a_store_at_once_all_get_answers(tmp_path) -> None:
    """A server warms its runtime in the background while the first requests arrive: every
    thread that opens the store at the same moment gets the same working client (two threads
    opening Chroma together used to tear each other's client down, and the ask became a 500)."""
    emb = HashingEmbedder()
    fill(ChromaStore(emb, tmp_path / "index"))
    for _ in range(3):
        fresh_process()
        # One store shared by the threads, and one per thread (a runtime built while another
        # is still warming): both open the same folder at once.
        shared = ChromaStore(emb, tmp_path / "index")
        stores = [shared] * 4 + [ChromaStore(emb, tmp_path / "index") for _ in range(4)]
        start = threading.Barrier(len(stores))
        results: list = []

        def first_search(store: ChromaStore, start=start, results=results) -> None:
            start.wait()
            try:
                results.append(store.search(qvec("budget voor beheer"), 3, None))
            except Exception as exc:  # the failure this test is about, reported below
                results.append(exc)

        threads = [threading.Thread(target=first_search, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        failures = [r for r in results if isinstance(r, Exception)]
        assert not failures, failures[0]
        assert {hits[0][0] for hits in results} == {"c#1-0000"}


def test_an_index_from_before_the_split_is_read_then_moved_without_embedding(tmp_path) -> None:
    """An index written with one collection (and a visibility metadata filter) keeps answering
    with its audiences apart; the next ingest (which lists the ids) moves the vectors."""
    emb = HashingEmbedder()
    old = ChromaStore(emb, tmp_path / "index")
    ids = list(TEXTS)
    vecs = emb.embed([TEXTS[i][1] for i in ids])
    legacy = old.vectorstores and old._client.create_collection(
        old.collection_name, metadata={"hnsw:space": "cosine"}
    )
    legacy.add(
        ids=ids,
        embeddings=vecs.tolist(),
        documents=[TEXTS[i][1] for i in ids],
        metadatas=[{"doc_id": TEXTS[i][0], "visibility": VISIBILITY[TEXTS[i][0]]} for i in ids],
    )

    class NoEmbedding(HashingEmbedder):
        def embed(self, texts, kind="passage"):
            if kind == "passage":
                raise AssertionError("moving an old index must not embed again")
            return super().embed(texts, kind)

    store = ChromaStore(NoEmbedding(), tmp_path / "index")
    q = qvec(TEXTS["b#1-0000"][1])
    assert "b#1-0000" not in {d for d, _ in store.search(q, k=10, visibility="public")}
    assert store.search(q, k=1)[0][0] == "b#1-0000"
    assert store.ids() == set(TEXTS)  # moves them
    fresh = ChromaStore(NoEmbedding(), tmp_path / "index")
    assert fresh._legacy() is None
    assert [d for d, _ in fresh.search(q, k=10, visibility="internal")] == ["b#1-0000"]
    assert len(fresh.search(q, k=10, visibility="public")) == 4
    got = fresh.vectors(["a#1-0000"])["a#1-0000"]
    assert float(np.dot(got, vecs[0])) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.server
def test_two_index_folders_on_one_server_do_not_interfere(chroma_server, tmp_path) -> None:
    emb = HashingEmbedder()
    one = ChromaStore(emb, tmp_path / "one", chroma_url=chroma_server)
    two = ChromaStore(emb, tmp_path / "two", chroma_url=chroma_server)
    assert one.collection_name != two.collection_name
    fill(one)
    two.upsert(["z#1-0000"], ["iets heel anders"], [{"doc_id": "z"}])
    assert one.ids() == set(TEXTS)
    assert two.ids() == {"z#1-0000"}
    two.reset()
    assert one.ids() == set(TEXTS)
    assert not (tmp_path / "one" / "chroma").exists()  # server mode writes no local Chroma


def test_unreachable_server_is_one_clear_error(tmp_path) -> None:
    from assistant.store import StoreUnavailable

    store = ChromaStore(HashingEmbedder(), tmp_path / "i", chroma_url="http://127.0.0.1:9")
    with pytest.raises(StoreUnavailable, match="OPSCHAAL_CHROMA_URL"):
        store.ids()


def test_make_store_picks_chroma(tmp_path) -> None:
    s = make_settings(tmp_path / "i", embedder="fake")
    assert isinstance(make_store(s, HashingEmbedder()), ChromaStore)
    s = make_settings(tmp_path / "i", embedder="fake", chroma_url="memory")
    assert isinstance(make_store(s, HashingEmbedder()), MemoryStore)


@pytest.mark.parametrize(
    ("env", "kind", "url"),
    [
        ({"vector_store": "memory"}, MemoryStore, None),
        ({"vector_store": "chroma", "chroma_url": "http://127.0.0.1:9"}, ChromaStore, None),
        ({"vector_store": "chroma-server", "chroma_url": "http://h:1"}, ChromaStore, "http://h:1"),
        ({"chroma_url": "http://h:1"}, ChromaStore, "http://h:1"),
    ],
)
def test_vector_store_setting_chooses_the_store(tmp_path, env, kind, url) -> None:
    store = make_store(make_settings(tmp_path / "i", embedder="fake", **env), HashingEmbedder())
    assert isinstance(store, kind)
    assert getattr(store, "chroma_url", None) == url


def test_vector_store_setting_from_the_environment(tmp_path, monkeypatch) -> None:
    from assistant.config import Settings

    monkeypatch.setenv("OPSCHAAL_VECTOR_STORE", "memory")
    assert Settings(index_dir=tmp_path).vector_store == "memory"
    monkeypatch.setenv("OPSCHAAL_VECTOR_STORE", "pinecone")
    with pytest.raises(ValueError, match="vector_store"):
        Settings(index_dir=tmp_path)


def test_chroma_server_without_an_address_is_one_clear_error(tmp_path) -> None:
    from assistant.store import StoreUnavailable

    s = make_settings(tmp_path / "i", embedder="fake", vector_store="chroma-server")
    with pytest.raises(StoreUnavailable, match="OPSCHAAL_CHROMA_URL"):
        make_store(s, HashingEmbedder())


def test_exactly_one_module_imports_chromadb() -> None:
    pattern = re.compile(r"^\s*(import chromadb|from chromadb)", re.M)
    importers = sorted(
        p.relative_to(ROOT).as_posix()
        for pkg in ("assistant", "ingest", "bots", "evals", "bench")
        if (ROOT / pkg).exists()
        for p in (ROOT / pkg).rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
    )
    assert importers == ["assistant/store.py"]
