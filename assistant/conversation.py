"""Follow-up questions: make them standalone enough to retrieve with.

Without a language model this is a heuristic: a short or referring question ("en in een
provincie?", "wie heeft dat gedaan?") borrows the content words of the user turns it leans on:
the previous one, and before it each turn that was itself a follow-up (``context_of``).
"""

from __future__ import annotations

import re

from .models import Turn
from .text import content_words

_CONNECTIVE = re.compile(
    r"^\W*(en|maar|ook|dus|wat als|hoe dan|and|but|what about|how about)\b", re.I
)
# Words that point at something said before. "there" and "it" are left out: "Is there someone
# who …", "Is it possible to …" point at nothing.
_POINTER = re.compile(
    r"\b(dat|dit|die|daar|daarvan|daarbij|daarmee|daarover|hiervan|hiermee|zij|hun|hem|haar|ze|"
    r"het project|de pilot|that|this|those|they|them)\b",
    re.I,
)


def user_turns(history: list[Turn] | None) -> list[str]:
    return [t.content for t in (history or []) if t.role == "user"]


def leans_back(question: str) -> bool:
    """Whether a question leans on what was said before it: it is short, opens with "En",
    "Maar", "What about" …, or points back before it has named anything itself ("Hoe hebben ze
    dat opgelost?"). A pointing word after the question's own subject points inside the
    question: "De kosten liggen bij ons maar de baten bij de gemeenten. Hoe verdelen we dat
    eerlijk?", "Hoe zorg ik dat collega's zich eigenaar voelen?"."""
    if len(content_words(question)) <= 4 or _CONNECTIVE.search(question):
        return True
    m = _POINTER.search(question)
    return m is not None and not content_words(question[: m.start()])


def is_follow_up(question: str, history: list[Turn] | None) -> bool:
    """A question that leans back, in a conversation that has a turn to lean on."""
    return bool(user_turns(history)) and leans_back(question)


#: How many earlier user turns a chain of follow-ups may reach back.
CHAIN_TURNS = 3


def context_of(history: list[Turn] | None) -> list[str]:
    """The user turns a follow-up leans on: the last one, and before it every turn that the
    next one followed up on, back to the question that stood on its own ("Hoe ging Haverdam om
    met de belastingchatbot?" → "En wie werd er eigenaar?" → "En de privacy?")."""
    users = user_turns(history)
    if not users:
        return []
    i = len(users) - 1
    while i > 0 and len(users) - i < CHAIN_TURNS and leans_back(users[i]):
        i -= 1
    return users[i:]


def condense(question: str, history: list[Turn] | None) -> str:
    """The query to retrieve with: the question itself, or the question plus its context."""
    if not is_follow_up(question, history):
        return question
    return " ".join([*context_of(history), question])
