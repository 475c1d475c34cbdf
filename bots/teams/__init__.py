"""Microsoft Teams channel: ``mount(app, assistant, stores, settings, teams)`` adds POST /api/messages.

Off unless configured: Azure bot credentials in the Agents SDK's env vars
(``CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID`` / ``CLIENTSECRET`` / ``TENANTID``), or
``OPSCHAAL_TEAMS_DEV=1`` on a loopback host for token-less local testing. See docs/teams.md.

``mount`` lives in ``endpoint.py`` and is loaded on first use: ``opschaal teams …`` commands import
this package, and must not pay for FastAPI and the Agents SDK they never use.
"""


def __getattr__(name: str):
    if name == "mount":
        from .endpoint import mount

        return mount
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
