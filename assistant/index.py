"""The index folder's layout and its manifest: written by ``ingest``, read by the assistant.

```
<index>/manifest.json      committed last; names the live generation
<index>/gen-000007/        chunks.jsonl (+ chunks.offsets.npy), knowledge.json, lexical/
<index>/chroma/            embedded Chroma (absent with OPSCHAAL_CHROMA_URL)
```
"""

from __future__ import annotations

import json
import mmap
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = 1


class IndexMissing(RuntimeError):
    """No usable index in the folder; the message says how to build one."""


def write_json_atomic(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def gen_dir(index_dir: Path, generation: int) -> Path:
    return index_dir / f"gen-{generation:06d}"


def read_manifest(index_dir: Path) -> dict | None:
    path = index_dir / "manifest.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if data.get("format") != FORMAT:
        return None
    return data


@dataclass
class ChunkRecord:
    id: str
    doc_id: str
    text: str
    heading: str
    page: int | None
    ordinal: int


def read_chunks(folder: Path) -> list[ChunkRecord]:
    out = []
    with (folder / "chunks.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(ChunkRecord(**json.loads(line)))
    return out


def chunk_line(chunk: ChunkRecord) -> bytes:
    """A chunk's line in chunks.jsonl."""
    return (json.dumps(chunk.__dict__, ensure_ascii=False) + "\n").encode("utf-8")


class ChunkWriter:
    """chunks.jsonl and the byte offset of every line (``ChunkTable``), one line at a time, so
    ingest never holds every chunk's text at once (issue 18)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._fh = (folder / "chunks.jsonl").open("wb")
        self._offsets = [0]

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def add(self, line: bytes) -> None:
        self._fh.write(line)
        self._offsets.append(self._offsets[-1] + len(line))

    def close(self) -> None:
        self._fh.close()
        np.save(self.folder / "chunks.offsets.npy", np.asarray(self._offsets, dtype=np.int64))


def write_chunks(folder: Path, chunks: Iterable[ChunkRecord]) -> None:
    """One JSON line per chunk, plus the byte offset of every line (``ChunkTable``)."""
    writer = ChunkWriter(folder)
    for c in chunks:
        writer.add(chunk_line(c))
    writer.close()


def iter_chunks(folder: Path) -> Iterator[ChunkRecord]:
    """The chunk records of a generation, read one line at a time."""
    with (folder / "chunks.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield ChunkRecord(**json.loads(line))


class ChunkTable(Mapping[str, ChunkRecord]):
    """The chunk records of a generation, read on demand from the memory-mapped chunks.jsonl.

    Workers share the file through the page cache; each holds only the ids and two small
    arrays, not a Python object per chunk (135 MB per worker at 100k chunks before, issue 18).
    ``doc_id`` and ``ordinal`` order need no read at all.
    """

    def __init__(self, folder: Path, doc_of_chunk: Mapping[str, str]) -> None:
        path = folder / "chunks.jsonl"
        offsets_path = folder / "chunks.offsets.npy"
        self._fh = path.open("rb")
        size = os.fstat(self._fh.fileno()).st_size
        self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if offsets_path.exists():
            self._offsets = np.load(offsets_path, mmap_mode="r")
        else:  # written before the offsets file existed: find the line starts once
            starts = [0]
            pos = self._map.find(b"\n") if size else -1
            while pos != -1:
                starts.append(pos + 1)
                pos = self._map.find(b"\n", pos + 1)
            if starts[-1] != size:
                starts.append(size)
            self._offsets = np.asarray(starts, dtype=np.int64)
        n = len(self._offsets) - 1
        # The manifest lists every document's chunks in the order ingest wrote them; read the
        # ids from the file only when that does not hold (an index written otherwise).
        ids = list(doc_of_chunk)
        if len(ids) != n or (n and json.loads(self._line(n - 1))["id"] != ids[-1]):
            ids = [json.loads(self._line(i))["id"] for i in range(n)]
        self.ids: list[str] = ids
        self.pos: dict[str, int] = {cid: i for i, cid in enumerate(ids)}
        self._doc_ids: list[str] = sorted(set(doc_of_chunk.values()))
        doc_index = {d: i for i, d in enumerate(self._doc_ids)}
        self._doc = np.asarray(
            [doc_index.get(doc_of_chunk.get(cid, ""), -1) for cid in ids], dtype=np.int32
        )

    def _line(self, i: int) -> bytes:
        return self._map[int(self._offsets[i]) : int(self._offsets[i + 1])]

    def __getitem__(self, cid: str) -> ChunkRecord:
        return ChunkRecord(**json.loads(self._line(self.pos[cid])))

    def line(self, cid: str) -> bytes:
        """The chunk's line as stored, for copying it into a new generation unparsed."""
        return bytes(self._line(self.pos[cid]))

    def __contains__(self, cid: object) -> bool:
        return cid in self.pos

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def doc_id(self, cid: str) -> str:
        d = int(self._doc[self.pos[cid]])
        return self._doc_ids[d] if d >= 0 else self[cid].doc_id

    def of_docs(self, doc_ids: set[str]) -> tuple[str, ...]:
        """Ids of the chunks of these documents, in index order, without reading a record."""
        want = [i for i, d in enumerate(self._doc_ids) if d in doc_ids]
        rows = np.flatnonzero(np.isin(self._doc, want))
        return tuple(self.ids[i] for i in rows)
