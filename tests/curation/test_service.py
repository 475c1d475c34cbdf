"""Contributions: submit, validate, review, publish into the corpus, recover; retention; AVG."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml

from curation.models import ContributionError
from curation.service import Sharing, SharingError
from storage import Stores
from tests.curation.conftest import GOOD


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
