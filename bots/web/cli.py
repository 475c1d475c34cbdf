"""``opschaal serve``: the web front door (API, widget, demo page, Slack and Teams endpoints)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            "--host", help="Adres om op te luisteren (env OPSCHAAL_HOST; standaard 127.0.0.1)."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Poort (env OPSCHAAL_PORT; standaard 8000)."),
    ] = None,
    index: Annotated[
        Path | None,
        typer.Option("--index", help="Indexmap (env OPSCHAAL_INDEX_DIR).", show_default=False),
    ] = None,
) -> None:
    """Start de webservice: chatwidget, demopagina, REST API en de Slack- en Teams-koppelingen.

    Voorbeeld: opschaal serve --host 0.0.0.0 --port 8000
    """
    import uvicorn

    from assistant.index import read_manifest
    from bots.cli import CliError, err, out, settings_for

    from .app import create_app

    settings = settings_for(index)
    host = host or settings.host
    port = port or settings.port
    if read_manifest(Path(settings.index_dir)) is None:
        raise CliError(
            f"geen index gevonden in {settings.index_dir}; bouw hem eerst met 'opschaal ingest'"
        )
    _check_port(host, port)

    # The app must know the real bind address: Teams' dev mode is only allowed on loopback.
    app = create_app(settings.model_copy(update={"host": host, "port": port}))
    shown = "localhost" if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
    out.print(
        f"Opschaalwijzer draait op http://{shown}:{port}/  (API: /docs, gereed: /readyz)",
        markup=False,
        highlight=False,
    )
    err.print(
        "De kennisbank wordt op de achtergrond geladen; stop met Ctrl+C.",
        markup=False,
        highlight=False,
    )
    # proxy_headers (uvicorn's default) trusts X-Forwarded-For from 127.0.0.1 only, so behind a
    # local reverse proxy the rate limit still sees the real client.
    uvicorn.run(
        app, host=host, port=port, log_level="warning", access_log=False, server_header=False
    )


def _check_port(host: str, port: int) -> None:
    from bots.cli import CliError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise CliError(
                f"kan niet luisteren op {host}:{port} ({exc.strerror}); kies een andere poort met --port"
            ) from exc


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
