"""Scale benchmark (issue 18): synthetic corpora of 10k/50k/100k chunks, fake embedder.

For each size and for two code trees (this one and a baseline checkout, e.g.
``git worktree add /tmp/i18-base main``) it measures, each in fresh processes:

- ingest time and peak RSS;
- the time a fresh worker takes to warm up (``Assistant.warm()``, as ``opschaal serve``
  does before it reports ready), the first public ask after that, then warm p50/p95/p99
  for public and internal asks
  (30 % of the source documents internal, with all their copies, so some public questions find
  mostly internal chunks nearest: the worst case of the visibility filter);
- private memory (USS) and PSS per worker, and their total, with four workers alive at once.

Figures are merged into bench/results.json under ``scale``; the curve goes to
bench/scale.png and bench/scale.md (notes written under its table by hand are kept). Run:
``make bench-scale`` (``SIZES=10000`` to shorten). ``--reuse-index`` serves the indexes an
earlier run left in ``--cache``, so the serving figures of both trees can be taken again on a
quiet machine without ingesting twice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".opschaal" / "bench-scale"
RESULTS = ROOT / "bench" / "results.json"

#: Runs inside the code tree under test (only APIs both trees have).
INGEST = """
import json, resource, sys, time
from pathlib import Path
from assistant.config import Settings
from assistant.embeddings import make_embedder
from assistant.store import make_store
from ingest.pipeline import ingest
corpus, index = Path(sys.argv[1]), Path(sys.argv[2])
s = Settings(index_dir=index, data_dir=index.parent / "data", embedder="fake", chroma_url=None,
             _env_file=None)
emb = make_embedder(s)
t = time.perf_counter()
report = ingest(corpus, index, emb, make_store(s, emb))
print(json.dumps({"ingest_s": round(time.perf_counter() - t, 1), "chunks": report.chunks_total,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""

WORKER = """
import json, sys, time
from pathlib import Path
from assistant.config import Settings
from assistant.service import Assistant
index, asks = Path(sys.argv[1]), int(sys.argv[2])
questions = json.loads(sys.stdin.readline())
s = Settings(index_dir=index, data_dir=index.parent / "data", embedder="fake", chroma_url=None,
             _env_file=None)
a = Assistant(s)
t = time.perf_counter()
a.warm()  # what `opschaal serve` does before it reports ready
out = {"warm_ms": round((time.perf_counter() - t) * 1000, 1)}
t = time.perf_counter()
a.ask(questions[0], audience="public")
out["first_ask_ms"] = round((time.perf_counter() - t) * 1000, 1)
for audience in ("public", "internal"):
    times = []
    for i in range(asks):
        t = time.perf_counter()
        a.ask(questions[(i + 1) % len(questions)], audience=audience)
        times.append((time.perf_counter() - t) * 1000)
    out[audience] = times
print(json.dumps(out), flush=True)
sys.stdin.readline()  # stay alive until the parent has read our memory
"""


def log(msg: str) -> None:
    print(f"[bench-scale] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    vals = sorted(values)
    return round(vals[min(len(vals) - 1, max(0, round(q * (len(vals) - 1))))], 1)


def smaps(pid: int) -> dict[str, float]:
    """USS (private clean + dirty) and PSS of a process, in MB."""
    kb: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        kb[name.strip()] = int(rest.split()[0])
    return {
        "uss_mb": round((kb["Private_Clean"] + kb["Private_Dirty"]) / 1024, 1),
        "pss_mb": round(kb["Pss"] / 1024, 1),
        "rss_mb": round(kb["Rss"] / 1024, 1),
    }


def env_for(code: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1"}


def questions_for(corpus: Path) -> list[str]:
    """Public questions about internal topics first (the worst case), then general ones."""
    import yaml

    from bench.run import QUESTIONS

    internal = []
    for path in sorted(corpus.rglob("*.md"))[:4000]:
        head = path.read_text(encoding="utf-8").split("---", 2)
        if len(head) == 3:
            meta = yaml.safe_load(head[1]) or {}
            if meta.get("visibility") == "internal":
                internal.append(f"Wat leerden anderen over {meta.get('title', '')}?")
        if len(internal) >= 20:
            break
    return internal + list(QUESTIONS)


def serve(code: Path, index: Path, questions: list[str], workers: int, asks: int) -> list[dict]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(index), str(asks)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env_for(code),
            cwd=code,
        )
        for _ in range(workers)
    ]
    for p in procs:
        p.stdin.write(json.dumps(questions) + "\n")
        p.stdin.flush()
    out = []
    for p in procs:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"worker in {code} failed (exit {p.wait()})")
        out.append(json.loads(line))
    # Every worker is alive and warm now: PSS shares the page cache fairly between them.
    for p, o in zip(procs, out, strict=True):
        o.update(smaps(p.pid))
    for p in procs:
        p.stdin.write("\n")
        p.stdin.close()
        p.wait()
    return out


def measure(
    code: Path,
    label: str,
    size: int,
    asks: int,
    cache: Path = CACHE,
    serve_too: bool = True,
    reuse: bool = False,
) -> dict:
    from bench.synth import scale_corpus

    base = cache / f"{label}-{size}"
    corpus = cache / f"corpus-{size}"
    if not (corpus / ".done").exists():
        log(f"writing a {size}-chunk corpus (30 % internal)")
        scale_corpus(ROOT / "corpus", corpus, size, internal_share=0.3)
        (corpus / ".done").write_text("1")
    ingested = base / "ingest.json"
    if reuse and ingested.exists():
        # Serving figures again on a quiet machine without paying for the ingest twice.
        log(f"{label}: reusing the {size}-chunk index from {ingested.stat().st_mtime:.0f}")
        row = json.loads(ingested.read_text())
    else:
        if base.exists():
            subprocess.run(["rm", "-rf", str(base)], check=True)
        log(f"{label}: ingest {size}")
        ing = subprocess.run(
            [sys.executable, "-c", INGEST, str(corpus), str(base / "index")],
            capture_output=True,
            text=True,
            env=env_for(code),
            cwd=code,
        )
        if ing.returncode:
            raise RuntimeError(ing.stderr[-2000:])
        row = json.loads(ing.stdout.strip().splitlines()[-1])
        ingested.write_text(json.dumps(row))
    if not serve_too:
        return row
    questions = questions_for(corpus)
    log(f"{label}: one worker, {asks} asks per audience")
    one = serve(code, base / "index", questions, 1, asks)[0]
    row["warm_ms"] = one["warm_ms"]
    row["first_ask_ms"] = one["first_ask_ms"]
    for audience in ("public", "internal"):
        for q in (0.5, 0.95, 0.99):
            row[f"{audience}_p{round(q * 100)}_ms"] = pct(one[audience], q)
    row["worker_uss_mb"] = one["uss_mb"]
    log(f"{label}: four workers")
    four = serve(code, base / "index", questions, 4, 5)
    row["four_uss_mb"] = [w["uss_mb"] for w in four]
    row["four_pss_total_mb"] = round(sum(w["pss_mb"] for w in four), 1)
    row["four_uss_max_mb"] = max(row["four_uss_mb"])
    return row


def chart(rows: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = [
        ("peak_rss_mb", "ingest peak RSS (MB)"),
        ("four_pss_total_mb", "four workers, PSS total (MB)"),
        ("public_p99_ms", "public ask p99 (ms)"),
    ]
    for ax, (key, title) in zip(axes, panels, strict=True):
        for label, style in (("base", "o--"), ("new", "o-")):
            # An --ingest-only row has no serving figures: leave it out of those panels.
            pts = sorted(
                (int(n), r[label][key]) for n, r in rows.items() if key in r.get(label, {})
            )
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
        ax.set_title(title)
        ax.set_xlabel("chunks")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


NOTES = "## Notes"


def report(rows: dict, meta: dict, path: Path) -> None:
    keys = [
        "ingest_s",
        "peak_rss_mb",
        "worker_uss_mb",
        "four_uss_max_mb",
        "four_pss_total_mb",
        "warm_ms",
        "first_ask_ms",
        "public_p50_ms",
        "public_p95_ms",
        "public_p99_ms",
        "internal_p50_ms",
        "internal_p95_ms",
        "internal_p99_ms",
    ]
    lines = [
        "# Scale benchmark (issue 18)",
        "",
        f"Fake embedder, 30 % internal documents. Load average at start: {meta['load']}; "
        f"{meta['cpus']} cores. Written by `make bench-scale`.",
        "",
        "![curve](scale.png)",
        "",
        "| chunks | figure | base | new | new / base |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n, r in sorted(rows.items(), key=lambda kv: int(kv[0])):
        for k in keys:
            b, v = r.get("base", {}).get(k), r.get("new", {}).get(k)
            ratio = f"{v / b:.2f}" if b and v is not None else "–"
            lines.append(f"| {n} | {k} | {b if b is not None else '–'} | {v} | {ratio} |")
    # Notes written by hand under the table (what ran beside it, what the figures mean) survive
    # a new run; the table above them is the run's own.
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = old[old.index(NOTES) :] if NOTES in old else ""
    path.write_text("\n".join(lines) + "\n" + ("\n" + notes if notes else ""), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--base", type=Path, help="code tree of the baseline (e.g. main)")
    parser.add_argument("--asks", type=int, default=60, help="asks per audience")
    parser.add_argument(
        "--trees",
        default="new,base",
        help="which trees to measure now (the other's figures in results.json are kept)",
    )
    parser.add_argument(
        "--cache", type=Path, default=CACHE, help="folder for the corpora and indexes"
    )
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="figures file; scale.md/png go beside it"
    )
    parser.add_argument(
        "--ingest-only", action="store_true", help="ingest figures only (e.g. for 500k chunks)"
    )
    parser.add_argument(
        "--reuse-index",
        action="store_true",
        help="serve an index an earlier run left in --cache instead of ingesting again",
    )
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    meta = {"load": os.getloadavg(), "cpus": os.cpu_count(), "python": platform.python_version()}
    out = args.results
    results = json.loads(out.read_text()) if out.exists() else {}
    scale = results.setdefault("scale", {})
    scale["meta"] = meta
    rows = scale.setdefault("sizes", {})
    for size in sizes:
        row = rows.setdefault(str(size), {})
        wanted = set(args.trees.split(","))
        trees = [("new", ROOT)] + ([("base", args.base)] if args.base else [])
        for label, code in trees:
            if label not in wanted:
                continue
            row[label] = measure(
                code.resolve(),
                label,
                size,
                args.asks,
                cache=args.cache,
                serve_too=not args.ingest_only,
                reuse=args.reuse_index,
            )
            log(f"{label} {size}: {row[label]}")
            out.write_text(json.dumps(results, indent=1))
    chart(rows, out.parent / "scale.png")
    report(rows, meta, out.parent / "scale.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
