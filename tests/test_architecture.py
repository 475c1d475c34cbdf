"""The direction of dependencies (docs/architecture.md), checked on the source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMPORT = re.compile(r"^\s*(?:from|import)\s+([a-z_]+)", re.M)

# package -> packages of this project it must never import
FORBIDDEN = {
    "assistant": {"ingest", "bots", "evals", "bench", "tests", "storage", "curation", "plans"},
    "ingest": {"bots", "evals", "bench", "tests", "storage", "curation"},
    # Storage holds the data; the channels and the domains that use it are above it.
    "storage": {"ingest", "bots", "evals", "bench", "tests", "curation", "plans"},
    # Curation is a domain: channels call it, never the other way round.
    "curation": {"bots", "evals", "bench", "tests"},
    # The plan domain sits beside curation: it uses assistant/ and storage/, channels use it.
    "plans": {"ingest", "bots", "evals", "bench", "tests"},
    "bots": {"tests", "bench"},
    "evals": {"tests", "bench"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    bad = []
    for path in (ROOT / package).rglob("*.py"):
        for name in IMPORT.findall(path.read_text(encoding="utf-8")):
            if name in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, bad


def _files_matching(pattern: re.Pattern, packages: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}"
        for package in packages
        for path in (ROOT / package).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]


def test_only_storage_speaks_sql() -> None:
    """Nothing outside storage/ opens a database connection or writes SQL of its own."""
    sql = re.compile(
        r"\bimport sqlite3\b|\bimport sqlalchemy\b|from sqlalchemy\b|\._conn\(|\bexecute\("
    )
    bad = _files_matching(sql, ("assistant", "ingest", "curation", "bots", "evals", "plans"))
    assert not bad, bad


def test_core_settings_carry_no_channel_settings() -> None:
    """Slack, Teams and curator settings (their secrets above all) live with their channel:
    bots/slack/settings.py, bots/teams/settings.py, bots/sharing/settings.py."""
    from assistant.config import Settings

    channel = [f for f in Settings.model_fields if f.startswith(("slack_", "teams_", "curator"))]
    assert not channel, channel
    source = (ROOT / "assistant" / "config.py").read_text(encoding="utf-8")
    assert "SLACK_" not in source and "CURATOR_KEYS" not in source


def test_channels_read_their_settings_from_their_own_class() -> None:
    """No channel reads a channel setting off the core settings object."""
    attr = re.compile(r"settings\.(slack_|teams_|curator_)")
    bad = _files_matching(attr, ("assistant", "bots", "curation", "plans", "evals", "bench"))
    assert not bad, bad
