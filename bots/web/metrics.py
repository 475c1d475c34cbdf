"""Prometheus metrics, one registry per app so several apps (tests) never collide.

With several worker processes (``opschaal serve --workers N``) each worker counts into files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them, whichever worker answers the scrape.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from assistant.breaker import STATE_VALUE
from assistant.models import Answer

#: Gauge value when the model cannot be used at all (misconfigured), above "open".
UNAVAILABLE = 3.0

#: Seconds; answers take tens of milliseconds warm and seconds with a model.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "opschaal_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "opschaal_http_request_duration_seconds",
            "Time to the end of the response, by route.",
            ["route"],
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.answers = Counter(
            "opschaal_answers",
            "Answers given, by channel and whether the assistant abstained.",
            ["channel", "abstained"],
            registry=r,
        )
        self.abstentions = Counter(
            "opschaal_abstentions",
            "Answers where the knowledge base held no answer.",
            ["channel"],
            registry=r,
        )
        self.answer_seconds = Histogram(
            "opschaal_answer_duration_seconds",
            "Time the assistant took per answer.",
            ["channel"],
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.feedback = Counter(
            "opschaal_feedback",
            "Feedback received, by rating and channel.",
            ["rating", "channel"],
            registry=r,
        )
        self.rate_limited = Counter(
            "opschaal_rate_limited",
            "Requests refused by the per-client rate limit.",
            registry=r,
        )
        self.cache_hits = Counter(
            "opschaal_answer_cache_hits",
            "Answers reused from the short-lived answer cache.",
            registry=r,
        )
        self.llm_fallbacks = Counter(
            "opschaal_llm_fallbacks",
            "Answers where the language model was configured but the extractive answer was "
            "given, by reason (timeout, breaker_open, unsupported…).",
            ["channel", "reason"],
            registry=r,
        )
        # With several workers each has its own breaker; the worst live one shows.
        self.llm_breaker_state = Gauge(
            "opschaal_llm_breaker_state",
            "Circuit breaker of the language model: 0 closed (in use), 1 half-open (one probe), "
            "2 open (skipped), 3 unavailable (misconfigured).",
            ["model"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.llm_breaker_opens = Counter(
            "opschaal_llm_breaker_opens",
            "Times the circuit breaker switched the language model off.",
            ["model"],
            registry=r,
        )
        self._llm_status: Callable[[], dict | None] = lambda: None
        self._opens_seen = 0
        # With several workers: ready only when every live worker is.
        self.ready = Gauge(
            "opschaal_ready",
            "1 when the index is loaded and the model is warm.",
            registry=r,
            multiprocess_mode="livemin",
        )

    def follow_llm(self, status: Callable[[], dict | None]) -> None:
        """Read the language model's breaker through ``status`` (``LLMAnswerer.status()``, or
        ``None`` while not loaded) after every answer and on every scrape."""
        self._llm_status = status
        self.sync_llm()

    def sync_llm(self) -> dict | None:
        status = self._llm_status()
        if not status:
            return None
        model = status["model"]
        state = status["state"]
        self.llm_breaker_state.labels(model).set(STATE_VALUE.get(state, UNAVAILABLE))
        opens = int(status.get("opens") or 0)
        if opens > self._opens_seen:
            self.llm_breaker_opens.labels(model).inc(opens - self._opens_seen)
            self._opens_seen = opens
        return status

    def exposition(self) -> bytes:
        """The Prometheus text for ``/metrics``: this app's registry, or the sum over all
        workers when they count into a shared folder."""
        self.sync_llm()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def answer(self, answer: Answer, channel: str = "web") -> None:
        """Count one answer; Slack and Teams call this too when they mount into the web app."""
        self.answers.labels(channel, str(answer.abstained).lower()).inc()
        if answer.fallback_reason:
            self.llm_fallbacks.labels(channel, answer.fallback_reason).inc()
            self.sync_llm()
        if answer.abstained:
            self.abstentions.labels(channel).inc()
        total = answer.timings_ms.get("total")
        if total is not None:
            self.answer_seconds.labels(channel).observe(total / 1000)


def prepare_multiprocess_dir(data_dir: Path) -> Path:
    """An empty folder for the workers' metric files (counts restart with the server), named
    in the environment the workers inherit."""
    folder = Path(data_dir) / "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())
    return folder
