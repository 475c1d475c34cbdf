"""English → Dutch expansion of domain terms, for the lexical side of cross-lingual retrieval.

BM25 matches words, so "procurement" never finds "aanbesteding". An English question gets the
Dutch words of every glossary phrase it contains added to its lexical query; the dense side is
multilingual already. The curated list is ``glossary.yaml`` next to this module; a corpus adds
its own English words through ``keywords_en`` and ``label_en`` in obstacles.yaml.

Matching is on words with plurals made singular (-ing forms are listed where they matter),
longest phrase first, and a word is used by at most one
phrase, so "business case" expands to ``businesscase`` and not also to whatever "case" means.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .knowledge import Obstacle
from .text import words

GLOSSARY_FILE = Path(__file__).with_name("glossary.yaml")


def _light(word: str) -> str:
    """Plural to singular, nothing more: Snowball makes "experience" and "experiment" one
    stem, and a glossary must not confuse them."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _stems(text: str) -> tuple[str, ...]:
    return tuple(_light(w) for w in words(text.replace("-", " ")))


@dataclass
class Glossary:
    #: English phrase (as stems) → Dutch words, in the order they were added.
    entries: dict[tuple[str, ...], list[str]] = field(default_factory=dict)

    def add(self, english: Iterable[str], dutch: Iterable[str]) -> None:
        dutch = [d for d in dutch if d and d.strip()]
        if not dutch:
            return
        for phrase in english:
            key = _stems(phrase)
            if not key:
                continue
            have = self.entries.setdefault(key, [])
            have += [d for d in dutch if d not in have]

    @classmethod
    def load(cls, path: Path = GLOSSARY_FILE) -> Glossary:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        g = cls()
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or not item.get("en") or not item.get("nl"):
                raise ValueError(f"{path}: entry {i + 1} needs non-empty 'en' and 'nl' lists")
            g.add(item["en"], item["nl"])
        return g

    def with_obstacles(self, obstacles: Iterable[Obstacle]) -> Glossary:
        """A copy that also maps each obstacle's English label and ``keywords_en`` to its Dutch
        label and first Dutch keywords: the corpus knows its own vocabulary best."""
        g = Glossary({k: list(v) for k, v in self.entries.items()})
        for o in obstacles:
            english = [o.label_en or "", *o.keywords_en]
            dutch = [o.label, *o.keywords[:2]]
            g.add([e for e in english if e], dutch)
        return g

    def expand(self, text: str) -> list[str]:
        """The Dutch words for the English phrases in ``text``, without repeats."""
        toks = _stems(text)
        if not toks or not self.entries:
            return []
        longest = max(len(k) for k in self.entries)
        used = [False] * len(toks)
        out: list[str] = []
        for n in range(min(longest, len(toks)), 0, -1):
            for i in range(len(toks) - n + 1):
                if any(used[i : i + n]):
                    continue
                dutch = self.entries.get(toks[i : i + n])
                if dutch is None:
                    continue
                used[i : i + n] = [True] * n
                out += [d for d in dutch if d not in out]
        return out


@lru_cache(maxsize=1)
def default_glossary() -> Glossary:
    return Glossary.load()
