"""Consent on the real corpus and model: people with consent:false appear in the bundled cases,
and must never reach Slack, in any answer, card, button or intro."""

from __future__ import annotations

import json

import pytest

from bots.slack import blocks as bk

from .conftest import (
    NO_CONSENT,
    action_body,
    all_text,
    event_body,
    make_service,
    mention,
    post,
    slack_config_for,
)
from .test_blocks import assert_valid_blocks

# Each question is about a case in which a consent:false person plays a named part.
QUESTIONS = [
    "Waarom stopte de chatbot voor lokale belastingen in Haverdam?",
    "Hoe schaalde Parkeerlicht op naar negen gemeenten en wat ging er mis?",
    "Wie hield het budget voor de slimme peilbuizen tegen en waarom?",
    "Hoe verdween het bestuurlijk draagvlak voor ZaakKern?",
]


@pytest.mark.slow
def test_no_consent_false_person_reaches_slack_on_the_bundled_corpus(
    bundled_assistant, stub_slack, tmp_path
):
    from fastapi.testclient import TestClient

    from storage import Stores

    settings = bundled_assistant.settings.model_copy(update={"data_dir": tmp_path / "data"})
    stores = Stores.from_settings(settings)
    slack = slack_config_for(stub_slack)
    with TestClient(make_service(bundled_assistant, stores, settings, slack)) as client:
        # One at a time: the real model on a shared CPU is slow, and order keeps the test simple.
        for i, q in enumerate(QUESTIONS):
            post(client, event_body(mention(q, ts=f"1700000000.10{i:04d}")))
            updates = stub_slack.wait_for("chat.update", i + 1, timeout=300)
        for u in updates:
            assert_valid_blocks(u["blocks"])
        # Click every "Stel me voor" that was offered: the intros must be clean too.
        buttons = [
            b["accessory"]["value"]
            for u in updates
            for b in u["blocks"]
            if b.get("accessory", {}).get("action_id") == bk.ACTION_INTRO
        ]
        assert buttons, "expected people cards on the bundled corpus"
        for n, value in enumerate(buttons):
            post(
                client,
                action_body(
                    {"action_id": bk.ACTION_INTRO, "value": value},
                    stub_slack.url + f"/response/{n}",
                ),
                "application/x-www-form-urlencoded",
            )
            stub_slack.wait_for(f"/response/{n}", timeout=300)
        assert len(stub_slack.of("conversations.open")) == len(buttons)
    sent = all_text([c["params"] for c in stub_slack.calls])
    for name in NO_CONSENT:
        assert name not in sent, name
    # The ids are not leaked either (button values, block ids).
    dump = json.dumps([c["params"] for c in stub_slack.calls])
    for pid in ("bart-hendriks", "gerrit-van-dam", "willem-schouten", "petra-lammers"):
        assert pid not in dump, pid
