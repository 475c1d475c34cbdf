"""Teams' own settings (``OPSCHAAL_TEAMS_*``). The bot's credentials are the Agents SDK's
``CONNECTIONS__…`` variables, which the SDK reads itself (bots/teams/env.py)."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class TeamsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPSCHAAL_TEAMS_", env_file=".env", extra="ignore")

    #: Accept turns without a token, on loopback only (the Agents Playground).
    dev: bool = False
    #: Audience for Teams answers: ``internal`` (default; Teams is inside the organisation) or
    #: ``public`` for tenants with many guests.
    audience: Literal["public", "internal"] = "internal"
