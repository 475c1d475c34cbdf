"""The Teams endpoint on the web app (``bots.teams.mount``); imports FastAPI, so loaded lazily."""

# No ``from __future__ import annotations`` here: FastAPI must see the real ``Request`` class on
# the decorated endpoint, not a string it would have to resolve in the SDK's module.
import logging
import os

from fastapi import FastAPI, Request

log = logging.getLogger("bots.teams")

ROUTE = "/api/messages"


def mount(app: FastAPI, assistant, stores, settings, teams=None) -> bool:
    """Mount the Teams endpoint on ``app``; returns whether Teams is on.

    Logs exactly one line when Teams stays off (not configured, or refused).
    """
    from .auth import ENV_CLIENT_ID, TeamsConfigError, load_auth
    from .settings import TeamsSettings

    teams = teams or TeamsSettings()
    try:
        auth = load_auth(settings, teams, os.environ)
    except TeamsConfigError as exc:
        log.error("Teams staat uit: %s", exc)
        return False
    if auth is None:
        log.warning("Teams staat uit: %s is niet gezet (zie docs/teams.md)", ENV_CLIENT_ID)
        return False

    from microsoft_agents.hosting.fastapi import jwt_authorization_decorator

    from .agent import TeamsBot

    # Mounted into the web app, Teams answers count in its /metrics (channel="teams").
    bot = TeamsBot(assistant, stores, settings, auth, getattr(app.state, "metrics", None), teams)
    # The SDK's JWT check reads its configuration from app.state.
    app.state.agent_configuration = auth.auth_config
    app.state.teams_bot = bot

    @jwt_authorization_decorator
    async def teams_messages(request: Request):
        return await bot.endpoint(request)

    app.add_api_route(ROUTE, teams_messages, methods=["POST"], include_in_schema=False)
    if auth.dev:
        # Token-less turns have no app id; the SDK would warn about that on every message.
        logging.getLogger(
            "microsoft_agents.hosting.core.connector.client.user_token_client"
        ).setLevel(logging.ERROR)
        log.warning(
            "Teams in ontwikkelmodus: berichten zonder token worden aangenomen (alleen loopback)"
        )
    else:
        log.info("Teams aan op %s", ROUTE)
    return True
