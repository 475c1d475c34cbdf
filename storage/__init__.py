"""Everything the product stores that it cannot rebuild from the corpus: conversations,
answers, feedback, channel events, contributions, scaling plans and rate-limit buckets.

The only package that speaks SQL (SQLAlchemy Core; SQLite by default, PostgreSQL through
``OPSCHAAL_DATABASE_URL``). The schema is versioned with Alembic (``storage/alembic``); see
``storage.migrations`` for when a database is created, refused or upgraded.

Names load on first use, so ``storage.errors`` costs a CLI call nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .errors import DatabaseUnavailable, SchemaOutOfDate, StorageError

if TYPE_CHECKING:
    from .contributions import ContributionStore
    from .engine import database_url, describe
    from .plans import PlanStore
    from .ratelimit import BucketStore
    from .stores import AnswerMismatch, NotFound, Stores, now

_LAZY = {
    "AnswerMismatch": "stores",
    "BucketStore": "ratelimit",
    "ContributionStore": "contributions",
    "NotFound": "stores",
    "PlanStore": "plans",
    "Stores": "stores",
    "now": "stores",
    "database_url": "engine",
    "describe": "engine",
}

__all__ = [
    "AnswerMismatch",
    "BucketStore",
    "ContributionStore",
    "DatabaseUnavailable",
    "NotFound",
    "PlanStore",
    "SchemaOutOfDate",
    "StorageError",
    "Stores",
    "database_url",
    "describe",
    "now",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
