"""``opschaal plan``: build, read, change and export a scaling plan from the command line."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from bots.cli import CliError, IndexOpt, out

plan_app = typer.Typer(
    help="Opschaalplan: maak, bekijk, wijzig en exporteer een plan voor één pilot.",
    no_args_is_help=True,
)

OwnerOpt = Annotated[
    str | None,
    typer.Option("--owner", help="eigenaar van het plan (standaard cli:<gebruikersnaam>)"),
]


def _owner(owner: str | None) -> str:
    return owner or f"cli:{getpass.getuser()}"


def _service(index: Path | None):
    from bots.cli import make_assistant, settings_for
    from plans.service import PlanService
    from storage import PlanStore, Stores

    assistant = make_assistant(index)
    return PlanService(assistant, PlanStore(Stores.from_settings(settings_for(index))))


def _read_intake(path: Path) -> dict:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(
            f"{path}: niet te lezen ({exc.strerror}); geef een YAML- of JSON-bestand"
        ) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise CliError(f"{path}: geen geldige YAML/JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise CliError(f"{path}: verwacht een object met de sleutels innovation, problem, …")
    return data


@plan_app.command("new")
def new(
    from_file: Annotated[
        Path | None, typer.Option("--from", help="intake uit YAML of JSON, zonder vragen")
    ] = None,
    owner: OwnerOpt = None,
    index: IndexOpt = None,
) -> None:
    """Maak een plan: stelt de intakevragen één voor één, of leest ze met --from.

    Voorbeeld: opschaal plan new --from intake.yaml
    """
    from plans.service import PlanService

    if from_file is not None:
        data = _read_intake(from_file)
    else:
        data = {}
        lang = "en" if typer.confirm("English?", default=False) else "nl"
        data["language"] = lang
        for q in PlanService.questions(lang)[:-1]:
            default = "out" if q["key"] == "ambition" else ""
            data[q["key"]] = typer.prompt(q["text"], default=default, show_default=bool(default))
    svc = _service(index)
    pid = svc.create(_owner(owner), data)
    if from_file is None:
        v = svc.view(pid, _owner(owner))
        out.print(
            f"Herkend: fase {v['phase_name'] or '—'}; obstakels "
            + (", ".join(o["label"] for o in v["obstacles"]) or "—")
            + ". Pas aan met: opschaal plan edit ID --set phase=… --set obstacles=…",
            markup=False,
        )
    typer.echo(pid)


@plan_app.command("show")
def show(
    plan_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="het hele plan als JSON")] = False,
    owner: OwnerOpt = None,
    index: IndexOpt = None,
) -> None:
    """Toon een plan. Voorbeeld: opschaal plan show 3f2a… --json"""
    from plans.export import to_markdown

    view = _service(index).view(plan_id, _owner(owner))
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False, indent=2))
    else:
        typer.echo(to_markdown(view))


@plan_app.command("edit")
def edit(
    plan_id: str,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="veld=waarde (intakevelden, phase, obstacles=a,b)"),
    ] = None,
    done: Annotated[list[str] | None, typer.Option("--done", help="taak-id afvinken")] = None,
    add_task: Annotated[list[str] | None, typer.Option("--add-task", help="eigen taak")] = None,
    say: Annotated[
        str | None, typer.Option("--say", help='zin als in de chat, bv. "wat nu?"')
    ] = None,
    owner: OwnerOpt = None,
    index: IndexOpt = None,
) -> None:
    """Wijzig een plan, vink taken af of vertel wat er veranderd is.

    Voorbeeld: opschaal plan edit 3f2a… --say "we hebben nu een eigenaar in de lijn"
    """
    svc, who = _service(index), _owner(owner)
    changes: dict = {}
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--set {item!r}: schrijf veld=waarde, bijvoorbeeld budget=structureel")
        changes[key.strip()] = (
            [v.strip() for v in value.split(",") if v.strip()]
            if key.strip() == "obstacles"
            else value
        )
    if changes:
        svc.edit(plan_id, who, changes)
    for tid in done or []:
        svc.set_task(plan_id, who, tid, status="klaar")
    for title in add_task or []:
        out.print(f"taak {svc.add_task(plan_id, who, title)} toegevoegd", markup=False)
    result = svc.chat(plan_id, who, say or "wat nu?")
    if result["updated"]:
        out.print(f"Afgevinkt: {result['updated']['title']}", markup=False)
    out.print("Volgende stappen:", markup=False)
    for t in result["next_steps"]:
        out.print(f"- [{t['id']}] {t['title']}", markup=False)


@plan_app.command("export")
def export(
    plan_id: str,
    fmt: Annotated[str, typer.Option("--format", help="md, docx of pdf")] = "docx",
    out_file: Annotated[Path | None, typer.Option("--out", help="doelbestand")] = None,
    owner: OwnerOpt = None,
    index: IndexOpt = None,
) -> None:
    """Exporteer een plan. Voorbeeld: opschaal plan export 3f2a… --format pdf --out plan.pdf"""
    from plans.export import FORMATS
    from plans.export import export as write

    if fmt not in FORMATS:
        raise CliError(f"--format {fmt!r} bestaat niet; kies uit {', '.join(FORMATS)}")
    target = out_file or Path(f"opschaalplan-{plan_id}.{fmt}")
    if not target.parent.is_dir():
        raise CliError(f"--out {target}: map {target.parent} bestaat niet")
    write(_service(index).view(plan_id, _owner(owner)), fmt, target)
    out.print(f"geschreven: {target}", markup=False)


@plan_app.command("share")
def share(plan_id: str, owner: OwnerOpt = None, index: IndexOpt = None) -> None:
    """Maak een deellink-token (intrekbaar met plan unshare)."""
    typer.echo(_service(index).share(plan_id, _owner(owner)))


@plan_app.command("unshare")
def unshare(plan_id: str, token: str, owner: OwnerOpt = None, index: IndexOpt = None) -> None:
    """Trek een deellink in."""
    if not _service(index).revoke(plan_id, _owner(owner), token):
        raise CliError("die deellink bestaat niet (meer) voor dit plan")
    out.print("deellink ingetrokken", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
