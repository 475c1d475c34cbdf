"""``opschaal db``: the version of the database schema, and upgrading it."""

from __future__ import annotations

from pathlib import Path

import typer

from bots.cli import out

db_app = typer.Typer(
    help="De database met gesprekken, feedback en bijdragen: versie bekijken en bijwerken.",
    no_args_is_help=True,
)


def _engine():
    from bots.cli import settings_for
    from storage.engine import database_url, make_engine

    return make_engine(database_url(settings_for()))


@db_app.command()
def upgrade() -> None:
    """Werk de database bij naar de nieuwste versie; maakt hem aan als hij nog niet bestaat.

    Veilig om bij elke start of uitrol te draaien. Voorbeeld: opschaal db upgrade
    """
    from storage import describe
    from storage.migrations import status
    from storage.migrations import upgrade as run_upgrade

    engine = _engine()
    try:
        state = status(engine)
        if state.up_to_date:
            out.print(
                f"database {describe(engine.url)}: al bij (versie {state.head})", markup=False
            )
            return
        before, after = run_upgrade(engine)
    finally:
        engine.dispose()
    was = before or ("indeling van vóór migraties" if state.unversioned else "nieuw")
    out.print(
        f"database {describe(engine.url)}: {was} → versie {after}", markup=False, soft_wrap=True
    )


@db_app.command()
def current() -> None:
    """Toon de versie van de database; exitcode 1 als hij bijgewerkt moet worden.

    Voorbeeld: opschaal db current
    """
    from storage import describe
    from storage.engine import is_sqlite
    from storage.migrations import status

    engine = _engine()
    if is_sqlite(engine.url) and not Path(engine.url.database).exists():
        out.print(
            f"database {describe(engine.url)}: nog niet aangemaakt; de eerste start (of "
            "'opschaal db upgrade') maakt hem aan",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    try:
        state = status(engine)
    finally:
        engine.dispose()
    where = describe(engine.url)
    if state.up_to_date:
        out.print(
            f"database {where}: versie {state.current} (nieuwste)", markup=False, soft_wrap=True
        )
        return
    found = state.current or ("geen (indeling van vóór migraties)" if state.unversioned else "leeg")
    out.print(
        f"database {where}: versie {found}, nieuwste is {state.head}; draai 'opschaal db upgrade'",
        markup=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
