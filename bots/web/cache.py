"""A short-lived cache of answers to identical stand-alone questions.

Many people ask the same few questions (the widget even suggests some). An answer depends only
on the question, filters, audience, language and k when there is no history, so reusing it for
a minute is safe; after an ingest, answers are at most ``ttl`` seconds old. Follow-ups (with
history) are never cached.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict

from assistant.models import Answer


class AnswerCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 512) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[float, Answer]] = OrderedDict()
        self._lock = threading.Lock()
        # Striped locks: identical questions arriving together are answered once, the others
        # wait for that answer instead of computing it again (a burst after a mailing, say).
        self._stripes = [threading.Lock() for _ in range(64)]

    def lock_for(self, key: str) -> threading.Lock:
        return self._stripes[hash(key) % len(self._stripes)]

    @staticmethod
    def key(question: str, **params) -> str:
        filters = params.get("filters")
        if filters is not None and hasattr(filters, "model_dump"):
            params["filters"] = filters.model_dump()
        return json.dumps([question, params], sort_keys=True, ensure_ascii=False, default=str)

    def get(self, key: str) -> Answer | None:
        if self.ttl <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if now - hit[0] > self.ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
        # A fresh copy: the caller sets its own answer_id on it.
        return hit[1].model_copy(deep=True, update={"answer_id": None})

    def put(self, key: str, answer: Answer) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._items[key] = (
                time.monotonic(),
                answer.model_copy(deep=True, update={"answer_id": None}),
            )
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
