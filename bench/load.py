"""Bounded loopback load run on ``POST /api/ask``.

``run_load(base_url, clients=32, seconds=30)`` keeps ``clients`` concurrent clients asking for
``seconds`` and reports throughput, p50, p95 and errors. It only ever targets a loopback address,
and it stops by itself: no new request starts after the deadline.

``python -m bench.load`` starts its own server on a free loopback port over the index in
OPSCHAAL_INDEX_DIR (default .opschaal/index), with the rate limit off and a throw-away data
folder, runs the load, and prints the result as JSON. ``--url`` targets a running server instead
(its rate limit then counts as errors: 429s are real refusals).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx

QUESTIONS = [
    "Hoe creëer ik draagvlak voor opschaling?",
    "Hoe kopen we samen met andere gemeenten in?",
    "Wanneer moet ik met een DPIA beginnen?",
    "Hoe regel ik structureel budget na de pilot?",
    "Wie heeft ervaring met het overdragen van een pilot aan beheer?",
    "How do we get funding after the pilot ends?",
    "Wat zijn de stappen van pilot naar uitrol?",
    "Hoe voorkom ik dat een pilot blijft hangen?",
]


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    idx = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[idx]


async def _run(base_url: str, clients: int, seconds: float, headers: dict[str, str]) -> dict:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    timeout = httpx.Timeout(max(30.0, seconds))

    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=timeout, headers=headers
    ) as client:

        async def worker(n: int) -> None:
            i = n
            while time.monotonic() < deadline:
                question = QUESTIONS[i % len(QUESTIONS)]
                i += 1
                t0 = time.perf_counter()
                try:
                    r = await client.post("/api/ask", json={"question": question})
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    continue
                elapsed = time.perf_counter() - t0
                if r.status_code == 200 and "answer" in r.json():
                    latencies.append(elapsed)
                else:
                    errors[f"http_{r.status_code}"] += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        wall = time.monotonic() - started

    lat = sorted(latencies)
    return {
        "url": base_url,
        "clients": clients,
        "seconds": round(wall, 2),
        "requests": len(lat) + sum(errors.values()),
        "ok": len(lat),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "throughput_rps": round(len(lat) / wall, 2) if wall else 0.0,
        "p50_ms": round(_percentile(lat, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(lat, 0.95) * 1000, 1),
        "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else 0.0,
        "max_ms": round(lat[-1] * 1000, 1) if lat else 0.0,
    }


def run_load(
    base_url: str, clients: int = 32, seconds: float = 30, api_key: str | None = None
) -> dict:
    """Hit ``base_url``/api/ask with ``clients`` concurrent clients for ``seconds``; loopback only."""
    if not _is_loopback(base_url):
        raise ValueError(
            f"de loadtest draait alleen tegen loopback-adressen, niet tegen {base_url}"
        )
    if clients < 1 or seconds <= 0:
        raise ValueError("clients moet ≥ 1 zijn en seconds > 0")
    headers = {"X-API-Key": api_key} if api_key else {}
    return asyncio.run(_run(base_url.rstrip("/"), clients, seconds, headers))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """uvicorn in a thread on a free loopback port, for a self-contained run."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = _free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="bench-uvicorn", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalServer:
        self.thread.start()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                r = httpx.get(self.url + "/readyz", timeout=2)
                if r.status_code == 200:
                    return self
                if "kon niet laden" in r.json().get("detail", ""):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if not self.thread.is_alive():
                break
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("de benchmarkserver werd niet gereed binnen 300 s")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_and_load(clients: int = 32, seconds: float = 30, index_dir: Path | None = None) -> dict:
    """Start a server over the configured index (rate limit off, temp data dir) and load it."""
    from assistant.config import Settings
    from bots.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="opschaal-bench-") as tmp:
        overrides = {"data_dir": Path(tmp), "rate_limit_per_minute": 0}
        if index_dir is not None:
            overrides["index_dir"] = index_dir
        settings = Settings(**overrides)
        from assistant.index import read_manifest

        if read_manifest(Path(settings.index_dir)) is None:
            raise RuntimeError(
                f"geen index in {settings.index_dir}; bouw hem met 'opschaal ingest'"
            )
        with LocalServer(create_app(settings)) as server:
            result = run_load(server.url, clients=clients, seconds=seconds)
        result["answerer"] = settings.llm if settings.llm != "none" else "extractive"
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description="Loopback-loadtest op POST /api/ask."
    )
    parser.add_argument("--url", help="bestaande server (alleen loopback); standaard start er een")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--index", type=Path, help="indexmap (standaard OPSCHAAL_INDEX_DIR of .opschaal/index)"
    )
    args = parser.parse_args(argv)
    try:
        if args.url:
            result = run_load(args.url, clients=args.clients, seconds=args.seconds)
        else:
            result = serve_and_load(args.clients, args.seconds, args.index)
    except (ValueError, RuntimeError) as exc:
        print(f"bench.load: fout: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
