"""One channel session helper: conversation → history window → ask/stream → save → metrics.

Web, Slack and Teams all answer the same way; only how they deliver differs. This module holds
the shared part, so the history window is one setting (``OPSCHAAL_HISTORY_TURNS``), questions
are validated in one place (``Assistant`` itself, via ``check_question``), and every channel's
answers are stored and counted alike (``/metrics`` by channel when Slack or Teams are mounted
into the web app).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from assistant.models import Answer, Turn
from assistant.service import Assistant
from storage import Stores


class AnswerCounter(Protocol):
    def answer(self, answer: Answer, channel: str = "web") -> None: ...


class ChannelSession:
    """The conversation bookkeeping of one channel around ``Assistant.ask`` and ``stream``."""

    def __init__(
        self,
        assistant: Assistant,
        stores: Stores,
        channel: str,
        metrics: AnswerCounter | None = None,
    ) -> None:
        self.assistant = assistant
        self.stores = stores
        self.channel = channel
        self.metrics = metrics

    @property
    def window(self) -> int:
        return self.assistant.settings.history_turns

    def conversation(self, external_id: str, audience: str = "public") -> str:
        """The conversation for the channel's own thread or chat id, created on first use."""
        return self.stores.conversation_for(self.channel, external_id, audience=audience)

    def history(self, conversation_id: str | None) -> list[Turn]:
        if not conversation_id:
            return []
        return self.stores.history(conversation_id, limit=self.window)

    def record(self, answer: Answer, conversation_id: str | None = None) -> Answer:
        """Store the answer (and the turn pair) and count it; returns the stored copy, which
        carries its ``answer_id``."""
        answer = self.stores.save_answer(answer, self.channel, conversation_id)
        if self.metrics is not None:
            self.metrics.answer(answer, self.channel)
        return answer

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        *,
        history: list[Turn] | None = None,
        **kwargs,
    ) -> Answer:
        if history is None:
            history = self.history(conversation_id)
        answer = self.assistant.ask(question, history=history, **kwargs)
        return self.record(answer, conversation_id)

    def stream(
        self,
        question: str,
        conversation_id: str | None = None,
        *,
        history: list[Turn] | None = None,
        **kwargs,
    ) -> Iterator[tuple[str, object]]:
        """``Assistant.stream``'s events; the final answer is stored and counted before it is
        yielded, so it carries its ``answer_id``."""
        if history is None:
            history = self.history(conversation_id)
        for kind, value in self.assistant.stream(question, history=history, **kwargs):
            if kind == "answer":
                assert isinstance(value, Answer)
                value = self.record(value, conversation_id)
            yield kind, value
