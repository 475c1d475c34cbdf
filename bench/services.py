"""Throw-away servers on loopback for the tests and ``make bench``: a ``chroma run`` server and a
PostgreSQL cluster from Debian's packages, each on a free port, stopped (and its data removed)
when the ``with`` block ends. One copy for both users, so the multi-instance benchmark runs on
exactly the set-up the two-instance test checks.

Both raise :class:`ServiceUnavailable` with one line saying what is missing; the test fixtures
turn that into a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path


class ServiceUnavailable(RuntimeError):
    """A server the run needs could not be started."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def chroma_server(data: Path, log_path: Path | None = None) -> Iterator[str]:
    """A real ``chroma run`` over ``data``; yields its URL (for OPSCHAAL_CHROMA_URL)."""
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        raise ServiceUnavailable(
            f"chroma CLI not found next to {sys.executable}; install chromadb in the venv"
        )
    port = free_port()
    log_path = log_path or data.parent / f"chroma-server-{port}.log"
    with open(log_path, "wb") as log:
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
                    raise ServiceUnavailable(f"chroma run stopped with exit code {proc.returncode}")
                try:
                    with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise ServiceUnavailable("chroma run did not answer its heartbeat within 60 s")
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _postgres_bin() -> Path:
    """The folder with Debian's PostgreSQL server programs (initdb, pg_ctl)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if versions:
        return versions[-1].parent
    raise ServiceUnavailable(
        "PostgreSQL server programs (initdb, pg_ctl) not found; install them with "
        "'apt-get install postgresql' (make test and .ci/run do this when run as root)"
    )


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free loopback port; yields an admin URL
    (``postgresql+psycopg://opschaal@127.0.0.1:PORT/postgres``). PostgreSQL refuses to run as
    root, so as root the cluster runs as the ``postgres`` (else ``nobody``) user."""
    import pwd

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
            raise ServiceUnavailable(
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

    try:
        init = run(
            str(bindir / "initdb"), "-D", str(data), "-U", "opschaal", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        if init.returncode != 0:
            raise ServiceUnavailable(f"initdb failed: {init.stderr.strip().splitlines()[-1:]}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        start = run(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"
        )
        if start.returncode != 0:
            detail = (
                log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            )
            raise ServiceUnavailable(f"pg_ctl start failed: {start.stderr.strip()} {detail}")
        url = f"postgresql+psycopg://opschaal@127.0.0.1:{port}/postgres"
        import sqlalchemy as sa

        deadline = time.monotonic() + 30
        engine = sa.create_engine(url)
        while True:
            try:
                with engine.connect():
                    break
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(
                        "PostgreSQL did not accept connections within 30 s"
                    ) from None
                time.sleep(0.2)
        engine.dispose()
        yield url
    finally:
        if data.exists():
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh, empty database on the cluster at ``admin_url``; dropped afterwards."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
