"""Which Teams setup applies: real Azure bot credentials, the loopback dev mode, or none.

The credentials use the Microsoft 365 Agents SDK's own environment variable names
(``CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID`` …), because that is what Microsoft's
documentation and the Azure portal samples tell admins to set. Nothing here logs a secret.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ConnectionManager,
    Connections,
)

from .env import ENV_AUTH_TYPE, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_TENANT_ID, PREFIX  # noqa: F401
from .settings import TeamsSettings

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

# Only the SDK's own keys go to its parser: it splits every variable on "__" and would
# otherwise also configure its logging from unrelated variables.
_SDK_KEYS = ("CONNECTIONS__", "CONNECTIONSMAP__", "AGENTAPPLICATION__")


class TeamsConfigError(ValueError):
    """The Teams configuration is present but unusable; ``str()`` says what to fix."""


@dataclass
class TeamsAuth:
    """What the endpoint needs: the JWT validation config and the outbound token source."""

    auth_config: AgentAuthConfiguration
    connection_manager: Connections
    dev: bool
    app_id: str | None


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip().lower()
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str | None) -> bool:
    try:
        return is_loopback_host(urlsplit(url or "").hostname)
    except ValueError:
        return False


def sdk_config(environ: Mapping[str, str]) -> dict:
    return load_configuration_from_env(
        {k: v for k, v in environ.items() if k.startswith(_SDK_KEYS)}
    )


def load_auth(settings, teams: TeamsSettings, environ: Mapping[str, str]) -> TeamsAuth | None:
    """The Teams setup for these settings and environment; ``None`` when Teams is off.

    Raises ``TeamsConfigError`` for a half-done configuration or a dev mode that would be
    reachable from outside this machine.
    """
    config = sdk_config(environ)
    svc = (config.get("CONNECTIONS", {}).get("SERVICE_CONNECTION") or {}).get("SETTINGS") or {}
    client_id = (svc.get("CLIENTID") or "").strip()
    dev = teams.dev

    if dev and not is_loopback_host(getattr(settings, "host", None)):
        raise TeamsConfigError(
            f"OPSCHAAL_TEAMS_DEV=1 weigert: de service luistert op {settings.host!r}, niet op loopback; "
            "ontwikkelmodus laat berichten zonder token toe, start met --host 127.0.0.1 of zet "
            "OPSCHAAL_TEAMS_DEV uit"
        )

    if client_id:
        auth_type = (svc.get("AUTHTYPE") or "ClientSecret").strip()
        missing = [ENV_TENANT_ID] if not (svc.get("TENANTID") or "").strip() else []
        if auth_type.lower() == "clientsecret" and not (svc.get("CLIENTSECRET") or "").strip():
            missing.append(ENV_CLIENT_SECRET)
        if missing:
            raise TeamsConfigError(
                f"Teams half ingesteld: {ENV_CLIENT_ID} staat, maar {' en '.join(missing)} ontbreekt; "
                "zet ze uit de Azure Bot-registratie (zie docs/teams.md)"
            )
        from microsoft_agents.authentication.msal import MsalConnectionManager

        try:
            manager = MsalConnectionManager(**config)
            auth_config = manager.get_default_connection_configuration()
        except ValueError as exc:
            raise TeamsConfigError(
                f"Teams-configuratie ongeldig: {exc}; zie docs/teams.md"
            ) from None
        # Dev mode on loopback may additionally accept token-less calls (Agents Playground).
        auth_config.ANONYMOUS_ALLOWED = dev
        return TeamsAuth(auth_config, manager, dev, client_id)

    if dev:
        anonymous = AgentAuthConfiguration(anonymous_allowed=True)
        manager = ConnectionManager(
            provider_factory=lambda _cfg: AnonymousTokenProvider(),
            connections_configurations={"SERVICE_CONNECTION": anonymous},
        )
        return TeamsAuth(anonymous, manager, True, None)
    return None
