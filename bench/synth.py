"""Scale a corpus up synthetically: variations of its documents, for latency at 1k/10k chunks.

Each copy keeps the document's structure, metadata and references (so people, obstacles and
phases still resolve) but gets its own id, a varied title and small wording changes, so the
lexical and dense indexes hold distinct chunks rather than exact duplicates.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import yaml

from ingest.chunking import chunk_document
from ingest.loaders import ROOT_FILES, load_document
from ingest.pipeline import scan

VERSION = 1
PLACES = [
    "Aalsdam",
    "Bergveen",
    "Cromdijk",
    "Duinwaard",
    "Eemhoven",
    "Friesmeer",
    "Gouwzand",
    "Heerdonk",
    "IJsselburg",
    "Kempenoord",
    "Lingestein",
    "Maasrode",
    "Nieuwkerk",
    "Oosthaven",
]
_SWAPS = [
    ("pilot", "proef"),
    ("opschalen", "uitbreiden"),
    ("organisatie", "instelling"),
    ("gemeente", "gemeentelijke organisatie"),
    ("team", "projectgroep"),
    ("budget", "geld"),
    ("leverancier", "marktpartij"),
    ("inwoners", "bewoners"),
]


def corpus_fingerprint(src: Path) -> str:
    h = hashlib.sha256(f"synth-v{VERSION}".encode())
    for path in sorted(src.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(src).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _vary(text: str, copy: int) -> str:
    for i, (a, b) in enumerate(_SWAPS):
        if (copy >> (i % 4)) & 1:
            text = re.sub(rf"\b{a}\b", b, text)
    return text


def scale_corpus(
    src: Path,
    dst: Path,
    target_chunks: int,
    chunk_size: int = 1100,
    overlap: int = 120,
    internal_share: float = 0.0,
) -> int:
    """Write variations of ``src``'s documents to ``dst`` until about ``target_chunks`` chunks.

    ``internal_share`` of the source documents (chosen by a hash of their id) become internal
    with all their copies: a public question about their topic then finds mostly internal
    chunks nearest, the worst case of a visibility filter.

    Returns the number of chunks the written corpus will have (as chunked now).
    """
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for name in ROOT_FILES:
        if (src / name).exists():
            shutil.copy(src / name, dst / name)
    paths, _ = scan(src)
    docs = [load_document(p, src) for p in paths if p.suffix.lower() in (".md", ".markdown")]
    if not docs:
        raise RuntimeError(f"{src} bevat geen Markdown-documenten om te variëren")
    total = copy = 0
    while total < target_chunks:
        place = PLACES[copy % len(PLACES)]
        for doc in docs:
            if total >= target_chunks:
                break
            meta = doc.meta.model_dump(mode="json", exclude_none=True)
            meta["id"] = f"synth/v{copy:03d}/{doc.doc_id}"
            meta["title"] = f"{doc.meta.title} ({place} {copy})"
            if meta.get("organisation"):
                meta["organisation"] = f"{meta['organisation']} {place}"
            meta.pop("url", None)
            digest = hashlib.sha1(doc.doc_id.encode()).digest()
            if internal_share and int.from_bytes(digest[:4]) / 2**32 < internal_share:
                meta["visibility"] = "internal"
            body = f"In {place} werd deze aanpak in ronde {copy} opnieuw gevolgd.\n\n" + _vary(
                doc.body, copy
            )
            out = dst / f"v{copy:03d}" / doc.path
            out.parent.mkdir(parents=True, exist_ok=True)
            text = (
                "---\n"
                + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
                + "---\n"
                + body
                + "\n"
            )
            out.write_text(text, encoding="utf-8")
            total += len(chunk_document(load_document(out, dst), chunk_size, overlap))
        copy += 1
    return total
