"""The web channel: one FastAPI app with the REST API, SSE streaming, the chat widget and the
demo page. Slack and Teams mount into the same app (see ``create_app``)."""

from __future__ import annotations


def create_app(*args, **kwargs):
    """See :func:`bots.web.app.create_app`."""
    # Imported on use: every CLI command imports this package, few of them serve HTTP.
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["create_app"]
