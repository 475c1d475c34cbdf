"""The scaling step plan: where is the user, and what are sensible next steps?"""

from __future__ import annotations

import re
from collections import defaultdict

from .text import Analyzer

_START = re.compile(
    r"\b(waar\s+(moet|kan|zou)\s+(ik|je|we)\s+(beginnen|starten)|hoe\s+(begin|start)\s+(ik|je|we)|"
    r"eerste\s+stap(pen)?|stappenplan|where\s+(do|should)\s+(i|we)\s+start|first\s+steps?|step\s+plan)\b",
    re.I,
)

# Cues that are not always in phases.yaml's prose; phases.yaml may add its own `keywords`.
_DEFAULT_CUES = {
    "verkennen": "idee verkennen oriënteren beginnen starten probleem behoefte bestaat al wiel",
    "experimenteren": "pilot proef experiment proof of concept testen prototype proeftuin",
    "voorbereiden": "businesscase implementatieplan aanbesteding inkoop dpia voorbereiden plan begroting",
    "opschalen": "opschalen uitrollen uitrol andere gemeenten landelijk regio meer organisaties scale roll out",
    "borgen": "borgen beheer onderhoud structureel na de pilot overdracht eigenaar continuïteit lijnorganisatie",
}


def is_start_question(question: str) -> bool:
    return bool(_START.search(question))


class StepPlan:
    def __init__(self, phases: list[dict], analyzer: Analyzer) -> None:
        self.phases = phases
        self.analyzer = analyzer
        self.keys = [p["key"] for p in phases]
        self._terms: dict[str, set[str]] = {}
        for p in phases:
            kw = p.get("keywords") or []
            cue = " ".join(kw) if kw else _DEFAULT_CUES.get(p["key"], "")
            text = f"{p.get('name', '')} {p['key']} {cue} {cue}"
            self._terms[p["key"]] = set(analyzer.query_terms(text))

    def get(self, key: str | None) -> dict | None:
        return next((p for p in self.phases if p["key"] == key), None)

    def detect(self, question: str, retrieved: list[dict], history: list[str] | None = None) -> str | None:
        if not self.phases:
            return None
        if is_start_question(question):
            return self.keys[0]
        q = set(self.analyzer.query_terms(question))
        hq = set(self.analyzer.query_terms(" ".join((history or [])[-2:])))
        scores: dict[str, float] = defaultdict(float)
        for key, terms in self._terms.items():
            scores[key] += 1.0 * len(q & terms) + 0.3 * len(hq & terms)
        for rank, meta in enumerate(retrieved[:5]):
            for key in meta.get("phases", []):
                if key in scores:
                    scores[key] += 0.5 / (rank + 1)
        best = max(self.keys, key=lambda k: (scores[k], -self.keys.index(k)))
        return best if scores[best] > 0 else None

    def next_steps(self, phase: str | None, question: str, obstacles: list[str], limit: int = 4) -> list[str]:
        p = self.get(phase)
        if not p:
            return []
        steps = list(p.get("steps") or [])
        q = set(self.analyzer.query_terms(question + " " + " ".join(obstacles)))
        ranked = sorted(
            enumerate(steps),
            key=lambda x: (-len(q & set(self.analyzer.query_terms(x[1]))), x[0]),
        )
        # Keep the plan's own order among the chosen steps: it is a sequence.
        chosen = sorted(ranked[: max(2, min(limit, len(steps)))], key=lambda x: x[0])
        return [s for _, s in chosen]

    def overview(self, language: str = "nl") -> str:
        lines = []
        for i, p in enumerate(self.phases, start=1):
            first = (p.get("steps") or [""])[0]
            desc = p.get("description") or ""
            line = f"{i}. {p['name']}: {desc.split('. ')[0].rstrip('.')}."
            if first:
                line += (" Eerste stap: " if language == "nl" else " First step: ") + first
            lines.append(line)
        head = (
            "Het stappenplan voor opschalen heeft deze fasen:"
            if language == "nl"
            else "The scaling step plan has these phases (in Dutch):"
        )
        return head + "\n" + "\n".join(lines)
