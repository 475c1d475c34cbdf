"""What a run says about the language model itself: speed, token limits, and the breaker.

An eval run with a model is only a measurement of that model when the model answered. When the
circuit breaker opened during the run, part of the questions never reached it
(``fallback_reason: breaker_open``); the run then says so and fails the gate, instead of
reporting an extractive run as the model's figures.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .metrics import percentile


@dataclass
class Mark:
    """Where the answerer's logs stood when the measured part of a run began."""

    changes: int
    records: int


def _answerer(assistant):
    answerer = getattr(assistant, "answerer", None)
    return answerer if hasattr(answerer, "breaker") and hasattr(answerer, "records") else None


def mark(assistant) -> Mark | None:
    answerer = _answerer(assistant)
    if answerer is None:
        return None
    return Mark(answerer.breaker.change_count, answerer.record_count)


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "mean": None}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "mean": round(sum(values) / len(values), 3),
    }


def run_figures(assistant, start: Mark | None, results: list[dict]) -> dict:
    """Breaker changes, generation speed and per-answer latency of the model for one run."""
    answerer = _answerer(assistant)
    if answerer is None or start is None:
        return {}
    breaker = answerer.breaker
    new_changes = breaker.change_count - start.changes
    changes = [c.as_dict() for c in breaker.changes[-new_changes:]] if new_changes else []
    new_records = answerer.record_count - start.records
    records = list(answerer.records)[-new_records:] if new_records else []
    answers = [r for r in records if r.purpose == "answer"]
    attempted = [
        r["checks"]["latency_ms"]
        for r in results
        if (r["answer"].get("answerer") or "").startswith("llm:")
        or r["answer"].get("fallback_reason")
    ]
    opens = sum(c["new"] == "open" for c in changes)
    skipped = sum(r["answer"].get("fallback_reason") == "breaker_open" for r in results)
    figures = {
        "breaker": {
            "opens": opens,
            "changes": changes,
            "state_at_end": breaker.state,
            "skipped_answers": skipped,
        },
        "generation": {
            "calls": len(records),
            "answer_calls": len(answers),
            "outcomes": dict(Counter(r.outcome for r in answers).most_common()),
            "finish_reasons": dict(
                Counter(r.finish_reason or "none" for r in answers).most_common()
            ),
            "max_tokens": answerer.settings.llm_max_tokens,
            "timeout_s": answerer.settings.llm_timeout,
            "completion_tokens": _stats([float(r.tokens) for r in answers]),
            "prompt_tokens": _stats(
                [float(r.prompt_tokens) for r in answers if r.prompt_tokens is not None]
            ),
            "tokens_per_s": _stats([r.tokens_per_s for r in answers if r.tokens_per_s]),
            "first_token_s": _stats(
                [r.first_token_s for r in answers if r.first_token_s is not None]
            ),
            "model_seconds": _stats([r.seconds for r in answers]),
        },
        # Whole answers (retrieval, model, validation) of the questions the model was asked.
        "answer_latency_ms": _stats(attempted),
        "measures_model": opens == 0 and skipped == 0,
    }
    if not figures["measures_model"]:
        figures["not_a_measurement"] = (
            f"de breaker ging {opens}× open tijdens de run en {skipped} antwoorden kwamen "
            "zonder het model tot stand; deze cijfers meten het model niet"
        )
    return figures
