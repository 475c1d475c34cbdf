"""The widget in a real browser: Debian's Chromium driven by Playwright, against uvicorn on a
loopback port. Covers streaming, citations, follow-ups, feedback in SQLite, intro, language
switch, keyboard use, a 360 px screen and HTML injection from questions and documents."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import MINI_CORPUS, ROOT, build, make_settings

from .conftest import ServerThread
from .test_documents import XSS_DOC

pytestmark = pytest.mark.browser

# Debian's Chromium; CHROMIUM_PATH points elsewhere on machines that keep it somewhere else.
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUT = ROOT / "test-output"
WAIT = 30_000  # ms; CI machines are shared


@pytest.fixture(scope="module")
def browser():
    # Never a skip: a suite that skips its browser tests on a machine without a browser says
    # the widget works when nobody looked. `make test` installs Chromium; else say what to do.
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium ontbreekt op {CHROMIUM}: 'make test' installeert het als root; "
            "anders 'sudo apt-get install -y chromium fonts-dejavu-core' (of zet CHROMIUM_PATH)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright voor Python ontbreekt; installeer met 'pip install playwright' (geen 'playwright install')"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The mini corpus plus a hostile document, served with the fake embedder."""
    from assistant.service import Assistant
    from bots.web import create_app
    from storage import Stores

    tmp = tmp_path_factory.mktemp("web-browser")
    corpus = tmp / "corpus"
    shutil.copytree(MINI_CORPUS, corpus)
    (corpus / "lessons" / "camerales.md").write_text(XSS_DOC, encoding="utf-8")
    settings = make_settings(tmp / "index", embedder="fake", rate_limit_per_minute=0)
    report, embedder, store = build(corpus, settings)
    assert report.exit_code == 0, report.invalid
    stores = Stores.from_settings(settings)
    app = create_app(settings, Assistant(settings, embedder=embedder, store=store), stores)
    with ServerThread(app) as srv:
        srv.db = stores.path
        yield srv


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 860}, locale="nl-NL")
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.set_default_timeout(WAIT)
    yield pg
    context.close()


def ask(pg, question: str, n: int):
    """Type a question, send it with Enter, and wait until answer number ``n`` is complete."""
    pg.get_by_label("Je vraag").fill(question)
    pg.get_by_label("Je vraag").press("Enter")
    answer = pg.locator("article.msg.bot").nth(n - 1)
    answer.locator(".feedback").wait_for()
    return answer


def test_ask_stream_follow_up_and_feedback(page, server):
    page.goto(server.url + "/")
    page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
    first = ask(page, "Hoe kopen gemeenten samen een meldingensysteem in?", 1)

    assert int(first.get_attribute("data-deltas")) > 1, (
        "the text should arrive as several SSE deltas"
    )
    cites = first.locator("a.cite")
    assert cites.count() >= 1
    href = cites.first.get_attribute("href")
    assert href.startswith(server.url + "/bronnen/cases/gedeelde-aanbesteding")
    assert "Vier gemeenten" in (cites.first.get_attribute("title") or "")
    first.locator("summary").first.click()  # expand the snippet
    assert first.locator("details p").first.is_visible()
    assert first.get_by_text("Kees Kort", exact=True).is_visible()
    assert first.locator(".steps li").count() >= 1

    second = ask(page, "Hoeveel goedkoper werd het?", 2)
    assert second.locator("a.cite").count() >= 1, "the follow-up is answered from the conversation"
    second.get_by_role("button", name="Niet nuttig").click()
    second.get_by_text("Bedankt voor je feedback!").wait_for()

    # After 👎 the widget asks what was missing; the focus moves into that field.
    comment = second.get_by_label("Wat miste je? (optioneel)")
    comment.wait_for()
    active = "document.querySelector('opschaal-widget').shadowRoot.activeElement"
    page.wait_for_function(f"{active} && {active}.tagName === 'TEXTAREA'")
    assert page.evaluate(f"{active}.id") == comment.get_attribute("id")
    typed = "De prijs per gemeente <b>ontbrak</b>"
    page.keyboard.type(typed)
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "web-widget-comment.png"))
    second.get_by_role("button", name="Verstuur toelichting").click()
    second.get_by_text("Dank je, je toelichting is opgeslagen.").wait_for()
    assert second.locator("form.comment").count() == 0
    assert second.locator("b").count() == 0, "the comment never becomes markup"
    assert page.evaluate(f"{active}.id") == "ow-q", "after sending, focus returns to the question"

    page.screenshot(path=str(OUT / "web-widget.png"))

    with sqlite3.connect(server.db) as db:
        rows = db.execute(
            "SELECT f.rating, f.channel, a.question, a.conversation_id, f.comment FROM feedback f JOIN answers a ON a.id = f.answer_id"
            " WHERE a.question = ?",
            ("Hoeveel goedkoper werd het?",),
        ).fetchall()
        assert [(r[0], r[1], r[4]) for r in rows] == [("down", "web", typed)]
        turns = db.execute(
            "SELECT role FROM messages WHERE conversation_id = ? ORDER BY id", (rows[0][3],)
        ).fetchall()
    assert [t[0] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert page.errors == []


def test_intro_language_switch_keyboard_and_360px(browser, server):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(WAIT)
    try:
        page.goto(server.url + "/")
        launcher = page.get_by_role("button", name="Vraag het Opschaalwijzer")
        launcher.focus()
        page.keyboard.press("Enter")
        active = "document.querySelector('opschaal-widget').shadowRoot.activeElement"
        assert page.evaluate(f"{active}.id") == "ow-q", "opening moves focus to the question field"
        page.keyboard.type("Wanneer begin ik met de DPIA voor camerabeelden?")
        page.keyboard.press("Enter")
        answer = page.locator("article.msg.bot").first
        answer.locator(".feedback").wait_for()

        panel = page.get_by_role("dialog", name="Opschaalwijzer").bounding_box()
        assert panel["width"] <= 360 and panel["x"] >= 0
        send = page.get_by_role("button", name="Verstuur").bounding_box()
        assert send["x"] + send["width"] <= 360 and send["y"] + send["height"] <= 740

        answer.get_by_role("button", name="Stel me voor").first.click()
        draft = answer.locator(".intro textarea")
        draft.wait_for()
        assert draft.input_value().startswith("Beste Lotte")
        assert page.evaluate(f"{active}.tagName") == "TEXTAREA", "focus moves to the draft"

        page.get_by_role("button", name="EN – switch to English").click()
        assert page.get_by_label("Your question").is_visible()
        assert answer.get_by_role("button", name="Introduce me").is_visible()

        OUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUT / "web-widget-360.png"))
        page.keyboard.press("Escape")
        assert page.get_by_role("dialog").count() == 0 or not page.locator("#ow-panel").is_visible()
        assert page.evaluate(f"{active}.className") == "launcher", (
            "closing returns focus to the launcher"
        )
        assert (
            page.get_by_role("button", name="Ask Opschaalwijzer").get_attribute("aria-expanded")
            == "false"
        )
    finally:
        context.close()


def test_comment_box_by_keyboard_skips_with_escape_at_360px(browser, server):
    """Keyboard only, on a 360 px screen, in English: 👎, the comment field takes the focus,
    Escape skips it without closing the chat, and the 👎 is stored without a comment."""
    from storage import Stores

    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(WAIT)
    active = "document.querySelector('opschaal-widget').shadowRoot.activeElement"
    try:
        page.goto(server.url + "/")
        page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
        page.get_by_role("button", name="EN – switch to English").click()
        page.get_by_label("Your question").fill("When do we start the DPIA for camera images?")
        page.keyboard.press("Enter")
        answer = page.locator("article.msg.bot").first
        answer.locator(".feedback").wait_for()

        answer.get_by_role("button", name="Not helpful").focus()
        page.keyboard.press("Enter")
        field = answer.get_by_label("What was missing? (optional)")
        field.wait_for()
        page.wait_for_function(f"{active} && {active}.tagName === 'TEXTAREA'")
        box = answer.locator("form.comment").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        for name in ("Send comment", "Skip"):
            b = answer.get_by_role("button", name=name).bounding_box()
            assert b["x"] + b["width"] <= 360, (name, b)
        page.screenshot(path=str(OUT / "web-widget-comment-360.png"))

        page.keyboard.type("half a thought")
        page.keyboard.press("Escape")
        assert answer.locator("form.comment").count() == 0, "Escape skips the comment"
        assert page.locator("#ow-panel").is_visible(), "Escape in the comment keeps the chat open"
        assert page.evaluate(f"{active}.id") == "ow-q"

        answer_id = page.evaluate(
            "document.querySelector('opschaal-widget').messages.filter(m => m.answer).at(-1).answer.answer_id"
        )
        stored = Stores(server.db).feedback_for(answer_id)
        assert [(f["rating"], f["comment"]) for f in stored] == [("down", None)]
    finally:
        context.close()


def test_html_in_question_and_document_shows_as_text(page, server):
    page.goto(server.url + "/")
    page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
    hostile = "<img src=x onerror=\"window.__xss='vraag'\"> Wat stond er in het verslag over camerabeelden?"
    answer = ask(page, hostile, 1)

    widget = "document.querySelector('opschaal-widget').shadowRoot"
    assert page.evaluate("window.__xss === undefined")
    assert page.evaluate(f"{widget}.querySelectorAll('.log img, .log script').length") == 0
    assert page.locator(".msg.user").get_by_text(hostile).is_visible()
    titles = answer.locator("summary").all_inner_texts()
    assert any("<img src=x" in t for t in titles), titles
    for link in answer.locator("a").all():
        href = link.get_attribute("href") or ""
        assert href.startswith(("http://", "https://")), (
            href
        )  # the javascript: url never becomes a link

    page.goto(server.url + "/bronnen/lessons/camerales")
    assert page.get_by_text("<script>window.__xss='script'</script>", exact=False).count() >= 1
    assert page.evaluate("window.__xss === undefined")
    assert page.evaluate("document.querySelectorAll('main img, main script').length") == 0
    assert page.errors == []


@pytest.fixture(scope="module")
def bundled_server(bundled_assistant, tmp_path_factory):
    """The bundled corpus with the real embedder: answers with real lists and sections."""
    from bots.web import create_app
    from storage import Stores

    tmp = tmp_path_factory.mktemp("web-bundled")
    settings = bundled_assistant.settings.model_copy(
        update={"data_dir": tmp / "data", "rate_limit_per_minute": 0}
    )
    stores = Stores.from_settings(settings)
    with ServerThread(create_app(settings, bundled_assistant, stores)) as srv:
        yield srv


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "label", "sources", "shot"),
    [
        ("Hoe meet ik de baten van een pilot?", "Let op", "Bronnen", "web-answer-nl.png"),
        ("What are the pitfalls of a business case for scaling?", "Watch out", "Sources", "web-answer-en.png"),
    ],
)  # fmt: skip
def test_structured_answer_shows_sections_and_real_lists(
    browser, bundled_server, question, label, sources, shot
):
    # A phone-width screen shows the panel full height, so the screenshot holds the whole answer.
    context = browser.new_context(viewport={"width": 470, "height": 2600}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(WAIT)
    try:
        page.goto(bundled_server.url + "/")
        page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
        answer = ask(page, question, 1)
        text = answer.locator("div.text").first
        # Section labels are headings and the steps and pitfalls are real HTML lists, not
        # "- " characters inside a paragraph.
        assert label in text.locator("h4.section").all_inner_texts()
        assert text.locator("ul > li, ol > li").count() >= 3
        assert not [p for p in text.locator("p").all_inner_texts() if p.lstrip().startswith("- ")]
        # Citations inside list items are links too.
        assert text.locator("li a.cite").count() >= 1
        # The answer's own headings speak the answer's language, also in the Dutch widget.
        assert sources in answer.locator("h3").all_inner_texts()
        # The committed ones in docs/screenshots are made with OPSCHAAL_SCREENSHOTS=docs/screenshots.
        shots = Path(os.environ.get("OPSCHAAL_SCREENSHOTS") or OUT)
        shots = shots if shots.is_absolute() else ROOT / shots
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / shot))
    finally:
        context.close()
