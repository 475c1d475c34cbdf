"""CLI: contribute, review, gaps, purge and the AVG person commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bots.cli import CliError, IndexOpt, err, make_assistant, out


def _sharing(index: Path | None):
    from curation.service import Sharing
    from storage import Stores

    assistant = make_assistant(index)
    return Sharing(assistant, Stores.from_settings(assistant.settings))


def _wrap(fn):
    """Turn domain errors into one-line CLI errors."""
    from curation.models import ContributionError
    from curation.service import SharingError
    from storage import NotFound

    try:
        return fn()
    except (ContributionError, SharingError) as exc:
        raise CliError(str(exc)) from None
    except NotFound as exc:
        raise CliError(
            f"bijdrage {exc} niet gevonden of niet (meer) open; zie 'opschaal review list'"
        ) from None


def contribute(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="JSON-bestand met de velden van een bijdrage ('-' = stdin)."),
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Deel een ervaring: wat je probeerde, waar je tegenaan liep, wat je leerde.

    Zonder --file stelt het de vragen één voor één. Voorbeeld: opschaal contribute --file les.json
    """
    sharing = _sharing(index)
    if file is not None:
        try:
            raw = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
            data = json.loads(raw)
        except (OSError, json.JSONDecodeError) as exc:
            raise CliError(f"{file}: geen leesbaar JSON-bestand ({exc})") from None
    else:
        from assistant.service import taxonomy

        keys = sorted(taxonomy(sharing.assistant))
        data = {
            "title": typer.prompt("Titel"),
            "tried": typer.prompt("Wat heb je geprobeerd"),
            "obstacles": [
                k.strip()
                for k in typer.prompt(f"Obstakels (komma's; kies uit {', '.join(keys)})").split(",")
                if k.strip()
            ],
            "learned": typer.prompt("Wat heb je geleerd"),
            "organisation": typer.prompt("Organisatie"),
            "contact_ok": typer.confirm(
                "Mogen anderen je benaderen over deze ervaring?", default=False
            ),
        }
        if data["contact_ok"]:
            data["name"] = typer.prompt("Naam")
            data["email"] = typer.prompt("E-mailadres")
    cid = _wrap(lambda: sharing.submit(data, channel="cli"))
    out.print(f"Dank je! Bijdrage {cid} staat klaar voor een curator.")


review_app = typer.Typer(
    help="Bijdragen beoordelen: lijst, bekijken, bewerken, goedkeuren, afwijzen.",
    no_args_is_help=True,
)


@review_app.command("list")
def review_list(
    status: Annotated[
        str, typer.Option(help="pending, approved, published, rejected of all")
    ] = "pending",
    index: IndexOpt = None,
) -> None:
    """Toon bijdragen. Voorbeeld: opschaal review list --status all"""
    sharing = _sharing(index)
    rows = sharing.contributions.list(None if status == "all" else status)
    if not rows:
        out.print("Geen bijdragen.")
    for c in rows:
        out.print(
            f"{c['id']}  {c['status']:<9}  {c['created'][:10]}  {c['payload']['title']}",
            markup=False,
        )


@review_app.command("show")
def review_show(cid: str, index: IndexOpt = None) -> None:
    """Toon één bijdrage volledig. Voorbeeld: opschaal review show 3f2a9c1b7d0e"""
    sharing = _sharing(index)
    row = _wrap(lambda: sharing.contributions.get(cid))
    out.print_json(json.dumps(row, ensure_ascii=False))


@review_app.command("edit")
def review_edit(
    cid: str,
    title: Annotated[str | None, typer.Option()] = None,
    tried: Annotated[str | None, typer.Option()] = None,
    learned: Annotated[str | None, typer.Option()] = None,
    obstacles: Annotated[str | None, typer.Option(help="komma-gescheiden sleutels")] = None,
    organisation: Annotated[str | None, typer.Option()] = None,
    index: IndexOpt = None,
) -> None:
    """Pas velden van een openstaande bijdrage aan. Voorbeeld: opschaal review edit ID --title "Betere titel" """
    sharing = _sharing(index)
    changes = {
        "title": title,
        "tried": tried,
        "learned": learned,
        "organisation": organisation,
        "obstacles": [o.strip() for o in obstacles.split(",")] if obstacles else None,
    }
    _wrap(lambda: sharing.edit(cid, changes))
    out.print(f"Bijdrage {cid} bijgewerkt.")


@review_app.command("approve")
def review_approve(cid: str, index: IndexOpt = None) -> None:
    """Keur goed: schrijft een Markdown-document in de corpus en werkt de index bij.

    Voorbeeld: opschaal review approve 3f2a9c1b7d0e
    """
    sharing = _sharing(index)
    path = _wrap(lambda: sharing.approve(cid, reviewer="cli"))
    out.print(f"Gepubliceerd: {path}")


@review_app.command("reject")
def review_reject(
    cid: str, note: Annotated[str | None, typer.Option(help="reden")] = None, index: IndexOpt = None
) -> None:
    """Wijs af. Voorbeeld: opschaal review reject 3f2a9c1b7d0e --note "dubbel" """
    sharing = _sharing(index)
    _wrap(lambda: sharing.reject(cid, reviewer="cli", note=note))
    out.print(f"Bijdrage {cid} afgewezen.")


def gaps(json_out: Annotated[bool, typer.Option("--json")] = False, index: IndexOpt = None) -> None:
    """Kennislacunes: vragen zonder antwoord of met 👎, gegroepeerd per onderwerp.

    Voorbeeld: opschaal gaps
    """
    sharing = _sharing(index)
    found = sharing.gaps()
    if json_out:
        sys.stdout.write(
            json.dumps([g.__dict__ | {"trend": g.trend} for g in found], ensure_ascii=False) + "\n"
        )
        return
    if not found:
        out.print("Geen kennislacunes: alle vragen kregen een antwoord zonder 👎.")
    for g in found:
        out.print(f"\n[bold]{g.label}[/] — {g.count} vragen, trend {g.trend}")
        for q in g.examples:
            out.print(f"  • {q}", markup=False)
        for o in g.obstacles:
            flags = [
                w
                for w, b in (
                    ("weinig documenten", o["lacks_documents"]),
                    ("weinig mensen", o["lacks_people"]),
                )
                if b
            ]
            out.print(
                f"  obstakel {o['key']}: {o['documents']} documenten, {o['people']} mensen"
                + (f" ({', '.join(flags)})" if flags else ""),
                markup=False,
            )


def purge(
    days: Annotated[
        int | None, typer.Option(help="bewaartermijn in dagen (standaard OPSCHAAL_RETENTION_DAYS)")
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Verwijder vragen, antwoorden en feedback ouder dan de bewaartermijn.

    Voorbeeld: opschaal purge --days 90
    """
    sharing = _sharing(index)
    counts = sharing.purge(days)
    out.print("Verwijderd: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


person_app = typer.Typer(
    help="AVG-rechten: gegevens van één persoon exporteren of verwijderen.", no_args_is_help=True
)


#: A web user is no directory person: their plans are found through the link the widget gave.
PlanLinkOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--plan-link",
        help="planlink van een webgebruiker (…/plan/ID#eigenaar=…) of het eigenaarsgeheim; "
        "herhaalbaar",
    ),
]
PersonArg = Annotated[
    str | None, typer.Argument(help="id uit de mensenlijst (weg te laten met --plan-link)")
]


def _who(person_id: str | None, links: list[str] | None) -> None:
    if not person_id and not links:
        raise CliError("geef een persoon-id, of --plan-link voor de plannen van een webgebruiker")


@person_app.command("export")
def person_export(
    person_id: PersonArg = None, plan_link: PlanLinkOpt = None, index: IndexOpt = None
) -> None:
    """Exporteer alles wat over een persoon is opgeslagen, als JSON.

    Voorbeelden: opschaal person export sanne-van-dijk > sanne.json;
    opschaal person export --plan-link 'https://…/plan/ID#eigenaar=…' > plannen.json
    """
    _who(person_id, plan_link)
    sharing = _sharing(index)
    data = _wrap(lambda: sharing.export_person(person_id)) if person_id else {}
    if plan_link:
        data.update(_wrap(lambda: sharing.export_web_plans(plan_link)))
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")


@person_app.command("delete")
def person_delete(
    person_id: PersonArg = None,
    plan_link: PlanLinkOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="niet om bevestiging vragen")] = False,
    index: IndexOpt = None,
) -> None:
    """Verwijder de gegevens van een persoon (naam blijft alleen bewaard om hem onherkenbaar te maken).

    Voorbeelden: opschaal person delete sanne-van-dijk --yes;
    opschaal person delete --plan-link 'https://…/plan/ID#eigenaar=…' --yes
    """
    _who(person_id, plan_link)
    what = person_id or "deze webgebruiker"
    if not yes and not typer.confirm(f"Gegevens van {what} verwijderen?", default=False):
        raise typer.Exit(1)
    sharing = _sharing(index)
    if plan_link:
        gone = _wrap(lambda: sharing.delete_web_plans(plan_link))["web_plans_deleted"]
        out.print(f"Verwijderd: {gone} plan(nen) van de webgebruiker.")
    if not person_id:
        return
    result = _wrap(lambda: sharing.delete_person(person_id))
    out.print(
        f"Verwijderd: {person_id}; {result['contributions_anonymised']} bijdrage(n) geanonimiseerd."
    )
    if result["documents_mentioning"]:
        err.print(
            "Let op: deze documenten noemen de persoon nog (de naam wordt in antwoorden vervangen): "
            + ", ".join(result["documents_mentioning"]),
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command()(contribute)
    app.add_typer(review_app, name="review")
    app.command()(gaps)
    app.command()(purge)
    app.add_typer(person_app, name="person")
