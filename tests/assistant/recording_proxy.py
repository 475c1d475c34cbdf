"""A loopback HTTP proxy in front of a real model server that keeps what went through it.

The client talks to the proxy exactly as to the server; the proxy forwards every request
unchanged and streams the response back piece by piece, keeping both. Tests read from it what
the product really sent to the model (the prompt) and what the model really sent back. When the
client closes a stream early, the proxy closes its upstream connection too, so cancellation
reaches the server as it would without the proxy.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Recording:
    base_url: str
    requests: list[dict] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)


def _handler(upstream: str, rec: Recording) -> type[BaseHTTPRequestHandler]:
    parts = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._forward(b"")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                rec.requests.append(json.loads(body or b"{}"))
            except ValueError:
                rec.requests.append({"_raw": body.decode("utf-8", "replace")})
            self._forward(body)

        def _forward(self, body: bytes) -> None:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() in ("content-type", "authorization", "accept")
            }
            received: list[bytes] = []
            try:
                conn.request(self.command, self.path, body or None, headers)
                resp = conn.getresponse()
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.getheader("Content-Type") or "text/plain")
                self.send_header("Connection", "close")
                self.end_headers()
                while piece := resp.read1(65536):
                    received.append(piece)
                    self.wfile.write(piece)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away: closing upstream below cancels the request there
            finally:
                conn.close()
                rec.responses.append(b"".join(received).decode("utf-8", "replace"))
                self.close_connection = True

    return Handler


@contextmanager
def recording_proxy(upstream_base_url: str) -> Iterator[Recording]:
    """Proxy ``upstream_base_url`` (``http://host:port/v1``) on a free loopback port."""
    base = urlsplit(upstream_base_url)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    rec = Recording(base_url=f"http://127.0.0.1:{server.server_address[1]}{base.path}")
    server.RequestHandlerClass = _handler(f"{base.scheme}://{base.netloc}", rec)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


def streamed_text(sse: str) -> str:
    """The content deltas of an OpenAI-style SSE body, joined."""
    out = []
    for line in sse.splitlines():
        if not line.startswith("data:") or line.strip() == "data: [DONE]":
            continue
        try:
            data = json.loads(line[5:])
        except ValueError:
            continue
        for choice in data.get("choices") or []:
            out.append((choice.get("delta") or {}).get("content") or "")
    return "".join(out)
