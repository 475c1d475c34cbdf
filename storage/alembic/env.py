"""Alembic environment for Opschaalwijzer's own database (run through storage.migrations)."""

from __future__ import annotations

from alembic import context

from storage.engine import make_engine
from storage.schema import metadata

#: Any fixed number: concurrent ``opschaal db upgrade`` runs against one PostgreSQL queue on it.
ADVISORY_LOCK = 0x0F5C4A1

config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(
        config.get_main_option("sqlalchemy.url")
    )
    with engine.connect() as connection:
        # SQLite runs DDL in transactions too; one transaction per upgrade means two processes
        # that create a new database at the same moment queue instead of racing.
        context.configure(
            connection=connection,
            target_metadata=metadata,
            transactional_ddl=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use 'opschaal db upgrade'")
run_migrations_online()
