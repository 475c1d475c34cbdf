"""Every storage test runs on both supported databases: SQLite (the default) and a real
PostgreSQL server (a throw-away cluster, see ``postgres_server`` in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The URL of a new, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'opschaal.sqlite3'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def stores(database_url):
    """Stores on a database at the newest schema version."""
    from storage import Stores
    from storage.engine import make_engine
    from storage.migrations import upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    s = Stores(engine)
    yield s
    s.close()
