"""User-facing copy: per-language message templates (Dutch first, English where the user writes
English), and the small text helpers that copy needs."""

from __future__ import annotations


def lower_first(s: str) -> str:
    # "Directeur" → "directeur", but "CEO" and "CIO" stay as they are.
    return s[:1].lower() + s[1:] if len(s) > 1 and not s[1].isupper() else s
