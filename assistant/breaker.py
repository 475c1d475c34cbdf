"""A circuit breaker for the language model endpoint: closed, open, half-open.

Closed: every question goes to the model. After ``trip_after`` failures in a row that say the
endpoint is down (no answer at all in time, no connection), the breaker opens: for
``cooldown_s`` seconds questions are answered without the model, so no user waits a full
deadline for a dead endpoint. After the cooldown the next question is the one probe
(half-open); while it runs, other questions still skip the model. A probe that succeeds closes
the breaker, one that fails opens it again.

Every change of state is logged once, with its reason, and kept in :attr:`CircuitBreaker.changes`
so ``/readyz``, ``/metrics`` and the eval report can show it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half_open"]
#: Numeric value of each state for the Prometheus gauge (higher is worse).
STATE_VALUE: dict[State, float] = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
#: State changes kept for the eval report and /readyz; older ones are dropped.
MAX_CHANGES = 200

REASON_TEXT = {
    "timeout": "geen antwoord binnen de tijd",
    "connection_error": "niet bereikbaar",
    "probe_failed": "proefvraag na de pauze mislukt",
    "probe_succeeded": "proefvraag na de pauze gelukt",
    "cooldown_over": "pauze voorbij",
}


@dataclass
class Change:
    """One state change: when (UTC, ISO), from, to, and why."""

    at: str
    old: State
    new: State
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


class CircuitBreaker:
    """Thread-safe; ``clock`` is injectable so tests need not sleep through a cooldown."""

    def __init__(
        self,
        name: str,
        *,
        trip_after: int = 2,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.trip_after = max(1, int(trip_after))
        self.cooldown_s = float(cooldown_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._failures = 0
        self._open_until = 0.0
        self._probing = False
        self.opens = 0
        self.last_reason: str | None = None
        self.changes: list[Change] = []
        #: All changes ever, also those dropped from ``changes``.
        self.change_count = 0

    # -- queries --------------------------------------------------------------------------
    @property
    def state(self) -> State:
        with self._lock:
            return self._state

    def retry_in(self) -> float | None:
        """Seconds until a probe may go out, while open."""
        with self._lock:
            if self._state != "open":
                return None
            return max(0.0, round(self._open_until - self._clock(), 1))

    def status(self) -> dict:
        with self._lock:
            return {
                "model": self.name,
                "state": self._state,
                "opens": self.opens,
                "reason": self.last_reason if self._state != "closed" else None,
                "retry_in_s": (
                    max(0.0, round(self._open_until - self._clock(), 1))
                    if self._state == "open"
                    else None
                ),
            }

    # -- the protocol: allow() before a call, then success() or failure() --------------------
    def allow(self) -> bool:
        """May this call go to the model? In half-open exactly one caller gets ``True``."""
        with self._lock:
            if self._state == "closed":
                return True
            if self._state == "open":
                if self._clock() < self._open_until:
                    return False
                self._change("half_open", "cooldown_over")
            if self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            if self._state == "half_open":
                self._probing = False
                self._change("closed", "probe_succeeded")

    def failure(self, reason: str, *, counts: bool = True) -> None:
        """A failed call. ``counts=False``: it failed, but says nothing about the endpoint being
        down (a slow answer that was streaming, a rejected text); it only ends a probe."""
        with self._lock:
            if self._state == "half_open":
                self._probing = False
                if counts:
                    self._open(f"probe_failed:{reason}")
                else:  # the endpoint answered: it is up
                    self._failures = 0
                    self._change("closed", "probe_succeeded")
                return
            if not counts:
                self._failures = 0
                return
            self._failures += 1
            if self._state == "closed" and self._failures >= self.trip_after:
                self._open(reason)

    def release(self) -> None:
        """A probe that ended without a verdict (cancelled by the client): let the next one try."""
        with self._lock:
            self._probing = False

    # -- internals (lock held) ----------------------------------------------------------------
    def _open(self, reason: str) -> None:
        self._open_until = self._clock() + self.cooldown_s
        self.opens += 1
        self.last_reason = reason
        failures = self._failures
        self._failures = 0
        self._change("open", reason)
        base = reason.removeprefix("probe_failed:")
        why = REASON_TEXT.get(base, base)
        if reason.startswith("probe_failed:"):
            why = f"{REASON_TEXT['probe_failed']} ({why})"
        else:
            why = f"{failures}× achter elkaar {why}"
        # Once per opening, not per skipped question: an operator needs the event, not a flood.
        log.warning(
            "taalmodel %s uitgeschakeld voor %g s: %s; antwoorden komen zolang van de extractieve "
            "beantwoorder (fallback_reason=breaker_open)",
            self.name,
            self.cooldown_s,
            why,
        )

    def _change(self, new: State, reason: str) -> None:
        old = self._state
        if old == new:
            return
        self._state = new
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.changes.append(Change(at, old, new, reason))
        self.change_count += 1
        del self.changes[:-MAX_CHANGES]
        if new == "closed":
            log.warning("taalmodel %s weer in gebruik (%s)", self.name, REASON_TEXT.get(reason))
        elif new == "half_open":
            log.info("taalmodel %s: pauze voorbij, één proefvraag gaat naar het model", self.name)
