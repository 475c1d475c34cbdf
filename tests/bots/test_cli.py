"""The ``opschaal`` command line as a user runs it: real subprocesses, real exit codes.

The hashing embedder keeps these fast; what depends on a real model is in tests/assistant.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.index import read_manifest
from tests.conftest import MINI_CORPUS
from tests.helpers import check_contract, generate_corpus

EXE = Path(sys.executable).with_name("opschaal")
CONSENTING = {"kees-kort", "lotte-lang"}


def opschaal(*args: str, cwd: Path, env: dict | None = None, stdin: str | None = None):
    cmd = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "bots.cli"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPSCHAAL_")}
    base.update({"OPSCHAAL_EMBEDDER": "fake", "HF_HUB_OFFLINE": "1"})
    return subprocess.run(
        [*cmd, *args],
        cwd=cwd,
        env={**base, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


def one_error_line(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A working directory with a 15-document corpus; the default index must never appear here."""
    work = tmp_path_factory.mktemp("cli")
    corpus = work / "corpus"
    shutil.copytree(MINI_CORPUS, corpus)
    generate_corpus(corpus, 12)
    return work


@pytest.fixture(scope="module")
def built(workdir) -> Path:
    index = workdir / "elders" / "index"
    r = opschaal("ingest", "--corpus", "corpus", "--index", str(index), cwd=workdir)
    assert r.returncode == 0, r.stderr
    return index


def test_ingest_summary_and_it_never_touches_the_default_index(workdir, built) -> None:
    assert (built / "manifest.json").exists()
    assert not (workdir / ".opschaal").exists()
    assert len(read_manifest(built)["docs"]) == 15
    r = opschaal("ingest", "--corpus", "corpus", "--index", str(built), cwd=workdir)
    assert r.returncode == 0, r.stderr
    rows = {}
    for line in r.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").replace("┃", "│").split("│")]
        if len(cells) == 2 and cells[1].isdigit():
            rows[cells[0]] = int(cells[1])
    assert rows["ongewijzigd"] == 15 and rows["toegevoegd"] == 0
    assert rows["chunks ingebed"] == 0
    assert not (workdir / ".opschaal").exists()


def test_ask_json_is_exactly_one_contract_object(workdir, built) -> None:
    r = opschaal(
        "ask",
        "Hoe kopen gemeenten samen een meldingensysteem in via een aanbesteding?",
        "--json",
        "--index",
        str(built),
        cwd=workdir,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1
    answer = json.loads(r.stdout)
    index_ids = set(read_manifest(built)["docs"])
    check_contract(answer, index_ids, CONSENTING)
    assert not answer["abstained"]
    assert answer["citations"]
    # 14 public documents in the index: retrieval ranks at least 10 of them.
    assert len(answer["retrieved"]) >= 10
    assert answer["retrieved"][0] == "cases/gedeelde-aanbesteding"
    assert "Gerda" not in r.stdout and "geheim-persoon" not in r.stdout


def test_ask_type_filter_and_k(workdir, built) -> None:
    r = opschaal(
        "ask",
        "Wat leerden gemeenten over budget en privacy?",
        "--json",
        "--type",
        "lesson",
        "--k",
        "2",
        "--index",
        str(built),
        cwd=workdir,
    )
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["citations"] and all(c["type"] == "lesson" for c in answer["citations"])
    assert len({c["doc_id"] for c in answer["citations"]}) <= 2
    meta = read_manifest(built)["docs"]
    assert all(meta[d]["meta"]["type"] == "lesson" for d in answer["retrieved"])


def test_global_index_option_and_env_variable(workdir, built) -> None:
    r = opschaal("--index", str(built), "ask", "Hoe regel ik een DPIA?", "--json", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "lessons/dpia-op-tijd" in json.loads(r.stdout)["retrieved"][:3]
    r = opschaal(
        "ask", "Hoe regel ik een DPIA?", cwd=workdir, env={"OPSCHAAL_INDEX_DIR": str(built)}
    )
    assert r.returncode == 0, r.stderr
    assert "Bronnen" in r.stdout and "[1]" in r.stdout


def test_chat_answers_and_follows_up(workdir, built) -> None:
    r = opschaal(
        "chat",
        "--index",
        str(built),
        cwd=workdir,
        stdin="Hoe schrijf ik een DPIA voor camerabeelden?\nEn wie kan me daarbij helpen?\nstop\n",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Bronnen") == 2
    assert "Lotte Lang" in r.stdout
    assert "Gerda" not in r.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("ask", "Hoe schaal ik op?", "--index", "bestaat-niet"), "opschaal ingest"),
        (("ask", "   ", "--index", "{index}"), "leeg"),
        (("ask", "Hoe schaal ik op?", "--type", "roman", "--index", "{index}"), "onbekend type"),
        (("ingest", "--corpus", "geen-map", "--index", "x"), "geen-map"),
    ],
)
def test_errors_are_one_line_and_exit_non_zero(workdir, built, args, words) -> None:
    args = [a.replace("{index}", str(built)) for a in args]
    line = one_error_line(opschaal(*args, cwd=workdir))
    assert words in line


def test_ingest_while_another_ingest_runs_is_one_line(workdir, tmp_path) -> None:
    from ingest.pipeline import index_lock

    with index_lock(tmp_path / "bezet"):
        r = opschaal(
            "ingest", "--corpus", "corpus", "--index", str(tmp_path / "bezet"), cwd=workdir
        )
    assert r.returncode == 2
    assert "andere ingest" in one_error_line(r)


def test_invalid_files_exit_one_and_valid_ones_are_ingested(tmp_path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(MINI_CORPUS, corpus)
    (corpus / "kapot.md").write_text("---\ntitle: [x\ntype: case\n---\nTekst.\n")
    (corpus / "zonder-titel.md").write_text("---\ntype: case\n---\nTekst.\n")
    (corpus / "lessons" / "onbekend.md").write_text(
        "---\ntitle: T\ntype: lesson\nobstacles: [ufo]\n---\nTekst.\n"
    )
    (corpus / "foto.jpg").write_bytes(b"\xff\xd8\xff")
    r = opschaal("ingest", "--corpus", str(corpus), "--index", str(tmp_path / "i"), cwd=tmp_path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    errors = sorted(ln for ln in r.stderr.splitlines() if ln.startswith("ongeldig: "))
    assert len(errors) == 3, r.stderr
    assert errors[0].startswith("ongeldig: kapot.md: ") and "YAML" in errors[0]
    assert (
        errors[1].startswith("ongeldig: lessons/onbekend.md: ") and "veld 'obstacles'" in errors[1]
    )
    assert errors[2].startswith("ongeldig: zonder-titel.md: ") and "'title'" in errors[2]
    assert "genegeerd: foto.jpg" in r.stdout
    assert len(read_manifest(tmp_path / "i")["docs"]) == 3


def test_only_unsupported_files_exit_zero(tmp_path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "verslag.docx").write_bytes(b"PK\x03\x04")
    r = opschaal("ingest", "--corpus", str(corpus), "--index", str(tmp_path / "i"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "genegeerd: verslag.docx" in r.stdout


@pytest.mark.server
def test_server_mode_ingest_and_ask_two_indexes(chroma_server, tmp_path) -> None:
    env = {"OPSCHAAL_CHROMA_URL": chroma_server}
    one, two = tmp_path / "one", tmp_path / "two"
    shutil.copytree(MINI_CORPUS, one / "corpus")
    generate_corpus(two / "corpus", 4)
    for base in (one, two):
        r = opschaal("ingest", "--corpus", "corpus", "--index", "index", cwd=base, env=env)
        assert r.returncode == 0, r.stderr
        assert not (base / "index" / "chroma").exists()  # vectors live on the server
    q = "Hoe kopen gemeenten samen een meldingensysteem in via een aanbesteding?"
    a1 = json.loads(opschaal("ask", q, "--json", "--index", "index", cwd=one, env=env).stdout)
    a2 = json.loads(opschaal("ask", q, "--json", "--index", "index", cwd=two, env=env).stdout)
    check_contract(a1, set(read_manifest(one / "index")["docs"]), CONSENTING)
    assert a1["retrieved"][0] == "cases/gedeelde-aanbesteding"
    assert a2["retrieved"] and all(d.startswith("gen/") for d in a2["retrieved"])
    # Re-ingesting one folder (with a document removed) leaves the other folder's vectors alone.
    (one / "corpus" / "lessons" / "english-note.md").unlink()
    r = opschaal("ingest", "--corpus", "corpus", "--index", "index", cwd=one, env=env)
    assert r.returncode == 0, r.stderr
    again = json.loads(opschaal("ask", q, "--json", "--index", "index", cwd=two, env=env).stdout)
    assert again["retrieved"] == a2["retrieved"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["databank"], "No such command 'databank'"),
        (["--bogus"], "No such option: --bogus"),
        (["ask", "--bogus", "hoi"], "No such option: --bogus"),
        (["serve", "--port", "abc"], "--port"),
    ],
    ids=["unknown-command", "unknown-root-option", "unknown-option", "bad-value"],
)
def test_usage_errors_get_usage_and_exit_2_not_a_bug_report(tmp_path, args, says):
    r = opschaal(*args, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert "meld het als issue" not in r.stderr and "onverwachte fout" not in r.stderr
    assert r.stderr.startswith("Usage: opschaal"), r.stderr
    assert says in r.stderr
    if args[0].startswith("-") or args == ["databank"]:
        commands = next(ln for ln in r.stderr.splitlines() if ln.startswith("Commando's:"))
        for name in ("ingest", "ask", "serve", "eval"):
            assert name in commands


#: Packages only ``serve`` (or a search) needs; no other command may load them.
HEAVY = ("fastapi", "starlette", "microsoft_agents", "chromadb", "torch")


@pytest.mark.parametrize("args", [["--help"], ["db", "current"], ["db", "--help"]])
def test_cli_commands_that_serve_nothing_load_no_web_stack(tmp_path, args) -> None:
    """Every ``opschaal`` call loads the CLI and builds its command list; FastAPI and the Agents
    SDK are for ``serve`` only. Runs the real entry point, then looks at what it imported."""
    code = (
        "import atexit, sys, typer.main\n"
        "from bots.cli import app, main\n"
        "typer.main.get_command(app).list_commands(None)\n"
        "atexit.register(lambda: print('HEAVY', sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {HEAVY!r})))\n"
        f"sys.argv = ['opschaal', *{args!r}]\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCHAAL_")}
    env["OPSCHAAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'opschaal.sqlite3'}"
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    # db current exits 1 on a database not yet created, and says so.
    assert r.returncode in (0, 1), r.stderr
    assert "Usage" in r.stdout or "nog niet aangemaakt" in r.stdout, r.stdout
    heavy = next(ln for ln in r.stdout.splitlines() if ln.startswith("HEAVY"))
    assert heavy == "HEAVY []", heavy


def test_ask_prints_each_recommended_person_with_name_and_why(workdir, built) -> None:
    q = "Wie kan ik spreken over samen aanbesteden met andere gemeenten?"
    people = json.loads(opschaal("ask", q, "--json", "--index", str(built), cwd=workdir).stdout)[
        "people"
    ]
    assert people, "the question names an obstacle a consenting person faced"
    r = opschaal("ask", q, "--index", str(built), cwd=workdir)
    assert r.returncode == 0, r.stderr
    shown = " ".join(r.stdout.split())
    for p in people:
        assert p["name"] in shown and " ".join(p["reason"].split()) in shown
    assert "Gerda Geheim" not in shown
