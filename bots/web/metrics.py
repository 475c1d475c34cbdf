"""Prometheus metrics, one registry per app so several apps (tests) never collide.

With several worker processes (``opschaal serve --workers N``) each worker counts into files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them, whichever worker answers the scrape.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from assistant.models import Answer

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
        # With several workers: ready only when every live worker is.
        self.ready = Gauge(
            "opschaal_ready",
            "1 when the index is loaded and the model is warm.",
            registry=r,
            multiprocess_mode="livemin",
        )

    def exposition(self) -> bytes:
        """The Prometheus text for ``/metrics``: this app's registry, or the sum over all
        workers when they count into a shared folder."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def answer(self, answer: Answer, channel: str = "web") -> None:
        """Count one answer; Slack and Teams call this too when they mount into the web app."""
        self.answers.labels(channel, str(answer.abstained).lower()).inc()
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
