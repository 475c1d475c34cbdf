from __future__ import annotations

import shutil

import pytest

from tests.conftest import BUNDLED_CORPUS, build, make_settings


@pytest.fixture(scope="module")
def plan_world(tmp_path_factory):
    """A writable copy of the bundled corpus (hashing embedder, real Chroma), an Assistant over
    it and a PlanService on a fresh SQLite database."""
    from assistant.service import Assistant
    from plans.service import PlanService
    from storage import PlanStore, Stores

    root = tmp_path_factory.mktemp("plans")
    corpus = root / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    settings = make_settings(root / "index", embedder="fake")
    report, embedder, store = build(corpus, settings)
    assert report.exit_code == 0, report.invalid
    assistant = Assistant(settings, embedder=embedder, store=store)
    service = PlanService(assistant, PlanStore(Stores(root / "db.sqlite3")))
    return {
        "corpus": corpus,
        "settings": settings,
        "assistant": assistant,
        "service": service,
        "embedder": embedder,
        "store": store,
    }


STRAATSEIN = {
    "innovation": "Straatsein meldingen-app",
    "problem": "Inwoners melden problemen in de openbare ruimte met foto en locatie; de meldingen "
    "bevatten persoonsgegevens.",
    "where": "Gemeente Lindewaard (fictief)",
    "owner": "Nog niemand: na de pilot is er geen eigenaar",
    "budget": "Alleen pilotgeld tot het eind van het jaar",
    "blocker": "Elke gemeente besteedt apart aan en de leverancier kan het niet aan",
    "ambition": "out",
    "language": "nl",
}
