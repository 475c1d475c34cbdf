"""Serving at scale: keep-alive, several worker processes (shared rate limit and metrics), and
the comment after a 👎."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from bench.load import ServeProcess


def serve(settings, workers: int, **env: str) -> ServeProcess:
    """``opschaal serve --workers N`` in its own process over the fake index, as the load bench
    starts it; entering waits until every worker is warm."""
    return ServeProcess(
        {
            **os.environ,
            "OPSCHAAL_INDEX_DIR": str(settings.index_dir),
            "OPSCHAAL_DATA_DIR": str(settings.data_dir),
            "OPSCHAAL_EMBEDDER": "fake",
            "HF_HUB_OFFLINE": "1",
            **env,
        },
        workers=workers,
    )


def _request(sock: socket.socket, path: str = "/healthz") -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


# -- keep-alive -------------------------------------------------------------------------------
def test_keep_alive_setting_reaches_uvicorn(fake_settings):
    from bots.web.cli import uvicorn_options

    assert fake_settings.keep_alive_seconds > 60, "longer than common proxy idle timeouts"
    options = uvicorn_options(fake_settings.model_copy(update={"keep_alive_seconds": 91}))
    assert options["timeout_keep_alive"] == 91


@pytest.mark.parametrize(
    ("keep_alive", "idle", "still_open"),
    [(None, 6.5, True), ("1", 3.0, False)],
    ids=["default-outlives-uvicorns-5s", "short-closes"],
)
def test_serve_applies_keep_alive_to_idle_connections(fake_assistant, keep_alive, idle, still_open):
    """An idle connection stays open past uvicorn's own 5 s default unless configured shorter.
    (A server that closes idle connections at the moment a client reuses them resets that
    request: the ReadErrors the load run saw.)"""
    env = {"OPSCHAAL_KEEP_ALIVE_SECONDS": keep_alive} if keep_alive else {}
    with (
        serve(fake_assistant.settings, 1, **env) as srv,
        socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock,
    ):
        assert _request(sock).startswith(b"HTTP/1.1 200")
        time.sleep(idle)
        if still_open:
            assert _request(sock).startswith(b"HTTP/1.1 200")
        else:
            assert sock.recv(1) == b"", "the server closed the idle connection"


# -- several workers ----------------------------------------------------------------------------
def test_shared_rate_limiter_is_one_bucket_for_all_processes(tmp_path):
    """Two limiters on one file behave as one, as two worker processes do."""
    from bots.web.security import SharedRateLimiter

    path = tmp_path / "ratelimit.sqlite3"
    a, b = SharedRateLimiter(3, path), SharedRateLimiter(3, path)
    assert [a.hit("ip:1"), b.hit("ip:1"), a.hit("ip:1")] == [0.0, 0.0, 0.0]
    assert b.hit("ip:1") > 0 and a.hit("ip:1") > 0, "the 4th and 5th request are refused"
    assert a.hit("ip:2") == 0.0, "other clients have their own bucket"


def test_shared_rate_limiter_keeps_addresses_only_until_the_bucket_refills(tmp_path):
    """IP addresses are personal data: a refilled bucket is swept from the file."""
    import sqlite3

    from bots.web.security import SharedRateLimiter

    path = tmp_path / "ratelimit.sqlite3"
    limiter = SharedRateLimiter(2, path)  # a token every 30 s
    t0 = 1_000_000.0
    limiter._hit("ip:198.51.100.7", t0)
    limiter._hit("ip:198.51.100.8", t0 + 50)
    limiter._hit("ip:198.51.100.8", t0 + 50)

    def stored() -> set[str]:
        with sqlite3.connect(path) as db:
            return {c for (c,) in db.execute("SELECT client FROM buckets")}

    assert stored() == {"ip:198.51.100.7", "ip:198.51.100.8"}
    # A minute later the first bucket is full again and goes at the next sweep; the second,
    # emptied 11 s ago, is still needed.
    limiter._hit("ip:198.51.100.9", t0 + 61)
    assert stored() == {"ip:198.51.100.8", "ip:198.51.100.9"}


def test_shared_rate_limiter_fails_open_when_its_file_breaks(tmp_path, caplog):
    import sqlite3

    from bots.web.security import SharedRateLimiter

    path = tmp_path / "ratelimit.sqlite3"
    limiter = SharedRateLimiter(1, path)
    assert limiter.hit("ip:1") == 0.0 and limiter.hit("ip:1") > 0
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE buckets")
    assert limiter.hit("ip:1") == 0.0, "a broken limiter lets requests through"
    assert "rate limit" in caplog.text


def test_rate_limiter_choice_follows_workers(fake_settings):
    from bots.web.security import RateLimiter, SharedRateLimiter, make_rate_limiter

    assert isinstance(
        make_rate_limiter(fake_settings.model_copy(update={"workers": 1})), RateLimiter
    )
    shared = make_rate_limiter(fake_settings.model_copy(update={"workers": 2}))
    assert isinstance(shared, SharedRateLimiter)
    assert shared.path.parent == Path(fake_settings.data_dir)
    # With a database server every instance draws from it, whatever its number of workers.
    pg = "postgresql+psycopg://opschaal@db.example.org/opschaal"
    on_server = make_rate_limiter(
        fake_settings.model_copy(update={"workers": 1, "database_url": pg})
    )
    assert isinstance(on_server, SharedRateLimiter) and on_server.path is None
    assert make_rate_limiter(fake_settings.model_copy(update={"rate_limit_per_minute": 0})) is None


def _requests_per_worker(metrics_dir: Path) -> dict[str, float]:
    from prometheus_client.mmap_dict import MmapedDict

    out = {}
    for f in metrics_dir.glob("counter_*.db"):
        total = sum(
            row[1]
            for row in MmapedDict.read_all_values_from_file(str(f))
            if json.loads(row[0])[0] == "opschaal_http_requests"
        )
        out[f.stem.split("_")[1]] = total
    return out


def test_two_workers_share_the_rate_limit_and_the_metrics(fake_assistant):
    """``opschaal serve --workers 2``: a client gets its limit once, not once per worker, and
    /metrics counts the refusals of both workers, whichever worker answers the scrape."""
    settings = fake_assistant.settings
    with serve(settings, 2, OPSCHAAL_RATE_LIMIT_PER_MINUTE="5") as srv:
        # Wait until both workers are warm: opschaal_ready is the minimum over live workers.
        for _ in range(600):
            text = httpx.get(srv.url + "/metrics", timeout=5).text
            if "opschaal_ready 1.0" in text:
                break
            time.sleep(0.1)
        statuses: list[int] = []
        lock = threading.Lock()

        def hit() -> None:
            # A fresh connection each time, so the kernel spreads them over the workers.
            r = httpx.get(srv.url + "/api/documents/bestaat-niet", timeout=30)
            with lock:
                statuses.append(r.status_code)

        threads = [threading.Thread(target=hit) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        served = _requests_per_worker(Path(settings.data_dir) / "prometheus")
        metrics = httpx.get(srv.url + "/metrics", timeout=5).text

    assert len([w for w, n in served.items() if n > 0]) == 2, served
    allowed = sum(s != 429 for s in statuses)
    # 5 per minute is a burst of 5 (plus at most one refill while the test runs), shared.
    assert 5 <= allowed <= 6, statuses
    refused = [
        line for line in metrics.splitlines() if line.startswith("opschaal_rate_limited_total")
    ]
    assert refused and float(refused[0].split()[-1]) == statuses.count(429), refused


# -- comment after 👎 ---------------------------------------------------------------------------
def test_feedback_comment_is_stored_once_and_only_with_its_answer(web):
    answer = web.client.post("/api/ask", json={"question": "Wanneer begin ik met de DPIA?"}).json()
    aid = answer["answer_id"]
    fb = web.client.post("/api/feedback", json={"answer_id": aid, "rating": "down"})
    assert fb.status_code == 201
    fid = fb.json()["feedback_id"]
    assert web.stores.feedback_for(aid)[0]["comment"] is None

    wrong = web.client.post(
        f"/api/feedback/{fid}/comment", json={"answer_id": "0" * 32, "comment": "x"}
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "answer_mismatch"
    empty = web.client.post(
        f"/api/feedback/{fid}/comment", json={"answer_id": aid, "comment": "  "}
    )
    assert empty.status_code == 422

    ok = web.client.post(
        f"/api/feedback/{fid}/comment",
        json={"answer_id": aid, "comment": " Een <script>voorbeeld</script> ontbrak "},
    )
    assert ok.status_code == 200, ok.text
    stored = web.stores.feedback_for(aid)
    assert [(f["rating"], f["comment"]) for f in stored] == [
        ("down", "Een <script>voorbeeld</script> ontbrak")
    ], "one row: the comment joins the 👎, it is not a second vote"

    again = web.client.post(f"/api/feedback/{fid}/comment", json={"answer_id": aid, "comment": "y"})
    assert again.status_code == 409 and again.json()["error"] == "comment_exists"
