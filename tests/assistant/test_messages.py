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
    # An obstacle's label is quoted as a name, so a corpus may label it any way it likes.
    assert message("reason_obstacle", None, obstacle="geen eigenaar") == (
        "Heeft praktijkervaring met het obstakel ‘geen eigenaar’."
    )
    assert message("reason_obstacle", "en", obstacle="locked in to one supplier") == (
        "Has hands-on experience with the obstacle ‘locked in to one supplier’."
    )
    # A value with braces is text, not a placeholder.
    assert "{x}" in message("intro_question", "nl", question="{x}")
    assert [count_word(n, "nl") for n in (2, 5, 6)] == ["twee", "vijf", "6"]
