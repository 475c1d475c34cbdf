"""``opschaal serve`` as a user runs it: a real process, a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

OPSCHAAL = Path(sys.executable).with_name("opschaal")


def _env(settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        OPSCHAAL_INDEX_DIR=str(settings.index_dir),
        OPSCHAAL_DATA_DIR=str(settings.data_dir),
        OPSCHAAL_EMBEDDER="fake",
        HF_HUB_OFFLINE="1",
    )
    return env


def test_serve_prints_url_and_serves_the_demo_page(fake_assistant):
    port = free_port()
    proc = subprocess.Popen(
        [str(OPSCHAAL), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(fake_assistant.settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        ready = None
        for _ in range(600):
            if proc.poll() is not None:
                break
            try:
                ready = httpx.get(url + "/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert ready is not None and ready.status_code == 200, (
            proc.stderr.read() if proc.poll() is not None else ""
        )
        page = httpx.get(url + "/")
        assert page.status_code == 200 and "/widget.js" in page.text
        answer = httpx.post(
            url + "/api/ask", json={"question": "Wanneer begin ik met de DPIA?"}, timeout=30
        )
        assert answer.status_code == 200 and answer.json()["citations"]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/" in out
    assert "Traceback" not in err


def test_serve_without_index_is_one_clean_line(tmp_path, fake_settings):
    settings = fake_settings.model_copy(update={"index_dir": tmp_path / "leeg"})
    r = subprocess.run(
        [str(OPSCHAAL), "serve", "--port", str(free_port())],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert "geen index gevonden" in r.stderr and "opschaal ingest" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_serve_on_a_taken_port_is_one_clean_line(fake_assistant):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run(
            [str(OPSCHAAL), "serve", "--port", str(port)],
            env=_env(fake_assistant.settings),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert r.returncode == 2
    assert f"127.0.0.1:{port}" in r.stderr and "--port" in r.stderr
    assert "Traceback" not in r.stderr
