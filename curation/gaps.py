"""Knowledge gaps: group unanswered or disliked questions by topic.

Greedy single-pass clustering on question embeddings: deterministic, needs no cluster count,
and fast for the few thousand questions a curator looks at.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from assistant.embeddings import profile_of

if TYPE_CHECKING:
    from assistant.service import Assistant

# The cosine above which two questions are about the same topic is the embedder's
# ``EmbedderProfile.same_topic``: e5 puts everything fairly close together, so it is higher.


@dataclass
class GapItem:
    question: str
    created: str  # ISO timestamp
    reason: str  # "abstained" | "down"


@dataclass
class Gap:
    label: str
    count: int
    examples: list[str]
    last_7_days: int
    previous_7_days: int
    obstacles: list[dict] = field(default_factory=list)

    @property
    def trend(self) -> str:
        if self.last_7_days > self.previous_7_days:
            return "stijgend"
        if self.last_7_days < self.previous_7_days:
            return "dalend"
        return "gelijk"


def cluster(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    groups: list[list[int]] = []
    centroids: list[np.ndarray] = []
    for i, v in enumerate(vectors):
        best, best_sim = -1, threshold
        for g, c in enumerate(centroids):
            sim = float(np.dot(v, c) / (np.linalg.norm(c) or 1.0))
            if sim >= best_sim:
                best, best_sim = g, sim
        if best < 0:
            groups.append([i])
            centroids.append(v.copy())
        else:
            groups[best].append(i)
            centroids[best] = centroids[best] + v
    return groups


def _parse(ts: str) -> dt.datetime:
    d = dt.datetime.fromisoformat(ts)
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def label_for(questions: list[str], analyzer) -> str:
    counts: Counter = Counter()
    for q in questions:
        counts.update(set(analyzer.content_words(q)))
    top = [w for w, _ in counts.most_common(3)]
    return ", ".join(top) if top else questions[0][:40]


def find_gaps(
    items: list[GapItem],
    embedder,
    analyzer,
    detect_obstacles,
    coverage: dict[str, tuple[int, int]],
    *,
    now: dt.datetime | None = None,
    max_examples: int = 5,
) -> list[Gap]:
    """``detect_obstacles(question) -> [(key, score)]``; ``coverage[key] = (docs, consenting people)``."""
    if not items:
        return []
    now = now or dt.datetime.now(dt.UTC)
    vecs = embedder.embed([i.question for i in items], kind="query")
    groups = cluster(vecs, profile_of(embedder).same_topic)
    gaps = []
    for members in groups:
        qs = [items[i].question for i in members]
        ages = [(now - _parse(items[i].created)).days for i in members]
        obst: Counter = Counter()
        for q in qs:
            obst.update(k for k, _ in detect_obstacles(q))
        obstacles = []
        for key, n in obst.most_common(3):
            docs, people = coverage.get(key, (0, 0))
            obstacles.append(
                {
                    "key": key,
                    "questions": n,
                    "documents": docs,
                    "people": people,
                    "lacks_documents": docs < 2,
                    "lacks_people": people < 2,
                }
            )
        gaps.append(
            Gap(
                label=label_for(qs, analyzer),
                count=len(members),
                examples=list(dict.fromkeys(qs))[:max_examples],
                last_7_days=sum(1 for a in ages if a < 7),
                previous_7_days=sum(1 for a in ages if 7 <= a < 14),
                obstacles=obstacles,
            )
        )
    gaps.sort(key=lambda g: (-g.count, g.label))
    return gaps


def knowledge_gaps(assistant: Assistant, items: list[GapItem]) -> list[Gap]:
    """Group unanswered/disliked questions by topic, with obstacle coverage per group."""
    rt = assistant.runtime
    coverage = {}
    for key in rt.obstacle_labels:
        docs = sum(1 for m in rt.index.docs.values() if key in m.obstacles)
        people = sum(1 for p in rt.people.people.values() if key in p.obstacles)
        coverage[key] = (docs, people)
    return find_gaps(
        items, assistant.embedder, rt.analyzer, lambda q: rt.obstacles.detect(q), coverage
    )
