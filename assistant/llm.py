"""Generative answers through any LangChain chat model, with the extractive answerer behind it.

``OPSCHAAL_LLM`` names the model as ``provider:model`` (``openai:gpt-4o-mini``,
``azure_openai:<deployment>``, ``ollama:<model>``); LangChain's ``init_chat_model`` builds it.
``OPSCHAAL_LLM_BASE_URL`` points it at any endpoint that speaks the provider's API (vLLM, a
gateway, an Azure resource, an Ollama host), ``OPSCHAAL_LLM_API_KEY`` authenticates, and
``OPSCHAAL_LLM_TIMEOUT`` bounds each call.

The model writes from numbered sources (assistant/prompts.py); its text is checked
(assistant/validation.py) and shown only when it passes. A timeout, an error, a malformed
response or a failed check all lead to the extractive answer, so the user always gets one;
``Draft.answerer`` says which answerer produced it and ``Draft.extra`` why it fell back.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .answering import Answerer, Draft, Evidence, ExtractiveAnswerer, abstention_text, citation_for
from .config import Settings
from .models import Turn
from .prompts import answer_messages, condense_messages
from .text import Analyzer
from .validation import SupportChecker, check_answer

log = logging.getLogger(__name__)

#: Azure OpenAI needs an API version; this GA one is used unless OPENAI_API_VERSION is set.
AZURE_API_VERSION = "2024-10-21"
#: After this many timeouts or connection failures in a row the model is skipped for a while,
#: so users do not each wait a full timeout for an endpoint that is down.
TRIP_AFTER = 2
COOLDOWN_S = 30.0
#: Follow-up condensation is a small call; it should not hold up an answer for long.
CONDENSE_TIMEOUT_S = 10.0

_THINK = re.compile(r"<think>.*?</think>\s*", re.S)


class LLMUnavailable(RuntimeError):
    """The configured model cannot be built; ``str()`` is one line saying what to do."""


def is_configured(settings: Settings) -> bool:
    return (settings.llm or "none").strip().lower() not in ("", "none", "off", "extractive")


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


def make_chat_model(
    settings: Settings, *, timeout: float | None = None, max_retries: int | None = None
) -> Any:
    """A LangChain chat model for ``settings.llm``. Raises :class:`LLMUnavailable`."""
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
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    base_url = settings.llm_base_url or None
    kwargs: dict[str, Any] = {}
    if provider == "ollama":
        client: dict[str, Any] = {"timeout": timeout}
        if key:  # an Ollama host behind an authenticating proxy
            client["headers"] = {"Authorization": f"Bearer {key}"}
        kwargs.update(client_kwargs=client, temperature=0)
        if base_url:
            kwargs["base_url"] = base_url
    else:
        kwargs.update(timeout=timeout, max_retries=retries)
        if _takes_temperature(model):
            kwargs["temperature"] = 0
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


def classify(exc: BaseException) -> str:
    """A short, stable name for why a model call failed (for ``fallback_reason``)."""
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


Redact = Callable[[str, str], str | None]


class LLMAnswerer:
    """Answers with a chat model; falls back to ``fallback`` whenever that is the safer answer."""

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
        self.name = f"llm:{settings.llm.strip()}"
        self.fallback = fallback or ExtractiveAnswerer()
        self.redact = redact
        self.embedder = embedder
        self.timeout = float(settings.llm_timeout)
        self._model = chat_model
        self._injected = chat_model
        self._condenser: Any = None
        self._broken: str | None = None
        self._lock = threading.Lock()
        self._failures = 0
        self._down_until = 0.0

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

    def _open(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> str:
        reason = classify(exc)
        # Only the error type and status: messages may echo request details.
        log.warning(
            "taalmodel %s faalde (%s: %s); extractief antwoord gegeven",
            self.name,
            reason,
            type(exc).__name__,
        )
        if reason in ("timeout", "connection_error"):
            with self._lock:
                self._failures += 1
                if self._failures >= TRIP_AFTER:
                    self._down_until = time.monotonic() + COOLDOWN_S
        return reason

    def _succeeded(self) -> None:
        self._failures = 0

    @property
    def analyzer(self) -> Analyzer:
        return getattr(self.fallback, "analyzer", None) or Analyzer()

    def _redact(self, text: str, language: str) -> str:
        return (self.redact(text, language) if self.redact else text) or ""

    # -- answering -----------------------------------------------------------------------------
    def answer(self, question: str, language: str, evidence: list[Evidence]) -> Draft:
        raw, reason = None, None
        if not evidence:
            reason = "no_sources"
        elif not self._open():
            reason = "unavailable"
        else:
            try:
                model = self._get_model()
                raw = _text_of(
                    model.invoke(answer_messages(question, language, evidence, self._redact))
                )
                self._succeeded()
            except LLMUnavailable:
                reason = "unavailable"
            except Exception as exc:
                reason = self._failed(exc)
        return self._finish(
            question, language, evidence, None if raw is None else visible(raw), reason
        )

    def stream(
        self, question: str, language: str, evidence: list[Evidence]
    ) -> Iterator[str | Draft]:
        """Yield text deltas as the model writes, then one final :class:`Draft` (checked, or the
        fallback). The final draft is authoritative: its text may differ from the deltas
        (an invalid citation removed, or the extractive answer after a failure)."""
        raw, reason = None, None
        if not evidence:
            reason = "no_sources"
        elif not self._open():
            reason = "unavailable"
        else:
            full, shown = "", ""
            try:
                model = self._get_model()
                deadline = time.monotonic() + self.timeout
                for chunk in model.stream(
                    answer_messages(question, language, evidence, self._redact)
                ):
                    full += _text_of(chunk)
                    now_visible = visible(full)
                    if now_visible.startswith(shown) and len(now_visible) > len(shown):
                        yield now_visible[len(shown) :]
                        shown = now_visible
                    if time.monotonic() > deadline:
                        # httpx bounds each read, not the whole trickle of a slow stream.
                        raise TimeoutError(f"stream langer dan {self.timeout:g} s")
                raw = visible(full)
                self._succeeded()
            except LLMUnavailable:
                reason = "unavailable"
            except Exception as exc:
                reason = self._failed(exc)
        yield self._finish(question, language, evidence, raw, reason)

    def _finish(
        self,
        question: str,
        language: str,
        evidence: list[Evidence],
        raw: str | None,
        reason: str | None,
    ) -> Draft:
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

    # -- follow-ups --------------------------------------------------------------------------
    def condense(self, question: str, history: Sequence[Turn], language: str) -> str | None:
        """A standalone version of a follow-up question, or ``None`` (then use the heuristic)."""
        if not history or not self._open():
            return None
        try:
            model = self._get_model(condense=True)
            out = _text_of(
                model.invoke(condense_messages(question, history, language, self._redact))
            )
        except LLMUnavailable:
            return None
        except Exception as exc:
            self._failed(exc)
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
