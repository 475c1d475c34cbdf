"""AVG: ``opschaal person export|delete`` and the retention purge cover scaling plans."""

from __future__ import annotations

import json

import pytest

from assistant.service import Assistant
from curation.service import Sharing
from plans.service import PlanService
from storage import PlanStore, Stores
from tests.conftest import build, make_settings

INTAKE = {
    "innovation": "Zaaksysteem delen",
    "problem": "Gezamenlijke inkoop loopt vast",
    "ambition": "out",
}


@pytest.fixture
def world(tmp_path, mini_corpus):
    settings = make_settings(tmp_path / "index", embedder="fake", corpus_dir=mini_corpus)
    report, embedder, store = build(mini_corpus, settings)
    assert report.exit_code == 0
    assistant = Assistant(settings, embedder=embedder, store=store)
    stores = Stores.from_settings(settings)
    return Sharing(assistant, stores, settings), PlanService(assistant, PlanStore(stores))


def test_person_export_and_delete_cover_their_plans_and_invitations(world):
    sharing, plans = world
    own = plans.create("cli:kees-kort", INTAKE)
    other = plans.create("web:someone", INTAKE)
    plans.invite(other, "web:someone", "kees-kort", "Hoe kochten jullie samen in?")
    exported = sharing.export_person("kees-kort")
    assert [p["id"] for p in exported["plans"]] == [own]
    assert [i["plan_id"] for i in exported["plan_invitations"]] == [other]
    json.dumps(exported, default=str)
    result = sharing.delete_person("kees-kort")
    assert (result["plans_deleted"], result["plan_invitations_deleted"]) == (1, 1)
    assert plans.store.owned_by("cli:kees-kort") == []
    assert plans.store.invitations(other) == []
    assert plans.view(other, "web:someone")["id"] == other


def test_retention_purge_removes_stale_plans(world, monkeypatch):
    import storage.plans as module

    sharing, plans = world
    monkeypatch.setattr(module, "now", lambda: "2020-01-01T00:00:00+00:00")
    plans.create("web:old", INTAKE)
    monkeypatch.undo()
    fresh = plans.create("web:new", INTAKE)
    assert sharing.purge(30)["plans"] == 1
    assert [p["id"] for p in plans.store.owned_by("web:new")] == [fresh]
