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


def _postgres_bin() -> Path:
    """The folder with Debian's PostgreSQL server programs (initdb, pg_ctl)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if versions:
        return versions[-1].parent
    pytest.fail(
        "PostgreSQL server programs (initdb, pg_ctl) not found; install them with "
        "'apt-get install postgresql' (make test and .ci/run do this when run as root)"
    )


@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL cluster on a free loopback port, for the whole session; yields
    an admin URL (``postgresql+psycopg://opschaal@127.0.0.1:PORT/postgres``). PostgreSQL
    refuses to run as root, so as root the cluster runs as the ``postgres`` (else ``nobody``)
    user."""
    import pwd
    import subprocess
    import tempfile
    import time

    bindir = _postgres_bin()
    runner: list[str] = []
    owner = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                owner = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        if owner is None:
            pytest.fail(
                "running as root, but there is no 'postgres' or 'nobody' user to run PostgreSQL"
            )
        runner = ["runuser", "-u", owner.pw_name, "--"]
    # Outside pytest's tmp folders: those are private to root, and the server user must enter.
    base = Path(tempfile.mkdtemp(prefix="opschaal-pg-"))
    data = base / "data"
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    port = free_port()
    log = base / "server.log"

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*runner, *cmd], capture_output=True, text=True, timeout=120)

    init = run(
        str(bindir / "initdb"), "-D", str(data), "-U", "opschaal", "--auth=trust",
        "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
    )  # fmt: skip
    if init.returncode != 0:
        pytest.fail(f"initdb failed: {init.stderr.strip().splitlines()[-1:]}")
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    start = run(
        str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"
    )
    if start.returncode != 0:
        detail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        pytest.fail(f"pg_ctl start failed: {start.stderr.strip()} {detail}")
    url = f"postgresql+psycopg://opschaal@127.0.0.1:{port}/postgres"
    try:
        import sqlalchemy as sa

        deadline = time.monotonic() + 30
        engine = sa.create_engine(url)
        while True:
            try:
                with engine.connect():
                    break
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    pytest.fail("PostgreSQL did not accept connections within 30 s")
                time.sleep(0.2)
        engine.dispose()
        yield url
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server):
    """A fresh, empty database on the session's PostgreSQL server; dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
