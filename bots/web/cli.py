"""``opschaal serve``: the web front door (API, widget, demo page, Slack and Teams endpoints)."""

from __future__ import annotations

import os
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
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Aantal werkprocessen (env OPSCHAAL_WORKERS; 0 = één per CPU-kern, hoogstens 4).",
        ),
    ] = None,
) -> None:
    """Start de webservice: chatwidget, demopagina, REST API en de Slack- en Teams-koppelingen.

    Voorbeeld: opschaal serve --host 0.0.0.0 --port 8000 --workers 2
    """
    import uvicorn

    from assistant.index import read_manifest
    from bots.cli import CliError, err, out, settings_for

    from .app import create_app

    settings = settings_for(index)
    host = host or settings.host
    port = port or settings.port
    n = resolve_workers(settings.workers if workers is None else workers)
    if read_manifest(Path(settings.index_dir)) is None:
        raise CliError(
            f"geen index gevonden in {settings.index_dir}; bouw hem eerst met 'opschaal ingest'"
        )
    _check_database(settings)
    _check_port(host, port)

    # The app must know the real bind address: Teams' dev mode is only allowed on loopback.
    settings = settings.model_copy(update={"host": host, "port": port, "workers": n})
    prepare_worker_env(settings, n)
    shown = "localhost" if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
    out.print(
        f"Opschaalwijzer draait op http://{shown}:{port}/  (API: /docs, gereed: /readyz)",
        markup=False,
        highlight=False,
    )
    err.print(
        f"{n} werkproces{'sen' if n > 1 else ''}; de kennisbank wordt op de achtergrond geladen; "
        "stop met Ctrl+C.",
        markup=False,
        highlight=False,
    )
    options = uvicorn_options(settings)
    if n == 1:
        uvicorn.run(create_app(settings), **options)
    else:
        # Several processes need an import string: each worker builds its own app from the
        # environment that prepare_worker_env() filled in.
        uvicorn.run("bots.web.app:create_app_from_env", factory=True, workers=n, **options)


def resolve_workers(requested: int) -> int:
    """``requested``, or for 0 one worker per CPU this process may use, at most 4 (each worker
    holds its own copy of the model, ~300 MB)."""
    if requested > 0:
        return requested
    return max(1, min(4, usable_cpus()))


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, where the OS tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def prepare_worker_env(settings, workers: int) -> None:
    """Environment for the server process and the workers it spawns.

    The embedding engine uses OpenMP. Its threads busy-wait between calls, so with several
    processes (or other work) on the same cores they burn CPU and stall each other; a worker
    gets its share of the cores and waits passively. Values an admin set win.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    if workers > 1:
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, usable_cpus() // workers)))
        # Workers are fresh processes: they read their settings from the environment.
        os.environ["OPSCHAAL_INDEX_DIR"] = str(Path(settings.index_dir).resolve())
        os.environ["OPSCHAAL_DATA_DIR"] = str(Path(settings.data_dir).resolve())
        if settings.database_url:
            from storage import database_url

            os.environ["OPSCHAAL_DATABASE_URL"] = database_url(settings)
        os.environ["OPSCHAAL_HOST"] = settings.host
        os.environ["OPSCHAAL_PORT"] = str(settings.port)
        os.environ["OPSCHAAL_WORKERS"] = str(workers)
        # Prometheus counters live in files that /metrics sums over all workers.
        from .metrics import prepare_multiprocess_dir

        prepare_multiprocess_dir(Path(settings.data_dir))


def uvicorn_options(settings) -> dict:
    """What every ``opschaal serve`` passes to uvicorn, whatever the number of workers."""
    # uvicorn's own proxy_headers would trust X-Forwarded-For from 127.0.0.1, so any local
    # process could name its own rate-limit bucket. The app reads the header itself, from
    # OPSCHAAL_TRUSTED_PROXIES only.
    return {
        "proxy_headers": False,
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        "timeout_keep_alive": settings.keep_alive_seconds,
    }


def _check_database(settings) -> None:
    """Refuse to start on a database that is behind (or unreachable): one line that says which
    command to run, before any worker starts. A new SQLite database is created here."""
    from storage import Stores

    Stores.from_settings(settings).close()


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
