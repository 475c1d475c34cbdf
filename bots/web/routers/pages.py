"""The demo intranet page, the widget script, and the source pages citations link to."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from ..deps import AssistantDep, AudienceDep
from ..schemas import Document, error_responses
from ..security import ApiError

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["pagina's"])

# The pages carry no data-driven script; the CSP makes that a rule the browser enforces too.
DEMO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
SOURCE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
NO_SNIFF = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}

LABELS = {
    "nl": {
        "kicker": "Bron uit de kennisbank van Opschaalwijzer",
        "original": "Bekijk het origineel",
        "missing_title": "Bron niet gevonden",
        "missing": "Deze bron bestaat niet of is niet openbaar.",
        "types": {
            "blog": "Blog",
            "case": "Praktijkvoorbeeld",
            "lesson": "Les",
            "guide": "Handreiking",
        },
        "summary": "Samenvatting",
    },
    "en": {
        "kicker": "Source from the Opschaalwijzer knowledge base",
        "original": "View the original",
        "missing_title": "Source not found",
        "missing": "This source does not exist or is not public.",
        "types": {"blog": "Blog", "case": "Case", "lesson": "Lesson", "guide": "Guide"},
        "summary": "Summary",
    },
}


def safe_url(url: str | None) -> str | None:
    """Only http(s) links leave our pages; ``javascript:`` and friends never become a link."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def demo(request: Request) -> HTMLResponse:
    origin = str(request.base_url).rstrip("/")
    page = (
        (STATIC / "demo.html")
        .read_text(encoding="utf-8")
        .replace("__ORIGIN__", html.escape(origin))
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": DEMO_CSP, **NO_SNIFF})


@router.get("/widget.js", include_in_schema=False)
@router.get("/static/widget.js", include_in_schema=False)
async def widget() -> FileResponse:
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=300",
            "Cross-Origin-Resource-Policy": "cross-origin",
            **NO_SNIFF,
        },
    )


@router.get(
    "/api/documents/{doc_id:path}",
    tags=["bronnen"],
    summary="Tekst van een bron",
    response_model=Document,
    responses=error_responses(404),
)
def document_json(doc_id: str, assistant: AssistantDep, audience: AudienceDep) -> dict:
    """Anoniem alleen openbare documenten; interne alleen met een API-sleutel."""
    doc = assistant.document(doc_id, audience)
    if doc is None:
        raise ApiError(404, "document_not_found", "deze bron bestaat niet of is niet openbaar")
    return doc


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    # Markdown bold is the one markup worth keeping; it is applied after escaping, so the
    # captured text is already inert.
    return "".join(
        "<p>" + _BOLD.sub(r"<strong>\1</strong>", html.escape(p)) + "</p>" for p in parts
    )


_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")


@router.get("/bronnen/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
def source_page(
    doc_id: str, assistant: AssistantDep, audience: AudienceDep, lang: str = "nl"
) -> HTMLResponse:
    ui = LABELS["en" if lang == "en" else "nl"]
    e = html.escape
    doc = assistant.document(doc_id, audience)
    headers = {"Content-Security-Policy": SOURCE_CSP, **NO_SNIFF}
    if doc is None:
        body = f"<p class='kicker'>{e(ui['kicker'])}</p><h1>{e(ui['missing_title'])}</h1><p>{e(ui['missing'])}</p>"
        return HTMLResponse(
            _page(ui["missing_title"], body, "nl" if lang != "en" else "en"),
            status_code=404,
            headers=headers,
        )
    meta = [
        ui["types"].get(doc.get("type") or "", doc.get("type") or ""),
        doc.get("organisation"),
        doc.get("date"),
    ]
    parts = [
        f"<p class='kicker'>{e(ui['kicker'])}</p>",
        f"<h1>{e(doc['title'])}</h1>",
        f"<p class='meta'>{e(' · '.join(str(m) for m in meta if m))}</p>",
    ]
    if doc.get("summary"):
        parts.append(
            f"<p class='summary'><strong>{e(ui['summary'])}:</strong> {e(doc['summary'])}</p>"
        )
    link = safe_url(doc.get("url"))
    if link:
        parts.append(
            f"<p><a href='{e(link, quote=True)}' rel='noopener noreferrer'>{e(ui['original'])}</a></p>"
        )
    for s in doc["sections"]:
        heading = s.get("heading") or ""
        if s.get("page"):
            heading = f"{heading} (p. {s['page']})".strip()
        parts.append(
            "<section>"
            + (f"<h2>{e(heading)}</h2>" if heading else "")
            + _paragraphs(s["text"])
            + "</section>"
        )
    return HTMLResponse(
        _page(doc["title"], "".join(parts), doc.get("language") or "nl"), headers=headers
    )


def _page(title: str, body: str, lang: str) -> str:
    return (
        f"<!doctype html><html lang='{'en' if lang == 'en' else 'nl'}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)} · Opschaalwijzer</title>"
        "<link rel='stylesheet' href='/static/site.css'></head>"
        f"<body class='source'><main class='doc'>{body}</main></body></html>"
    )
