"""``opschaal serve`` as a real process: the Teams dev mode follows the address actually bound."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

from .conftest import SDK_ENV

ROOT = Path(__file__).resolve().parents[3]


def serve(settings, host: str):
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in SDK_ENV and not k.startswith("OPSCHAAL_")
    }
    env.update(
        {
            "OPSCHAAL_TEAMS_DEV": "1",
            "OPSCHAAL_EMBEDDER": "fake",
            "OPSCHAAL_INDEX_DIR": str(settings.index_dir),
            "OPSCHAAL_DATA_DIR": str(settings.data_dir),
            "HF_HUB_OFFLINE": "1",
        }
    )
    cmd = [
        sys.executable,
        "-c",
        "from bots.cli import main; main()",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240  # generous: CI machines can be busy
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc, port
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    out, err = proc.communicate()
    pytest.fail(f"serve did not start: {err[-2000:]}")


def stop(proc) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


@pytest.mark.parametrize("host, mounted", [("0.0.0.0", False), ("127.0.0.1", True)])
def test_dev_mode_follows_the_bound_host(fake_assistant, fake_settings, host, mounted):
    proc, port = serve(fake_settings, host)
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/api/messages", json={}, timeout=120)
    finally:
        err = stop(proc)
    if mounted:
        # the endpoint exists and judges the (empty) activity
        assert r.status_code == 400, (r.status_code, r.text, err[-2000:])
    else:
        assert r.status_code == 404, (r.status_code, r.text, err[-2000:])
        assert "OPSCHAAL_TEAMS_DEV" in err and "loopback" in err
