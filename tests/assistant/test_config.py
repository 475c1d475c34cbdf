"""The core settings: choices are checked when they are read, with one line saying what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.config import settings_error
from assistant.llm import is_configured
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("none", "none"),
        ("", "none"),
        ("OFF", "none"),
        ("extractive", "none"),
        ("openai:gpt-4o-mini", "openai:gpt-4o-mini"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        (" ollama:llama3.1 ", "ollama:llama3.1"),
    ],
)
def test_llm_setting_takes_none_or_a_model(tmp_path, value, stored):
    s = make_settings(tmp_path / "i", llm=value)
    assert s.llm == stored
    assert is_configured(s) is (stored != "none")


@pytest.mark.parametrize("value", ["openai:", ":gpt-4o", "open ai:gpt"])
def test_a_malformed_llm_setting_is_one_clear_line(tmp_path, value):
    with pytest.raises(ValidationError) as exc:
        make_settings(tmp_path / "i", llm=value)
    line = settings_error(exc.value)
    assert line.startswith("instelling OPSCHAAL_LLM ongeldig: ongeldig model")
    assert "<provider>:<model>" in line and "\n" not in line


def test_the_cli_names_a_bad_setting_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCHAAL_")}
    env |= {"OPSCHAAL_EMBEDDER": "word2vec", "OPSCHAAL_INDEX_DIR": str(tmp_path / "index")}
    r = subprocess.run(
        [sys.executable, "-m", "bots.cli", "ask", "Hoe regel ik een DPIA?"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "OPSCHAAL_EMBEDDER" in lines[0] and "onbekende embedder 'word2vec'" in lines[0]
    assert "Traceback" not in r.stderr
