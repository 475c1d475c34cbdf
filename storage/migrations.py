"""Schema versions: Alembic revisions shipped inside the package, so an installed Opschaalwijzer
can migrate its own database (``opschaal db upgrade``).

Rules every command follows (docs/deployment.md):

- A brand-new SQLite database (no file, or no tables) is created at the newest version by
  whatever opens it first, so a first ``make run`` needs no extra step.
- Nothing else changes a schema implicitly: a database that is behind, and every PostgreSQL
  database, is upgraded by ``opschaal db upgrade`` only. Opening a database that is behind
  raises :class:`SchemaOutOfDate` with the command to run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from .engine import autocommit, describe, is_sqlite
from .errors import DatabaseUnavailable, SchemaOutOfDate
from .schema import metadata

SCRIPT_LOCATION = "storage:alembic"
VERSION_TABLE = "alembic_version"
#: Alembic keeps the running migration in module globals: one run per process at a time.
#: (Between processes the database's own transaction lock orders them; see alembic/env.py.)
_RUNNING = threading.Lock()


@dataclass(frozen=True)
class Status:
    current: str | None
    head: str
    #: Tables of ours exist although no version is recorded: a database from before migrations.
    unversioned: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def _config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head() -> str:
    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev is not None, "storage/alembic has no revisions"
    return rev


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def status(engine: Engine) -> Status:
    try:
        with engine.connect().execution_options(**autocommit(engine)) as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            ours = set(metadata.tables) & set(sa.inspect(conn).get_table_names())
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"de database {describe(engine.url)} is niet bereikbaar ({reason}); "
            "controleer OPSCHAAL_DATABASE_URL"
        ) from None
    return Status(current=current, head=head(), unversioned=current is None and bool(ours))


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Run the migrations up to ``revision``; returns (version before, version after)."""
    with _RUNNING:
        before = status(engine).current
        command.upgrade(_config(engine), revision)
    return before, status(engine).current or ""


def ensure_current(engine: Engine) -> None:
    """Create a new SQLite database at the newest version; refuse one that is behind or ahead."""
    state = status(engine)
    if state.up_to_date:
        return
    if state.current is None and not state.unversioned and is_sqlite(engine.url):
        with _RUNNING:
            command.upgrade(_config(engine), "head")
        return
    where = describe(engine.url)
    if state.current is not None and state.current not in known_revisions():
        raise SchemaOutOfDate(
            f"de database {where} heeft versie {state.current}, nieuwer dan deze Opschaalwijzer "
            f"kent ({state.head}); installeer de nieuwere versie"
        )
    if state.unversioned:
        raise SchemaOutOfDate(
            f"de database {where} heeft nog de indeling van vóór de migraties (nodig: versie "
            f"{state.head}); draai eerst 'opschaal db upgrade'"
        )
    if state.current is None:
        raise SchemaOutOfDate(
            f"de database {where} is leeg; maak de tabellen aan met 'opschaal db upgrade'"
        )
    raise SchemaOutOfDate(
        f"de database {where} is niet bijgewerkt (versie {state.current}, nodig {state.head}); "
        "draai eerst 'opschaal db upgrade'"
    )
