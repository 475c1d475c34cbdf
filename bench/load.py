"""Bounded loopback load run on ``POST /api/ask``.

``run_load(base_url, clients=32, seconds=30)`` keeps ``clients`` concurrent clients asking for
``seconds`` and reports throughput, p50, p95 and errors. It only ever targets a loopback address,
and it stops by itself: no new request starts after the deadline.

Two kinds of traffic (``scenario``):

- ``repeated``: the 8 questions below over and over, as when many people click the widget's
  suggestions; the answer cache serves most of them.
- ``unique``: every request a question never asked before in the run (the evaluation questions
  with varied openings), so the answer cache never hits and every request costs a full answer.

``python -m bench.load`` starts ``opschaal serve`` in its own process on a free loopback port
over the index in OPSCHAAL_INDEX_DIR (default .opschaal/index), with the rate limit off and a
throw-away data folder, runs the load, and prints the result as JSON. ``--url`` targets a running
server instead (its rate limit then counts as errors: 429s are real refusals).

Errors are never retried. Each transport error is reported with the phase it happened in
(``error_phases``: connect, write or read, on a new or a reused connection), so a server that
drops idle connections under load shows as ``ReadError@read/reused``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.services import free_port

ROOT = Path(__file__).resolve().parent.parent
EVAL_QUESTIONS = ROOT / "evals" / "questions.yaml"

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


#: Openings that make each evaluation question a new one, the way people phrase the same need
#: differently. ``{n}`` keeps them distinct once every combination has been used.
OPENINGS = {
    "nl": [
        "",
        "Vraag uit ons team: ",
        "Wij zijn een middelgrote gemeente. ",
        "Kort gezegd: ",
        "Voor een provincie: ",
        "Ik werk bij een waterschap. ",
    ],
    "en": [
        "",
        "Question from our team: ",
        "We are a mid-sized municipality. ",
        "In short: ",
        "For a province: ",
        "I work at a water authority. ",
    ],
}


def unique_questions() -> Iterator[str]:
    """Endless questions, no two alike: the stand-alone public evaluation questions, each with
    every opening, then again with a numbered context."""
    import yaml

    items = [
        (q["question"].strip(), q.get("language", "nl"))
        for q in yaml.safe_load(EVAL_QUESTIONS.read_text(encoding="utf-8"))
        if not q.get("history") and q.get("audience", "public") == "public"
    ]
    seen: set[str] = set()
    round_ = 0
    while True:
        for opening_nr in range(len(OPENINGS["nl"])):
            for question, lang in items:
                text = OPENINGS.get(lang, OPENINGS["nl"])[opening_nr] + question
                if round_:
                    text += f" (situatie {round_})" if lang != "en" else f" (case {round_})"
                if text not in seen:
                    seen.add(text)
                    yield text
        round_ += 1


def repeated_questions() -> Iterator[str]:
    i = 0
    while True:
        yield QUESTIONS[i % len(QUESTIONS)]
        i += 1


SCENARIOS: dict[str, Callable[[], Iterator[str]]] = {
    "repeated": repeated_questions,
    "unique": unique_questions,
}


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


def _phase(events: list[str]) -> str:
    """Where a failed request stopped, from httpx's trace events: connect, write or read, and
    whether the connection was new or reused from the pool."""
    reused = not any(e.startswith("connection.connect_tcp") for e in events)
    last = events[-1] if events else ""
    if "connect" in last:
        where = "connect"
    elif "send_request" in last:
        where = "write"
    elif "receive_response" in last:
        where = "read"
    else:
        where = last or "before-send"
    return f"{where}/{'reused' if reused else 'new'}"


async def _run(
    base_url: str,
    clients: int,
    seconds: float,
    headers: dict[str, str],
    questions: Iterator[str],
) -> dict:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    asked = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    timeout = httpx.Timeout(max(60.0, 2 * seconds))

    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=timeout, headers=headers
    ) as client:

        async def worker() -> None:
            nonlocal asked
            while time.monotonic() < deadline:
                question = next(questions)
                asked += 1
                events: list[str] = []

                async def trace(name: str, info: dict, events: list[str] = events) -> None:
                    events.append(name)

                t0 = time.perf_counter()
                try:
                    r = await client.post(
                        "/api/ask", json={"question": question}, extensions={"trace": trace}
                    )
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    phases[f"{type(exc).__name__}@{_phase(events)}"] += 1
                    continue
                elapsed = time.perf_counter() - t0
                if r.status_code == 200 and "answer" in r.json():
                    latencies.append(elapsed)
                else:
                    errors[f"http_{r.status_code}"] += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(clients)))
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
        "error_phases": dict(phases),
        "distinct_questions": asked,
        "throughput_rps": round(len(lat) / wall, 2) if wall else 0.0,
        "p50_ms": round(_percentile(lat, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(lat, 0.95) * 1000, 1),
        "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else 0.0,
        "max_ms": round(lat[-1] * 1000, 1) if lat else 0.0,
    }


def run_load(
    base_url: str,
    clients: int = 32,
    seconds: float = 30,
    api_key: str | None = None,
    scenario: str = "repeated",
) -> dict:
    """Hit ``base_url``/api/ask with ``clients`` concurrent clients for ``seconds``; loopback only."""
    if not _is_loopback(base_url):
        raise ValueError(
            f"de loadtest draait alleen tegen loopback-adressen, niet tegen {base_url}"
        )
    if clients < 1 or seconds <= 0:
        raise ValueError("clients moet ≥ 1 zijn en seconds > 0")
    if scenario not in SCENARIOS:
        raise ValueError(f"onbekend scenario {scenario!r}; kies uit {', '.join(SCENARIOS)}")
    headers = {"X-API-Key": api_key} if api_key else {}
    questions = SCENARIOS[scenario]()
    result = asyncio.run(_run(base_url.rstrip("/"), clients, seconds, headers, questions))
    result["scenario"] = scenario
    if scenario == "repeated":
        # Distinct questions in the repeated mix, not requests.
        result["distinct_questions"] = min(result["distinct_questions"], len(QUESTIONS))
    return result


def server_counters(base_url: str) -> dict[str, float]:
    """Cache hits and answers from the server's /metrics (summed over its workers)."""
    text = httpx.get(base_url.rstrip("/") + "/metrics", timeout=10).text
    out = {"answer_cache_hits": 0.0, "answers": 0.0}
    for line in text.splitlines():
        if line.startswith("opschaal_answer_cache_hits_total"):
            out["answer_cache_hits"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("opschaal_answers_total{"):
            out["answers"] += float(line.rsplit(" ", 1)[1])
    return out


class ServeProcess:
    """``opschaal serve`` in its own process on a free loopback port: the load generator must
    not share a GIL with the server it measures."""

    def __init__(self, env: dict[str, str], workers: int | None = None) -> None:
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _all_ready(self) -> bool:
        try:
            if httpx.get(self.url + "/readyz", timeout=2).status_code != 200:
                return False
            # opschaal_ready is the minimum over the live workers: 1 once every worker is warm.
            metrics = httpx.get(self.url + "/metrics", timeout=2).text
        except httpx.HTTPError:
            return False
        return any(
            line.startswith("opschaal_ready") and float(line.rsplit(" ", 1)[1]) == 1.0
            for line in metrics.splitlines()
        )

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
        if self.workers is not None:
            cmd += ["--workers", str(self.workers)]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self._all_ready():
                return self
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
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by ``pid`` and its direct children (uvicorn's
    workers); None where /proc is missing. Unlike wall-clock figures this does not depend on
    what else runs on the machine."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[1] is the parent pid; utime and stime are fields 14 and 15 of the whole line.
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def serve_and_load(
    clients: int = 32,
    seconds: float = 30,
    index_dir: Path | None = None,
    scenario: str = "repeated",
    workers: int | None = None,
) -> dict:
    """Start ``opschaal serve`` over the configured index (rate limit off, temp data folder)
    and load it. ``workers`` None means the server's own default."""
    with tempfile.TemporaryDirectory(prefix="opschaal-bench-") as tmp:
        env = dict(os.environ)
        env.update(OPSCHAAL_DATA_DIR=tmp, OPSCHAAL_RATE_LIMIT_PER_MINUTE="0", HF_HUB_OFFLINE="1")
        if index_dir is not None:
            env["OPSCHAAL_INDEX_DIR"] = str(index_dir)
        load_start = os.getloadavg()[0]
        with ServeProcess(env, workers) as server:
            before = server_counters(server.url)
            cpu_server = _tree_cpu_seconds(server.proc.pid)
            cpu_client = time.process_time()
            result = run_load(server.url, clients=clients, seconds=seconds, scenario=scenario)
            cpu_client = time.process_time() - cpu_client
            if cpu_server is not None:
                cpu_server = _tree_cpu_seconds(server.proc.pid) - cpu_server
            after = server_counters(server.url)
        if result["ok"]:
            # Cost per answered request, and what two free cores would then carry with this
            # client on the same machine: the figure to compare when the machine is busy.
            per = 1000 / result["ok"]
            result["client_cpu_ms_per_request"] = round(cpu_client * per, 1)
            if cpu_server is not None:
                result["server_cpu_ms_per_request"] = round(cpu_server * per, 1)
                cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
                result["capacity_rps_idle_machine_estimate"] = round(
                    cores * 1000 / (result["server_cpu_ms_per_request"] + cpu_client * per), 1
                )
        from bots.web.cli import resolve_workers

        result["workers"] = resolve_workers(
            workers if workers is not None else int(env.get("OPSCHAAL_WORKERS") or 0)
        )
        result["answer_cache_seconds"] = int(env.get("OPSCHAAL_ANSWER_CACHE_SECONDS", "60"))
        result["answer_cache_hits"] = int(after["answer_cache_hits"] - before["answer_cache_hits"])
        result["server_answers"] = int(after["answers"] - before["answers"])
        result["load_average"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
        return result


def compare(
    clients: int = 32,
    seconds: float = 30,
    index_dir: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """The two scenarios on the default server, and ``unique`` on one worker as the baseline of
    the same run: ``{"repeated", "unique", "baseline_unique_1_worker", "unique_vs_baseline"}``."""
    runs = {
        "repeated": dict(scenario="repeated"),
        "unique": dict(scenario="unique"),
        "baseline_unique_1_worker": dict(scenario="unique", workers=1),
    }
    out: dict = {}
    for name, kw in runs.items():
        if log:
            log(f"web load: {name}")
        out[name] = serve_and_load(clients, seconds, index_dir, **kw)
    base, new = out["baseline_unique_1_worker"], out["unique"]
    out["unique_vs_baseline"] = {
        "throughput": round(new["throughput_rps"] / base["throughput_rps"], 2)
        if base["throughput_rps"]
        else None,
        "p95": round(new["p95_ms"] / base["p95_ms"], 2) if base["p95_ms"] else None,
    }
    return out


def fill_chroma_server(index_dir: Path, chroma_url: str) -> int:
    """Copy the vectors ingest wrote into the embedded Chroma of ``index_dir`` into the server's
    collections for the same folder, so instances pointed at the server search exactly what
    ingest embedded without embedding it again (e5 needs minutes on two cores). Returns the
    number of chunks copied."""
    from assistant.store import _PAGE, VISIBILITIES, ChromaStore

    # The embedding function is never called: vectors are copied as they are.
    src, dst = ChromaStore(None, index_dir), ChromaStore(None, index_dir, chroma_url=chroma_url)
    copied = 0
    for v in VISIBILITIES:
        got = src._collection(v).get(include=["embeddings", "metadatas", "documents"])
        for i in range(0, len(got["ids"]), _PAGE):
            part = slice(i, i + _PAGE)
            dst._collection(v).upsert(
                ids=got["ids"][part],
                embeddings=got["embeddings"][part],
                metadatas=got["metadatas"][part],
                documents=got["documents"][part],
            )
        copied += len(got["ids"])
    return copied


def _load_at(servers: list[ServeProcess], clients: int, seconds: float, questions) -> dict:
    """``clients`` split evenly over ``servers``, all at once, drawing from one question stream
    (no question is asked twice in the whole scenario); one summed result."""

    async def all_of() -> list[dict]:
        per = max(1, clients // len(servers))
        return await asyncio.gather(*(_run(s.url, per, seconds, {}, questions) for s in servers))

    cpu_before = [_tree_cpu_seconds(s.proc.pid) for s in servers]
    load_start = os.getloadavg()[0]
    runs = asyncio.run(all_of())
    cpu = [
        _tree_cpu_seconds(s.proc.pid) - before if before is not None else None
        for s, before in zip(servers, cpu_before, strict=True)
    ]
    ok = sum(r["ok"] for r in runs)
    wall = max(r["seconds"] for r in runs)
    out = {
        "instances": len(servers),
        "clients": clients,
        "ok": ok,
        "errors": sum(r["errors"] for r in runs),
        "error_kinds": dict(sum((Counter(r["error_kinds"]) for r in runs), Counter())),
        "seconds": wall,
        "throughput_rps": round(ok / wall, 2) if wall else 0.0,
        "p95_ms": [r["p95_ms"] for r in runs],
        "p50_ms": [r["p50_ms"] for r in runs],
        "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }
    if ok and None not in cpu:
        out["server_cpu_ms_per_request"] = round(1000 * sum(cpu) / ok, 1)
    return out


def one_vs_two(
    index_dir: Path,
    embedder: str | None = None,
    clients: int = 16,
    seconds: float = 15,
    pairs: int = 3,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Throughput of one ``opschaal serve`` against two, in interleaved pairs in one run.

    The set-up of the two-instance test (tests/bots/web/test_instances.py): a throw-away
    PostgreSQL cluster and a ``chroma run`` server (bench/services.py), one index folder, each
    instance one worker with its own data folder. Both instances stay up for the whole run;
    "one" loads instance A with ``clients`` clients, "two" puts half on each. Scenario
    ``unique`` from one shared stream with the answer cache off, so every request costs a full
    answer. The ratio is mean(two) / mean(one)."""
    from bench.services import chroma_server, postgres_cluster, postgres_database

    say = log or (lambda _msg: None)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="opschaal-instances-")))
        say("instances: PostgreSQL and a Chroma server")
        db_url = stack.enter_context(postgres_database(stack.enter_context(postgres_cluster())))
        (tmp / "chroma").mkdir()
        chroma_url = stack.enter_context(chroma_server(tmp / "chroma", tmp / "chroma.log"))
        chunks = fill_chroma_server(index_dir, chroma_url)
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "OPSCHAAL_INDEX_DIR": str(index_dir),
            "OPSCHAAL_CHROMA_URL": chroma_url,
            "OPSCHAAL_DATABASE_URL": db_url,
            "OPSCHAAL_WORKERS": "1",
            "OPSCHAAL_RATE_LIMIT_PER_MINUTE": "0",
            "OPSCHAAL_ANSWER_CACHE_SECONDS": "0",
        }
        if embedder:
            env["OPSCHAAL_EMBEDDER"] = embedder
        upgrade = subprocess.run(
            [sys.executable, "-c", "from bots.cli import main; main()", "db", "upgrade"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if upgrade.returncode != 0:
            raise RuntimeError(f"opschaal db upgrade mislukte: {upgrade.stderr.strip()[-300:]}")
        say(f"instances: {chunks} chunks in the Chroma server; starting two instances")
        servers = [
            stack.enter_context(ServeProcess({**env, "OPSCHAAL_DATA_DIR": str(tmp / name)}))
            for name in ("a", "b")
        ]
        questions = unique_questions()
        _load_at(servers, clients, min(3.0, seconds), questions)  # warm-up, not counted
        runs: list[dict] = []
        for n in range(pairs):
            pair = {}
            for label, group in (("one", servers[:1]), ("two", servers)):
                say(f"instances: pair {n + 1}/{pairs}, {label}")
                pair[label] = _load_at(group, clients, seconds, questions)
            one, two = pair["one"]["throughput_rps"], pair["two"]["throughput_rps"]
            pair["ratio"] = round(two / one, 2) if one else None
            runs.append(pair)
    one_rps = [p["one"]["throughput_rps"] for p in runs]
    two_rps = [p["two"]["throughput_rps"] for p in runs]
    mean_one, mean_two = statistics.fmean(one_rps), statistics.fmean(two_rps)
    return {
        "config": {
            "clients": clients,
            "seconds": seconds,
            "pairs": pairs,
            "scenario": "unique",
            "workers_per_instance": 1,
            "database": "postgresql",
            "vector_store": "chroma-server",
            "embedder": embedder,
            "chunks": chunks,
        },
        "pairs": runs,
        "one_rps": one_rps,
        "two_rps": two_rps,
        "one_rps_mean": round(mean_one, 2),
        "two_rps_mean": round(mean_two, 2),
        "ratio": round(mean_two / mean_one, 2) if mean_one else None,
        "ratio_per_pair": [p["ratio"] for p in runs],
        "errors": sum(p[k]["errors"] for p in runs for k in ("one", "two")),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description="Loopback-loadtest op POST /api/ask."
    )
    parser.add_argument("--url", help="bestaande server (alleen loopback); standaard start er een")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--scenario",
        choices=[*SCENARIOS, "compare"],
        default="repeated",
        help="repeated (8 vragen, cache), unique (elke vraag nieuw), of compare (beide + basislijn)",
    )
    parser.add_argument("--workers", type=int, help="werkprocessen van de gestarte server")
    parser.add_argument(
        "--index", type=Path, help="indexmap (standaard OPSCHAAL_INDEX_DIR of .opschaal/index)"
    )
    args = parser.parse_args(argv)
    try:
        if args.url:
            if args.scenario == "compare":
                raise ValueError("compare start zijn eigen servers; laat --url weg")
            result = run_load(
                args.url, clients=args.clients, seconds=args.seconds, scenario=args.scenario
            )
        elif args.scenario == "compare":
            result = compare(args.clients, args.seconds, args.index)
        else:
            result = serve_and_load(
                args.clients, args.seconds, args.index, args.scenario, args.workers
            )
    except (ValueError, RuntimeError) as exc:
        print(f"bench.load: fout: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
