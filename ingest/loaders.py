"""One loader per file kind. Each returns a :class:`LoadedDoc` or raises :class:`LoadError`.

Errors are written for the person who maintains the corpus: what is wrong, in which field, and
what to do about it.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from assistant.knowledge import DocMeta

MAX_FILE_BYTES = 20 * 1024 * 1024
SUFFIXES = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".txt": "txt",
}
ROOT_FILES = {"people.yaml", "obstacles.yaml", "phases.yaml"}


class LoadError(Exception):
    """A file that cannot be ingested; ``str()`` is the user-facing reason."""


@dataclass
class Section:
    text: str
    heading: str = ""
    page: int | None = None


@dataclass
class LoadedDoc:
    doc_id: str
    path: str
    kind: str
    meta: DocMeta
    #: Markdown-ish body for md/html/txt; per-page sections for PDF.
    body: str = ""
    pages: list[Section] = field(default_factory=list)
    hash: str = ""


def pydantic_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(bestand)"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "ontbreekt (verplicht veld)"
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")  # our own validators already say it in Dutch
        elif err["type"] == "literal_error":
            msg = f"ongeldige waarde {err.get('input')!r}; {err['msg'].replace('Input should be', 'kies')}"
        parts.append(f"veld '{loc}': {msg}")
    return "; ".join(parts)


def default_id(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    for suffix in SUFFIXES:
        if rel.lower().endswith(suffix):
            rel = rel[: -len(suffix)]
            break
    return rel.lower()


def _read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LoadError(
            f"bestand is te groot ({size / 2**20:.0f} MB, maximaal {MAX_FILE_BYTES / 2**20:.0f} MB); "
            "splits het op of verwijder het uit de corpusmap"
        )
    data = path.read_bytes()
    if not data.strip():
        raise LoadError("bestand is leeg; vul het of verwijder het")
    return data


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise LoadError("bestand is binair, geen tekst; sla het op als UTF-8-tekst")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"bestand is geen geldige UTF-8-tekst (byte {exc.start}); sla het op als UTF-8"
        ) from exc


def _parse_meta(raw: dict, where: str) -> DocMeta:
    if not isinstance(raw, dict):
        raise LoadError(f"{where} moet een YAML-mapping zijn (sleutel: waarde)")
    try:
        return DocMeta.model_validate(raw)
    except ValidationError as exc:
        raise LoadError(f"{where}: {pydantic_reason(exc)}") from exc


def _yaml(text: str, where: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" regel {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntaxfout"
        raise LoadError(
            f"{where} is geen geldige YAML ({problem}{line}); controleer de inspringing en dubbele punten"
        ) from exc


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.yaml")


def _sidecar(path: Path) -> dict:
    side = sidecar_path(path)
    if not side.exists():
        return {}
    raw = _yaml(side.read_text(encoding="utf-8"), f"metadata {side.name}")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LoadError(f"metadata {side.name} moet een YAML-mapping zijn")
    return raw


_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)


def load_markdown(path: Path, data: bytes) -> tuple[dict, str]:
    text = _decode_text(data)
    m = _FRONT.match(text)
    if not m:
        raise LoadError(
            "front matter ontbreekt; begin het bestand met '---', dan minstens 'title:' en "
            "'type:', dan '---'"
        )
    raw = _yaml(m.group(1), "front matter")
    if not isinstance(raw, dict):
        raise LoadError("front matter moet een YAML-mapping zijn (title: …, type: …)")
    for required in ("title", "type"):
        if required not in raw:
            raise LoadError(
                f"veld '{required}' ontbreekt in de front matter (verplicht voor Markdown)"
            )
    body = text[m.end() :].strip()
    if not body:
        raise LoadError("document heeft geen tekst na de front matter")
    return raw, body


_DROP_TAGS = "script, style, noscript, nav, footer, header, aside, form, iframe, svg, template"


def load_html(path: Path, data: bytes) -> tuple[dict, str]:
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    text = _decode_text(data)
    tree = HTMLParser(text)
    title_node = tree.css_first("title")
    h1 = tree.css_first("h1")
    title = (title_node.text(strip=True) if title_node else "") or (
        h1.text(strip=True) if h1 else ""
    )
    for node in tree.css(_DROP_TAGS):
        node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    lines: list[str] = []
    if root is not None:
        for node in root.css("h1, h2, h3, h4, h5, h6, p, li, pre, blockquote, td, dd, dt"):
            if node.tag == "li" and node.css_first("p"):
                continue
            t = re.sub(r"\s+", " ", node.text(separator=" ", strip=True)).strip()
            if not t:
                continue
            if node.tag[0] == "h" and node.tag[1:].isdigit():
                lines.append("\n" + "#" * int(node.tag[1:]) + " " + t + "\n")
            elif node.tag == "li":
                lines.append("- " + t)
            else:
                lines.append(t + "\n")
    body = "\n".join(lines).strip()
    if not body:
        raise LoadError("HTML-pagina bevat geen leesbare hoofdtekst")
    return {"title": title} if title else {}, body


def load_pdf(path: Path, data: bytes) -> tuple[dict, list[Section]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError("PDF is versleuteld; lever een onbeveiligde versie aan")
        pages = []
        for i, page in enumerate(reader.pages, start=1):
            t = (page.extract_text() or "").strip()
            if t:
                pages.append(Section(text=t, page=i))
        info_title = None
        try:
            info_title = (reader.metadata or {}).get("/Title")
        except Exception:
            info_title = None
    except LoadError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many kinds on damaged files
        raise LoadError(
            f"PDF kan niet gelezen worden ({type(exc).__name__}); is het bestand beschadigd?"
        ) from exc
    if not pages:
        raise LoadError("PDF bevat geen tekst (gescand?); voeg een versie met tekstlaag toe")
    meta = {"title": str(info_title).strip()} if info_title and str(info_title).strip() else {}
    return meta, pages


def load_text(path: Path, data: bytes) -> tuple[dict, str]:
    text = _decode_text(data).strip()
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    body = text[text.find(first) + len(first) :].strip() if first else ""
    if not body:
        body = text
    return {"title": first[:200]}, body


def load_document(path: Path, root: Path) -> LoadedDoc:
    """Load and validate one corpus file."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise LoadError("bestandstype wordt niet ondersteund")
    data = _read_bytes(path)
    side_raw: dict = {}
    pages: list[Section] = []
    body = ""
    if kind == "md":
        raw, body = load_markdown(path, data)
    else:
        side_raw = _sidecar(path)
        if kind == "html":
            raw, body = load_html(path, data)
        elif kind == "pdf":
            raw, pages = load_pdf(path, data)
        else:
            raw, body = load_text(path, data)
        if "title" not in raw and "title" not in side_raw:
            raw["title"] = path.stem.replace("-", " ").replace("_", " ")
        raw = {**raw, **side_raw}
    meta = _parse_meta(raw, "front matter" if kind == "md" else "metadata")
    doc_id = meta.id or default_id(path, root)
    digest = hashlib.sha256(data)
    if side_raw:
        digest.update(sidecar_path(path).read_bytes())
    return LoadedDoc(
        doc_id=doc_id,
        path=path.relative_to(root).as_posix(),
        kind=kind,
        meta=meta,
        body=body,
        pages=pages,
        hash=digest.hexdigest(),
    )
