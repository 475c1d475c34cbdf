"""The second, fictional test corpus for people matching (tests/fixtures/people-corpus) and its
labelled questions, shared by test_people, test_guidance and test_consent."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from tests.conftest import FIXTURES, build, make_settings

PEOPLE_CORPUS = FIXTURES / "people-corpus"
QUESTIONS = FIXTURES / "people-corpus-questions.yaml"
HIDDEN = {"anna-groen": "Anna Groen", "henk-schipper": "Henk Schipper"}


def people_yaml() -> list[dict]:
    return yaml.safe_load((PEOPLE_CORPUS / "people.yaml").read_text(encoding="utf-8"))


def questions() -> list[dict]:
    return yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))


def build_people_assistant(base: Path, embedder: str = "fake"):
    """An Assistant over a tmp copy of the people corpus."""
    from assistant.service import Assistant

    corpus = base / "corpus"
    shutil.copytree(PEOPLE_CORPUS, corpus)
    settings = make_settings(base / "index", embedder=embedder)
    report, emb, store = build(corpus, settings)
    assert report.exit_code == 0, [str(p) for p in report.invalid]
    return settings, Assistant(settings, embedder=emb, store=store)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(\+31|0031|\b0)[\s-]?(\d[\s-]?){8}\d\b")


def leaks(answer, people: list[dict]) -> list[str]:
    """Every trace of a non-consenting person, or of anyone's contact details, in the parts of an
    answer a user reads (all but the echoed question and the people entries' contact field).
    Written independently of assistant.consent.Redactor, so a bug there cannot hide here."""
    d = answer.contract_dict() if hasattr(answer, "contract_dict") else answer
    texts = [d["answer"], *d.get("next_steps", [])]
    for c in d.get("citations", []):
        texts += [c.get("title") or "", c.get("snippet") or "", c.get("url") or ""]
    for p in d.get("people", []):
        texts += [
            p.get("name") or "",
            p.get("reason") or "",
            p.get("role") or "",
            p.get("organisation") or "",
        ]
    blob = "\n".join(texts)
    shown = {p["name"] for p in people if p.get("consent") is True}
    for name in shown:  # "Jan-Willem Kok" is not a mention of a hidden "Willem"
        blob = re.sub(re.escape(name), "<shown>", blob, flags=re.I)
    found = []
    listed = {p.get("id") for p in d.get("people", [])}
    for p in people:
        if p.get("consent") is True:
            continue
        if p["id"] in listed or re.search(rf"(?<![\w-]){re.escape(p['id'])}(?![\w-])", blob):
            found.append(p["id"])
            continue
        parts = p["name"].split()
        particles = {"van", "de", "der", "den", "het", "ten", "ter", "el"}
        core = [w for w in parts[1:] if w.lower() not in particles]
        variants = [p["name"], " ".join(parts[1:])] + ([parts[0]] if len(parts[0]) >= 3 else [])
        if core and len(core[-1]) >= 4:
            variants.append(core[-1])
        for v in variants:
            if v and re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", blob):
                found.append(f"{p['id']}:{v}")
                break
    found += [m.group(0) for m in _EMAIL.finditer(blob)]
    found += [m.group(0) for m in _PHONE.finditer(blob)]
    return found
