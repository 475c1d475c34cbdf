"""Answers in one language from sources in another: what the reader must be told.

An English question over a Dutch corpus gets an English answer whose quoted evidence is Dutch.
The composer places one short English line in the lead saying so; this module decides when
that line is due and words it, so every answerer and channel says it the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

LANGUAGE_NAMES = {
    "en": {"nl": "Dutch", "en": "English"},
    "nl": {"nl": "Nederlands", "en": "Engels"},
}

#: The line, per answer language; ``{language}`` is the sources' language in the reader's words.
SOURCES_LINE = {
    "en": "The sources are in {language}; quoted passages are in {language}.",
    "nl": "De bronnen zijn in het {language}; geciteerde passages staan in het {language}.",
}


def foreign_source_language(answer_language: str, source_languages: Iterable[str]) -> str | None:
    """The sources' language when *every* source is in another language than the answer,
    else None. Mixed sources need no note: the answer can quote the ones in its language."""
    langs = {lang or "nl" for lang in source_languages}
    if not langs or answer_language in langs or len(langs) != 1:
        return None
    return next(iter(langs))


def sources_line(answer_language: str, source_languages: Iterable[str]) -> str | None:
    """One short line for the lead ("The sources are in Dutch; …"), or None when not needed.

    ``source_languages``: the ``language`` of each document the answer cites (for example
    ``[ev.language for ev in evidence]``)."""
    other = foreign_source_language(answer_language, source_languages)
    if other is None:
        return None
    names = LANGUAGE_NAMES.get(answer_language, LANGUAGE_NAMES["en"])
    template = SOURCES_LINE.get(answer_language, SOURCES_LINE["en"])
    return template.format(language=names.get(other, other))
