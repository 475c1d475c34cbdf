"""The index folder's layout and its manifest: written by ``ingest``, read by the assistant.

```
<index>/manifest.json      committed last; names the live generation
<index>/gen-000007/        chunks.jsonl, knowledge.json, lexical/
<index>/chroma/            embedded Chroma (absent with OPSCHAAL_CHROMA_URL)
```
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

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


def write_chunks(folder: Path, chunks: list[ChunkRecord]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(c.__dict__, ensure_ascii=False) + "\n")
