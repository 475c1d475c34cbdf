"""``opschaal plan`` as a user runs it (real subprocesses), and the exports opened with reader
libraries: python-docx for DOCX, pypdf for PDF."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.bots.test_cli import one_error_line, opschaal
from tests.plans.conftest import STRAATSEIN


@pytest.fixture(scope="module")
def env(plan_world) -> dict:
    s = plan_world["settings"]
    return {"OPSCHAAL_INDEX_DIR": str(s.index_dir), "OPSCHAAL_DATA_DIR": str(s.data_dir)}


@pytest.fixture(scope="module")
def plan_id(env, tmp_path_factory) -> str:
    work = tmp_path_factory.mktemp("plancli")
    (work / "intake.yaml").write_text(yaml.safe_dump(STRAATSEIN, allow_unicode=True))
    r = opschaal("plan", "new", "--from", "intake.yaml", "--owner", "cli:tester", cwd=work, env=env)
    assert r.returncode == 0, r.stderr
    pid = r.stdout.strip()
    assert len(pid) == 16 and "\n" not in pid
    return pid


def test_show_json_is_the_whole_plan(env, plan_id, tmp_path):
    r = opschaal("plan", "show", plan_id, "--json", "--owner", "cli:tester", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["id"] == plan_id and plan["intake"]["innovation"] == "Straatsein meldingen-app"
    for key in (
        "phase",
        "obstacles",
        "suggested_stakeholders",
        "business_case",
        "tasks",
        "invitations",
        "history",
        "sources",
    ):
        assert key in plan
    other = opschaal("plan", "show", plan_id, "--owner", "cli:someone", cwd=tmp_path, env=env)
    assert "niet met je gedeeld" in one_error_line(other)


def test_edit_from_a_chat_line_ticks_the_task(env, plan_id, tmp_path):
    r = opschaal(
        "plan",
        "edit",
        plan_id,
        "--owner",
        "cli:tester",
        "--say",
        "we hebben nu een eigenaar in de lijn",
        cwd=tmp_path,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "Afgevinkt: Regel een eigenaar in de lijn" in r.stdout
    assert "Volgende stappen:" in r.stdout


def test_docx_export_has_sections_tables_grid_and_sources(env, plan_id, tmp_path):
    from docx import Document

    opschaal(
        "plan",
        "edit",
        plan_id,
        "--owner",
        "cli:tester",
        "--set",
        "budget=structureel",
        cwd=tmp_path,
        env=env,
    )
    r = opschaal(
        "plan",
        "export",
        plan_id,
        "--format",
        "docx",
        "--out",
        "plan.docx",
        "--owner",
        "cli:tester",
        cwd=tmp_path,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    doc = Document(str(tmp_path / "plan.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for h in (
        "Stakeholders",
        "Businesscase (vijf jaar)",
        "Implementatieplan",
        "Bronnen",
        "Wijzigingsgeschiedenis",
    ):
        assert h in headings
    assert len(doc.tables) >= 3 and len(doc.inline_shapes) == 1
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "[1] " in text and "Privacy officer" in text
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "structureel" in cells and "Netto per jaar" in cells


def test_pdf_and_markdown_exports(env, plan_id, tmp_path):
    from pypdf import PdfReader

    r = opschaal(
        "plan",
        "export",
        plan_id,
        "--format",
        "pdf",
        "--out",
        "plan.pdf",
        "--owner",
        "cli:tester",
        cwd=tmp_path,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    reader = PdfReader(str(tmp_path / "plan.pdf"))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Straatsein meldingen-app" in text and "Bronnen" in text and "[1]" in text
    assert sum(len(p.images) for p in reader.pages) == 1
    r = opschaal(
        "plan",
        "export",
        plan_id,
        "--format",
        "md",
        "--out",
        "plan.md",
        "--owner",
        "cli:tester",
        cwd=tmp_path,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    md = (tmp_path / "plan.md").read_text()
    assert "## Bronnen" in md and "![Invloed-belangmatrix](plan-grid.png)" in md
    assert (tmp_path / "plan-grid.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_input_gets_one_line(env, plan_id, tmp_path):
    (tmp_path / "bad.yaml").write_text("innovation: [unclosed")
    assert "geen geldige YAML" in one_error_line(
        opschaal("plan", "new", "--from", "bad.yaml", cwd=tmp_path, env=env)
    )
    (tmp_path / "wrong.json").write_text(json.dumps({**STRAATSEIN, "ambition": "wide"}))
    assert "ambition" in one_error_line(
        opschaal("plan", "new", "--from", "wrong.json", cwd=tmp_path, env=env)
    )
    assert "--format 'odt'" in one_error_line(
        opschaal("plan", "export", plan_id, "--format", "odt", cwd=tmp_path, env=env)
    )
    assert "bestaat niet" in one_error_line(opschaal("plan", "show", "nope", cwd=tmp_path, env=env))


def test_person_export_and_delete_cover_a_web_users_plans_by_their_link(env, plan_world, tmp_path):
    """A web owner is stored only as a digest of the secret in their plan link: the link they
    hand in is how `opschaal person export|delete` finds their plans, and nobody else's."""
    import secrets as pysecrets

    from plans.service import PlanService
    from storage import PlanStore, Stores

    svc = PlanService(
        plan_world["assistant"], PlanStore(Stores.from_settings(plan_world["settings"]))
    )
    secret, other = pysecrets.token_urlsafe(32), pysecrets.token_urlsafe(32)
    mine = svc.create(PlanService.web_owner(secret), STRAATSEIN)
    theirs = svc.create(PlanService.web_owner(other), STRAATSEIN)
    link = f"http://127.0.0.1:8000/plan/{mine}#eigenaar={secret}"

    r = opschaal("person", "export", "--plan-link", link, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [p["id"] for p in data["web_plans"]] == [mine]
    assert data["web_plans"][0]["tasks"] and data["web_plans"][0]["history"]
    assert secret not in r.stdout, "the export holds the digest, never the secret"

    share = f"http://127.0.0.1:8000/plan/{mine}#deel={pysecrets.token_urlsafe(24)}"
    assert "eigenaar" in one_error_line(
        opschaal("person", "export", "--plan-link", share, cwd=tmp_path, env=env)
    )
    assert "--plan-link" in one_error_line(opschaal("person", "export", cwd=tmp_path, env=env))

    r = opschaal("person", "delete", "--plan-link", secret, "--yes", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert "1 plan(nen)" in r.stdout
    assert svc.store.owned_by(PlanService.web_owner(secret)) == []
    assert [p["id"] for p in svc.store.owned_by(PlanService.web_owner(other))] == [theirs]
    again = json.loads(
        opschaal("person", "export", "--plan-link", link, cwd=tmp_path, env=env).stdout
    )
    assert again == {"web_plans": []}
