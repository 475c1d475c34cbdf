"""``opschaal slack --socket``: the Slack bot over Socket Mode, for organisations without a
public URL. HTTP mode needs no command: ``opschaal serve`` mounts POST /slack/events."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

# Same option as bots.cli's IndexOpt; repeated so this module imports without bots.cli.
IndexOpt = Annotated[
    Path | None,
    typer.Option(
        "--index",
        help="Indexmap (env OPSCHAAL_INDEX_DIR; standaard .opschaal/index).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("slack")
    def slack(
        socket: Annotated[
            bool,
            typer.Option(
                "--socket", help="Verbind via Socket Mode (SLACK_APP_TOKEN), zonder publieke URL."
            ),
        ] = False,
        index: IndexOpt = None,
    ) -> None:
        """Draai de Slack-bot via Socket Mode; stop met Ctrl+C.

        Voorbeeld: SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… opschaal slack --socket
        """
        run_socket_mode(index, socket)


def run_socket_mode(index: Path | None, socket: bool) -> None:
    from slack_sdk.errors import SlackApiError

    from assistant.service import Assistant
    from bots.cli import CliError, err, settings_for
    from storage import Stores

    if not socket:
        raise CliError(
            "HTTP-modus draait mee in 'opschaal serve' (POST /slack/events); "
            "gebruik 'opschaal slack --socket' voor Socket Mode"
        )
    from .settings import SlackSettings

    settings = settings_for(index)
    slack = SlackSettings()
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", slack.bot_token),
            ("SLACK_APP_TOKEN", slack.app_token),
        )
        if not value or not value.get_secret_value()
    ]
    if missing:
        raise CliError(
            f"{' en '.join(missing)} niet gezet; zie docs/slack.md voor het aanmaken van de tokens"
        )
    assistant = Assistant(settings)
    with err.status("Kennisbank laden…"):
        assistant.warm()
    try:
        handler = connect_socket_mode(settings, assistant, Stores.from_settings(settings), slack)
    except SlackApiError as exc:
        raise CliError(
            f"Slack weigert de verbinding ({exc.response.get('error')}); controleer SLACK_APP_TOKEN "
            "(begint met xapp-, scope connections:write)"
        ) from None
    except OSError as exc:
        raise CliError(
            f"Slack is niet bereikbaar ({type(exc).__name__}); controleer de netwerkverbinding of SLACK_API_URL"
        ) from None
    err.print("Opschaalwijzer is via Socket Mode met Slack verbonden; stop met Ctrl+C.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()


def connect_socket_mode(settings, assistant, stores, slack=None):
    """Open the Socket Mode connection for the Bolt app and return its handler (call
    ``close()`` to stop). Raises SlackApiError when Slack refuses the app token."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from .app import build_app
    from .settings import SlackSettings

    slack = slack or SlackSettings()
    bolt = build_app(settings, assistant, stores, slack=slack)
    handler = SocketModeHandler(bolt, app_token=slack.app_token.get_secret_value())
    handler.connect()
    return handler
