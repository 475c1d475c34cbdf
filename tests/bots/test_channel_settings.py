"""Each channel's own settings class reads the environment names docs/contract.md and the
channel guides give (SLACK_BOT_TOKEN, OPSCHAAL_SLACK_*, OPSCHAAL_TEAMS_*, OPSCHAAL_CURATOR_KEYS)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistant.config import Settings
from bots.sharing.settings import CuratorSettings
from bots.slack.settings import SlackSettings
from bots.teams.settings import TeamsSettings


def test_slack_reads_the_vendor_names_and_the_prefixed_ones(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-not-real")
    monkeypatch.setenv("OPSCHAAL_SLACK_SIGNING_SECRET", "geheim")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    monkeypatch.setenv("OPSCHAAL_SLACK_PUBLIC_CHANNELS", '["C0PUBLIC"]')
    monkeypatch.setenv("OPSCHAAL_SLACK_CITED_ONLY", "1")
    monkeypatch.setenv("OPSCHAAL_SLACK_STREAM_SECONDS", "0.5")
    s = SlackSettings(_env_file=None)
    assert s.bot_token.get_secret_value() == "xoxb-test-not-real"
    assert s.signing_secret.get_secret_value() == "geheim"
    assert s.api_url == "http://127.0.0.1:9/api/"
    assert s.public_channels == ["C0PUBLIC"] and s.cited_only and s.stream_seconds == 0.5
    assert s.app_token is None
    # The token is a secret: it never shows in a repr or a log line made from one.
    assert "xoxb" not in repr(s)
    # And the core settings know nothing of it.
    assert "xoxb" not in repr(Settings(_env_file=None).model_dump())


def test_teams_reads_its_prefixed_names(monkeypatch):
    monkeypatch.setenv("OPSCHAAL_TEAMS_DEV", "1")
    monkeypatch.setenv("OPSCHAAL_TEAMS_AUDIENCE", "public")
    s = TeamsSettings(_env_file=None)
    assert s.dev is True and s.audience == "public"
    monkeypatch.setenv("OPSCHAAL_TEAMS_AUDIENCE", "iedereen")
    with pytest.raises(ValidationError, match="audience"):
        TeamsSettings(_env_file=None)


@pytest.mark.parametrize("value", ["een, twee", '["een", "twee"]'])
def test_curator_keys_are_a_comma_or_json_list(monkeypatch, value):
    monkeypatch.setenv("OPSCHAAL_CURATOR_KEYS", value)
    keys = CuratorSettings(_env_file=None).keys
    assert [k.get_secret_value() for k in keys] == ["een", "twee"]
