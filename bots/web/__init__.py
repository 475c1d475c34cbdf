"""The web channel: one FastAPI app with the REST API, SSE streaming, the chat widget and the
demo page. Slack and Teams mount into the same app (see ``create_app``)."""

from .app import create_app

__all__ = ["create_app"]
