"""``opschaal eval``: run a question file (or an external benchmark) and write a report."""

# No `from __future__ import annotations`: typer reads these annotations at runtime, and
# IndexOpt is imported inside register().

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_OUT = Path("evals/reports")
EXTERNAL = ("kamervragen",)


def _print_metrics(run: dict, report: Path | None) -> None:
    from rich.table import Table

    from bots.cli import out
    from evals.report import DEFECT_LABELS, METRIC_ROWS, SYSTEM_LABELS, fmt

    m = run["metrics"]
    table = Table(title=f"Evaluatie: {m['n']['questions']} vragen")
    table.add_column("maat")
    table.add_column("waarde", justify="right")
    for key, label in METRIC_ROWS:
        table.add_row(label, fmt(m.get(key)))
    table.add_row("  van de gegeven antwoorden", fmt(m["n"].get("answered")))
    for key, label in DEFECT_LABELS.items():
        table.add_row(f"  leesfout: {label}", fmt((m.get("defects_by_kind") or {}).get(key)))
    for lang, v in m.get("by_language", {}).items():
        if v.get("nugget_recall") is not None:
            table.add_row(f"  kernfeiten ({lang})", fmt(v["nugget_recall"]))
    out.print(table)
    keys = ["R@1", "R@5", "R@10", "MRR@10", "nDCG@10"]
    systems = Table(title="Retrieval naast de baselines")
    systems.add_column("systeem")
    for k in keys:
        systems.add_column(k, justify="right")
    for name, v in m["systems"].items():
        systems.add_row(SYSTEM_LABELS.get(name, name), *[fmt(v.get(k)) for k in keys])
    for name, r in m["ratios"].items():
        systems.add_row(f"project / {name}", *[fmt(r.get(k)) for k in keys], style="dim")
    out.print(systems)
    llm = m.get("llm") or {}
    if llm.get("generation"):
        gen = llm["generation"]
        lat, tps = llm.get("answer_latency_ms") or {}, gen.get("tokens_per_s") or {}
        out.print(
            f"Taalmodel {llm.get('configured')}: terugval {fmt(llm.get('fallback_rate'))} "
            f"({', '.join(f'{k}: {v}' for k, v in (llm.get('fallback_reasons') or {}).items()) or '–'}); "
            f"latency p50/p95 {fmt(lat.get('p50'))}/{fmt(lat.get('p95'))} ms; "
            f"{fmt(tps.get('p50'))} tokens/s; breaker {llm['breaker']['opens']}× open",
            highlight=False,
            markup=False,
        )
    gate = m["gate"]
    if gate["passed"]:
        out.print("[green]CI-drempels gehaald.[/]")
    else:
        out.print(
            "[red]CI-drempels niet gehaald:[/] " + "; ".join(gate["failures"]), highlight=False
        )
    if report:
        out.print(f"Rapport: {report}", highlight=False)


def _run_external(
    name: str, path: Path | None, index: Path | None, json_out: bool, out_dir: Path | None
) -> None:
    from bots.cli import CliError, err, out, settings_for

    if name not in EXTERNAL:
        raise CliError(f"onbekende externe benchmark {name!r}; kies uit: {', '.join(EXTERNAL)}")
    try:
        from evals.external import run_external
    except ModuleNotFoundError as exc:
        if exc.name not in ("evals.external",):
            raise
        raise CliError(
            "de externe benchmark is in deze versie nog niet beschikbaar (evals/external.py ontbreekt); "
            "draai 'opschaal eval' zonder --external"
        ) from None
    try:
        result = run_external(name, path, settings_for(index))
    except FileNotFoundError as exc:
        msg = f"externe benchmark {name} overgeslagen: {exc}; zet het CSV-bestand neer of geef het pad met --path"
        err.print(f"opschaal: {msg}", markup=False, highlight=False)
        if json_out:
            sys.stdout.write(
                json.dumps({"name": name, "skipped": str(exc)}, ensure_ascii=False) + "\n"
            )
        return
    report = None
    if out_dir is not None:
        from evals.report import write_external_report

        report = write_external_report(result, out_dir)
    if json_out:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        if report:
            err.print(f"Rapport: {report}", highlight=False)
        return
    from rich.table import Table

    from evals.report import fmt

    keys = ["R@1", "R@5", "R@10", "MRR@10"]
    table = Table(
        title=f"{name}: {result.get('n_queries')} vragen, {result.get('n_docs')} documenten"
    )
    table.add_column("systeem")
    for k in keys:
        table.add_column(k, justify="right")
    for system, v in result.get("systems", {}).items():
        table.add_row(system, *[fmt(v.get(k)) for k in keys])
    out.print(table)
    if report:
        out.print(f"Rapport: {report}", highlight=False)


def _run_plans(index, json_out: bool, out_dir: Path | None) -> None:
    """The plan evaluation on a throw-away database: eval plans never mix with real ones."""
    import json
    import tempfile

    import yaml

    from bots.cli import make_assistant, out
    from evals.plans import run_plans, write_html
    from plans.service import PlanService
    from storage import PlanStore, Stores

    assistant = make_assistant(index)
    people = Path(assistant.settings.corpus_dir) / "people.yaml"
    hidden = [
        p
        for p in yaml.safe_load(people.read_text(encoding="utf-8")) or []
        if p.get("consent") is not True
    ]
    with tempfile.TemporaryDirectory() as tmp:
        stores = Stores(Path(tmp) / "plans-eval.sqlite3")
        run = run_plans(PlanService(assistant, PlanStore(stores)), hidden)
        stores.close()
    if json_out:
        typer.echo(json.dumps(run, ensure_ascii=False))
    else:
        for key, value in run["metrics"].items():
            out.print(f"{key}: {value}", markup=False)
        for key, value in (run.get("heldout") or {}).get("metrics", {}).items():
            out.print(f"heldout {key}: {value}", markup=False)
    if out_dir is not None:
        report = write_html(run, out_dir / "plans")
        if not json_out:
            out.print(f"Rapport: {report}", markup=False)


def register(app: typer.Typer) -> None:
    from bots.cli import IndexOpt

    @app.command("eval")
    def eval_(
        questions: Annotated[
            Path | None,
            typer.Option(
                "--questions",
                help="Vragenbestand (YAML-lijst of JSON Lines; standaard de meegeleverde set).",
            ),
        ] = None,
        json_out: Annotated[
            bool,
            typer.Option(
                "--json", help='Precies één JSON-object op stdout: {"metrics", "results"}.'
            ),
        ] = False,
        out_dir: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="Map voor het rapport (standaard evals/reports); er komt een submap per run.",
            ),
        ] = None,
        no_report: Annotated[
            bool, typer.Option("--no-report", help="Geen rapport wegschrijven.")
        ] = False,
        no_baselines: Annotated[
            bool,
            typer.Option(
                "--no-baselines",
                help="Alleen het project meten, zonder BM25/dense/LangChain ernaast.",
            ),
        ] = False,
        gate: Annotated[
            bool,
            typer.Option(
                "--gate", help="Stop met exitcode 1 als een CI-drempel niet gehaald wordt."
            ),
        ] = False,
        external: Annotated[
            str | None,
            typer.Option(
                "--external",
                help="Draai een externe benchmark in plaats van de vragenset (kamervragen).",
            ),
        ] = None,
        path: Annotated[
            Path | None,
            typer.Option(
                "--path",
                help="CSV-bestand voor --external (standaard ../shared/data/kamervragen-validation.csv).",
            ),
        ] = None,
        plans: Annotated[
            bool,
            typer.Option(
                "--plans",
                help="Meet de opschaalplannen: twaalf intakes en de achtergehouden set (evals/plans.yaml).",
            ),
        ] = False,
        index: IndexOpt = None,
    ) -> None:
        """Meet de kwaliteit: draai een vragenset tegen de index, naast drie baselines, en schrijf een rapport.

        Voorbeeld: opschaal eval --out evals/reports   (of: opschaal eval --json > run.json)
        Externe benchmark: opschaal eval --external kamervragen --path ../shared/data/kamervragen-validation.csv
        """
        from bots.cli import CliError, err, make_assistant

        if plans:
            _run_plans(index, json_out, None if no_report else (out_dir or DEFAULT_OUT))
            return
        if external:
            _run_external(
                external, path, index, json_out, None if no_report else (out_dir or DEFAULT_OUT)
            )
            return
        if path is not None:
            raise CliError(
                "--path hoort bij --external; gebruik --questions voor een eigen vragenbestand"
            )

        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from evals.dataset import QuestionFileError, load_questions
        from evals.metrics import gate_for
        from evals.runner import run_eval

        try:
            items = load_questions(questions)
        except QuestionFileError as exc:
            raise CliError(str(exc)) from None
        assistant = make_assistant(index)
        progress = Progress(
            TextColumn("[bold]Evalueren[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not err.is_terminal,
            transient=True,
        )
        task = progress.add_task("eval", total=len(items))

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done)
            # Logs of CI and `make eval | tee` have no progress bar: a line now and then instead.
            if not err.is_terminal and (done % 25 == 0 or done == total):
                err.print(f"opschaal: {done}/{total} vragen geëvalueerd", highlight=False)

        try:
            with progress:
                run = run_eval(
                    assistant,
                    items,
                    baselines=not no_baselines,
                    progress=tick,
                    gate=gate_for(questions),
                )
        except QuestionFileError as exc:
            raise CliError(str(exc)) from None
        report = None
        if not no_report:
            from evals.report import write_report

            report = write_report(run, out_dir or DEFAULT_OUT)
        if json_out:
            sys.stdout.write(
                json.dumps(
                    {"metrics": run["metrics"], "results": run["results"]}, ensure_ascii=False
                )
                + "\n"
            )
            if report:
                err.print(f"Rapport: {report}", highlight=False)
        else:
            _print_metrics(run, report)
        if gate and not run["metrics"]["gate"]["passed"]:
            raise typer.Exit(1)
