"""The widget's "Deel je ervaring" form in a real browser (Debian's Chromium via Playwright)."""

from __future__ import annotations

import pytest

from storage import ContributionStore, Stores
from tests.bots.web.test_widget_browser import OUT, WAIT, browser, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_share_form_submits_a_pending_contribution(browser, server):  # noqa: F811
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(server.url + "/")
    page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
    page.get_by_role("button", name="Deel je ervaring").click()
    form = page.locator("opschaal-widget form.share")
    form.wait_for(timeout=WAIT)
    page.get_by_label("Titel").fill("Samen inkopen met drie gemeenten")
    page.get_by_label("Wat heb je geprobeerd?").fill(
        "We deden één gezamenlijke aanbesteding voor het meldingensysteem."
    )
    page.get_by_label("Inkoop").check()
    page.get_by_label("Wat heb je geleerd?").fill(
        "Leg het beheer vooraf vast en begin met een marktconsultatie."
    )
    page.get_by_label("Organisatie").fill("Testgemeente Zuid")
    # Submitting without answering the consent question is refused with a visible message.
    page.get_by_role("button", name="Insturen").click()
    page.get_by_role("alert").filter(has_text="benaderd").wait_for(timeout=WAIT)
    page.get_by_label("Nee").check()
    page.get_by_role("button", name="Insturen").click()
    page.get_by_text("Dank je! Een curator bekijkt je bijdrage.").wait_for(timeout=WAIT)
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "widget-share.png"))
    rows = ContributionStore(Stores(server.db)).list("pending")
    assert [r["payload"]["title"] for r in rows] == ["Samen inkopen met drie gemeenten"]
    assert (
        rows[0]["payload"]["obstacles"] == ["inkoop"] and rows[0]["payload"]["contact_ok"] is False
    )
    page.close()
