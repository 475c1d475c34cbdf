"""Share back: contributions, the curator page, knowledge gaps and AVG rights."""


def mount(app, assistant, stores, settings, curator=None):
    """Add the contribution API and curator page to the service (see api.mount)."""
    # Imported here so the CLI's start-up does not pay for FastAPI and the service.
    from .api import mount as _mount

    return _mount(app, assistant, stores, settings, curator)
