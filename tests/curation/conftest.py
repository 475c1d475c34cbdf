"""The curation service on the mini corpus, shared by tests/curation and the channel tests."""

from __future__ import annotations

import pytest

from assistant.service import Assistant
from curation.service import Sharing
from storage import Stores
from tests.conftest import build, make_settings

GOOD = {
    "title": "Samen inkopen met de buurgemeenten",
    "tried": "We hebben met drie buurgemeenten één gezamenlijke aanbesteding voor het zaaksysteem gedaan.",
    "obstacles": ["inkoop"],
    "learned": "Een gezamenlijke marktconsultatie vooraf scheelde ons maanden discussie over eisen.",
    "organisation": "Testgemeente Zuid",
    "contact_ok": True,
    "name": "Piet Proef",
    "email": "piet-proef@example.org",
}


@pytest.fixture
def sharing(tmp_path, mini_corpus):
    settings = make_settings(tmp_path / "index", embedder="fake", corpus_dir=mini_corpus)
    report, embedder, store = build(mini_corpus, settings)
    assert report.exit_code == 0
    assistant = Assistant(settings, embedder=embedder, store=store)
    return Sharing(assistant, Stores.from_settings(settings), settings)
