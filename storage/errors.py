"""Storage errors, importable without SQLAlchemy (the CLI catches them on every command)."""

from __future__ import annotations


class StorageError(RuntimeError):
    """A one-line problem with the database that the operator can fix."""


class SchemaOutOfDate(StorageError):
    """The database's schema is not the one this version of the code expects."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or opened."""
