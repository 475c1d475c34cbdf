"""The app factory: one FastAPI app for the web API, the widget, and the Slack and Teams
endpoints that mount into it."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import time
from collections.abc import Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.config import Settings, get_settings
from assistant.service import Assistant
from plans.service import PlanService
from storage import PlanStore, Stores

from .cache import AnswerCache

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings
from .metrics import Metrics
from .routers import ask, conversations, feedback, health, intro, pages
from .routers import plans as plan_api
from .routers.pages import STATIC
from .schemas import ERROR_TEXT, ErrorBody, FieldError, ValidationErrorBody
from .security import (
    ApiError,
    GuardMiddleware,
    RefusedOriginLog,
    SecurityHeadersMiddleware,
    api_error_response,
    is_rate_limited,
    make_rate_limiter,
)

log = logging.getLogger("opschaal.web")


#: Channels that mount their own routes into this app when their package exists.
CHANNEL_MODULES = ("bots.slack", "bots.teams", "bots.sharing")

STATUS_CODES = {
    400: ("bad_request", "het verzoek is ongeldig"),
    401: ("unauthorized", "je bent niet aangemeld; stuur een geldige API-sleutel mee"),
    403: ("forbidden", "dit mag je niet opvragen"),
    404: ("not_found", "deze pagina of dit adres bestaat niet"),
    405: ("method_not_allowed", "deze methode is hier niet toegestaan"),
    413: ("body_too_large", "het verzoek is te groot; stuur een kortere vraag"),
    415: ("unsupported_media_type", "stuur JSON (Content-Type: application/json)"),
}
#: FastAPI's own English details, replaced by the Dutch line of their status.
FRAMEWORK_DETAILS = {"There was an error parsing the body"}
NOT_JSON = "de body is geen geldige JSON in UTF-8; zie /docs voor het formaat"
#: A blank text field gets the code the routes give it after stripping.
BLANK_CODES = {"question": "question_empty", "comment": "comment_empty"}
BLANK_DETAILS = {
    "question": "de vraag is leeg; typ een vraag over opschalen",
    "comment": "de toelichting is leeg; typ wat je miste",
}


class MetricsMiddleware:
    """Counts requests and their duration per route template (never the raw path, which would
    put ids into label values)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def capture(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or (
                "/static" if scope.get("path", "").startswith("/static/") else "other"
            )
            self.metrics.requests.labels(scope.get("method", "?"), label, str(status)).inc()
            self.metrics.latency.labels(label).observe(time.perf_counter() - start)


def _validation_detail(exc: RequestValidationError) -> tuple[str, str, list[dict]]:
    """The error code, one Dutch line and the fields of a 422."""
    fields = []
    code = "invalid_request"
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        kind = err.get("type", "")
        if kind == "missing":
            msg = "ontbreekt"
        elif kind == "extra_forbidden":
            msg = "is onbekend"
        elif kind == "json_invalid":
            loc, msg = "body", "is geen geldige JSON"
        elif kind == "invalid_text":
            path = (err.get("ctx") or {}).get("path")
            loc = ".".join(p for p in (loc, path) if p)
            msg = err.get("msg", "is geen geldige UTF-8-tekst")
            code = "invalid_text"
        elif kind in ("string_too_short", "string_pattern_mismatch") and loc in BLANK_CODES:
            code = BLANK_CODES[loc] if code == "invalid_request" else code
            msg = "is leeg"
        else:
            msg = err.get("msg", "is ongeldig")
        # Never echo the input back: it may be large, or be the thing an attacker injected.
        fields.append({"field": loc or "body", "message": msg})
    first = fields[0] if fields else {"field": "body", "message": "is ongeldig"}
    if code in BLANK_CODES.values() and len(fields) == 1:
        return code, BLANK_DETAILS[first["field"]], fields
    if code == "invalid_text":
        detail = f"veld '{first['field']}' {first['message']}; stuur gewone tekst"
    else:
        detail = f"veld '{first['field']}' {first['message']}; zie /docs voor het formaat"
    return code, detail, fields


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path. Starlette names only the first route that
    matches the path, which is wrong where a path has a GET route and a PATCH route."""
    from starlette.routing import Match

    allowed = [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def _phrase(status: int) -> str:
    import http

    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _mount_channels(
    app: FastAPI,
    assistant: Assistant,
    stores: Stores,
    settings: Settings,
    channels: Mapping[str, BaseSettings] | None = None,
) -> None:
    for name in CHANNEL_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            continue
        module = importlib.import_module(name)
        mount = getattr(module, "mount", None)
        if mount is None:
            log.warning("%s heeft geen mount(app, assistant, stores, settings); overgeslagen", name)
            continue
        # A channel's own settings (``channels["slack"]``…); each reads its own from the
        # environment when none is given.
        own = (channels or {}).get(name.rsplit(".", 1)[-1])
        mount(app, assistant, stores, settings, own)


#: ``app.state.warm_status``: loading the index in the background after start-up (/readyz).
WarmStatus = Literal["not_started", "warming", "ready", "failed"]


def _start_warming(app: FastAPI) -> None:
    state = app.state
    if state.warm_status in ("warming", "ready"):
        return
    state.warm_status = "warming"

    def run() -> None:
        try:
            state.assistant.warm()
        except Exception as exc:  # the server keeps serving /healthz; /readyz says why not ready
            state.warm_status = "failed"
            log.error("de kennisbank kon niet laden: %s", exc)
        else:
            state.warm_status = "ready"
            # Set here, not only on a scrape: with several workers the scrape reaches one of them.
            state.metrics.ready.set(1)

    threading.Thread(target=run, name="opschaal-warm", daemon=True).start()


def create_app(
    settings: Settings | None = None,
    assistant: Assistant | None = None,
    stores: Stores | None = None,
    channels: Mapping[str, BaseSettings] | None = None,
) -> FastAPI:
    """Build the app. Anything not given is made from ``settings`` (default: the environment);
    ``channels`` maps a channel (``slack``, ``teams``, ``sharing``) to its own settings."""
    settings = settings or (assistant.settings if assistant is not None else get_settings())
    assistant = assistant or Assistant(settings)
    stores = stores or Stores.from_settings(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Warm in the background: the port opens at once, /readyz flips when the model is loaded.
        _start_warming(app)
        yield

    app = FastAPI(
        title="Opschaalwijzer",
        summary="Antwoorden met bronnen, mensen en een stappenplan voor het opschalen van digitale innovaties.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.stores = stores
    app.state.metrics = metrics
    metrics.follow_llm(lambda: health.llm_status(assistant))
    app.state.answer_cache = AnswerCache(settings.answer_cache_seconds)
    app.state.plans = PlanService(assistant, PlanStore(stores))
    app.state.warm_status = "not_started"
    app.state.start_warming = lambda: _start_warming(app)

    app.add_exception_handler(ApiError, api_error_response)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, default = STATUS_CODES.get(
            exc.status_code, ("error", "het verzoek kon niet worden verwerkt")
        )
        if exc.status_code == 413:
            default = f"het verzoek is te groot (maximaal {settings.max_body_bytes} bytes); stuur een kortere vraag"
        # Starlette's own details are English status phrases; users get the Dutch line. Routes
        # that raise with their own (Dutch, user-facing) detail keep it.
        if exc.status_code == 400:
            default = NOT_JSON
        detail = (
            exc.detail
            if isinstance(exc.detail, str)
            and exc.detail != _phrase(exc.status_code)
            and exc.detail not in FRAMEWORK_DETAILS
            else default
        )
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return JSONResponse(
            {"error": code, "detail": detail}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, detail, fields = _validation_detail(exc)
        return JSONResponse({"error": code, "detail": detail, "fields": fields}, status_code=422)

    for module in (ask, conversations, feedback, intro, health, pages, plan_api):
        app.include_router(module.router)
    app.include_router(plan_api.intake_router)
    app.include_router(plan_api.page_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    limiter = make_rate_limiter(settings)
    # Added inner to outer: the guard turns errors into JSON, metrics counts what it answered,
    # the headers go on everything, CORS wraps all that so even a 413/429/500 reaches a
    # cross-origin widget readably, and the proxy headers are read before anyone looks at the
    # client address.
    app.add_middleware(
        GuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        rate_limiter=limiter,
        metrics=metrics,
        api_keys=settings.api_keys,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)
    origins = [o.rstrip("/") for o in settings.allowed_origins]
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "PATCH", "OPTIONS"],
        allow_headers=[
            "Content-Type",
            "Authorization",
            "X-API-Key",
            plan_api.OWNER_HEADER,
            plan_api.TOKEN_HEADER,
        ],
        expose_headers=["Retry-After", "Content-Disposition"],
        max_age=600,
    )
    app.add_middleware(RefusedOriginLog, allowed_origins=origins)
    if settings.trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))

    _mount_channels(app, assistant, stores, settings, channels)
    app.openapi = lambda: _openapi(app, settings)
    return app


def _add_links(schema: dict) -> None:
    """A comment belongs to feedback *and* its answer: the link says to send both, as the
    widget does (a mismatched answer id is answered like an unknown feedback id)."""
    paths = schema.get("paths", {})
    comment = paths.get("/api/feedback/{feedback_id}/comment", {}).get("post")
    created = paths.get("/api/feedback", {}).get("post", {}).get("responses", {}).get("201")
    if comment is None or created is None:
        return
    created["links"] = {
        "AddComment": {
            "operationId": comment["operationId"],
            "parameters": {"feedback_id": "$response.body#/feedback_id"},
            "requestBody": {"answer_id": "$request.body#/answer_id"},
        }
    }


def _openapi(app: FastAPI, settings: Settings) -> dict:
    """FastAPI's schema, made true to what the server sends: the one error shape for 422, the
    errors the middleware answers on every route it guards, and the question length limit."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, FieldError, ValidationErrorBody):
        js = model.model_json_schema(ref_template="#/components/schemas/{model}")
        js.pop("$defs", None)
        components[model.__name__] = js
    # FastAPI's own 422 shape is never sent: the validation handler answers ValidationErrorBody.
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    # Channels add schemas of bodies they parse themselves (a contribution, for one).
    for name, build in getattr(app.state, "openapi_components", {}).items():
        components[name] = build()
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}

    def error(code: int) -> dict:
        ref = {"$ref": "#/components/schemas/ValidationErrorBody"} if code == 422 else error_ref
        return {"description": ERROR_TEXT[code], "content": {"application/json": {"schema": ref}}}

    for path, operations in schema.get("paths", {}).items():
        for op in operations.values():
            responses = op.setdefault("responses", {})
            for status, resp in responses.items():
                if status == "422":
                    responses[status] = error(422)
                elif "$ref" in str(resp) and "HTTPValidationError" in str(resp):
                    responses[status] = error(int(status))
            if "requestBody" in op:
                responses.setdefault("400", error(400))
                responses.setdefault("413", error(413))
                responses.setdefault("422", error(422))
            if is_rate_limited(path):
                responses.setdefault("429", error(429))
                if not path.startswith("/curator"):
                    responses.setdefault("401", error(401))
    _add_links(schema)
    plan_api.openapi_enums(components, app.state.plans)
    for name in ("AskRequest", "MessageRequest", "IntroRequest"):
        question = components.get(name, {}).get("properties", {}).get("question")
        if question is not None:
            question["maxLength"] = settings.max_question_chars
    app.openapi_schema = schema
    return schema


def create_app_from_env() -> FastAPI:
    """App factory for uvicorn's worker processes (``opschaal serve --workers N``): settings
    come from the environment that ``opschaal serve`` prepared."""
    return create_app(Settings())
