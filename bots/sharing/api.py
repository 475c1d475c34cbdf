"""HTTP: ``POST /api/contributions`` for everyone, ``/curator`` for curators with a key."""

from __future__ import annotations

import base64
import html
import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel

from assistant.service import taxonomy
from bots.web.schemas import error_responses, unencodable_path
from bots.web.security import ApiError, api_error_response
from curation.models import Contribution, ContributionError
from curation.service import Sharing, SharingError
from storage import NotFound

from .settings import CuratorSettings


def _sharing(request: Request) -> Sharing:
    return request.app.state.sharing


SharingDep = Annotated[Sharing, Depends(_sharing)]


def _presented_key(request: Request) -> str | None:
    if key := request.headers.get("x-curator-key"):
        return key
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[2]
        except Exception:
            return None
    return None


def require_curator(request: Request) -> str:
    keys = [k.get_secret_value() for k in request.app.state.curator.keys]
    key = _presented_key(request)
    if not keys or not key or not any(secrets.compare_digest(key, k) for k in keys):
        detail = (
            "curatorpagina staat uit: stel OPSCHAAL_CURATOR_KEYS in"
            if not keys
            else "curatorsleutel ontbreekt of is onjuist"
        )
        raise HTTPException(
            status_code=401, detail=detail, headers={"WWW-Authenticate": 'Basic realm="curator"'}
        )
    # Forms post with the browser's stored credentials: refuse cross-site posts.
    if request.method == "POST" and (origin := request.headers.get("origin")):
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            raise HTTPException(status_code=403, detail="verzoek van een andere site geweigerd")
    return "curator"


Curator = Annotated[str, Depends(require_curator)]
#: The page has one inline stylesheet and plain forms that post to itself; nothing else runs.
CURATOR_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Obstacle(BaseModel):
    key: str
    label: str
    label_en: str | None = None


router = APIRouter()


@router.get("/api/obstacles", tags=["contributions"], response_model=list[Obstacle])
def obstacles(sharing: SharingDep) -> list[dict]:
    """De obstakels uit de taxonomie, voor het formulier "Deel je ervaring"."""
    return [
        {"key": k, "label": o.label, "label_en": o.label_en}
        for k, o in sorted(taxonomy(sharing.assistant).items())
    ]


# pydantic strips what Rust calls whitespace (JSON Schema's ``\s`` here); the address is then
# checked with Python's ``re``, whose ``\s`` also covers U+001C–U+001F.
_ADDRESS = r"[^@\s\x1c-\x1f\x85]+"
EMAIL = rf"^\s*{_ADDRESS}@{_ADDRESS}\.{_ADDRESS}\s*$"


def contribution_body_schema(known_obstacles: list[str]) -> dict:
    """The JSON Schema of a contribution as :func:`parse_contribution` checks it: lengths after
    stripping, known obstacles, and name and email once ``contact_ok`` is true."""
    schema = Contribution.model_json_schema()
    props = schema["properties"]
    for name, prop in props.items():
        low = prop.get("minLength")
        if low is None:
            for option in prop.get("anyOf", ()):
                if option.get("type") == "string" and name == "email":
                    # Empty means no address (only allowed when contact_ok is false).
                    option["pattern"] = f"^\\s*$|{EMAIL}"
            continue
        # Text is stripped before its length is checked: at least `low` characters between the
        # first and the last one that is not whitespace.
        prop["pattern"] = rf"^\s*\S[\s\S]{{{max(0, low - 2)},}}\S\s*$"
    if known_obstacles:
        props["obstacles"]["items"] = {"type": "string", "enum": sorted(known_obstacles)}
    schema["if"] = {"properties": {"contact_ok": {"const": True}}, "required": ["contact_ok"]}
    schema["then"] = {
        "required": ["name", "email"],
        "properties": {
            "name": {"type": "string", "pattern": r"\S"},
            "email": {"type": "string", "pattern": EMAIL},
        },
    }
    return schema


class ContributionAccepted(BaseModel):
    id: str
    status: Literal["pending"]
    message: str


@router.post(
    "/api/contributions",
    status_code=201,
    tags=["contributions"],
    response_model=ContributionAccepted,
    # The body is parsed here, not by FastAPI, for Dutch per-field messages; the schema is
    # filled in by the app's OpenAPI (it needs the obstacles of the live index).
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Contribution"}}
            },
        }
    },
    responses=error_responses(400, 413, 422),
)
async def submit(request: Request, sharing: SharingDep) -> dict:
    """Deel een ervaring: titel, wat je probeerde, obstakels, wat je leerde, organisatie,
    en of je benaderd mag worden (`contact_ok`, verplicht). Komt in de reviewwachtrij."""
    try:
        data = await request.json()
    except Exception:
        raise ApiError(400, "bad_request", "de body is geen geldige JSON in UTF-8") from None
    if not isinstance(data, dict):
        raise ApiError(
            422, "invalid_contribution", "verwacht een JSON-object met de velden van een bijdrage"
        )
    if (path := unencodable_path(data)) is not None:
        raise ApiError(
            422,
            "invalid_text",
            f"veld '{path}' bevat een losse UTF-16-surrogaat en is dus geen geldige UTF-8-tekst; stuur gewone tekst",
        )
    try:
        cid = sharing.submit(data, channel="web")
    except ContributionError as exc:
        raise ApiError(422, "invalid_contribution", str(exc)) from None
    return {"id": cid, "status": "pending", "message": "Dank je! Een curator bekijkt je bijdrage."}


@router.get("/curator/api/contributions", tags=["curator"], responses=error_responses(401))
def list_contributions(sharing: SharingDep, _: Curator, status: str | None = None) -> list[dict]:
    return sharing.contributions.list(status)


@router.patch(
    "/curator/api/contributions/{cid}", tags=["curator"], responses=error_responses(401, 404)
)
async def edit_contribution(cid: str, request: Request, sharing: SharingDep, _: Curator) -> dict:
    try:
        return sharing.edit(cid, await request.json())
    except NotFound:
        raise HTTPException(status_code=404, detail=f"geen openstaande bijdrage {cid}") from None
    except ContributionError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


@router.post(
    "/curator/api/contributions/{cid}/{action}",
    tags=["curator"],
    responses=error_responses(401, 403, 404, 409),
)
def review(cid: str, action: str, sharing: SharingDep, who: Curator) -> dict:
    try:
        if action == "approve":
            path = sharing.approve(cid, reviewer=who)
            return {"id": cid, "status": "published", "path": str(path.relative_to(sharing.corpus))}
        if action == "reject":
            sharing.reject(cid, reviewer=who)
            return {"id": cid, "status": "rejected"}
    except NotFound:
        raise HTTPException(status_code=404, detail=f"geen openstaande bijdrage {cid}") from None
    except SharingError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    raise HTTPException(status_code=404, detail="actie moet approve of reject zijn")


@router.get("/curator/api/gaps", tags=["curator"], responses=error_responses(401))
def gaps(sharing: SharingDep, _: Curator) -> list[dict]:
    return [g.__dict__ | {"trend": g.trend} for g in sharing.gaps()]


@router.get("/curator/api/analytics", tags=["curator"], responses=error_responses(401))
def analytics(sharing: SharingDep, _: Curator) -> dict:
    return sharing.analytics()


@router.post("/curator/contributions/{cid}/{action}", include_in_schema=False)
def review_form(
    cid: str,
    action: str,
    sharing: SharingDep,
    who: Curator,
    note: Annotated[str | None, Form()] = None,
):
    try:
        if action == "approve":
            sharing.approve(cid, reviewer=who)
        elif action == "reject":
            sharing.reject(cid, reviewer=who, note=note)
        else:
            raise HTTPException(status_code=404, detail="onbekende actie")
    except NotFound:
        raise HTTPException(status_code=404, detail=f"geen openstaande bijdrage {cid}") from None
    except SharingError as exc:
        return JSONResponse(status_code=409, content={"detail": str(exc)})
    return RedirectResponse("/curator", status_code=303)


@router.get("/curator", response_class=HTMLResponse, include_in_schema=False)
def curator_page(sharing: SharingDep, _: Curator) -> HTMLResponse:
    return HTMLResponse(render_page(sharing), headers=CURATOR_HEADERS)


def _bar_chart(weeks: list[tuple[str, int]]) -> str:
    if not weeks:
        return "<p>Nog geen antwoorden.</p>"
    top = max(n for _, n in weeks) or 1
    bar_w, gap, h = 28, 8, 120
    width = len(weeks) * (bar_w + gap) + gap
    bars = []
    for i, (week, n) in enumerate(weeks):
        bh = round(h * n / top)
        x = gap + i * (bar_w + gap)
        bars.append(
            f'<rect x="{x}" y="{h - bh + 4}" width="{bar_w}" height="{bh}" fill="#154273"><title>{html.escape(week)}: {n}</title></rect>'
            f'<text x="{x + bar_w / 2}" y="{h + 20}" font-size="10" text-anchor="middle">{html.escape(week[-3:])}</text>'
        )
    rows = "".join(f"<tr><td>{html.escape(w)}</td><td>{n}</td></tr>" for w, n in weeks)
    return (
        f'<svg role="img" aria-labelledby="wk-title" width="{width}" height="{h + 28}">'
        f'<title id="wk-title">Antwoorden per week</title>{"".join(bars)}</svg>'
        f"<details><summary>Tabel bij de grafiek</summary><table><tr><th>week</th><th>antwoorden</th></tr>{rows}</table></details>"
    )


def render_page(sharing: Sharing) -> str:
    e = html.escape
    pending = sharing.contributions.list("pending")
    recent = [c for c in sharing.contributions.list() if c["status"] != "pending"][-10:]
    stats = sharing.analytics()
    gap_list = sharing.gaps()
    items = []
    for c in pending:
        p = c["payload"]
        items.append(
            f"<article><h3>{e(p['title'])}</h3><p class=meta>{e(p['organisation'])} · obstakels: {e(', '.join(p['obstacles']))}"
            f" · benaderen: {'ja' if p['contact_ok'] else 'nee'} · {e(c['created'])}</p>"
            f"<h4>Geprobeerd</h4><p>{e(p['tried'])}</p><h4>Geleerd</h4><p>{e(p['learned'])}</p>"
            f"<form method=post action='/curator/contributions/{e(c['id'])}/approve'><button>Goedkeuren en publiceren</button></form>"
            f"<form method=post action='/curator/contributions/{e(c['id'])}/reject'><label>Reden <input name=note></label> "
            f"<button>Afwijzen</button></form></article>"
        )
    gaps_html = "".join(
        f"<tr><td>{e(g.label)}</td><td>{g.count}</td><td>{e(g.trend)}</td><td><ul>{''.join(f'<li>{e(x)}</li>' for x in g.examples)}</ul></td>"
        f"<td>{e(', '.join(o['key'] + (' (weinig documenten)' if o['lacks_documents'] else '') + (' (weinig mensen)' if o['lacks_people'] else '') for o in g.obstacles))}</td></tr>"
        for g in gap_list
    )
    cited = "".join(f"<li>{e(d)} ({n}×)</li>" for d, n in stats["most_cited"])
    recommended = "".join(f"<li>{e(name)} ({n}×)</li>" for _, name, n in stats["most_recommended"])
    done = "".join(f"<li>{e(c['payload']['title'])}: {e(c['status'])}</li>" for c in recent)
    return f"""<!doctype html><html lang=nl><head><meta charset=utf-8><meta name=viewport content="width=device-width, initial-scale=1">
<title>Opschaalwijzer · curator</title><style>
body{{font-family:system-ui,sans-serif;max-width:70rem;margin:0 auto;padding:1rem;color:#1a1a1a;line-height:1.5}}
h1,h2{{color:#154273}} article{{border:1px solid #767676;border-radius:6px;padding:1rem;margin:1rem 0}}
.meta{{color:#4a4a4a}} button{{background:#154273;color:#fff;border:0;padding:.5rem 1rem;border-radius:4px;margin:.25rem 0;cursor:pointer}}
button:focus-visible,input:focus-visible,summary:focus-visible{{outline:3px solid #ffb612;outline-offset:2px}}
table{{border-collapse:collapse}} td,th{{border:1px solid #767676;padding:.4rem;text-align:left;vertical-align:top}}
.cards{{display:flex;gap:1rem;flex-wrap:wrap}} .card{{border:1px solid #767676;border-radius:6px;padding:.75rem 1rem}}
</style></head><body><main><h1>Curator</h1>
<section aria-labelledby=s1><h2 id=s1>Cijfers</h2><div class=cards>
<div class=card>Antwoorden: <strong>{stats["answers_total"]}</strong></div>
<div class=card>Geen antwoord: <strong>{stats["abstention_rate"]:.0%}</strong></div>
<div class=card>👍 {stats["feedback_up"]} · 👎 {stats["feedback_down"]} (👍-aandeel {stats["up_ratio"]:.0%})</div></div>
{_bar_chart(stats["answers_per_week"])}
<h3>Meest geciteerde documenten</h3><ol>{cited or "<li>nog geen</li>"}</ol>
<h3>Meest aanbevolen mensen</h3><ol>{recommended or "<li>nog geen</li>"}</ol></section>
<section aria-labelledby=s2><h2 id=s2>Te beoordelen bijdragen ({len(pending)})</h2>{"".join(items) or "<p>Geen openstaande bijdragen.</p>"}
<h3>Recent beoordeeld</h3><ul>{done or "<li>nog geen</li>"}</ul></section>
<section aria-labelledby=s3><h2 id=s3>Kennislacunes</h2><p>Vragen zonder antwoord of met 👎, gegroepeerd per onderwerp.</p>
<table><tr><th>onderwerp</th><th>aantal</th><th>trend (7 dagen)</th><th>voorbeelden</th><th>obstakels</th></tr>{gaps_html or "<tr><td colspan=5>geen</td></tr>"}</table></section>
</main></body></html>"""


def mount(
    app: FastAPI, assistant, stores, settings, curator: CuratorSettings | None = None
) -> Sharing:
    """Add the contribution API and curator page; finish interrupted approvals."""
    sharing = Sharing(assistant, stores, settings)
    app.state.sharing = sharing
    app.state.curator = curator or CuratorSettings()
    # Its routes answer in the web API's error shape, also in an app of their own.
    app.exception_handlers.setdefault(ApiError, api_error_response)

    def schema() -> dict:
        try:
            known = list(taxonomy(assistant))
        except Exception:  # no index yet: the schema then allows any obstacle key
            known = []
        return contribution_body_schema(known)

    app.state.openapi_components = {
        **getattr(app.state, "openapi_components", {}),
        "Contribution": schema,
    }
    app.include_router(router)
    try:
        sharing.purge()
        sharing.recover()
    except Exception as exc:  # no index yet, for example; the next start tries again
        import logging

        logging.getLogger(__name__).warning(
            "bijdragen afronden lukte niet bij het starten (%s)", type(exc).__name__
        )
    return sharing
