"""Answers in one language from sources in another: what the reader must be told.

An English question over a Dutch corpus gets an English answer whose quoted evidence is Dutch.
The composer places one short English line in the lead saying so; this module decides when
that line is due (also when only some sources are in the other language) and words it, so every
answerer and channel says it the same way.
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
#: The same when only some sources are in that language: the reader still meets its passages.
SOME_SOURCES_LINE = {
    "en": "Some sources are in {language}; passages from them are quoted in {language}.",
    "nl": "Een deel van de bronnen is in het {language}; passages daaruit staan in het {language}.",
}


def sources_line(answer_language: str, source_languages: Iterable[str]) -> str | None:
    """One short line for the lead ("The sources are in Dutch; …"), or None when not needed.

    ``source_languages``: the ``language`` of each document the answer cites (for example
    ``[ev.language for ev in evidence]``). When only some of them are in another language the
    line says so ("Some sources are in Dutch; …"): an English answer that quotes a Dutch
    checklist under an English lead should not leave the reader wondering why."""
    langs = {lang or "nl" for lang in source_languages}
    others = langs - {answer_language}
    if len(others) != 1:
        return None
    (other,) = others
    templates = SOURCES_LINE if langs == others else SOME_SOURCES_LINE
    names = LANGUAGE_NAMES.get(answer_language, LANGUAGE_NAMES["en"])
    template = templates.get(answer_language, templates["en"])
    return template.format(language=names.get(other, other))
