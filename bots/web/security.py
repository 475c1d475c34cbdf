"""Request limits and error shaping: body size, per-client rate limit, API keys, and a last
line of defence that turns any unexpected exception into a generic JSON 500.

All errors share one JSON shape, ``{"error": "<code>", "detail": "<one Dutch line>"}``, so the
widget and scripts can branch on ``error`` and show ``detail``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("opschaal.web")

#: Paths of the web API that the rate limit guards. Slack and Teams endpoints are left out on
#: purpose: their traffic comes from a few vendor addresses and is authenticated by signature.
CHANNEL_WEBHOOKS = ("/slack/events", "/api/messages")
CHANNEL_MAX_BODY = 1_000_000
#: Everything public that does work per request is limited: the API, the source pages and the
#: curator page (whose key must not be guessable at full speed). The widget script, static files
#: and the demo page are files; health and metrics are for monitoring.
RATE_LIMITED_PREFIXES = ("/api/", "/bronnen/", "/curator")
#: The curator routes check their own keys (``OPSCHAAL_CURATOR_KEYS``), not the API keys.
OWN_KEYS = ("/curator",)
INVALID_KEY = (
    "de API-sleutel is onbekend; controleer de sleutel in Authorization: Bearer of X-API-Key"
)


def is_rate_limited(path: str) -> bool:
    return path.startswith(RATE_LIMITED_PREFIXES) and not path.startswith(CHANNEL_WEBHOOKS)


class ApiError(Exception):
    """An error with a status, a stable code and a one-line message for the user."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


async def api_error_response(request, exc: ApiError):
    """The exception handler for :class:`ApiError`: the one JSON error shape."""
    from fastapi.responses import JSONResponse

    return JSONResponse(
        {"error": exc.code, "detail": exc.detail}, status_code=exc.status, headers=exc.headers
    )


def error_body(code: str, detail: str, **extra) -> bytes:
    return json.dumps({"error": code, "detail": detail, **extra}, ensure_ascii=False).encode()


async def send_json_error(
    send: Send, status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = error_body(code, detail)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


# -- API keys ------------------------------------------------------------------------------------
def presented_key(headers: dict[str, str]) -> str | None:
    """The key a request carries in ``Authorization: Bearer …`` or ``X-API-Key``, if any."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    key = headers.get("x-api-key", "").strip()
    return key or None


def key_is_valid(key: str, keys: Iterable) -> bool:
    ok = False
    for k in keys:
        secret = k.get_secret_value() if hasattr(k, "get_secret_value") else str(k)
        # Compare against every key (no early exit) so timing says nothing about which matched.
        ok |= hmac.compare_digest(key.encode(), secret.encode())
    return ok


# -- rate limit ----------------------------------------------------------------------------------
class RateLimiter:
    """Token bucket per client: ``per_minute`` requests, refilled evenly, bursts up to the same.

    In memory and per process, for ``opschaal serve`` with one worker; several workers share
    a :class:`SharedRateLimiter` instead.
    """

    def __init__(self, per_minute: int, max_clients: int = 50_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str) -> float:
        """Take one token; returns 0 when allowed, else the seconds until the next token."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > self.max_clients:
                self._evict(now)
            return (1.0 - tokens) / self.rate

    def _evict(self, now: float) -> None:
        # A bucket that has refilled completely carries no information: drop those.
        full = [
            c
            for c, (t, last) in self._buckets.items()
            if t + (now - last) * self.rate >= self.capacity
        ]
        for c in full:
            del self._buckets[c]


class SharedRateLimiter:
    """The same token bucket, kept in a database so that every process draws from one bucket
    per client: the workers of one ``opschaal serve`` through a small SQLite file in the data
    folder, several instances behind one proxy through their shared PostgreSQL. With N
    processes a client still gets ``per_minute`` requests, not N times as many, whichever
    process the kernel or the proxy hands it to.

    One short transaction per request takes the token atomically (``storage.BucketStore``). It
    runs on the event loop, so the wait for the database is capped at 2 s, and any database
    error lets the request through (fail open). The buckets are safe to lose.

    A bucket row holds the client's IP address, which is personal data (AVG). A row is only
    needed until its bucket has refilled, so full buckets are deleted at least once a minute:
    an address stays stored for about a minute after its last request, never longer.
    """

    #: Seconds between sweeps of refilled buckets.
    SWEEP_SECONDS = 60.0

    def __init__(self, per_minute: int, target: Path | str) -> None:
        from storage import BucketStore

        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._swept = 0.0
        is_url = "://" in str(target)
        #: The SQLite file, or None when the buckets live on a database server.
        self.path = None if is_url else Path(target)
        self._lock = threading.Lock()
        self.buckets = BucketStore(target, self.capacity, self.rate)

    def hit(self, client: str) -> float:
        """Take one token; returns 0 when allowed, else the seconds until the next token."""
        from storage.errors import StorageError

        # Wall-clock time, because processes and restarts share the buckets; a clock step back
        # counts as no time passed.
        now = time.time()
        try:
            return self._hit(client, now)
        except StorageError as exc:
            # Fail open: a broken limiter database must not take the service down with it.
            log.warning("rate limit niet bij te houden (%s); verzoek doorgelaten", exc)
            return 0.0

    def _hit(self, client: str, now: float) -> float:
        with self._lock:
            wait = self.buckets.take(client, now)
            if now - self._swept >= self.SWEEP_SECONDS:
                self.buckets.sweep(now)
                self._swept = now
        return wait


def make_rate_limiter(settings) -> RateLimiter | SharedRateLimiter | None:
    """None when the limit is off; buckets in the shared database server when there is one (so
    instances behind one proxy share them); a bucket file in the data folder when one server
    runs several workers; else the in-memory one."""
    from storage import database_url
    from storage.engine import is_sqlite

    per_minute = settings.rate_limit_per_minute
    if per_minute <= 0:
        return None
    url = database_url(settings)
    if not is_sqlite(url):
        return SharedRateLimiter(per_minute, url)
    if settings.workers > 1:
        return SharedRateLimiter(per_minute, Path(settings.data_dir) / "ratelimit.sqlite3")
    return RateLimiter(per_minute)


class BodyTooLarge(HTTPException):
    """Raised while reading a body past the limit. An HTTPException so FastAPI's body parser
    passes it on as-is instead of turning it into a 400."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class GuardMiddleware:
    """Body-size limit, API keys, rate limit and the generic 500, as one plain ASGI middleware
    (plain ASGI so streaming responses are not buffered).

    The bucket is keyed on a *verified* key, else on the client address: a client that sends
    a fresh made-up key on every request gets a 401 each time, from its address's bucket."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        rate_limiter: RateLimiter | SharedRateLimiter | None,
        metrics=None,
        api_keys: Iterable = (),
    ) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.limiter = rate_limiter
        self.metrics = metrics
        self.api_keys = list(api_keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        path = scope.get("path", "")
        # Slack's button payloads carry the whole message the button sits on (up to 50 blocks of
        # 3000 characters), and Teams activities carry cards: their webhooks get a larger cap.
        max_body = CHANNEL_MAX_BODY if path.startswith(CHANNEL_WEBHOOKS) else self.max_body
        too_large = f"het verzoek is te groot (maximaal {max_body} bytes); stuur een kortere vraag"
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            await send_json_error(send, 413, "body_too_large", too_large)
            return

        guarded = scope.get("method") != "OPTIONS" and is_rate_limited(path)
        key = presented_key(headers) if guarded and not path.startswith(OWN_KEYS) else None
        verified = key is not None and key_is_valid(key, self.api_keys)
        if guarded and self.limiter is not None:
            # A stable digest, not hash(): str hashes differ per process, and workers must agree
            # on the bucket. The key itself is never stored.
            client = (
                f"key:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
                if verified
                else f"ip:{(scope.get('client') or ('?',))[0]}"
            )
            wait = self.limiter.hit(client)
            if wait > 0:
                if self.metrics is not None:
                    self.metrics.rate_limited.inc()
                retry = str(max(1, math.ceil(wait)))
                await send_json_error(
                    send,
                    429,
                    "rate_limited",
                    f"te veel vragen achter elkaar; probeer het over {retry} seconden opnieuw",
                    {"Retry-After": retry},
                )
                return
        if key is not None and not verified:
            # Refused on every route, also those that would not need a key: a wrong key is a
            # mistake to report, never a reason to answer as if it were absent.
            await send_json_error(
                send, 401, "invalid_key", INVALID_KEY, {"WWW-Authenticate": "Bearer"}
            )
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise BodyTooLarge()
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await send_json_error(send, 413, "body_too_large", too_large)
        except Exception:
            # The traceback goes to the server log, never to the client.
            log.exception("onverwachte fout bij %s %s", scope.get("method"), path)
            if not started:
                await send_json_error(
                    send,
                    500,
                    "internal_error",
                    "er ging iets mis aan onze kant; probeer het later opnieuw of meld het bij de beheerder",
                )


# -- response headers ----------------------------------------------------------------------------
class SecurityHeadersMiddleware:
    """``X-Content-Type-Options: nosniff`` on every response (JSON, SSE, errors), and
    ``Cache-Control: no-store`` on the API: answers carry people's contact details and must not
    sit in a shared or browser cache. Headers a route set itself win."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope.get("path", "").startswith("/api/")

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(b"x-content-type-options", b"nosniff")]
                if api:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        await self.app(scope, receive, add_headers)


class RefusedOriginLog:
    """Logs a cross-origin request whose origin CORS refuses, once per origin: the browser
    only tells the page's user, so the administrator would otherwise never learn that a site
    embeds the widget without being in ``OPSCHAAL_ALLOWED_ORIGINS``."""

    MAX_REMEMBERED = 1000

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.allowed = {o.rstrip("/") for o in allowed_origins}
        self.logged: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "*" not in self.allowed:
            self._check(scope)
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> None:
        origin = host = None
        for k, v in scope.get("headers", []):
            if k == b"origin":
                origin = v.decode("latin-1")
            elif k == b"host":
                host = v.decode("latin-1")
        if not origin or origin in self.allowed or origin in self.logged:
            return
        # Browsers send Origin on same-origin POSTs too; those need no CORS.
        if origin.split("://", 1)[-1] == host:
            return
        if len(self.logged) < self.MAX_REMEMBERED:
            self.logged.add(origin)
            log.warning(
                "CORS: verzoek van %s geweigerd; zet die origin in OPSCHAAL_ALLOWED_ORIGINS als "
                "deze site Opschaalwijzer mag gebruiken",
                origin[:200],
            )
