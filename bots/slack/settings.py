"""Slack's own settings: the app's credentials and the channel policy.

Read from the environment on their own, so the core :class:`assistant.config.Settings` carries
no channel secret. The credentials keep the names Slack's documentation gives admins
(``SLACK_BOT_TOKEN``…), with the ``OPSCHAAL_`` spelling accepted too (docs/slack.md).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _vendor(name: str) -> AliasChoices:
    return AliasChoices(name, f"OPSCHAAL_{name}")


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPSCHAAL_SLACK_", env_file=".env", extra="ignore", populate_by_name=True
    )

    bot_token: SecretStr | None = Field(default=None, validation_alias=_vendor("SLACK_BOT_TOKEN"))
    signing_secret: SecretStr | None = Field(
        default=None, validation_alias=_vendor("SLACK_SIGNING_SECRET")
    )
    app_token: SecretStr | None = Field(default=None, validation_alias=_vendor("SLACK_APP_TOKEN"))
    #: Another Web API base (a loopback server in the tests, a proxy in some networks).
    api_url: str | None = Field(default=None, validation_alias=_vendor("SLACK_API_URL"))
    #: Seconds between progressive message updates while a generative answer streams.
    stream_seconds: float = 1.5
    #: Channel ids (JSON list) that only get public documents; the rest of Slack is internal.
    public_channels: list[str] = Field(default_factory=list)
    #: In channels, post only answers that cite sources; the rest goes only to the asker.
    cited_only: bool = False
