"""Follow-up questions: make them standalone enough to retrieve with.

Without a language model this is a heuristic: a short or referring question ("en in een
provincie?", "wie heeft dat gedaan?") borrows the content words of the previous user turn.
"""

from __future__ import annotations

import re

from .models import Turn
from .text import ALL_STOP, words

_REFERRING = re.compile(
    r"^(en|maar|ook|dus|wat als|hoe dan|and|but|what about|how about)\b|"
    r"\b(dat|dit|die|daar|daarvan|daarbij|hiervan|zij|hun|hem|haar|ze|het project|de pilot|"
    r"that|this|those|they|them|it|there)\b",
    re.I,
)


# A capitalised word that does not open a sentence: a case, an organisation, a product.
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w-]*[A-Za-z]\w*")


def names_in(text: str) -> list[str]:
    """The proper names in ``text`` ("Brievenhulp", "ULR", "Havendam"): what a follow-up that
    changes the subject still refers to ("En de privacy?" after a question about Brievenhulp)."""
    return [m.group(0) for m in _NAME.finditer(text.strip())]


def user_turns(history: list[Turn] | None) -> list[str]:
    return [t.content for t in (history or []) if t.role == "user"]


def is_follow_up(question: str, history: list[Turn] | None) -> bool:
    if not user_turns(history):
        return False
    content = [w for w in words(question) if w not in ALL_STOP and len(w) > 2]
    return len(content) <= 4 or bool(_REFERRING.search(question))


def condense(question: str, history: list[Turn] | None) -> str:
    """The query to retrieve with: the question itself, or the question plus its context."""
    if not is_follow_up(question, history):
        return question
    previous = user_turns(history)[-1]
    return f"{previous} {question}"
