"""The channel tests for sharing back run over the same curation service as tests/curation."""

from bots.sharing.settings import CuratorSettings
from tests.curation.conftest import sharing  # noqa: F401  (a fixture, used by name)

#: The curator page's own settings: one key opens it.
CURATOR = CuratorSettings(keys=["geheim-sleutel"], _env_file=None)
