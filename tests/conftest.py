"""Shared fixtures. Heavy ones (the real model on the bundled corpus) are session-scoped and
built once; fast ones use the deterministic hashing embedder on a tiny corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

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


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real ``chroma run`` server on loopback; yields its URL (for OPSCHAAL_CHROMA_URL)."""
    import subprocess
    import sys
    import time
    import urllib.request

    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        pytest.fail(f"chroma CLI not found next to {sys.executable}; install chromadb in the venv")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = open(data.parent / "chroma-server.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"chroma run stopped with exit code {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chroma run did not answer its heartbeat within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
