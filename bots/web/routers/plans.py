"""``/api/plans``: the scaling plan over HTTP, for the widget's intake and the plan page.

Who may do what: creating a plan returns an owner secret that only the browser keeps (the
server stores a hash of it as the plan's owner). The owner sends it in ``X-Plan-Owner`` to read
and change the plan; someone with a share link sends its token in ``X-Plan-Token`` and may only
read. An unknown plan and a plan the caller may not see get the same 404. Headers, not cookies,
so no other site can make a browser act on a plan. Plans never pass the answer cache or the
conversation log.
"""

from __future__ import annotations

import html
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import HTMLResponse

from assistant.service import PersonUnavailable, UserError
from plans.export import export as write_export
from plans.export import grid_png, phase_reasons_text
from plans.service import PlanNotFound, PlanService, TaskNotFound

from ..plan_schemas import (
    ChatRequest,
    ChatResult,
    Format,
    IntakeQuestions,
    InvitationDraft,
    InviteRequest,
    PlanCreated,
    PlanEditRequest,
    PlanIntakeRequest,
    PlanView,
    Revoked,
    RevokeRequest,
    ShareLink,
    TaskAdded,
    TaskRequest,
    TaskUpdate,
)
from ..schemas import error_responses
from ..security import ApiError

router = APIRouter(prefix="/api/plans", tags=["plannen"])

OWNER_HEADER = "X-Plan-Owner"
TOKEN_HEADER = "X-Plan-Token"
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def owner_key(secret: str) -> str:
    """The owner a web secret stands for (``PlanService.web_owner``: only a digest is stored)."""
    return PlanService.web_owner(secret)


def get_plans(request: Request) -> PlanService:
    return request.app.state.plans


@dataclass(frozen=True)
class Caller:
    owner: str | None
    token: str | None


def get_caller(
    owner: Annotated[
        str | None,
        Header(
            alias=OWNER_HEADER,
            max_length=200,
            description="Het eigenaarsgeheim uit `POST /api/plans`.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        Header(
            alias=TOKEN_HEADER, max_length=200, description="Een deellink-token (alleen lezen)."
        ),
    ] = None,
) -> Caller:
    return Caller(owner_key(owner) if owner else None, token or None)


PlansDep = Annotated[PlanService, Depends(get_plans)]
CallerDep = Annotated[Caller, Depends(get_caller)]


def _not_found(exc: PlanNotFound) -> ApiError:
    return ApiError(404, "plan_not_found", str(exc))


def _owner(caller: Caller) -> str:
    # Without the owner secret a change is refused like an unknown plan: a share token reads only.
    return caller.owner or ""


def _run(fn, *args, **kwargs):
    """The service's errors in the API's shape: a plan you may not see is a 404, bad input a 422."""
    try:
        return fn(*args, **kwargs)
    except PlanNotFound as exc:
        raise _not_found(exc) from None
    except TaskNotFound as exc:
        raise ApiError(404, "task_not_found", str(exc)) from None
    except PersonUnavailable as exc:
        raise ApiError(404, "person_unavailable", str(exc)) from None
    except UserError as exc:
        raise ApiError(422, "invalid_plan", str(exc)) from None


# Not under /api/plans/: a fixed name there would share its path with /api/plans/{plan_id}.
intake_router = APIRouter(tags=["plannen"])


@intake_router.get("/api/plan-intake", summary="De intakevragen", response_model=IntakeQuestions)
def questions(plans: PlansDep, language: Literal["nl", "en"] = "nl") -> dict:
    """Hooguit acht korte vragen, één voor één te stellen, en de keuzes om te corrigeren wat
    herkend werd (fasen, obstakels, soorten opschaling)."""
    from plans.service import AMBITION_NAMES

    a = plans.assistant
    return {
        "language": language,
        "questions": plans.questions(language),
        "ambitions": [{"key": k, "name": v} for k, v in AMBITION_NAMES[language].items()],
        "phases": [{"key": p["key"], "name": p["name"]} for p in a.step_plan(language)],
        "obstacles": [
            {"key": k, "name": a.analyse_label(k, language) or k} for k in a.obstacle_keys()
        ],
        "warning": plans.privacy_note(language),
    }


#: OpenAPI links from a new plan to what its owner can do with it: clients (and schemathesis'
#: stateful phase) follow them with the plan id and the owner secret from the 201 answer.
_OWNER_OPS = {
    "GetPlan": "get_plan_api_plans__plan_id__get",
    "EditPlan": "edit_plan_api_plans__plan_id__patch",
    "AddTask": "add_task_api_plans__plan_id__tasks_post",
    "Chat": "chat_api_plans__plan_id__chat_post",
    "Invite": "invite_api_plans__plan_id__invitations_post",
    "Share": "share_api_plans__plan_id__shares_post",
    "Export": "export_api_plans__plan_id__export_get",
    "Grid": "grid_api_plans__plan_id__grid_png_get",
}
PLAN_LINKS = {
    name: {
        "operationId": op,
        "parameters": {
            "path.plan_id": "$response.body#/plan_id",
            f"header.{OWNER_HEADER}": "$response.body#/owner_secret",
        },
    }
    for name, op in _OWNER_OPS.items()
}


@router.post(
    "",
    status_code=201,
    summary="Maak een plan uit de intake",
    response_model=PlanCreated,
    responses={201: {"links": PLAN_LINKS}, **error_responses(422)},
)
def create_plan(body: PlanIntakeRequest, plans: PlansDep) -> dict:
    """Geeft het plan-id en een eigenaarsgeheim: bewaar het en stuur het mee in `X-Plan-Owner`.
    Het antwoord zegt welke fase en obstakels herkend zijn; corrigeer ze met `PATCH`."""
    secret = secrets.token_urlsafe(32)
    owner = owner_key(secret)
    pid = _run(plans.create, owner, body.model_dump())
    p = plans.store.get(pid)["payload"]
    lang = p["intake"]["language"]
    a = plans.assistant
    return {
        "plan_id": pid,
        "owner_secret": secret,
        "page": f"/plan/{pid}",
        "language": lang,
        "phase": p["phase"],
        "phase_name": a.phase_name(p["phase"], lang),
        "phase_reasons": p["phase_reasons"],
        "phase_reason_text": phase_reasons_text(p["phase_reasons"], lang),
        "obstacles": [
            {
                "key": k,
                "label": a.analyse_label(k, lang) or k,
                "words": p["obstacle_words"].get(k, []),
            }
            for k in p["obstacles"]
        ],
    }


@router.get(
    "/{plan_id}",
    summary="Lees een plan",
    response_model=PlanView,
    responses=error_responses(404),
)
def get_plan(plan_id: str, plans: PlansDep, caller: CallerDep) -> dict:
    """Voor de eigenaar (`X-Plan-Owner`) of met een deellink (`X-Plan-Token`)."""
    return _run(plans.view, plan_id, caller.owner, caller.token)


@router.patch(
    "/{plan_id}",
    summary="Wijzig een plan",
    response_model=PlanView,
    responses=error_responses(404, 422),
)
def edit_plan(plan_id: str, body: PlanEditRequest, plans: PlansDep, caller: CallerDep) -> dict:
    """Corrigeer fase of obstakels, pas intakevelden aan, of vervang de stakeholders of de
    businesscase. Alleen de eigenaar."""
    changes = body.changes()
    if changes:
        _run(plans.edit, plan_id, _owner(caller), changes)
    else:
        _run(plans.owned, plan_id, _owner(caller))
    return _run(plans.view, plan_id, caller.owner, caller.token)


@router.post(
    "/{plan_id}/tasks",
    status_code=201,
    summary="Voeg een eigen taak toe",
    response_model=TaskAdded,
    responses=error_responses(404, 422),
)
def add_task(plan_id: str, body: TaskRequest, plans: PlansDep, caller: CallerDep) -> dict:
    due = body.due.isoformat() if body.due else None
    tid = _run(plans.add_task, plan_id, _owner(caller), body.title, owner=body.owner, due=due)
    return {"id": tid}


@router.patch(
    "/{plan_id}/tasks/{task_id}",
    summary="Vink een taak af of wijzig haar",
    response_model=TaskAdded,
    responses=error_responses(404, 422),
)
def update_task(
    plan_id: str, task_id: str, body: TaskUpdate, plans: PlansDep, caller: CallerDep
) -> dict:
    fields = body.model_dump(exclude_none=True)
    if "due" in fields:
        fields["due"] = fields["due"].isoformat()
    _run(plans.set_task, plan_id, _owner(caller), task_id, **fields)
    return {"id": task_id}


@router.post(
    "/{plan_id}/chat",
    summary='Vertel het plan wat er is veranderd, of vraag "wat nu?"',
    response_model=ChatResult,
    responses=error_responses(404, 422),
)
def chat(plan_id: str, body: ChatRequest, plans: PlansDep, caller: CallerDep) -> dict:
    """ "wat nu?" geeft de volgende open stappen; "we hebben nu een eigenaar in de lijn" vinkt de
    taak af die erbij past."""
    return _run(plans.chat, plan_id, _owner(caller), body.text)


@router.post(
    "/{plan_id}/invitations",
    status_code=201,
    summary="Nodig uit om mee te denken (concept)",
    response_model=InvitationDraft,
    responses=error_responses(404, 422),
)
def invite(plan_id: str, body: InviteRequest, plans: PlansDep, caller: CallerDep) -> dict:
    """Een concept dat de innovatie en je vraag noemt; jij verstuurt het (mailto of kopiëren).
    Het plan onthoudt wie je uitnodigde en wanneer. Alleen mensen met toestemming."""
    return _run(plans.invite, plan_id, _owner(caller), body.person_id, body.question)


@router.post(
    "/{plan_id}/shares",
    status_code=201,
    summary="Maak een deellink",
    response_model=ShareLink,
    responses=error_responses(404),
)
def share(plan_id: str, plans: PlansDep, caller: CallerDep) -> dict:
    """Wie de link heeft, kan het plan lezen (niet wijzigen) tot je hem intrekt."""
    token = _run(plans.share, plan_id, _owner(caller))
    return {"token": token, "page": f"/plan/{plan_id}#deel={token}"}


@router.post(
    "/{plan_id}/shares/revoke",
    summary="Trek een deellink in",
    response_model=Revoked,
    responses=error_responses(404, 422),
)
def unshare(plan_id: str, body: RevokeRequest, plans: PlansDep, caller: CallerDep) -> dict:
    # The token travels in the body, never in the path: paths end up in access logs.
    return {"revoked": _run(plans.revoke, plan_id, _owner(caller), body.token)}


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/{plan_id}/export",
    summary="Exporteer een plan (md, docx of pdf)",
    response_class=Response,
    responses={
        200: {
            "description": "Het plan als bestand.",
            "content": {
                t.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for t in MEDIA_TYPES.values()
            },
        },
        **error_responses(404, 422),
    },
)
def export(
    plan_id: str,
    plans: PlansDep,
    caller: CallerDep,
    format: Annotated[Format, Query(description="md, docx of pdf")] = "docx",  # noqa: A002
) -> Response:
    """Sections, tabellen, de matrix als plaatje en genummerde bronnen. Markdown verwijst naar
    de matrix als `opschaalplan-ID-grid.png` (zie `grid.png`)."""
    view = _run(plans.view, plan_id, caller.owner, caller.token)
    name = f"opschaalplan-{plan_id}.{format}"
    with tempfile.TemporaryDirectory(prefix="opschaal-plan-") as tmp:
        target = Path(tmp) / name
        write_export(view, format, target)
        content = target.read_bytes()
    return _download(content, MEDIA_TYPES[format], name)


@router.get(
    "/{plan_id}/grid.png",
    summary="De invloed-belangmatrix als PNG",
    response_class=Response,
    responses={
        200: {
            "description": "De matrix van de stakeholders.",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        },
        **error_responses(404),
    },
)
def grid(plan_id: str, plans: PlansDep, caller: CallerDep) -> Response:
    view = _run(plans.view, plan_id, caller.owner, caller.token)
    return Response(
        grid_png(view),
        media_type="image/png",
        headers={"Content-Disposition": f'inline; filename="opschaalplan-{plan_id}-grid.png"'},
    )


def openapi_enums(components: dict, plans: PlanService) -> None:
    """Phases and obstacles come from the live index: the schema names the keys the service
    accepts, so a client (or a fuzzer) knows them."""
    try:
        phases = [p["key"] for p in plans.assistant.step_plan()]
        obstacles = sorted(plans.assistant.obstacle_keys())
    except Exception:  # no index yet: the schema then allows any key, as before
        return
    props = components.get("PlanEditRequest", {}).get("properties", {})
    if phases and "phase" in props:
        props["phase"] = {"anyOf": [{"type": "string", "enum": phases}, {"type": "null"}]}
    if obstacles and "obstacles" in props:
        props["obstacles"] = {
            "anyOf": [
                {"type": "array", "items": {"type": "string", "enum": obstacles}, "maxItems": 20},
                {"type": "null"},
            ]
        }


# -- the plan page -----------------------------------------------------------------------------
#: The page is a shell: the plan is fetched by its script with the secret or token the browser
#: holds (from the link's fragment, which never reaches the server or its logs).
page_router = APIRouter(tags=["pagina's"])
PLAN_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PLAN_CSP,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


@page_router.get("/plan/{plan_id}", response_class=HTMLResponse, include_in_schema=False)
def plan_page(plan_id: str) -> HTMLResponse:
    pid = html.escape(plan_id, quote=True)
    page = (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Opschaalplan · Opschaalwijzer</title><link rel='icon' href='data:,'>"
        "<link rel='stylesheet' href='/static/plan.css'></head>"
        f"<body class='plan' data-plan='{pid}'>"
        "<a class='skip' href='#plan'>Naar het plan</a>"
        "<header class='bar'><p class='brand'>Opschaalwijzer</p></header>"
        "<main id='plan' class='doc' tabindex='-1'><h1>Opschaalplan</h1>"
        "<p role='status'>Het plan wordt geladen…</p>"
        "<noscript><p>Deze pagina heeft JavaScript nodig.</p></noscript></main>"
        "<script src='/static/plan.js'></script></body></html>"
    )
    return HTMLResponse(page, headers=PAGE_HEADERS)
