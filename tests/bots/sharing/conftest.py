"""The channel tests for sharing back run over the same curation service as tests/curation."""

from tests.curation.conftest import sharing  # noqa: F401  (a fixture, used by name)
