"""Block Kit rendering: structure and Slack's limits, checked with slack_sdk's own block models."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block

from assistant.models import Answer, Citation, PersonCard
from bots.slack import blocks as bk


def assert_valid_blocks(blocks: list[dict], max_blocks: int = bk.MAX_MESSAGE_BLOCKS) -> None:
    """Valid Block Kit within Slack's documented limits: slack_sdk parses and validates every
    block (section ≤ 3000, header ≤ 150, ≤ 25 actions, ≤ 10 context elements, …) and must give
    back exactly what we sent (no unknown fields); plus the limits slack_sdk does not check."""
    assert 1 <= len(blocks) <= max_blocks, len(blocks)
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "block_id must be unique within a message"
    for b in blocks:
        parsed = Block.parse(b)
        assert parsed is not None and parsed.type == b["type"], b
        parsed.validate_json()
        assert parsed.to_dict() == b, (parsed.to_dict(), b)
        for el in _walk(b):
            if el.get("type") == "button":
                assert len(el["value"]) <= bk.BUTTON_VALUE
                assert len(el["text"]["text"]) <= bk.BUTTON_TEXT
                assert len(el["action_id"]) <= 255
            if el.get("type") == "mrkdwn":
                assert 0 < len(el["text"]) <= bk.SECTION_TEXT
            if el.get("type") == "overflow":
                assert 1 <= len(el["options"]) <= bk.OVERFLOW_OPTIONS
                for o in el["options"]:
                    assert (
                        len(o["value"]) <= bk.OPTION_VALUE
                        and len(o["text"]["text"]) <= bk.OPTION_TEXT
                    )


def _walk(obj):
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)


def _answer(**kw) -> Answer:
    base = dict(
        question="Hoe kopen we samen in?",
        language="nl",
        answer="Doe **één** aanbesteding [1]. Zie ook <script>alert(1)</script> & meer [2].",
        abstained=False,
        citations=[
            Citation(
                n=1,
                doc_id="cases/a",
                title="Samen inkopen",
                url="https://example.org/a",
                type="case",
                snippet="…",
                score=0.9,
            ),
            Citation(
                n=2,
                doc_id="lessons/b",
                title="Budget | borgen",
                type="lesson",
                snippet="…",
                score=0.5,
            ),
        ],
        people=[
            PersonCard(
                id="kees-kort",
                name="Kees Kort",
                role="inkoper",
                organisation="Noord",
                reason="Kees deed dit.",
                contact={"email": "kees@example.org"},
            )
        ],
        phase="uitrol",
        next_steps=["Maak afspraken over beheer.", "Rol uit in golven."],
        answer_id="a" * 32,
    )
    base.update(kw)
    return Answer(**base)


def test_answer_blocks_have_text_numbered_sources_phase_people_and_feedback():
    blocks = bk.answer_blocks(
        _answer(), public_url="https://opschaal.example.nl", phase_names={"uitrol": "Uitrol"}
    )
    assert_valid_blocks(blocks)
    text = json.dumps(blocks, ensure_ascii=False)
    # Markdown became mrkdwn and user/corpus text is escaped.
    assert "*één*" in blocks[0]["text"]["text"]
    assert "&lt;script&gt;" in text and "<script>" not in text
    # Numbered sources: the citation's own url, else the web's source page.
    sources = next(b for b in blocks if "Bronnen" in b.get("text", {}).get("text", ""))["text"][
        "text"
    ]
    assert "[1] <https://example.org/a|Samen inkopen>" in sources
    assert "[2] <https://opschaal.example.nl/bronnen/lessons/b|Budget / borgen>" in sources
    phase = next(b for b in blocks if b["type"] == "context")["elements"][0]["text"]
    assert "Uitrol" in phase and "→ Maak afspraken over beheer." in phase
    card = next(b for b in blocks if b.get("block_id") == "person:kees-kort")
    assert "Kees deed dit." in card["text"]["text"]
    assert card["accessory"]["action_id"] == bk.ACTION_INTRO
    assert json.loads(card["accessory"]["value"]) == {"a": "a" * 32, "p": "kees-kort"}
    # Contact details are for the private intro DM, not for the channel.
    assert "kees@example.org" not in text
    fb = next(b for b in blocks if b["type"] == "actions")
    assert [e["action_id"] for e in fb["elements"]] == [bk.ACTION_UP, bk.ACTION_DOWN]
    assert all(e["value"] == "a" * 32 for e in fb["elements"])


def test_source_without_url_or_public_url_is_named_not_linked():
    blocks = bk.answer_blocks(_answer())
    sources = next(b for b in blocks if "Bronnen" in b.get("text", {}).get("text", ""))["text"][
        "text"
    ]
    assert "[2] *Budget | borgen*".replace("|", "/") in sources


def test_huge_answer_stays_within_slack_limits():
    long_text = "\n\n".join(f"Alinea {i}: " + "woord " * 700 for i in range(40))
    answer = _answer(
        answer=long_text,
        citations=[
            Citation(
                n=i,
                doc_id=f"d/{i}",
                title="T" * 500,
                url=f"https://example.org/{'x' * 200}/{i}",
                type="case",
                snippet="s",
                score=0.1,
            )
            for i in range(1, 13)
        ],
        people=[PersonCard(id=f"p{i}", name="N" * 300, reason="r " * 2000) for i in range(6)],
        next_steps=["stap " * 300] * 8,
    )
    blocks = bk.answer_blocks(answer, public_url="https://opschaal.example.nl", asked_by="U1")
    assert_valid_blocks(blocks)
    assert len(blocks) == bk.MAX_MESSAGE_BLOCKS
    assert "ingekort" in json.dumps(blocks)
    assert len(bk.fallback_text(answer)) <= bk.FALLBACK_TEXT


def test_split_text_never_breaks_a_link():
    text = ("x " * 1490) + "<https://example.org/" + "y" * 50 + "|bron>" + " z" * 2000
    pieces = bk.split_text(text)
    assert all(len(p) <= bk.SECTION_TEXT for p in pieces)
    assert any("<https://example.org/" + "y" * 50 + "|bron>" in p for p in pieces)


def test_help_intro_and_home_blocks_are_valid():
    assert_valid_blocks(bk.help_blocks("nl"))
    assert_valid_blocks(bk.help_blocks("en"))
    intro = bk.intro_blocks(
        {"name": "Kees Kort", "contact": {"email": "k@example.org", "slack": "U0KEES"}},
        "Beste Kees,\n\nHoi",
    )
    assert_valid_blocks(intro)
    assert "<@U0KEES>" in json.dumps(intro)
    plan = [
        {
            "key": f"f{i}",
            "name": f"Fase {i}",
            "description": "d" * 500,
            "steps": ["s" * 400] * 6,
            "questions": ["q?"] * 3,
        }
        for i in range(80)
    ]
    view = bk.home_view(plan)
    assert view["type"] == "home"
    assert_valid_blocks(view["blocks"], max_blocks=bk.MAX_HOME_BLOCKS)


def test_sections_become_bold_lines_and_list_lines_bullets():
    text = (
        "Wijs een eigenaar aan [1].\n\nWat je kunt doen:\n1. Wijs een eigenaar aan.\n"
        "2. Plan de overdracht. [1]\n\nLet op:\n- Beheer als <sluitpost>. [2]"
    )
    out = bk.to_mrkdwn(text)
    assert out.splitlines() == [
        "Wijs een eigenaar aan [1].",
        "",
        "*Wat je kunt doen*",
        "1. Wijs een eigenaar aan.",
        "2. Plan de overdracht. [1]",
        "",
        "*Let op*",
        "• Beheer als &lt;sluitpost&gt;. [2]",
    ]
