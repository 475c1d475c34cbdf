"""The curator page and contribution API (bots/sharing/api.py) over the curation service."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bots.sharing.api import mount
from tests.curation.conftest import GOOD

from .conftest import CURATOR


def test_curator_endpoints_need_a_key(sharing):
    app = FastAPI()
    mount(app, sharing.assistant, sharing.stores, sharing.settings, CURATOR)
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
    mount(app, sharing.assistant, sharing.stores, sharing.settings, CURATOR)
    client = TestClient(app)
    cid = sharing.submit(GOOD, channel="test")
    r = client.post(
        f"/curator/contributions/{cid}/reject",
        headers={"X-Curator-Key": "geheim-sleutel", "Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert sharing.contributions.get(cid)["status"] == "pending"
