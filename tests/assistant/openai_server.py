"""A loopback HTTP server that speaks the OpenAI chat-completions API with scripted replies.

The real ``openai`` / ``langchain-openai`` client talks to it through ``base_url``; nothing is
mocked on the client side. Reusable by channel tests that need a streaming model (web SSE,
Slack, Teams): start it with :func:`serve`, point ``OPSCHAAL_LLM_BASE_URL`` at ``.base_url``.

A script entry (:class:`Reply`) says what to send for one request: a completion text (as one
JSON body, or as SSE chunks when the client asked for ``stream: true``), an HTTP error, a raw
malformed body, or a delay longer than the client's timeout. With an empty script the server
answers with ``default``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    #: Bytes sent verbatim as the body instead of a well-formed completion.
    raw: bytes | None = None
    #: Seconds to wait before answering (interrupted when the server stops).
    delay: float = 0.0
    #: How to cut ``content`` into stream chunks; default: one chunk per word.
    chunks: list[str] | None = None
    #: Seconds between stream chunks (a slow model that is still generating).
    chunk_delay: float = 0.0
    #: ``finish_reason`` of the last chunk (``length``: the token limit was reached).
    finish: str = "stop"


@dataclass
class FakeOpenAI:
    base_url: str
    script: deque = field(default_factory=deque)
    requests: list[dict] = field(default_factory=list)
    default: Reply | Callable[[dict], Reply] = field(default_factory=lambda: Reply("Oké."))
    stopping: threading.Event = field(default_factory=threading.Event)
    #: Set when a client closed a stream before its end (the request was cancelled).
    disconnected: threading.Event = field(default_factory=threading.Event)

    def push(self, *replies: Reply | str) -> None:
        for r in replies:
            self.script.append(Reply(r) if isinstance(r, str) else r)

    def next_reply(self, body: dict) -> Reply:
        if self.script:
            return self.script.popleft()
        return self.default(body) if callable(self.default) else self.default

    @property
    def last_messages(self) -> list[dict]:
        return self.requests[-1]["messages"]


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p if i == 0 else " " + p for i, p in enumerate(parts)]


def _handler(state: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, b'{"error": {"message": "not found"}}')
                return
            body = json.loads(raw or b"{}")
            body["_headers"] = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append(body)
            reply = state.next_reply(body)
            if reply.delay and state.stopping.wait(reply.delay):
                return
            if reply.raw is not None:
                self._send(reply.status, reply.raw)
                return
            if reply.status != 200:
                err = {
                    "error": {"message": "scripted failure", "type": "server_error", "code": None}
                }
                self._send(reply.status, json.dumps(err).encode())
                return
            model = body.get("model", "fake-model")
            created = int(time.time())
            if body.get("stream"):
                self._stream_options = body.get("stream_options") or {}
                self._stream(reply, model, created)
                return
            completion = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
            self._send(200, json.dumps(completion).encode())

        def _stream(self, reply: Reply, model: str, created: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()

            def chunk(delta: dict, finish: str | None = None) -> None:
                data = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [
                        {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
                    ],
                }
                self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()

            pieces = reply.chunks if reply.chunks is not None else _words(reply.content)
            try:
                chunk({"role": "assistant", "content": ""})
                for piece in pieces:
                    if reply.chunk_delay and state.stopping.wait(reply.chunk_delay):
                        return
                    chunk({"content": piece})
                chunk({}, reply.finish)
                if (body_options := self._stream_options) and body_options.get("include_usage"):
                    usage = {"prompt_tokens": 10, "completion_tokens": len(pieces)}
                    usage["total_tokens"] = 10 + len(pieces)
                    data = {"id": "chatcmpl-fake", "object": "chat.completion.chunk"}
                    data.update(created=created, model=model, choices=[], usage=usage)
                    self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                state.disconnected.set()
            self.close_connection = True

    return Handler


@contextmanager
def serve(default: Reply | Callable[[dict], Reply] | None = None) -> Iterator[FakeOpenAI]:
    """Run the fake on 127.0.0.1 (free port) for the duration of the ``with`` block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    state = FakeOpenAI(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    if default is not None:
        state.default = default
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        server.shutdown()
        server.server_close()
