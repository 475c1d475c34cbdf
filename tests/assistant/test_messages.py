"""User-facing copy lives in one table per language (assistant/messages.py)."""

from __future__ import annotations

import string

from assistant.messages import MESSAGES, count_word, message


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_message_exists_in_both_languages_with_the_same_placeholders():
    assert set(MESSAGES["nl"]) == set(MESSAGES["en"])
    for key, dutch in MESSAGES["nl"].items():
        assert _fields(dutch) == _fields(MESSAGES["en"][key]), key


def test_a_message_is_filled_in_and_dutch_is_the_default():
    assert message("reason_obstacle", None, obstacle="privacy") == (
        "Heeft praktijkervaring met privacy."
    )
    assert message("reason_obstacle", "en", obstacle="privacy") == (
        "Has hands-on experience with privacy."
    )
    # A value with braces is text, not a placeholder.
    assert "{x}" in message("intro_question", "nl", question="{x}")
    assert [count_word(n, "nl") for n in (2, 5, 6)] == ["twee", "vijf", "6"]
