"""From the widget to a downloaded DOCX, by keyboard only, in real Chromium at desktop width and
at 360 px: the intake one question at a time, the detected phase and obstacles corrected, the
plan page with its grid, a ticked task, an added stakeholder, a drafted invitation and the
export, with an axe-core audit (WCAG 2.1 AA) in every state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT

from .test_widget_a11y import audit, axe_source, context  # noqa: F401
from .test_widget_browser import OUT, browser, server  # noqa: F401

pytestmark = pytest.mark.browser

#: Where the screenshots along the path go; the committed ones in docs/screenshots are made with
#: OPSCHAAL_SCREENSHOTS=docs/screenshots.
SHOTS = Path(os.environ.get("OPSCHAAL_SCREENSHOTS") or OUT)
if not SHOTS.is_absolute():
    SHOTS = ROOT / SHOTS

ANSWERS = {
    "innovation": "Meldingen-app openbare ruimte",
    "problem": "Inwoners melden losliggende stoeptegels met foto en locatie.",
    "where": "Draait in drie gemeenten",
    "owner": "Nog geen eigenaar na de pilot",
    "budget": "Alleen pilotgeld",
    "blocker": "Elke gemeente besteedt apart aan; de gezamenlijke inkoop en aanbesteding lopen vast",
}
WIDGET_ACTIVE = "document.querySelector('opschaal-widget').shadowRoot.activeElement"


def shot(page, name: str, small: bool, element=None) -> None:
    if small and name not in ("widget-intake", "page"):
        return  # the closing note shows the desktop path, plus the widget and the page at 360 px
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"plan-{name}{'-360' if small else ''}.png"
    (element or page).screenshot(path=str(path))


def widget_focus(page) -> dict:
    return page.evaluate(
        f"""() => {{ const el = {WIDGET_ACTIVE};
        return el ? {{tag: el.tagName.toLowerCase(), id: el.id, text: el.textContent.trim().slice(0, 40),
                      type: el.type || '', checked: !!el.checked}} : {{}}; }}"""
    )


def until(page, expression: str, tries: int = 600) -> None:
    """Wait until a JS expression holds. Polled from here: Playwright's own wait_for_function
    evaluates a string inside the page, which the pages' CSP (no 'unsafe-eval') forbids."""
    js = expression if expression.lstrip().startswith("()") else f"() => ({expression})"
    for _ in range(tries):
        if page.evaluate(js):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {expression}")


def tab_until(page, test, limit: int = 120, key: str = "Tab") -> None:
    """Press Tab until ``test(page)`` holds: the element is reached the way a keyboard user does."""
    for _ in range(limit):
        if test(page):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{limit}× {key} reached no such element")


def page_focus(page, selector: str) -> bool:
    return page.evaluate(
        "s => !!document.activeElement && document.activeElement.matches(s)", selector
    )


def walk_intake(page, small: bool, axe: str, found: dict) -> None:
    """The widget: open it, start the plan, answer every question, correct what was detected."""
    page.get_by_role("button", name="Vraag het Opschaalwijzer").wait_for()
    tab_until(page, lambda p: widget_focus(p).get("text", "").endswith("Vraag het Opschaalwijzer"))
    page.keyboard.press("Enter")
    assert widget_focus(page)["id"] == "ow-q"
    tab_until(
        page, lambda p: widget_focus(p).get("text") == "Maak een opschaalplan", key="Shift+Tab"
    )
    page.keyboard.press("Enter")
    widget = page.locator("opschaal-widget .intake")
    widget.get_by_text("geen persoonsgegevens van anderen").wait_for()
    for i, (key, answer) in enumerate(ANSWERS.items(), start=1):
        field = page.locator(f"opschaal-widget textarea[id^='ow-plan-{key}-']")
        field.wait_for()
        until(page, f"{WIDGET_ACTIVE} && {WIDGET_ACTIVE}.id.startsWith('ow-plan-{key}-')")
        assert widget.get_by_text(f"Vraag {i} van 8").is_visible()
        if i == 1:
            found["widget-intake"] = audit(
                page, axe, f"plan-widget-intake-{page.viewport_size['width']}"
            )
            shot(page, "widget-intake", small)
        page.keyboard.type(answer)
        page.keyboard.press("Enter")
    # The kind of scaling: radio buttons, chosen with the arrow keys.
    until(page, f"{WIDGET_ACTIVE} && {WIDGET_ACTIVE}.type === 'radio'")
    assert widget_focus(page)["id"].endswith("-out")
    page.keyboard.press("ArrowDown")  # out → up
    assert widget_focus(page)["id"].endswith("-up")
    tab_until(page, lambda p: widget_focus(p).get("text") == "Volgende")
    page.keyboard.press("Enter")

    detected = page.locator("opschaal-widget form.detected")
    detected.wait_for()
    until(page, f"{WIDGET_ACTIVE} && {WIDGET_ACTIVE}.tagName === 'SELECT'")
    assert detected.get_by_text("Dit heb ik herkend").is_visible()
    assert "Obstakels:" in detected.inner_text()
    found["widget-detected"] = audit(
        page, axe, f"plan-widget-detected-{page.viewport_size['width']}"
    )
    shot(page, "detected", small)
    before = page.evaluate(f"{WIDGET_ACTIVE}.value")
    page.keyboard.press("Home")  # correct the phase: the first one (or the last)
    if page.evaluate(f"{WIDGET_ACTIVE}.value") == before:
        page.keyboard.press("End")
    after = page.evaluate(f"{WIDGET_ACTIVE}.value")
    assert after != before, "the phase can be corrected with the keyboard"
    # And add an obstacle that was not detected.
    tab_until(
        page, lambda p: widget_focus(p).get("type") == "checkbox" and not widget_focus(p)["checked"]
    )
    added = widget_focus(page)["id"]
    page.keyboard.press("Space")
    assert widget_focus(page)["checked"] and widget_focus(page)["id"] == added
    tab_until(page, lambda p: widget_focus(p).get("text") == "Klopt, maak het plan")
    page.keyboard.press("Enter")
    until(page, f"{WIDGET_ACTIVE} && {WIDGET_ACTIVE}.textContent === 'Open je opschaalplan'")
    found["widget-ready"] = audit(page, axe, f"plan-widget-ready-{page.viewport_size['width']}")
    shot(page, "widget-ready", small)
    return after


@pytest.mark.parametrize("width,height", [(1200, 860), (360, 740)], ids=["desktop", "360px"])
def test_keyboard_only_from_widget_intake_to_a_downloaded_docx(
    context,  # noqa: F811
    server,  # noqa: F811
    axe_source,  # noqa: F811
    tmp_path,
    width,
    height,
):
    from docx import Document

    small = width < 480
    page = context(width, height)
    page.goto(server.url + "/")
    found: dict[str, list] = {}
    corrected_phase = walk_intake(page, small, axe_source, found)

    with page.context.expect_page() as opened:
        page.keyboard.press("Enter")  # follow the link to the plan page
    plan = opened.value
    plan.set_default_timeout(30_000)
    plan.errors = []
    plan.on("pageerror", lambda e: plan.errors.append(str(e)))
    until(plan, "() => document.body.dataset.ready === 'true'")
    assert "#" not in plan.url, "the owner secret leaves the address bar at once"
    assert plan.evaluate("document.documentElement.lang") == "nl"
    h1 = plan.locator("h1").inner_text()
    assert h1 == f"Opschaalplan: {ANSWERS['innovation']}"
    phase_text = plan.locator("#s-phase").locator("xpath=..").inner_text()
    assert "door jou gecorrigeerd" in phase_text
    assert plan.locator("#fix-phase").input_value() == corrected_phase
    for heading in ("De innovatie", "Fase", "Stakeholders", "Implementatieplan", "Bronnen"):
        assert plan.get_by_role("heading", name=heading, exact=True).count() == 1, heading
    assert plan.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    found["plan-page"] = audit(plan, axe_source, f"plan-page-{width}")
    shot(plan, "page", small)

    # Tick the first task, by keyboard.
    first = plan.locator("ul.tasks input[type=checkbox]").first
    first_id = first.get_attribute("id")
    title = plan.locator(f"label[for='{first_id}']").inner_text()
    tab_until(plan, lambda p: page_focus(p, f"#{first_id}"))
    plan.keyboard.press("Space")
    plan.locator("#live").get_by_text(f"Afgevinkt: {title}").wait_for()
    assert plan.locator(f"#{first_id}").is_checked() and page_focus(plan, f"#{first_id}")

    # Add a stakeholder; it appears in the table and the grid picture.
    tab_until(plan, lambda p: page_focus(p, "#st-role"))
    plan.keyboard.type("Controller van de gemeente")
    tab_until(plan, lambda p: page_focus(p, "#st-influence"))
    plan.keyboard.press("End")  # influence 5
    tab_until(plan, lambda p: page_focus(p, "#st-add"))
    plan.keyboard.press("Enter")
    until(
        plan,
        "() => { const i = document.getElementById('grid-img'); return i && i.complete && i.naturalWidth > 0; }",
    )
    row = plan.get_by_role("row", name="Controller van de gemeente")
    assert "actief betrekken" in row.inner_text() or "tevreden houden" in row.inner_text()
    assert "stakeholders" in plan.locator("#grid-img").get_attribute("alt")
    found["plan-grid"] = audit(plan, axe_source, f"plan-grid-{width}")
    shot(plan, "grid", small, plan.locator("section[aria-labelledby='s-stakeholders']"))

    # "Nodig uit om mee te denken" drafts an invitation naming the innovation.
    assert plan.locator("[id^=inv-send-]").count() >= 1, (
        plan.locator("#s-obstacles").locator("xpath=..").inner_text()
    )
    # The invitation sits above the stakeholders: back up with Shift+Tab.
    tab_until(plan, lambda p: page_focus(p, "[id^=inv-send-]"), limit=200, key="Shift+Tab")
    plan.keyboard.press("Enter")
    until(plan, "() => document.activeElement && document.activeElement.id.startsWith('inv-text-')")
    draft = plan.evaluate("document.activeElement.value")
    assert ANSWERS["innovation"] in draft
    assert plan.locator("a[id^=inv-mail-]").first.get_attribute("href").startswith("mailto:")
    invited = plan.locator("section[aria-labelledby='s-invited']").inner_text()
    assert "Uitgenodigd" in invited and "Nog niets" not in invited
    found["plan-invitation"] = audit(plan, axe_source, f"plan-invitation-{width}")

    # Download the DOCX and read it back.
    tab_until(plan, lambda p: page_focus(p, "#export-docx"), limit=200)
    with plan.expect_download() as download:
        plan.keyboard.press("Enter")
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.suffix == ".docx" and target.name.startswith("opschaalplan-")
    plan.locator("#live").get_by_text("DOCX (Word) gedownload.").wait_for()
    found["plan-download"] = audit(plan, axe_source, f"plan-download-{width}")
    shot(plan, "download", small)

    doc = Document(str(target))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert ANSWERS["innovation"] in text
    for heading in (
        "De innovatie",
        "Stakeholders",
        "Businesscase (vijf jaar)",
        "Implementatieplan",
        "Bronnen",
    ):
        assert heading in headings, (heading, headings)
    assert "Controller van de gemeente" in cells
    assert title in cells and "klaar" in cells, "the ticked task is in the export"
    sources = plan.locator("#s-sources").locator("xpath=..").locator("li a").all_inner_texts()
    assert sources and any(f"] {s} (" in text for s in sources), "a cited source is in the export"
    assert [p for p in doc.inline_shapes], "the grid picture is in the export"

    # A reload of the host page does not cost the owner the plan: the widget lists it, with a
    # note that this browser keeps it, and its link opens the plan as its owner.
    page.reload()
    page.get_by_role("button", name="Vraag het Opschaalwijzer").wait_for()
    tab_until(page, lambda p: widget_focus(p).get("text", "").endswith("Vraag het Opschaalwijzer"))
    page.keyboard.press("Enter")
    mine = page.locator("opschaal-widget section.my-plans")
    mine.get_by_role("heading", name="Je opschaalplannen in deze browser").wait_for()
    assert "gedeelde computer" in mine.inner_text()
    link = mine.get_by_role("link", name=ANSWERS["innovation"])
    href = link.get_attribute("href")
    assert href.startswith(server.url + "/plan/") and "#eigenaar=" in href
    found["widget-my-plans"] = audit(page, axe_source, f"plan-widget-my-plans-{width}")
    shot(page, "widget-my-plans", small)
    again = context(width, height)
    again.goto(href)
    until(again, "() => document.body.dataset.ready === 'true'")
    assert again.locator("#st-add").count() == 1, "the remembered link opens the plan as owner"
    # Vergeet, by keyboard: the plan leaves this browser's list, the focus stays in the widget.
    forget = f"Vergeet {ANSWERS['innovation']} op dit apparaat"
    tab_until(
        page,
        lambda p: (
            p.evaluate(f"{WIDGET_ACTIVE} && {WIDGET_ACTIVE}.getAttribute('aria-label')") == forget
        ),
    )
    page.keyboard.press("Enter")
    mine.get_by_text("is vergeten op dit apparaat").wait_for()
    assert mine.get_by_role("link").count() == 0
    assert page.evaluate(f"!!{WIDGET_ACTIVE}"), "the focus stays in the widget"
    page.reload()
    page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
    page.locator("opschaal-widget .welcome").wait_for()
    assert page.locator("opschaal-widget section.my-plans").count() == 0

    assert found == {state: [] for state in found}, found
    assert page.errors == [] and plan.errors == []


def test_a_share_link_opens_the_plan_read_only_and_a_stranger_sees_not_found(
    context,  # noqa: F811
    server,  # noqa: F811
    axe_source,  # noqa: F811
):
    import httpx

    made = httpx.post(
        f"{server.url}/api/plans", json={**ANSWERS, "ambition": "in", "language": "en"}
    ).json()
    owner = {"X-Plan-Owner": made["owner_secret"]}
    link = httpx.post(f"{server.url}/api/plans/{made['plan_id']}/shares", headers=owner).json()
    page = context()
    page.goto(server.url + link["page"])
    until(page, "() => document.body.dataset.ready === 'true'")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.get_by_text("You are viewing this plan through a share link").is_visible()
    assert page.locator("#task-add, #st-add, #share-make, #fix").count() == 0, "read only"
    assert page.locator("ul.tasks input[type=checkbox]").first.is_disabled()
    assert audit(page, axe_source, "plan-shared") == []

    stranger = context()
    stranger.goto(f"{server.url}/plan/{made['plan_id']}")
    until(stranger, "() => document.body.dataset.ready === 'error'")
    assert (
        stranger.get_by_role("alert").inner_text()
        == "Dit plan bestaat niet of is niet met je gedeeld."
    )
    other = context()
    other.goto(f"{server.url}/plan/0000000000000000")
    until(other, "() => document.body.dataset.ready === 'error'")
    assert other.get_by_role("alert").inner_text() == stranger.get_by_role("alert").inner_text()
    assert audit(stranger, axe_source, "plan-not-found") == []
