"""scan → validate → diff by hash → embed → upsert → write lexical → commit manifest → delete.

The order is what makes ingest crash-safe: new chunks are written under new ids next to the old
ones, the manifest (which names the live chunks and the live lexical generation) is replaced
atomically last, and only then are old chunks and generations removed. A kill at any point leaves
the previous manifest pointing at data that still exists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from pydantic import ValidationError

from assistant.calibration import Calibration, measure_stream
from assistant.embeddings import Embedder
from assistant.index import (
    FORMAT,
    ChunkRecord,
    ChunkTable,
    ChunkWriter,
    chunk_line,
    gen_dir,
    iter_chunks,
    read_manifest,
    write_json_atomic,
)
from assistant.knowledge import Knowledge, Obstacle, Person, Phase
from assistant.lexical import LexicalIndex
from assistant.store import VectorStore, stored_vectors

from .chunking import chunk_document
from .loaders import ROOT_FILES, SUFFIXES, LoadedDoc, LoadError, load_document, pydantic_reason

log = logging.getLogger(__name__)

#: Chunk vectors read from the store at once for the calibration.
CALIBRATION_PAGE = 2000


@dataclass
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    invalid: list[Problem] = field(default_factory=list)
    chunks_embedded: int = 0
    #: Chunks a killed or failed run had already stored: kept, not embedded again.
    chunks_resumed: int = 0
    chunks_total: int = 0
    rebuilt: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.invalid else 0


ProgressFn = Callable[[int, int], None]


class IngestLocked(RuntimeError):
    """Another ingest holds the index folder; the message says which folder."""


@contextlib.contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestLocked(
                f"een andere ingest werkt al aan {index_dir}; wacht tot die klaar is"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _load_list(path: Path, model, label: str, problems: list[Problem], root: Path) -> list:
    rel = path.relative_to(root).as_posix()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (regel {mark.line + 1})" if mark else ""
        problems.append(
            Problem(rel, f"geen geldige YAML{where}; controleer inspringing en dubbele punten")
        )
        return []
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(
            Problem(rel, f"moet een YAML-lijst van {label} zijn (regels die met '- ' beginnen)")
        )
        return []
    out, seen = [], set()
    key_field = "id" if model is Person else "key"
    for i, item in enumerate(raw, start=1):
        try:
            obj = model.model_validate(item)
        except ValidationError as exc:
            ident = item.get(key_field) if isinstance(item, dict) else None
            problems.append(
                Problem(rel, f"item {i}{f' ({ident})' if ident else ''}: {pydantic_reason(exc)}")
            )
            continue
        key = getattr(obj, key_field)
        if key in seen:
            problems.append(Problem(rel, f"item {i}: {key_field} '{key}' komt dubbel voor"))
            continue
        seen.add(key)
        out.append(obj)
    return out


def scan(corpus: Path) -> tuple[list[Path], list[str]]:
    """Supported document files and ignored files, relative order stable."""
    docs, ignored = [], []
    for path in sorted(corpus.rglob("*")):
        rel = path.relative_to(corpus)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        name = path.name
        if len(rel.parts) == 1 and name in ROOT_FILES:
            continue
        if name.endswith(".meta.yaml"):
            continue
        if path.suffix.lower() in SUFFIXES:
            docs.append(path)
        else:
            ignored.append(rel.as_posix())
    return docs, ignored


def load_knowledge(corpus: Path, problems: list[Problem]) -> Knowledge:
    parts = {}
    for fname, model, label in (
        ("people.yaml", Person, "personen"),
        ("obstacles.yaml", Obstacle, "obstakels"),
        ("phases.yaml", Phase, "fasen"),
    ):
        path = corpus / fname
        parts[fname.split(".")[0]] = (
            _load_list(path, model, label, problems, corpus) if path.exists() else []
        )
    know = Knowledge(**parts)
    obstacle_keys = {o.key for o in know.obstacles}
    phase_keys = {p.key for p in know.phases}
    for person in know.people:
        for fld, keys, allowed in (
            ("obstacles", person.obstacles, obstacle_keys),
            ("phases", person.phases, phase_keys),
        ):
            bad = [k for k in keys if allowed and k not in allowed]
            if bad:
                problems.append(
                    Problem(
                        "people.yaml",
                        f"persoon '{person.id}': onbekende {fld}-sleutel(s) {', '.join(bad)}; voeg ze toe aan {fld}.yaml of corrigeer de spelling",
                    )
                )
    return know


def _check_refs(doc: LoadedDoc, know: Knowledge) -> str | None:
    checks = (
        ("phases", doc.meta.phases, {p.key for p in know.phases}, "phases.yaml"),
        ("obstacles", doc.meta.obstacles, {o.key for o in know.obstacles}, "obstacles.yaml"),
        ("people", doc.meta.people, {p.id for p in know.people}, "people.yaml"),
    )
    for fld, keys, allowed, source in checks:
        if not allowed:
            continue  # the corpus has no such directory; nothing to check against
        bad = [k for k in keys if k not in allowed]
        if bad:
            return f"veld '{fld}': onbekende sleutel(s) {', '.join(bad)}; gebruik een sleutel uit {source}"
    return None


def _doc_meta(doc: LoadedDoc) -> dict:
    meta = doc.meta.model_dump(mode="json")
    meta.update(id=doc.doc_id, path=doc.path, kind=doc.kind)
    return meta


def ingest(
    corpus: Path,
    index_dir: Path,
    embedder: Embedder,
    store: VectorStore,
    *,
    rebuild: bool = False,
    chunk_size: int = 1100,
    chunk_overlap: int = 120,
    batch_size: int = 32,
    progress: ProgressFn | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> IngestReport:
    corpus = Path(corpus)
    index_dir = Path(index_dir)
    if not corpus.is_dir():
        raise FileNotFoundError(
            f"corpusmap {corpus} bestaat niet; geef een bestaande map met --corpus"
        )
    report = IngestReport()
    with index_lock(index_dir):
        old = read_manifest(index_dir)
        if old is not None and old.get("embedder") != embedder.name:
            log.warning(
                "embedder gewijzigd (%s → %s): de index wordt opnieuw opgebouwd",
                old.get("embedder"),
                embedder.name,
            )
            rebuild = True
        if rebuild:
            report.rebuilt = True
            store.reset()
            old = None
        old_docs: dict = (old or {}).get("docs", {})

        # 1. scan and validate --------------------------------------------------------------
        paths, report.ignored = scan(corpus)
        know = load_knowledge(corpus, report.invalid)
        docs: dict[str, LoadedDoc] = {}
        for path in paths:
            rel = path.relative_to(corpus).as_posix()
            try:
                doc = load_document(path, corpus)
            except LoadError as exc:
                report.invalid.append(Problem(rel, str(exc)))
                continue
            except OSError as exc:
                report.invalid.append(
                    Problem(
                        rel, f"kan het bestand niet lezen ({exc.strerror}); controleer de rechten"
                    )
                )
                continue
            except Exception as exc:  # a parser bug must cost one file, not the whole ingest
                log.debug("loader failed on %s", rel, exc_info=True)
                report.invalid.append(
                    Problem(
                        rel,
                        f"kan het bestand niet verwerken ({type(exc).__name__}); controleer of het een geldig bestand is",
                    )
                )
                continue
            bad = _check_refs(doc, know)
            if bad:
                report.invalid.append(Problem(rel, bad))
                continue
            if doc.doc_id in docs:
                report.invalid.append(
                    Problem(
                        rel,
                        f"id '{doc.doc_id}' wordt al gebruikt door {docs[doc.doc_id].path}; geef een uniek 'id'",
                    )
                )
                continue
            docs[doc.doc_id] = doc

        # 2. diff ---------------------------------------------------------------------------
        todo: list[LoadedDoc] = []
        for doc_id, doc in docs.items():
            prev = old_docs.get(doc_id)
            if prev is None:
                report.added.append(doc_id)
                todo.append(doc)
            elif prev["hash"] != doc.hash or prev.get("chunking") != [chunk_size, chunk_overlap]:
                report.updated.append(doc_id)
                todo.append(doc)
            else:
                report.unchanged.append(doc_id)
        report.removed = sorted(set(old_docs) - set(docs))
        knowledge = know.model_dump(mode="json")
        old_gen = (old or {}).get("generation")
        if (
            old is not None
            and not todo
            and not report.removed
            and old.get("knowledge_hash") == _hash(knowledge)
            and not _lexical_outdated(index_dir, old_gen)
            and Calibration.is_current(gen_dir(index_dir, old_gen), embedder.name)
        ):
            report.chunks_total = sum(len(d["chunks"]) for d in old_docs.values())
            return report  # nothing to do: the index is current

        # 3. chunk the new documents into the new generation, embed and upsert them ---------
        # Chunks go to a spool file as they are made and are read back for embedding and for
        # chunks.jsonl, so no step holds every chunk's text at once (issue 18). The folder of
        # a killed run is not in any manifest; the next run starts it again.
        generation = (old_gen or 0) + 1
        folder = gen_dir(index_dir, generation)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        spool = folder / ".new-chunks.jsonl"
        spans: dict[str, tuple[int, int]] = {}
        resumed: set[str] = set()
        n_new = 0
        # A chunk id carries its document's content hash, so a stored chunk of a document
        # whose content changed is one an interrupted run embedded: keep it instead of paying
        # the embedder again. Not for a chunking change alone (same ids, other text).
        live_ids = {cid for d in old_docs.values() for cid in d["chunks"]}
        stored = store.ids() - live_ids if todo else set()
        del live_ids
        with spool.open("wb") as fh:
            for doc in todo:
                start = fh.tell()
                fresh = old_docs.get(doc.doc_id) is None or old_docs[doc.doc_id]["hash"] != doc.hash
                for rec in chunk_document(doc, chunk_size, chunk_overlap):
                    fh.write(chunk_line(rec))
                    n_new += 1
                    if fresh and rec.id in stored:
                        resumed.add(rec.id)
                spans[doc.doc_id] = (start, fh.tell())
                # The text is in the spool now; the manifest needs only the metadata.
                doc.body, doc.pages = "", []
        del stored
        if resumed:
            report.chunks_resumed = len(resumed)
            log.info("%d chunks van een onderbroken ingest hervat", len(resumed))
        if on_phase:
            on_phase("embed")
        pending = n_new - len(resumed)
        done = 0
        batch: list[ChunkRecord] = []
        for rec in _spooled(spool):
            if rec.id not in resumed:
                batch.append(rec)
            if len(batch) >= batch_size:
                done += _upsert(store, batch, docs)
                batch = []
                if progress:
                    progress(done, pending)
        if batch:
            done += _upsert(store, batch, docs)
            if progress:
                progress(done, pending)
        report.chunks_embedded = pending

        # 4. the new generation: chunk texts, knowledge, lexical index -----------------------
        if on_phase:
            on_phase("lexical")
        old_table = None
        if old_gen is not None and report.unchanged:
            old_table = ChunkTable(
                gen_dir(index_dir, old_gen),
                {cid: doc_id for doc_id, d in old_docs.items() for cid in d["chunks"]},
            )
        writer = ChunkWriter(folder)
        manifest_docs = {}
        titles = {}
        with spool.open("rb") as fh:
            for doc_id, doc in docs.items():
                ids: list[str] = []
                if doc_id in spans:
                    lo, hi = spans[doc_id]
                    fh.seek(lo)
                    for line in fh.read(hi - lo).splitlines(keepends=True):
                        writer.add(line)
                        ids.append(json.loads(line)["id"])
                elif old_table is not None:
                    for cid in old_docs[doc_id]["chunks"]:
                        if cid in old_table:
                            writer.add(old_table.line(cid))
                            ids.append(cid)
                titles[doc_id] = (doc.meta.title, doc.meta.language)
                manifest_docs[doc_id] = {
                    "hash": doc.hash,
                    "path": doc.path,
                    "chunking": [chunk_size, chunk_overlap],
                    "chunks": ids,
                    "meta": _doc_meta(doc),
                }
        writer.close()
        del old_table
        spool.unlink()
        write_json_atomic(folder / "knowledge.json", knowledge)

        def rows() -> Iterator[tuple[str, str, str, str]]:
            for rec in iter_chunks(folder):
                title, lang = titles[rec.doc_id]
                yield rec.id, rec.text, f"{title} {rec.heading}", lang

        LexicalIndex.write(folder / "lexical", rows)
        report.chunks_total = len(writer)
        if on_phase:
            on_phase("calibrate")
        _calibrate(folder, embedder, store, manifest_docs, titles)

        # 5. commit -------------------------------------------------------------------------
        write_json_atomic(
            index_dir / "manifest.json",
            {
                "format": FORMAT,
                "embedder": embedder.name,
                "generation": generation,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "corpus": str(corpus.resolve()),
                "knowledge_hash": _hash(knowledge),
                "docs": manifest_docs,
            },
        )

        # 6. clean up what the old manifest pointed to, and orphans of killed runs ------------
        if on_phase:
            on_phase("cleanup")
        live = {cid for d in manifest_docs.values() for cid in d["chunks"]}
        try:
            stale = store.ids() - live
            if stale:
                store.delete(sorted(stale))
        except Exception as exc:  # the new index is committed; leftovers are harmless
            log.warning(
                "oude chunks konden niet worden opgeruimd (%s); dat gebeurt bij de volgende ingest",
                exc,
            )
        for other in index_dir.glob("gen-*"):
            if other != folder and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
    return report


def _lexical_outdated(index_dir: Path, generation: int | None) -> bool:
    """True when the lexical index was written by an older version of the analysis; a new
    generation is then written so it is not rebuilt in memory at every start."""
    import json

    from assistant.lexical import VERSION

    if generation is None:
        return False
    params = gen_dir(index_dir, generation) / "lexical" / "params.json"
    try:
        return int(json.loads(params.read_text(encoding="utf-8")).get("version", 1)) != VERSION
    except (OSError, ValueError):
        return True


def _calibrate(folder: Path, embedder, store, manifest_docs: dict, titles: dict) -> None:
    """Measure the new index's score levels (assistant/calibration.py) next to its chunks.

    The vectors are read from the store a page at a time (``calibration.measure_stream``).
    Failure is not fatal: without a calibration the assistant falls back to term coverage for
    abstention and leaves the language balance off, and says so in the log."""
    doc_of = {cid: doc_id for doc_id, d in manifest_docs.items() for cid in d["chunks"]}
    table = ChunkTable(folder, doc_of)
    ids = table.ids

    def blocks() -> Iterator[tuple[list[str], np.ndarray, list[str]]]:
        for i in range(0, len(ids), CALIBRATION_PAGE):
            page = ids[i : i + CALIBRATION_PAGE]
            vectors = stored_vectors(store, page)
            keep = [cid for cid in page if cid in vectors]
            if keep:
                yield (
                    keep,
                    np.vstack([vectors[cid] for cid in keep]),
                    [titles[doc_of[cid]][1] for cid in keep],
                )

    try:
        cal, kept = measure_stream(embedder, blocks, lambda cid: table[cid].text)
        if kept < len(ids):
            log.warning(
                "kalibratie: %d van %d chunkvectoren niet leesbaar uit de vectorstore",
                len(ids) - kept,
                len(ids),
            )
        if kept:
            cal.save(folder)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        log.warning("kalibratie van de index mislukt (%s); zonder kalibratie verder", exc)


def _spooled(path: Path) -> Iterator[ChunkRecord]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield ChunkRecord(**json.loads(line))


def _upsert(store: VectorStore, batch: list[ChunkRecord], docs: dict[str, LoadedDoc]) -> int:
    store.upsert(
        [r.id for r in batch],
        [_embed_text(r, docs[r.doc_id].meta.title) for r in batch],
        [_chunk_meta(r, docs[r.doc_id]) for r in batch],
    )
    return len(batch)


def _hash(obj) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _embed_text(rec: ChunkRecord, title: str) -> str:
    head = f"{title} — {rec.heading}" if rec.heading else title
    return f"{head}\n{rec.text}"


def _chunk_meta(rec: ChunkRecord, doc: LoadedDoc) -> dict:
    meta = {
        "doc_id": doc.doc_id,
        "type": doc.meta.type,
        "language": doc.meta.language,
        "visibility": doc.meta.visibility,
        "title": doc.meta.title,
        "heading": rec.heading or "",
    }
    if rec.page is not None:
        meta["page"] = rec.page
    return meta
