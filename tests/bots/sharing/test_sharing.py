"""Share back: contributions, review, recovery, gaps, analytics, retention, AVG rights."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.gaps import GapItem, cluster
from assistant.service import Assistant
from bots.sharing.api import mount
from bots.sharing.models import ContributionError
from bots.sharing.service import Sharing, SharingError
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
    settings = make_settings(
        tmp_path / "index", embedder="fake", corpus_dir=mini_corpus, curator_keys=["geheim-sleutel"]
    )
    report, embedder, store = build(mini_corpus, settings)
    assert report.exit_code == 0
    assistant = Assistant(settings, embedder=embedder, store=store)
    return Sharing(assistant, Stores.from_settings(settings), settings)


def test_round_trip_submit_approve_ingest_retrieve(sharing):
    cid = sharing.submit(GOOD, channel="test")
    assert sharing.contributions.get(cid)["status"] == "pending"
    path = sharing.approve(cid)
    assert path.parent.name == "bijdragen" and path.exists()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n") and "type: lesson" in text
    assert sharing.contributions.get(cid)["status"] == "published"
    answer = sharing.assistant.ask(
        "gezamenlijke marktconsultatie voor een zaaksysteem aanbesteding"
    )
    doc_id = "bijdragen/" + path.stem
    assert doc_id in answer.retrieved[:3]
    # contact_ok=True made the contributor a consenting, recommendable person
    people = yaml.safe_load((sharing.corpus / "people.yaml").read_text(encoding="utf-8"))
    piet = next(p for p in people if p["name"] == "Piet Proef")
    assert piet["consent"] is True and "inkoop" in piet["obstacles"]
    assert (
        (sharing.corpus / "people.yaml")
        .read_text(encoding="utf-8")
        .startswith("# Fictional test people")
    )


def test_no_contact_means_no_person(sharing):
    data = GOOD | {"contact_ok": False, "name": None, "email": None}
    sharing.approve(sharing.submit(data, channel="test"))
    people = yaml.safe_load((sharing.corpus / "people.yaml").read_text(encoding="utf-8"))
    assert all(p["name"] != "Piet Proef" for p in people)


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"contact_ok": None}, "mag je benaderd worden"),
        ({"contact_ok": "ja"}, "mag je benaderd worden"),
        ({"obstacles": ["bestaat-niet"]}, "onbekend bestaat-niet"),
        ({"obstacles": []}, "obstakels"),
        ({"email": None}, "naam en e-mailadres"),
        ({"email": "geen-adres"}, "e-mailadres"),
        ({"title": ""}, "titel"),
        ({"hacker": 1}, "geen veld"),
    ],
)
def test_validation_errors_are_clear(sharing, change, fragment):
    data = {k: v for k, v in (GOOD | change).items() if not (k == "contact_ok" and v is None)}
    with pytest.raises(ContributionError) as exc:
        sharing.submit(data, channel="test")
    assert fragment in str(exc.value)
    assert "\n" not in str(exc.value)
    assert sharing.contributions.list() == []


def test_crash_between_approval_and_ingest_is_recovered(sharing):
    cid = sharing.submit(GOOD, channel="test")
    # Simulate a crash right after the approval was recorded, before the file and ingest.
    sharing.contributions.set_status(
        cid, "approved", expect=("pending",), doc_path="bijdragen/herstel.md"
    )
    assert not (sharing.corpus / "bijdragen/herstel.md").exists()
    fresh = Sharing(sharing.assistant, Stores(sharing.stores.path), sharing.settings)
    assert fresh.recover() == [cid]
    assert (sharing.corpus / "bijdragen/herstel.md").exists()
    assert fresh.contributions.get(cid)["status"] == "published"
    assert (
        "bijdragen/herstel"
        in sharing.assistant.ask("gezamenlijke aanbesteding zaaksysteem buurgemeenten").retrieved
    )
    assert fresh.recover() == []


def test_approve_twice_is_refused(sharing):
    cid = sharing.submit(GOOD, channel="test")
    sharing.approve(cid)
    with pytest.raises(SharingError):
        sharing.approve(cid)


def test_curator_endpoints_need_a_key(sharing):
    app = FastAPI()
    mount(app, sharing.assistant, sharing.stores, sharing.settings)
    client = TestClient(app)
    assert client.get("/curator").status_code == 401
    assert client.get("/curator/api/contributions").status_code == 401
    assert client.get("/curator", headers={"X-Curator-Key": "fout"}).status_code == 401
    r = client.post("/api/contributions", json=GOOD)
    assert r.status_code == 201
    cid = r.json()["id"]
    bad = client.post("/api/contributions", json=GOOD | {"obstacles": ["x"]})
    assert bad.status_code == 422 and "onbekend" in bad.json()["detail"]
    h = {"Authorization": "Bearer geheim-sleutel"}
    page = client.get("/curator", headers=h)
    assert page.status_code == 200 and GOOD["title"] in page.text
    assert (
        client.post(f"/curator/api/contributions/{cid}/approve", headers=h).json()["status"]
        == "published"
    )
    assert client.post(f"/curator/api/contributions/{cid}/approve", headers=h).status_code == 409
    assert client.get("/curator/api/analytics", headers=h).status_code == 200


def test_cross_site_form_post_is_refused(sharing):
    app = FastAPI()
    mount(app, sharing.assistant, sharing.stores, sharing.settings)
    client = TestClient(app)
    cid = sharing.submit(GOOD, channel="test")
    r = client.post(
        f"/curator/contributions/{cid}/reject",
        headers={"X-Curator-Key": "geheim-sleutel", "Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert sharing.contributions.get(cid)["status"] == "pending"


@pytest.mark.slow
def test_gap_clustering_groups_questions_by_topic(bundled_assistant):
    from assistant.service import knowledge_gaps

    now = dt.datetime.now(dt.UTC)
    qs = [
        ("Hoe vraag ik een paspoort aan bij de gemeente?", 1),
        ("Paspoort aanvragen: welke documenten heb ik nodig?", 2),
        ("Wat kost een paspoort aanvragen?", 10),
        ("Welke voetbalclub won de beker?", 3),
        ("Wie won de voetbal beker vorig jaar?", 4),
        ("Wat is een goed recept voor erwtensoep?", 5),
    ]
    items = [GapItem(q, (now - dt.timedelta(days=d)).isoformat(), "abstained") for q, d in qs]
    gaps = knowledge_gaps(bundled_assistant, items)
    groups = sorted(sorted(g.examples) for g in gaps)
    assert groups == sorted(
        [sorted(q for q, _ in qs[:3]), sorted(q for q, _ in qs[3:5]), [qs[5][0]]]
    )
    paspoort = gaps[0]
    assert paspoort.count == 3 and paspoort.last_7_days == 2 and paspoort.previous_7_days == 1
    assert paspoort.trend == "stijgend"
    assert "paspoort" in paspoort.label


def test_cluster_is_deterministic():
    import numpy as np

    v = np.array([[1, 0], [0.99, 0.1], [0, 1]], dtype=np.float32)
    assert cluster(v, 0.9) == [[0, 1], [2]]


def test_gaps_come_from_abstained_and_disliked_answers(sharing):
    a1 = sharing.assistant.ask("Hoe vraag ik een paspoort aan?")
    a2 = sharing.assistant.ask("Hoe kopen gemeenten samen een meldingensysteem in?")
    a3 = sharing.assistant.ask("Hoe schrijf ik een DPIA voor camerabeelden?")
    assert a1.abstained and not a2.abstained
    a1, a2, a3 = (sharing.stores.save_answer(a, channel="test") for a in (a1, a2, a3))
    sharing.stores.add_feedback(a2.answer_id, "down", channel="test")
    sharing.stores.add_feedback(a3.answer_id, "up", channel="test")
    questions = {i.question for i in sharing.gap_items()}
    assert questions == {a1.question, a2.question}
    stats = sharing.analytics()
    assert stats["answers_total"] == 3 and stats["feedback_down"] == 1 and stats["feedback_up"] == 1
    assert all(pid != "geheim-persoon" for pid, _, _ in stats["most_recommended"])


def test_retention_purge_removes_only_old_rows(sharing, monkeypatch):
    ancient = (dt.datetime.now(dt.UTC) - dt.timedelta(days=120)).isoformat(timespec="seconds")
    with monkeypatch.context() as m:
        m.setattr("storage.stores.now", lambda: ancient)
        old = sharing.stores.save_answer(
            sharing.assistant.ask("Hoe kopen gemeenten samen in?"), channel="test"
        )
    new = sharing.stores.save_answer(sharing.assistant.ask("Hoe doe je een DPIA?"), channel="test")
    assert sharing.stores.answer(old.answer_id)["question"] == old.question
    counts = sharing.purge(90)
    assert counts["answers"] == 1
    rows = [a["answer_id"] for a in sharing.stores.answer_payloads()]
    assert rows == [new.answer_id]


def test_person_export_and_delete(sharing):
    cid = sharing.submit(GOOD, channel="test")
    sharing.approve(cid)
    people = yaml.safe_load((sharing.corpus / "people.yaml").read_text(encoding="utf-8"))
    pid = next(p["id"] for p in people if p["name"] == "Piet Proef")
    exported = sharing.export_person(pid)
    assert exported["person"]["contact"]["email"] == GOOD["email"]
    assert [c["id"] for c in exported["contributions"]] == [cid]
    json.dumps(exported, default=str)
    result = sharing.delete_person(pid)
    assert result["contributions_anonymised"] == 1
    people = yaml.safe_load((sharing.corpus / "people.yaml").read_text(encoding="utf-8"))
    tomb = next(p for p in people if p["id"] == pid)
    assert tomb == {"id": pid, "name": "Piet Proef", "consent": False, "deleted": True}
    assert sharing.contributions.get(cid)["payload"]["email"] is None
    answer = sharing.assistant.ask(
        "Wie heeft ervaring met gezamenlijke inkoop van een zaaksysteem?"
    )
    assert all(p.id != pid for p in answer.people)
    assert "Piet Proef" not in answer.answer
    with pytest.raises(SharingError):
        sharing.export_person("niemand")
