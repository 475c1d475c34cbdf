"""The scaling step plan: where is the user, and what are sensible next steps?

The phase comes from three signals, like obstacles do: cue words in the question (phases.yaml
may list its own ``keywords``), the phases of the retrieved documents, and the earlier turns.
Next steps are taken from the phase's own ``steps``; the ones that address the question's
obstacles come first, and the plan's order is kept because it is a sequence.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from .text import Analyzer

_START = re.compile(
    r"\b(waar\s+(moet|kan|zou)\s+(ik|je|we|jij|u)\s+(dan\s+|nu\s+|het\s+best\s+)?(mee\s+)?(beginnen|starten)|"
    r"waar\s+(begin|start)\s+(ik|je|we|u)|"
    r"hoe\s+(begin|start)\s+(ik|je|we|u)|hoe\s+(moet|kan)\s+(ik|je|we|u)\s+(beginnen|starten)|"
    r"(eerste|1e)\s+stap(pen)?|stappenplan|waar\s+te\s+beginnen|"
    r"where\s+(do|should|can|to)\s+(i|we|you)?\s*(start|begin)|how\s+(do|should|can)\s+(i|we)\s+(start|begin|get\s+started)|"
    r"first\s+steps?|step[-\s]by[-\s]step\s+plan|step\s+plan|getting\s+started)",
    re.I,
)

# Cues that are not always in phases.yaml's prose; phases.yaml may add its own `keywords`,
# which then replace these.
_DEFAULT_CUES = {
    "verkennen": "idee verkennen verkenning oriënteren oriëntatie probleem behoefte bestaat al wiel "
    "explore exploring idea",
    "experimenteren": "pilot proef experiment experimenteren proof of concept testen prototype proeftuin "
    "challenge hackathon test",
    "voorbereiden": "businesscase implementatieplan aanbesteding inkoop inkooproute dpia voorbereiden "
    "voorbereiding begroting besluit besluitvorming marktconsultatie prepare business case",
    "opschalen": "opschalen opschaling uitrollen uitrol andere gemeenten landelijk regio meer organisaties "
    "gefaseerd golven scale scaling roll out rollout",
    "borgen": "borgen borging beheer onderhoud structureel overdracht overdragen eigenaar continuïteit "
    "lijnorganisatie verankeren evaluatie maintenance ownership handover",
}


def is_start_question(question: str) -> bool:
    """ "Waar moet ik beginnen?", "Hoe begin ik?", "Where do I start?"…"""
    return bool(_START.search(question))


class StepPlan:
    """Phases from phases.yaml, in their given order."""

    W_CUES = 1.0
    W_DOCS = 0.8
    W_HISTORY = 0.3
    W_SIMILARITY = 0.4
    W_START = 1.2

    def __init__(
        self, phases: list[dict], analyzer: Analyzer, obstacles=None, embedder=None
    ) -> None:
        self.phases = phases
        self.analyzer = analyzer
        self.obstacles = obstacles
        self.embedder = embedder
        self.keys = [p["key"] for p in phases]
        self._terms: dict[str, set[str]] = {}
        for p in phases:
            kw = p.get("keywords") or []
            cue = " ".join(kw) if kw else _DEFAULT_CUES.get(p["key"], "")
            self._terms[p["key"]] = set(
                analyzer.query_terms(f"{p.get('name', '')} {p['key']} {cue}")
            )
        self._vectors: np.ndarray | None = None
        self._step_tags: dict[str, list[set[str]]] = {}

    def get(self, key: str | None) -> dict | None:
        return next((p for p in self.phases if p["key"] == key), None)

    def _phase_vectors(self) -> np.ndarray | None:
        if self.embedder is None or len(self.phases) < 3:
            return None
        if self._vectors is None:
            texts = [
                f"{p.get('name', p['key'])}. {p.get('description') or ''}" for p in self.phases
            ]
            self._vectors = self.embedder.embed(texts, kind="passage")
        return self._vectors

    def scores(
        self,
        question: str,
        retrieved: list[dict],
        history: list[str] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> dict[str, float]:
        q = set(self.analyzer.query_terms(question))
        hq = set(self.analyzer.query_terms(" ".join((history or [])[-2:])))
        out: dict[str, float] = defaultdict(float)
        for key, terms in self._terms.items():
            out[key] += self.W_CUES * min(2, len(q & terms)) + self.W_HISTORY * min(
                2, len(hq & terms)
            )
        top = retrieved[:5]
        norm = sum(1.0 / (r + 1) for r in range(len(top))) or 1.0
        for rank, meta in enumerate(top):
            for key in meta.get("phases", []) or []:
                if key in out or key in self._terms:
                    out[key] += self.W_DOCS / (rank + 1) / norm
        vecs = self._phase_vectors()
        if vecs is not None and query_vector is not None:
            sims = vecs @ np.asarray(query_vector, dtype=np.float32)
            z = (sims - float(np.mean(sims))) / (float(np.std(sims)) or 1.0)
            for key, zi in zip(self.keys, z, strict=True):
                out[key] += self.W_SIMILARITY * max(0.0, float(zi) - 0.5)
        if is_start_question(question) and self.keys:
            out[self.keys[0]] += self.W_START
        return dict(out)

    def detect(
        self,
        question: str,
        retrieved: list[dict],
        history: list[str] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> str | None:
        """The phase key the question most likely sits in, or None without any signal."""
        if not self.phases:
            return None
        scores = self.scores(question, retrieved, history, query_vector)
        # Ties go to the earlier phase: when in doubt, the user is less far along.
        best = max(self.keys, key=lambda k: (scores.get(k, 0.0), -self.keys.index(k)))
        return best if scores.get(best, 0.0) > 0 else None

    def _tags(self, key: str) -> list[set[str]]:
        if key not in self._step_tags:
            p = self.get(key) or {}
            tags = []
            for step in p.get("steps") or []:
                tags.append(
                    set(self.obstacles.keyword_hits(step)) if self.obstacles is not None else set()
                )
            self._step_tags[key] = tags
        return self._step_tags[key]

    def next_steps(
        self,
        phase: str | None,
        question: str,
        obstacles: list[str],
        language: str = "nl",
        limit: int = 3,
    ) -> list[str]:
        """2–4 steps of the phase: the ones that address the question's obstacles or words,
        topped up with the phase's first steps, in the plan's order."""
        p = self.get(phase)
        if not p:
            return []
        steps = list(p.get("steps") or [])
        if len(steps) <= 2:
            return steps
        limit = max(2, min(4, limit))
        q = set(self.analyzer.query_terms(question))
        tags = self._tags(p["key"])
        wanted = {k: 1.0 / (i + 1) for i, k in enumerate(obstacles)}

        def relevance(i: int) -> float:
            s = sum(wanted.get(k, 0.0) for k in tags[i]) * 2.0
            s += 0.5 * len(q & set(self.analyzer.query_terms(steps[i])))
            return s

        rel = {i: relevance(i) for i in range(len(steps))}
        chosen = sorted((i for i in rel if rel[i] > 0), key=lambda i: (-rel[i], i))[:limit]
        # Top up with the plan's own first steps: they are the natural place to begin.
        for i in range(len(steps)):
            if len(chosen) >= limit:
                break
            if i not in chosen:
                chosen.append(i)
        return [steps[i] for i in sorted(chosen)]

    def overview(self, language: str = "nl") -> str:
        """The step plan itself: every phase with its purpose and first steps."""
        lines = []
        for i, p in enumerate(self.phases, start=1):
            desc = (p.get("description") or "").strip()
            first_sentence = re.split(r"(?<=[.!?])\s+", desc)[0].rstrip(".") if desc else ""
            line = f"{i}. {p.get('name') or p['key']}" + (
                f": {first_sentence}." if first_sentence else ""
            )
            lines.append(line)
            for step in (p.get("steps") or [])[:2]:
                lines.append(f"   - {step}")
        if language == "en":
            head = "The scaling step plan has these phases (the steps are in Dutch):"
            tail = (
                "Start with the first phase unless you have already done it; the next steps below fit "
                "where your question seems to be."
            )
        else:
            head = "Het stappenplan voor opschalen heeft deze fasen:"
            tail = (
                "Begin bij de eerste fase, tenzij je die al hebt doorlopen; de volgende stappen hieronder "
                "passen bij waar je vraag lijkt te staan."
            )
        return "\n".join([head, *lines, tail])
