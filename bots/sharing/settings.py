"""The curator page's own setting: the keys that open it (``OPSCHAAL_CURATOR_KEYS``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from assistant.config import comma_list


class CuratorSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPSCHAAL_CURATOR_", env_file=".env", extra="ignore"
    )

    #: Comma-separated or a JSON list. Empty: the curator page is off.
    keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    _keys = field_validator("keys", mode="before")(comma_list)
