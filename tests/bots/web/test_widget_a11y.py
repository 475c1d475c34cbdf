"""Accessibility of the widget as an outside tool and a keyboard user find it: axe-core (from
npm, installed by ``make test``) in Chromium in every state a user sees, a keyboard-only walk
through the focus order and the mobile focus trap, and a page on another origin that CORS
refuses."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

from .test_widget_browser import OUT, WAIT, ask, browser, server  # noqa: F401

pytestmark = pytest.mark.browser

AXE = Path(
    os.environ.get("AXE_CORE_PATH", ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js")
)
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ACTIVE = "document.querySelector('opschaal-widget').shadowRoot.activeElement"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(
            f"axe-core ontbreekt op {AXE}: 'make test' installeert het; anders "
            "'npm install --prefix .tools axe-core@4.14.1' (of zet AXE_CORE_PATH)"
        )
    return AXE.read_text(encoding="utf-8")


def audit(page, axe_source: str, state: str) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the whole page, the widget's shadow DOM included."""
    # evaluate, not a <script> tag: the demo page's CSP allows only its own scripts.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_AA,
    )
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"axe-{state}.png"))
    violations = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "help": v["help"],
        }
        for v in result["violations"]
    ]
    print(f"axe {state}: {len(violations)} violations")
    return violations


@pytest.fixture
def context(browser):  # noqa: F811
    made = []

    def make(width=1200, height=860):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="nl-NL")
        made.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(WAIT)
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        return page

    yield make
    for ctx in made:
        ctx.close()


def test_axe_finds_no_wcag_violations_in_any_widget_state(context, server, axe_source):  # noqa: F811
    page = context()
    page.goto(server.url + "/")
    page.get_by_role("button", name="Vraag het Opschaalwijzer").wait_for()
    found = {"closed": audit(page, axe_source, "closed")}

    page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
    answer = ask(page, "Hoe kopen gemeenten samen een meldingensysteem in?", 1)
    found["open-with-answer"] = audit(page, axe_source, "open-with-answer")

    answer.get_by_role("button", name="Niet nuttig").click()
    answer.get_by_label("Wat miste je? (optioneel)").wait_for()
    found["comment-box"] = audit(page, axe_source, "comment-box")

    small = context(360, 740)
    small.goto(server.url + "/")
    small.get_by_role("button", name="Vraag het Opschaalwijzer").click()
    ask(small, "Wanneer begin ik met de DPIA voor camerabeelden?", 1)
    found["360px"] = audit(small, axe_source, "360px")

    assert found == {state: [] for state in found}, found
    assert page.errors == [] and small.errors == []


def focused(page) -> str:
    """What has the keyboard focus, as a short label: the widget's element or the page's."""
    return page.evaluate(
        f"""() => {{
        const host = document.activeElement;
        const el = host && host.tagName === 'OPSCHAAL-WIDGET' ? {ACTIVE} : host;
        if (!el || el === document.body) return 'body';
        const inWidget = host && host.tagName === 'OPSCHAAL-WIDGET';
        const name = el.getAttribute('aria-label') || el.id || el.textContent.trim().slice(0, 30);
        return (inWidget ? 'widget:' : 'page:') + el.tagName.toLowerCase() + ':' + name;
    }}"""
    )


def test_keyboard_only_focus_order_and_feedback_keeps_focus(context, server):  # noqa: F811
    page = context()
    page.goto(server.url + "/")
    page.get_by_role("button", name="Vraag het Opschaalwijzer").wait_for()
    # From the top of the page, Tab reaches the page's own links and then the launcher.
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(focused(page))
        if seen[-1].startswith("widget:"):
            break
    assert seen[0] == "page:a:Naar de inhoud", seen
    assert seen[-1] == "widget:button:Vraag het Opschaalwijzer", seen

    page.keyboard.press("Enter")
    assert focused(page) == "widget:textarea:ow-q", "opening puts the focus in the question field"
    assert page.get_by_role("dialog").get_attribute("aria-modal") == "false", (
        "side panel on desktop"
    )
    order = []
    for _ in range(2):
        page.keyboard.press("Tab")
        order.append(focused(page))
    assert order[0] == "widget:button:Verstuur", order
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "widget:textarea:ow-q"

    # The header: title, language, new conversation, close, in that order.
    page.locator("opschaal-widget .head .lang").focus()
    header = [focused(page)]
    for _ in range(2):
        page.keyboard.press("Tab")
        header.append(focused(page))
    assert header == [
        "widget:button:EN – switch to English",
        "widget:button:Nieuw gesprek",
        "widget:button:Sluit de chat",
    ], header
    new = page.get_by_role("button", name="Nieuw gesprek")
    visible = new.inner_text().replace("↺", "").strip()
    assert visible and visible in "Nieuw gesprek", (visible, "the visible label is in its name")
    assert page.get_by_role("banner").count() == 1, "the widget adds no second banner landmark"

    page.get_by_label("Je vraag").focus()
    page.keyboard.type("Hoe kopen gemeenten samen een meldingensysteem in?")
    page.keyboard.press("Enter")
    answer = page.locator("article.msg.bot").first
    answer.locator(".feedback").wait_for()
    answer.get_by_role("button", name="Nuttig", exact=True).focus()
    page.keyboard.press("Enter")
    answer.get_by_text("Bedankt voor je feedback!").wait_for()
    assert focused(page) == "widget:button:Nuttig", "after 👍 the focus stays on the button"
    up = answer.get_by_role("button", name="Nuttig", exact=True)
    assert up.get_attribute("aria-pressed") == "true"
    page.keyboard.press("Enter")  # pressing again sends nothing twice
    page.keyboard.press("Tab")
    assert focused(page) == "widget:button:Niet nuttig", "Tab goes on from where the focus was"
    assert page.errors == []


def test_full_screen_panel_is_modal_and_traps_the_focus(context, server):  # noqa: F811
    page = context(360, 740)
    page.goto(server.url + "/")
    page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
    assert page.get_by_role("dialog").get_attribute("aria-modal") == "true"
    assert focused(page) == "widget:textarea:ow-q"
    for key in ("Tab", "Shift+Tab"):
        stops = []
        for _ in range(25):
            page.keyboard.press(key)
            stops.append(focused(page))
        outside = [s for s in stops if not s.startswith("widget:") or "Vraag het" in s]
        assert outside == [], (key, outside)
        assert "widget:button:Sluit de chat" in stops and "widget:button:Verstuur" in stops
    page.keyboard.press("Escape")
    assert focused(page) == "widget:button:Vraag het Opschaalwijzer"
    # Back on a wide screen the same panel is a side panel again, not modal.
    page.set_viewport_size({"width": 1200, "height": 860})
    page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
    assert page.get_by_role("dialog").get_attribute("aria-modal") == "false"


def _host_page(script_src: str, api: str | None = None) -> str:
    data_api = f' data-api="{api}"' if api else ""
    return (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'><title>Intranet</title></head>"
        "<body><main><h1>Intranet van een andere gemeente</h1></main>"
        f"<script src='{script_src}' data-title='Opschaalwijzer'{data_api}></script></body></html>"
    )


class HostPages:
    """A plain HTTP server on another loopback port, serving fixed HTML pages."""

    def __init__(self, pages: dict[str, str]) -> None:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                body = pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return self.url

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _ask_twice_on(page, origin: str) -> dict[str, str]:
    """The widget's error text after asking twice on each host page."""
    messages = {}
    for name in ("refused", "down"):
        page.goto(f"{origin}/{name}")
        page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
        for _ in range(2):
            page.get_by_label("Je vraag").fill("Hoe kopen gemeenten samen in?")
            page.get_by_label("Je vraag").press("Enter")
            alert = page.locator("article.msg.bot .error").last
            alert.wait_for()
            page.wait_for_function(
                "document.querySelector('opschaal-widget').busy === false", timeout=WAIT
            )
        messages[name] = alert.inner_text()
    return messages


def test_cors_refusal_is_told_apart_from_a_network_error(context, server, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING, logger="opschaal.web")
    page = context()
    dead = f"http://127.0.0.1:{free_port()}/"
    pages = {
        "/refused": _host_page(f"{server.url}/widget.js"),
        "/down": _host_page(f"{server.url}/widget.js", api=dead),
    }
    # A real intranet page on another origin (another port; Chromium lets only loopback pages
    # reach a loopback server at all).
    with HostPages(pages) as other:
        messages = _ask_twice_on(page, other)
    assert "OPSCHAAL_ALLOWED_ORIGINS" in messages["refused"], messages
    assert "mag deze Opschaalwijzer niet gebruiken" in messages["refused"]
    assert "netwerk" not in messages["refused"]
    assert "Controleer je netwerk" in messages["down"], messages
    assert "OPSCHAAL_ALLOWED_ORIGINS" not in messages["down"]
    refused = [r.getMessage() for r in caplog.records if "CORS" in r.getMessage()]
    assert len(refused) == 1 and other in refused[0], refused
