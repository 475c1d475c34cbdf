"""Fixtures the channel tests share."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import BUNDLED_CORPUS, build, make_settings


@pytest.fixture(scope="session")
def plan_corpus(tmp_path_factory):
    """A writable copy of the bundled corpus (its people have Slack and Teams ids), indexed once
    with the hashing embedder and real Chroma: (corpus, settings, embedder, store). A test that
    changes the corpus restores it and rebuilds before it ends."""
    root = tmp_path_factory.mktemp("channelplan")
    corpus = root / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    settings = make_settings(root / "index", embedder="fake")
    report, embedder, store = build(corpus, settings)
    assert report.exit_code == 0, report.invalid
    return corpus, settings, embedder, store
