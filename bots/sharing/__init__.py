"""Share back: contributions, the curator page, knowledge gaps and AVG rights."""

from .api import mount

__all__ = ["mount"]
