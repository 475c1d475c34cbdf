"""Follow-up questions: make them standalone enough to retrieve with.

Without a language model this is a heuristic: a short or referring question ("en in een
provincie?", "wie heeft dat gedaan?") borrows the content words of the user turns it leans on:
the previous one, and before it each turn that was itself a follow-up (``context_of``).
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


def user_turns(history: list[Turn] | None) -> list[str]:
    return [t.content for t in (history or []) if t.role == "user"]


def is_follow_up(question: str, history: list[Turn] | None) -> bool:
    if not user_turns(history):
        return False
    content = [w for w in words(question) if w not in ALL_STOP and len(w) > 2]
    return len(content) <= 4 or bool(_REFERRING.search(question))


#: How many earlier user turns a chain of follow-ups may reach back.
CHAIN_TURNS = 3


def context_of(history: list[Turn] | None) -> list[str]:
    """The user turns a follow-up leans on: the last one, and before it every turn that the
    next one followed up on, back to the question that stood on its own ("Hoe ging Haverdam om
    met de belastingchatbot?" → "En wie werd er eigenaar?" → "En de privacy?")."""
    users = user_turns(history)
    if not users:
        return []
    out = [users[-1]]
    i = len(users) - 1
    while i > 0 and len(out) < CHAIN_TURNS:
        earlier = [Turn(role="user", content=u) for u in users[:i]]
        if not is_follow_up(users[i], earlier):
            break
        i -= 1
        out.insert(0, users[i])
    return out


def condense(question: str, history: list[Turn] | None) -> str:
    """The query to retrieve with: the question itself, or the question plus its context."""
    if not is_follow_up(question, history):
        return question
    return " ".join([*context_of(history), question])
