"""Shared fixtures. Heavy ones (the real model on the bundled corpus) are session-scoped and
built once; fast ones use the deterministic hashing embedder on a tiny corpus."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

from bench.services import free_port  # noqa: F401 - the tests import it from here

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI_CORPUS = FIXTURES / "mini-corpus"
BUNDLED_CORPUS = ROOT / "corpus"
#: Held out: never used to choose a parameter (see its README).
TRANSFER_CORPUS = FIXTURES / "transfer-corpus"
TRANSFER_QUESTIONS = FIXTURES / "transfer-corpus-questions.yaml"
SHARED_DATA = ROOT.parent / "shared" / "data"


def make_settings(index_dir: Path, **kw):
    from assistant.config import Settings

    kw.setdefault("data_dir", index_dir.parent / "data")
    return Settings(index_dir=index_dir, _env_file=None, **kw)


def build(corpus: Path, settings, **kw):
    """Ingest ``corpus`` into ``settings.index_dir`` with the configured embedder and store."""
    from assistant.embeddings import make_embedder
    from assistant.store import make_store
    from ingest.pipeline import ingest

    embedder = make_embedder(settings)
    store = make_store(settings, embedder)
    report = ingest(corpus, settings.index_dir, embedder, store, **kw)
    return report, embedder, store


@pytest.fixture
def mini_corpus(tmp_path: Path) -> Path:
    """A writable copy of the small test corpus (not the bundled one)."""
    dst = tmp_path / "corpus"
    shutil.copytree(MINI_CORPUS, dst)
    return dst


@pytest.fixture
def fake_settings(tmp_path: Path):
    return make_settings(tmp_path / "index", embedder="fake")


@pytest.fixture
def fake_assistant(mini_corpus: Path, fake_settings):
    """An Assistant over the mini corpus with the hashing embedder and embedded Chroma."""
    from assistant.service import Assistant

    report, embedder, store = build(mini_corpus, fake_settings)
    assert report.exit_code == 0, report.invalid
    return Assistant(fake_settings, embedder=embedder, store=store)


@pytest.fixture(scope="session")
def bundled_settings(tmp_path_factory):
    """Settings for an index of the bundled corpus with the default (real) embedder."""
    return make_settings(tmp_path_factory.mktemp("bundled") / "index")


@pytest.fixture(scope="session")
def bundled_index(bundled_settings):
    """The bundled corpus ingested once per session with the real default embedder."""
    report, embedder, store = build(BUNDLED_CORPUS, bundled_settings)
    assert report.exit_code == 0, [str(p) for p in report.invalid]
    return bundled_settings, embedder, store


@pytest.fixture(scope="session")
def bundled_assistant(bundled_index):
    from assistant.service import Assistant

    settings, embedder, store = bundled_index
    assistant = Assistant(settings, embedder=embedder, store=store)
    assistant.warm()
    return assistant


@pytest.fixture(scope="session")
def transfer_assistant(tmp_path_factory):
    """The held-out transfer corpus, ingested once per session with the real default embedder."""
    from assistant.service import Assistant

    settings = make_settings(tmp_path_factory.mktemp("transfer") / "index")
    report, embedder, store = build(TRANSFER_CORPUS, settings)
    assert report.exit_code == 0, [str(p) for p in report.invalid]
    assistant = Assistant(settings, embedder=embedder, store=store)
    assistant.warm()
    return assistant


def _started(server):
    """Enter a bench/services.py server for a fixture; one that cannot start fails the test."""
    from bench.services import ServiceUnavailable

    stack = contextlib.ExitStack()
    try:
        return stack, stack.enter_context(server)
    except ServiceUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real ``chroma run`` server on loopback; yields its URL (for OPSCHAAL_CHROMA_URL)."""
    from bench.services import chroma_server

    data = tmp_path_factory.mktemp("chroma-server")
    stack, url = _started(chroma_server(data, data.parent / "chroma-server.log"))
    with stack:
        yield url


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory):
    """llama.cpp's OpenAI-compatible server with Gemma 3 270M (evals/local_llm.py) on a free
    loopback port, once per session. Its log (timings, disconnects) is ``local_llm.log()``."""
    from evals.local_llm import LocalLLMServer, LocalModelMissing

    log = tmp_path_factory.mktemp("local-llm") / "llama-server.log"
    try:
        server = LocalLLMServer(free_port(), log, threads=1)
        with server:
            yield server
    except LocalModelMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL cluster on a free loopback port, for the whole session; yields
    an admin URL (bench/services.py starts and removes it)."""
    from bench.services import postgres_cluster

    stack, url = _started(postgres_cluster())
    with stack:
        yield url


@pytest.fixture
def postgres_database(postgres_server):
    """A fresh, empty database on the session's PostgreSQL server; dropped afterwards."""
    from bench.services import postgres_database

    with postgres_database(postgres_server) as url:
        yield url
