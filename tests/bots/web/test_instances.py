"""Two ``opschaal serve`` instances behind one (imagined) proxy: one PostgreSQL, one Chroma
server, one index folder. Whichever instance a request reaches, the user sees one service."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from bench.load import ServeProcess
from tests.conftest import build, make_settings

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[3]
BURST_KEY = "k-burst-fictief"
NEW_LESSON = """---
title: Een gedeelde beheerorganisatie voor de sensoren
type: lesson
language: nl
date: 2026-11-30
organisation: Testgemeente (fictief)
obstacles: [budget]
---
# Een gedeelde beheerorganisatie voor de sensoren

De zeven buurgemeenten richtten samen een beheerorganisatie op voor de kademuursensoren.
Zo bleef het onderhoud van de kademuursensoren geregeld toen de pilot eindigde.
"""


def test_two_instances_share_conversations_feedback_rate_limit_and_index(
    tmp_path, mini_corpus, chroma_server, postgres_database
):
    settings = make_settings(tmp_path / "index", embedder="fake", chroma_url=chroma_server)
    report, _, _ = build(mini_corpus, settings)
    assert report.exit_code == 0, report.invalid
    base_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "OPSCHAAL_INDEX_DIR": str(settings.index_dir),
        "OPSCHAAL_EMBEDDER": "fake",
        "OPSCHAAL_CHROMA_URL": chroma_server,
        "OPSCHAAL_DATABASE_URL": postgres_database,
        "OPSCHAAL_WORKERS": "1",
        "OPSCHAAL_RATE_LIMIT_PER_MINUTE": "10",
        "OPSCHAAL_API_KEYS": BURST_KEY,
        # Each answer is computed by the instance that gets the question, not reused.
        "OPSCHAAL_ANSWER_CACHE_SECONDS": "0",
    }
    upgrade = subprocess.run(
        [sys.executable, "-c", "from bots.cli import main; main()", "db", "upgrade"],
        env=base_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert upgrade.returncode == 0, upgrade.stderr

    def instance(name: str) -> ServeProcess:
        # Separate data folders: nothing may be shared through the local disk but the index.
        return ServeProcess({**base_env, "OPSCHAAL_DATA_DIR": str(tmp_path / f"data-{name}")})

    with instance("a") as a, instance("b") as b:
        # A conversation started on A continues on B, with A's turns as its history.
        cid = httpx.post(f"{a.url}/api/conversations", timeout=30).json()["conversation_id"]
        first = httpx.post(
            f"{a.url}/api/conversations/{cid}/messages",
            json={"question": "Wanneer begin ik met de DPIA voor camerabeelden?"},
            timeout=60,
        )
        assert first.status_code == 200, first.text
        follow = httpx.post(
            f"{b.url}/api/conversations/{cid}/messages",
            json={"question": "En wie kan ons daarbij helpen?"},
            timeout=60,
        )
        assert follow.status_code == 200, follow.text
        read_back = httpx.get(f"{b.url}/api/conversations/{cid}", timeout=30).json()
        assert [(m["role"], m["content"]) for m in read_back["messages"]] == [
            ("user", "Wanneer begin ik met de DPIA voor camerabeelden?"),
            ("assistant", first.json()["answer"]),
            ("user", "En wie kan ons daarbij helpen?"),
            ("assistant", follow.json()["answer"]),
        ]

        # Feedback given on B for an answer from A is stored.
        aid = first.json()["answer_id"]
        fb = httpx.post(
            f"{b.url}/api/feedback", json={"answer_id": aid, "rating": "down"}, timeout=30
        )
        assert fb.status_code == 201, fb.text
        from storage import Stores

        stored = Stores(postgres_database)
        assert [(f["rating"], f["channel"]) for f in stored.feedback_for(aid)] == [("down", "web")]

        # The rate limit holds across both: one client (one key) gets 10 a minute in total.
        statuses: list[int] = []
        lock = threading.Lock()

        def hit(url: str) -> None:
            r = httpx.get(
                f"{url}/api/documents/bestaat-niet", headers={"X-API-Key": BURST_KEY}, timeout=30
            )
            with lock:
                statuses.append(r.status_code)

        threads = [threading.Thread(target=hit, args=((a, b)[i % 2].url,)) for i in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        allowed = sum(s != 429 for s in statuses)
        # A burst of 10, plus at most one token refilled (one per 6 s) while this runs; the
        # anonymous requests above had a bucket of their own.
        assert 10 <= allowed <= 11, statuses
        assert statuses.count(429) == 24 - allowed

        # An ingest is picked up by both without a restart.
        (mini_corpus / "lessons" / "beheerorganisatie.md").write_text(NEW_LESSON, encoding="utf-8")
        report, _, _ = build(mini_corpus, settings)
        assert report.added == ["lessons/beheerorganisatie"], report
        for server in (a, b):
            r = httpx.post(
                f"{server.url}/api/ask",
                json={"question": "Wie regelt het beheer van de kademuursensoren?"},
                timeout=60,
            )
            assert r.status_code == 200, r.text
            assert "lessons/beheerorganisatie" in [c["doc_id"] for c in r.json()["citations"]], (
                server.url,
                r.json()["retrieved"],
            )
        stored.close()
