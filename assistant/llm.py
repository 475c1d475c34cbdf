"""Generative answers through any LangChain chat model, with the extractive answerer behind it.

``OPSCHAAL_LLM`` names the model as ``provider:model`` (``openai:gpt-4o-mini``,
``azure_openai:<deployment>``, ``ollama:<model>``); LangChain's ``init_chat_model`` builds it.
``OPSCHAAL_LLM_BASE_URL`` points it at any endpoint that speaks the provider's API (vLLM, a
gateway, an Azure resource, an Ollama host, llama.cpp's server), ``OPSCHAAL_LLM_API_KEY``
authenticates.

Generation is bounded three ways: ``OPSCHAAL_LLM_MAX_TOKENS`` per answer, stop sequences where
the provider takes them (the prompt's own tags: a model that starts writing ``<bron`` is
copying the prompt), and ``OPSCHAAL_LLM_TIMEOUT`` for the whole answer, every token of the
stream counted. Every call streams, also :meth:`LLMAnswerer.answer`: on the deadline, or when
the client that asked goes away, the stream is closed, and a server that notices a closed
connection (llama.cpp, vLLM, Ollama) stops generating instead of running on for nobody.

The model writes from numbered sources (assistant/prompts.py); its text is checked
(assistant/validation.py) and shown only when it passes. A timeout, an error, a malformed
response or a failed check all lead to the extractive answer, so the user always gets one;
``Draft.answerer`` says which answerer produced it and ``Draft.extra`` why it fell back. A
circuit breaker (assistant/breaker.py) skips the model for a while when the endpoint is down.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .answering import Answerer, Draft, Evidence, ExtractiveAnswerer, abstention_text, citation_for
from .breaker import CircuitBreaker
from .config import NO_LLM, Settings
from .models import Turn
from .prompts import TAGS, answer_messages, condense_messages, paragraph_messages
from .text import Analyzer
from .validation import SupportChecker, check_answer, check_paragraph

log = logging.getLogger(__name__)

#: Azure OpenAI needs an API version; this GA one is used unless OPENAI_API_VERSION is set.
AZURE_API_VERSION = "2024-10-21"
#: Follow-up condensation is a small call; it should not hold up an answer for long.
CONDENSE_TIMEOUT_S = 10.0
#: A standalone question is one line; this bounds a model that does not stop after it.
CONDENSE_MAX_TOKENS = 64
#: How often a waiting stream looks whether its client went away.
CANCEL_POLL_S = 0.2
#: Generation records kept for the eval report (tokens per second, time to first token).
MAX_RECORDS = 2000
#: Failures that say the endpoint is down, and so count towards opening the breaker.
ENDPOINT_DOWN = ("timeout", "connection_error")

_THINK = re.compile(r"<think>.*?</think>\s*", re.S)


class LLMUnavailable(RuntimeError):
    """The configured model cannot be built; ``str()`` is one line saying what to do."""


def is_configured(settings: Settings) -> bool:
    return (settings.llm or "none").strip().lower() not in NO_LLM


def parse_spec(spec: str) -> tuple[str | None, str]:
    """``"azure_openai:my-deploy"`` → ``("azure_openai", "my-deploy")``; no prefix → ``(None, spec)``."""
    spec = spec.strip()
    provider, sep, model = spec.partition(":")
    if not sep or not model:
        return None, spec
    return provider.strip().lower(), model.strip()


def _takes_temperature(model: str) -> bool:
    # Reasoning models (o1/o3/o4, gpt-5) reject a temperature other than the default.
    return not re.match(r"^(o\d|gpt-5)", model.lower())


def _self_hosted(base_url: str | None) -> bool:
    """An OpenAI-compatible server of one's own (vLLM, llama.cpp, Ollama, LiteLLM…), not
    OpenAI or Azure themselves."""
    host = re.sub(r"^[a-z]+://", "", (base_url or "").lower()).split("/")[0]
    return bool(host) and not host.endswith(("openai.com", "openai.azure.com", "azure.com"))


def stop_sequences(provider: str | None, model: str, language: str) -> list[str] | None:
    """Stops for an answer, where the provider takes them: the prompt's own data tags. An answer
    never contains them; a model that starts writing one is copying the prompt back. Four at
    most (the OpenAI API's limit); reasoning models reject ``stop`` altogether."""
    if provider not in ("openai", "azure_openai", "ollama"):
        return None
    if provider != "ollama" and not _takes_temperature(model):
        return None
    _, item, question, *_ = TAGS["en" if language == "en" else "nl"]
    return [f"<{item}", f"</{item}", f"<{question}", f"</{question}"]


def make_chat_model(
    settings: Settings,
    *,
    timeout: float | None = None,
    max_retries: int | None = None,
    max_tokens: int | None = None,
) -> Any:
    """A LangChain chat model for ``settings.llm``. Raises :class:`LLMUnavailable`.

    ``timeout`` bounds each HTTP read here; the whole answer is bounded by the caller
    (:func:`generate`)."""
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise LLMUnavailable(
            "de LLM-koppeling is niet geïnstalleerd; installeer met: pip install 'opschaalwijzer[llm]' "
            "(of zet OPSCHAAL_LLM=none)"
        ) from exc
    provider, model = parse_spec(settings.llm)
    timeout = settings.llm_timeout if timeout is None else timeout
    retries = settings.llm_max_retries if max_retries is None else max_retries
    limit = settings.llm_max_tokens if max_tokens is None else max_tokens
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    base_url = settings.llm_base_url or None
    kwargs: dict[str, Any] = {}
    if provider == "ollama":
        client: dict[str, Any] = {"timeout": timeout}
        if key:  # an Ollama host behind an authenticating proxy
            client["headers"] = {"Authorization": f"Bearer {key}"}
        kwargs.update(client_kwargs=client, temperature=0, num_predict=limit)
        if base_url:
            kwargs["base_url"] = base_url
    else:
        # Token counts in the stream's last chunk, for the tokens-per-second figure.
        kwargs.update(timeout=timeout, max_retries=retries, max_tokens=limit, stream_usage=True)
        if _takes_temperature(model):
            kwargs["temperature"] = 0
        if provider == "openai" and _self_hosted(base_url):
            # langchain-openai sends the limit as ``max_completion_tokens``; llama.cpp's and
            # older OpenAI-compatible servers only read ``max_tokens`` and would run unbounded.
            kwargs["extra_body"] = {"max_tokens": limit}
        if provider == "azure_openai":
            kwargs["api_version"] = os.environ.get("OPENAI_API_VERSION") or AZURE_API_VERSION
            if base_url and "/openai/deployments/" in base_url:
                kwargs["base_url"] = base_url  # a full deployment URL, as some portals show it
            else:
                kwargs["azure_deployment"] = model
                if base_url:
                    kwargs["azure_endpoint"] = base_url
            if key:
                kwargs["api_key"] = key
        else:
            if base_url:
                kwargs["base_url"] = base_url
            if key:
                kwargs["api_key"] = key
            elif base_url and not os.environ.get("OPENAI_API_KEY"):
                # Self-hosted OpenAI-compatible servers (vLLM, llama.cpp) often want no key, but
                # the client refuses to start without one.
                kwargs["api_key"] = "not-needed"
    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise LLMUnavailable(
            f"de koppeling voor '{provider}' is niet geïnstalleerd; installeer met: "
            "pip install 'opschaalwijzer[llm]'"
        ) from exc
    except Exception as exc:  # invalid provider, missing endpoint or key…
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if key:  # validation errors may echo their input
            first = first.replace(key, "***")
        raise LLMUnavailable(
            f"OPSCHAAL_LLM={settings.llm!r} kan niet worden gestart ({first}); controleer "
            "OPSCHAAL_LLM, OPSCHAAL_LLM_BASE_URL en OPSCHAAL_LLM_API_KEY, zie docs/llm.md"
        ) from exc


class Cancelled(Exception):
    """The client that asked went away; the model request was closed."""


class DeadlineExceeded(TimeoutError):
    """The whole answer took longer than ``OPSCHAAL_LLM_TIMEOUT``."""

    def __init__(self, seconds: float, tokens: int) -> None:
        super().__init__(f"antwoord langer dan {seconds:g} s ({tokens} stukken ontvangen)")
        #: Pieces received before the deadline: more than none means the endpoint was up and
        #: generating, only slow, which says nothing about it being down.
        self.tokens = tokens


class BadStream(ValueError):
    """The stream ended without text and without saying why (no ``finish_reason``)."""


def classify(exc: BaseException) -> str:
    """A short, stable name for why a model call failed (for ``fallback_reason``)."""
    if isinstance(exc, Cancelled):
        return "cancelled"
    names = [c.__name__ for c in type(exc).__mro__]
    if isinstance(exc, TimeoutError) or any("Timeout" in n for n in names):
        return "timeout"
    if any(
        n in ("APIConnectionError", "ConnectError", "ConnectionError", "RemoteProtocolError")
        for n in names
    ):
        return "connection_error"
    status = getattr(exc, "status_code", None) or getattr(
        getattr(exc, "response", None), "status_code", None
    )
    if isinstance(status, int) and status >= 400:
        return "http_error"
    if isinstance(exc, ValueError | TypeError | KeyError | AttributeError | IndexError):
        return "bad_response"  # json.JSONDecodeError is a ValueError
    return "error"


def _text_of(message: Any) -> str:
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return str(text)
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    return "".join(
        b.get("text", "") if isinstance(b, dict) else str(b)
        for b in content or []
        if not isinstance(b, dict) or b.get("type") in (None, "text")
    )


def visible(text: str) -> str:
    """What the user may see of a model's text: reasoning blocks (``<think>``) removed."""
    text = _THINK.sub("", text)
    start = text.find("<think>")
    return text[:start] if start >= 0 else text


@dataclass
class Generation:
    """What one model call produced, and how fast."""

    purpose: str = "answer"
    text: str = ""
    #: ``stop``, ``length`` (hit the token limit), or ``None`` when the stream broke off.
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    #: From the server's usage figures when it sends them, else the number of text pieces
    #: streamed (llama.cpp and vLLM stream one token per piece).
    completion_tokens: int | None = None
    pieces: int = 0
    first_token_s: float | None = None
    seconds: float = 0.0
    outcome: str = "ok"

    @property
    def tokens(self) -> int:
        return self.completion_tokens if self.completion_tokens is not None else self.pieces

    @property
    def tokens_per_s(self) -> float | None:
        """Generation speed after the first token (prompt processing excluded)."""
        if self.first_token_s is None or self.tokens < 2:
            return None
        span = self.seconds - self.first_token_s
        return round((self.tokens - 1) / span, 2) if span > 0 else None

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("text")
        out["tokens"] = self.tokens
        out["tokens_per_s"] = self.tokens_per_s
        return out


def _finish_of(chunk: Any) -> str | None:
    meta = getattr(chunk, "response_metadata", None) or {}
    return meta.get("finish_reason") or meta.get("done_reason")


def _pump(model: Any, messages: Any, kwargs: dict, out: queue.Queue, quit: threading.Event) -> None:
    """Read the model's stream in its own thread, so the caller can keep time without waiting
    on a read. When the caller stops listening, the next piece ends the loop and closing the
    generator closes the HTTP response: the server sees the connection go."""
    stream = model.stream(messages, **kwargs)
    try:
        for chunk in stream:
            if quit.is_set():
                break
            out.put(("chunk", chunk))
        else:
            out.put(("end", None))
    except BaseException as exc:  # handed to the caller's thread
        out.put(("error", exc))
    finally:
        stream.close()


def generate(
    model: Any,
    messages: Any,
    *,
    timeout: float,
    cancel: threading.Event | None = None,
    stop: list[str] | None = None,
    record: Generation | None = None,
) -> Iterator[str]:
    """Yield the model's text as it streams, within ``timeout`` seconds for the whole answer.

    Raises :class:`DeadlineExceeded` when time is up and :class:`Cancelled` when ``cancel``
    is set (the client left); in both cases the model request is closed. ``record`` receives
    the text, finish reason, token counts and timings.
    """
    gen = record if record is not None else Generation()
    out: queue.Queue = queue.Queue()
    quit = threading.Event()
    kwargs = {"stop": stop} if stop else {}
    start = time.monotonic()
    deadline = start + timeout
    threading.Thread(
        target=_pump, args=(model, messages, kwargs, out, quit), name="opschaal-llm", daemon=True
    ).start()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled("de vrager is weg")
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded(timeout, gen.pieces)
            try:
                kind, item = out.get(timeout=min(left, CANCEL_POLL_S) if cancel else left)
            except queue.Empty:
                continue
            if kind == "end":
                break
            if kind == "error":
                raise item
            finish = _finish_of(item)
            if finish:
                gen.finish_reason = str(finish)
            usage = getattr(item, "usage_metadata", None)
            if usage:
                gen.prompt_tokens = usage.get("input_tokens", gen.prompt_tokens)
                gen.completion_tokens = usage.get("output_tokens", gen.completion_tokens)
            piece = _text_of(item)
            if piece:
                if gen.first_token_s is None:
                    gen.first_token_s = round(time.monotonic() - start, 3)
                gen.pieces += 1
                gen.text += piece
                yield piece
        if not gen.text and gen.finish_reason is None:
            raise BadStream("de stroom eindigde zonder tekst en zonder finish_reason")
    finally:
        quit.set()
        gen.seconds = round(time.monotonic() - start, 3)


_SENTENCE_END = re.compile(r"[.!?…](?:\s*\[\d+\])*(?=\s|$)")


def complete_sentences(text: str) -> str:
    """``text`` up to its last complete sentence: what is left of an answer cut off at the
    token limit. Unchanged when it has no sentence end at all."""
    ends = list(_SENTENCE_END.finditer(text))
    return text[: ends[-1].end()].rstrip() if ends else text


Redact = Callable[[str, str], str | None]


class LLMAnswerer:
    """Answers with a chat model; falls back to ``fallback`` whenever that is the safer answer."""

    writes_paragraphs = True

    def __init__(
        self,
        settings: Settings,
        fallback: Answerer | None = None,
        *,
        redact: Redact | None = None,
        embedder: Any = None,
        chat_model: Any = None,
    ) -> None:
        self.settings = settings
        self.spec = settings.llm.strip()
        self.name = f"llm:{self.spec}"
        self.provider, self.model_name = parse_spec(self.spec)
        self.fallback = fallback or ExtractiveAnswerer()
        self.redact = redact
        self.embedder = embedder
        self.timeout = float(settings.llm_timeout)
        self.breaker = CircuitBreaker(
            self.spec,
            trip_after=settings.llm_breaker_after,
            cooldown_s=settings.llm_breaker_cooldown,
        )
        #: The last model calls, for the eval report (no text: it may hold personal data).
        self.records: deque[Generation] = deque(maxlen=MAX_RECORDS)
        #: All calls ever recorded, also those dropped from ``records``.
        self.record_count = 0
        self._model = chat_model
        self._injected = chat_model
        self._condenser: Any = None
        self._broken: str | None = None
        self._lock = threading.Lock()

    # -- model lifecycle ---------------------------------------------------------------------
    def _get_model(self, condense: bool = False) -> Any:
        with self._lock:
            if self._broken:
                raise LLMUnavailable(self._broken)
            try:
                if condense:
                    if self._condenser is None:
                        self._condenser = self._injected or make_chat_model(
                            self.settings,
                            timeout=min(self.timeout, CONDENSE_TIMEOUT_S),
                            max_retries=0,
                            max_tokens=CONDENSE_MAX_TOKENS,
                        )
                    return self._condenser
                if self._model is None:
                    self._model = make_chat_model(self.settings)
                return self._model
            except LLMUnavailable as exc:
                # Configuration does not heal by retrying; say it once, then answer extractively.
                self._broken = str(exc)
                log.warning(
                    "taalmodel niet beschikbaar, antwoorden komen van de extractieve beantwoorder: %s",
                    exc,
                )
                raise

    def status(self) -> dict:
        """For /readyz and /metrics: the model, the breaker's state, and whether it is usable."""
        out = self.breaker.status()
        out["model"] = self.spec
        out["degraded"] = bool(self._broken) or out["state"] != "closed"
        if self._broken:
            out["state"] = "unavailable"
            out["reason"] = "configuration"
        return out

    def _failed(self, exc: BaseException) -> str:
        reason = classify(exc)
        # Only the error type and status: messages may echo request details.
        log.warning(
            "taalmodel %s faalde (%s: %s); extractief antwoord gegeven",
            self.name,
            reason,
            type(exc).__name__,
        )
        # A deadline hit while tokens were arriving is a slow answer from a live endpoint:
        # it must not switch the model off for everyone.
        down = reason in ENDPOINT_DOWN and not (
            isinstance(exc, DeadlineExceeded) and exc.tokens > 0
        )
        self.breaker.failure(reason, counts=down)
        return reason

    @property
    def analyzer(self) -> Analyzer:
        return getattr(self.fallback, "analyzer", None) or Analyzer()

    def _redact(self, text: str, language: str) -> str:
        return (self.redact(text, language) if self.redact else text) or ""

    def generate_text(
        self,
        messages: Any,
        *,
        purpose: str = "answer",
        language: str = "nl",
        timeout: float | None = None,
        cancel: threading.Event | None = None,
        record: Generation | None = None,
    ) -> Iterator[str]:
        """One model call: :func:`generate` with this model's stops (for answers), recorded in
        :attr:`records`, its outcome told to the breaker (the caller asked ``allow()``).
        Raises what ``generate`` raises, and :class:`LLMUnavailable`."""
        timeout = self.timeout if timeout is None else timeout
        model = self._get_model(condense=purpose == "condense")
        stop = (
            stop_sequences(self.provider, self.model_name, language)
            if purpose == "answer"
            else None
        )
        gen = record if record is not None else Generation(purpose=purpose)
        try:
            yield from generate(
                model, messages, timeout=timeout, cancel=cancel, stop=stop, record=gen
            )
        except Cancelled:
            gen.outcome = "cancelled"
            self.breaker.release()
            raise
        except Exception as exc:
            gen.outcome = self._failed(exc)
            raise
        except BaseException:  # GeneratorExit: the caller stopped reading (the client left)
            gen.outcome = "cancelled"
            self.breaker.release()
            raise
        else:
            self.breaker.success()
        finally:
            self.records.append(gen)
            self.record_count += 1

    # -- answering -----------------------------------------------------------------------------
    def answer(self, question: str, language: str, evidence: list[Evidence]) -> Draft:
        *_, draft = self.stream(question, language, evidence)
        return draft

    def stream(
        self,
        question: str,
        language: str,
        evidence: list[Evidence],
        cancel: threading.Event | None = None,
    ) -> Iterator[str | Draft]:
        """Yield text deltas as the model writes, then one final :class:`Draft` (checked, or the
        fallback). The final draft is authoritative: its text may differ from the deltas
        (an invalid citation removed, a sentence cut off at the token limit dropped, or the
        extractive answer after a failure). Setting ``cancel`` closes the model request."""
        raw, reason, truncated = None, None, False
        if not evidence:
            reason = "no_sources"
        elif not self.breaker.allow():
            reason = "breaker_open"
        else:
            full, shown = "", ""
            messages = answer_messages(question, language, evidence, self._redact)
            gen = Generation(purpose="answer")
            try:
                for piece in self.generate_text(
                    messages,
                    purpose="answer",
                    language=language,
                    timeout=self.timeout,
                    cancel=cancel,
                    record=gen,
                ):
                    full += piece
                    now_visible = visible(full)
                    if now_visible.startswith(shown) and len(now_visible) > len(shown):
                        yield now_visible[len(shown) :]
                        shown = now_visible
                raw = visible(full)
                if gen.finish_reason == "length":
                    # Cut off at OPSCHAAL_LLM_MAX_TOKENS: a half sentence reads as a glitch.
                    raw, truncated = complete_sentences(raw), True
            except LLMUnavailable:
                reason = "unavailable"
                self.breaker.release()
            except Exception as exc:  # already logged and told to the breaker
                reason = classify(exc)
        draft = self.judge(question, language, evidence, raw, reason)
        if truncated:
            draft.extra["truncated"] = True
        yield draft

    def judge(
        self,
        question: str,
        language: str,
        evidence: list[Evidence],
        raw: str | None,
        reason: str | None,
    ) -> Draft:
        """The draft for a model's text ``raw``: the checked text, an abstention, or the
        fallback's answer with ``fallback_reason`` (``reason`` when there is no text)."""
        extra: dict[str, Any] = {}
        if raw is not None:
            check = check_answer(
                raw, evidence, SupportChecker(self.analyzer, self.embedder), language=language
            )
            extra = {
                "citation_validity": check.citation_validity,
                "supported_ratio": check.supported_ratio,
            }
            if check.says_no_answer:
                text, cites = abstention_text(language, evidence)
                return Draft(
                    text=text, citations=cites, abstained=True, answerer=self.name, extra=extra
                )
            if check.ok:
                by_n = {ev.n: ev for ev in evidence}
                cites = [
                    citation_for(by_n[n], n, self._snippet_source(by_n[n], check.text))
                    for n in sorted(check.cited)
                ]
                return Draft(text=check.text, citations=cites, answerer=self.name, extra=extra)
            reason = check.problem
            log.info(
                "antwoord van %s afgekeurd (%s: %d/%d zinnen onderbouwd, %d ongeldige bronnummers)",
                self.name,
                reason,
                check.supported,
                check.sentences,
                check.invalid_markers,
            )
        draft = self.fallback.answer(question, language, evidence)
        draft.answerer = f"{getattr(self.fallback, 'name', 'extractive')} (fallback: {reason})"
        draft.extra = {**draft.extra, **extra, "fallback_reason": reason}
        return draft

    def _snippet_source(self, ev: Evidence, answer: str) -> str | None:
        """The passage of ``ev`` that shares most words with the answer, for the citation."""
        if not ev.passages:
            return None
        a = set(self.analyzer.query_terms(answer))
        best = max(ev.passages, key=lambda p: len(a & set(self.analyzer.terms(p[0], ev.language))))
        return best[0]

    # -- drafted plan paragraphs ---------------------------------------------------------------
    def paragraph(
        self,
        section: str,
        facts: str,
        language: str,
        evidence: list[Evidence],
        fallback: str,
        names: Callable[[str], list[str]] | None = None,
    ) -> Draft:
        """One paragraph of a plan section from its facts and numbered sources, checked by
        :func:`check_paragraph`; on any failure ``fallback`` (the section's template text) with
        ``answerer`` ``template (fallback: <reason>)`` and ``extra["fallback_reason"]``. Same
        model, deadline and breaker as answers: a dead endpoint costs a plan what it costs a
        question, and once the breaker is open nothing waits for it."""
        raw, reason = None, None
        if not evidence:
            reason = "no_sources"
        elif not self.breaker.allow():
            reason = "breaker_open"
        else:
            gen = Generation(purpose="paragraph")
            try:
                raw = visible(
                    "".join(
                        self.generate_text(
                            paragraph_messages(section, facts, language, evidence, self._redact),
                            purpose="paragraph",
                            language=language,
                            record=gen,
                        )
                    )
                )
                if gen.finish_reason == "length":
                    raw = complete_sentences(raw)
            except LLMUnavailable:
                reason = "unavailable"
                self.breaker.release()
            except Exception as exc:  # already logged and told to the breaker
                reason = classify(exc)
        extra: dict[str, Any] = {}
        if raw is not None:
            check = check_paragraph(
                raw,
                evidence,
                facts,
                language,
                names=names,
                checker=SupportChecker(self.analyzer, self.embedder),
            )
            extra = {
                "citation_validity": check.citation_validity,
                "supported_ratio": check.supported_ratio,
            }
            if check.ok:
                by_n = {ev.n: ev for ev in evidence}
                cites = [citation_for(by_n[n], n) for n in sorted(check.cited)]
                return Draft(text=check.text, citations=cites, answerer=self.name, extra=extra)
            reason = check.problem
            log.info("alinea '%s' van %s afgekeurd (%s)", section, self.name, reason)
        return Draft(
            text=fallback,
            citations=[],
            answerer=f"template (fallback: {reason})",
            extra={**extra, "fallback_reason": reason},
        )

    # -- follow-ups --------------------------------------------------------------------------
    def condense(self, question: str, history: Sequence[Turn], language: str) -> str | None:
        """A standalone version of a follow-up question, or ``None`` (then use the heuristic)."""
        if not history or not self.breaker.allow():
            return None
        try:
            out = "".join(
                self.generate_text(
                    condense_messages(question, history, language, self._redact),
                    purpose="condense",
                    language=language,
                    timeout=min(self.timeout, CONDENSE_TIMEOUT_S),
                )
            )
        except LLMUnavailable:
            self.breaker.release()
            return None
        except Exception:  # logged and told to the breaker in generate_text
            return None
        out = visible(out)
        line = next((ln.strip() for ln in out.splitlines() if ln.strip()), "")
        line = re.sub(
            r"^(?:zelfstandige vraag|vraag|standalone question|question)\s*:\s*",
            "",
            line,
            flags=re.I,
        )
        line = line.strip().strip("\"“”'").strip()
        if not line or len(line) > max(400, 4 * len(question)):
            return None
        return line
