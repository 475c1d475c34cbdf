"""Bounded loopback load run on ``POST /api/ask``.

``run_load(base_url, clients=32, seconds=30)`` keeps ``clients`` concurrent clients asking for
``seconds`` and reports throughput, p50, p95 and errors. It only ever targets a loopback address,
and it stops by itself: no new request starts after the deadline.

``python -m bench.load`` starts ``opschaal serve`` in its own process on a free loopback port
over the index in OPSCHAAL_INDEX_DIR (default .opschaal/index), with the rate limit off and a
throw-away data folder, runs the load, and prints the result as JSON. ``--url`` targets a running server instead
(its rate limit then counts as errors: 429s are real refusals).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
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
    timeout = httpx.Timeout(max(60.0, 2 * seconds))

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


class ServeProcess:
    """``opschaal serve`` in its own process on a free loopback port: the load generator must
    not share a GIL with the server it measures."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.env = env
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServeProcess:
        # Through main() like the console script (python -m bots.cli would load the module twice
        # and its error classes would no longer match).
        cmd = [
            sys.executable,
            "-c",
            "from bots.cli import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        err = (
            self.proc.stderr.read().strip().splitlines()[-1:]
            if self.proc.poll() is not None
            else []
        )
        self.__exit__()
        raise RuntimeError(
            "de benchmarkserver werd niet gereed" + (f": {err[0]}" if err else " binnen 600 s")
        )

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve_and_load(clients: int = 32, seconds: float = 30, index_dir: Path | None = None) -> dict:
    """Start ``opschaal serve`` over the configured index (rate limit off, temp data folder)
    and load it."""
    with tempfile.TemporaryDirectory(prefix="opschaal-bench-") as tmp:
        env = dict(os.environ)
        env.update(OPSCHAAL_DATA_DIR=tmp, OPSCHAAL_RATE_LIMIT_PER_MINUTE="0", HF_HUB_OFFLINE="1")
        if index_dir is not None:
            env["OPSCHAAL_INDEX_DIR"] = str(index_dir)
        with ServeProcess(env) as server:
            result = run_load(server.url, clients=clients, seconds=seconds)
        result["answer_cache_seconds"] = int(env.get("OPSCHAAL_ANSWER_CACHE_SECONDS", "60"))
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
