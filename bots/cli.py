"""``opschaal``: the command line. Every command is a thin call into the packages."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Opschaalwijzer: antwoorden, mensen en een stappenplan voor het opschalen van digitale innovaties.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
# soft_wrap: an error is one line on stderr, whatever the terminal width (contract §2).
err = Console(stderr=True, soft_wrap=True)

IndexOpt = Annotated[
    Path | None,
    typer.Option(
        "--index",
        help="Indexmap (env OPSCHAAL_INDEX_DIR; standaard .opschaal/index).",
        show_default=False,
    ),
]


class CliError(Exception):
    """One-line user error; printed without traceback."""


def settings_for(index: Path | None = None, **overrides):
    """Settings from the environment, with the command's ``--index`` or else the root one."""
    from pydantic import ValidationError

    from assistant.config import Settings, settings_error

    index = index if index is not None else _invocation.get("index")
    if index is not None:
        overrides["index_dir"] = index
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise CliError(settings_error(exc)) from None


# The root ``--index`` of the running invocation, set by the callback on every run. Kept in this
# process: writing it into os.environ would leak it into later in-process runs and children.
_invocation: dict[str, Path | None] = {}


@app.callback()
def _root(index: IndexOpt = None) -> None:
    _invocation["index"] = index


def make_assistant(index: Path | None = None):
    from assistant.service import Assistant

    return Assistant(settings_for(index))


@app.command()
def ingest(
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Corpusmap (standaard de meegeleverde corpus/).")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Index helemaal opnieuw opbouwen.")
    ] = False,
    index: IndexOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Geen voortgangsbalk.")] = False,
) -> None:
    """Bouw of werk de index bij vanuit een corpusmap (incrementeel).

    Voorbeeld: opschaal ingest --corpus ./mijn-corpus --index ./mijn-index
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from assistant.embeddings import make_embedder
    from assistant.store import make_store
    from ingest.pipeline import IngestLocked
    from ingest.pipeline import ingest as run_ingest

    settings = settings_for(index)
    corpus = corpus or settings.corpus_dir
    embedder = make_embedder(settings)
    store = make_store(settings, embedder)
    progress = Progress(
        TextColumn("[bold]Inbedden[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=True,
    )
    task = None

    def tick(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            task = progress.add_task("embed", total=total)
        progress.update(task, completed=done)

    try:
        with progress:
            report = run_ingest(
                corpus,
                settings.index_dir,
                embedder,
                store,
                rebuild=rebuild,
                chunk_size=settings.chunk_size,
                chunk_overlap=settings.chunk_overlap,
                batch_size=settings.embed_batch_size,
                progress=tick,
            )
    except IngestLocked as exc:
        raise CliError(str(exc)) from exc
    table = Table(title=f"Ingest {corpus} → {settings.index_dir}", show_header=True)
    table.add_column("resultaat")
    table.add_column("aantal", justify="right")
    for label, n in (
        ("toegevoegd", len(report.added)),
        ("bijgewerkt", len(report.updated)),
        ("ongewijzigd", len(report.unchanged)),
        ("verwijderd", len(report.removed)),
        ("genegeerd (niet ondersteund)", len(report.ignored)),
        ("ongeldig", len(report.invalid)),
        ("chunks ingebed", report.chunks_embedded),
        ("chunks hervat", report.chunks_resumed),
        ("chunks totaal", report.chunks_total),
    ):
        table.add_row(label, str(n))
    out.print(table)
    for name in report.ignored:
        out.print(f"  genegeerd: {name}")
    for problem in report.invalid:
        err.print(f"ongeldig: {problem}", markup=False, highlight=False)
    _prepare_references(settings, embedder, store, report)
    raise typer.Exit(report.exit_code)


def _prepare_references(settings, embedder, store, report) -> None:
    """Embed obstacles, expertise and phases now, so the first question after a start is fast."""
    from assistant.service import Assistant

    changed = report.chunks_embedded or report.removed or report.rebuilt
    if not changed and any(settings.index_dir.glob("reference-vectors-*.npz")):
        return
    try:
        with err.status("Mensen, obstakels en fasen voorbereiden…"):
            Assistant(settings, embedder=embedder, store=store).warm()
    except Exception as exc:  # the index is committed; answering just starts slower
        logging.getLogger(__name__).warning("voorbereiden overgeslagen (%s)", type(exc).__name__)


def _print_text(text: str) -> None:
    """The answer's paragraphs, bold section labels and hanging-indent lists, through rich."""
    from rich.padding import Padding
    from rich.text import Text

    from assistant.markup import parse

    for i, block in enumerate(parse(text)):
        if block.kind == "label":
            out.print(Text(("\n" if i else "") + block.text, style="bold"))
        elif block.kind == "list":
            table = Table.grid(padding=(0, 1))
            table.add_column(no_wrap=True)
            table.add_column()
            for n, item in enumerate(block.items, start=1):
                table.add_row(f"{n}." if block.ordered else "•", Text(item.text))
                for child in item.children:
                    table.add_row("", Text(f"– {child.text}"))
            out.print(Padding(table, (0, 0, 0, 2)))
        else:
            out.print(Text(("\n" if i else "") + block.text))


def _print_answer(answer) -> None:
    _print_text(answer.answer)
    if answer.citations:
        out.print("\n[bold]Bronnen[/]" if answer.language == "nl" else "\n[bold]Sources[/]")
        for c in answer.citations:
            loc = f" — {c.url}" if c.url else f" ({c.doc_id})"
            out.print(f"  [{c.n}] {c.title}{loc}", markup=False, highlight=False)
    if answer.people:
        out.print(
            "\n[bold]Mensen om te spreken[/]"
            if answer.language == "nl"
            else "\n[bold]People to talk to[/]"
        )
        for p in answer.people:
            # The reason says what the person did; who they are is the card's heading.
            who = ", ".join(x for x in (p.name, p.role, p.organisation) if x)
            contact = ", ".join(f"{k}: {v}" for k, v in p.contact.items())
            out.print(f"  • {who}", markup=False, highlight=False)
            out.print(
                f"    {p.reason}" + (f" ({contact})" if contact else ""),
                markup=False,
                highlight=False,
            )
    if answer.phase or answer.next_steps:
        label = "Fase" if answer.language == "nl" else "Phase"
        out.print(f"\n[bold]{label}:[/] {answer.phase_name or answer.phase or '-'}")
        for s in answer.next_steps:
            out.print(f"  → {s}", markup=False, highlight=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="De vraag, tussen aanhalingstekens.")],
    json_out: Annotated[
        bool, typer.Option("--json", help="Precies één JSON-object (contract §3) op stdout.")
    ] = False,
    type_: Annotated[
        list[str] | None,
        typer.Option("--type", help="Alleen documenten van dit type (blog, case, lesson, guide)."),
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", min=1, max=20, help="Aantal bronnen voor het antwoord.")
    ] = None,
    internal: Annotated[
        bool, typer.Option("--internal", help="Ook interne documenten gebruiken.")
    ] = False,
    index: IndexOpt = None,
) -> None:
    """Beantwoord één vraag uit de index.

    Voorbeeld: opschaal ask "Hoe creëer ik draagvlak voor opschaling?" --json
    """
    from assistant.models import Filters

    bad = [t for t in (type_ or []) if t not in ("blog", "case", "lesson", "guide")]
    if bad:
        raise CliError(f"onbekend type {bad[0]!r}; kies blog, case, lesson of guide")
    assistant = make_assistant(index)
    answer = assistant.ask(
        question,
        filters=Filters(type=type_ or []),
        audience="internal" if internal else "public",
        k=k,
    )
    if json_out:
        sys.stdout.write(json.dumps(answer.contract_dict(), ensure_ascii=False) + "\n")
    else:
        _print_answer(answer)


@app.command()
def chat(
    index: IndexOpt = None,
    internal: Annotated[
        bool, typer.Option("--internal", help="Ook interne documenten gebruiken.")
    ] = False,
) -> None:
    """Gesprek in de terminal, met vervolgvragen. Stop met een lege regel of 'stop'.

    Voorbeeld: opschaal chat
    """
    from assistant.models import Turn
    from assistant.service import UserError

    assistant = make_assistant(index)
    out.print(
        "[bold]Opschaalwijzer[/] — stel je vraag over opschalen. Lege regel of 'stop' om te stoppen."
    )
    with out.status("Kennisbank laden…"):
        assistant.warm()
    history: list[Turn] = []
    while True:
        try:
            question = input("\nJij: ").strip()
        except (EOFError, KeyboardInterrupt):
            out.print()
            break
        if not question or question.lower() in {"stop", "exit", "quit", "q"}:
            break
        try:
            answer = assistant.ask(
                question, history=history, audience="internal" if internal else "public"
            )
        except UserError as exc:
            err.print(f"fout: {exc}", markup=False)
            continue
        out.print()
        _print_answer(answer)
        history += [
            Turn(role="user", content=question),
            Turn(role="assistant", content=answer.answer),
        ]
        history = history[-8:]


@app.command()
def intro(
    person_id: Annotated[str, typer.Argument(help="Id van de persoon uit een aanbeveling.")],
    question: Annotated[str, typer.Option("--question", "-q", help="Je vraag, voor de context.")],
    name: Annotated[str | None, typer.Option("--name", help="Je eigen naam.")] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Je organisatie.")
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Schrijf een korte, beleefde introductie aan iemand uit de aanbevelingen.

    Voorbeeld: opschaal intro sanne-van-dijk --question "Hoe besteden we de uitrol samen aan?"
    """
    assistant = make_assistant(index)
    # soft_wrap: the draft is meant to be copied, so no hard line breaks mid-sentence.
    out.print(
        assistant.intro(person_id, question, name, organisation),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


# Commands that live with their own feature; each module has ``register(app)``. Listed here
# explicitly (not discovered) so a broken module fails loudly instead of vanishing from --help.
COMMAND_MODULES: list[str] = [
    "evals.cli",
    "bots.sharing.cli",
    "bots.slack.cli",
    "bots.web.cli",
    "bots.teams.cli",
    "bots.db",
    "bots.plan_cli",
]


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_commands()


def main() -> None:
    """Console entry point: user errors become one line on stderr, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="opschaal: %(message)s")
    # Some libraries (bm25s) set their own logger to DEBUG; the handler level keeps them quiet.
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    for noisy in ("chromadb", "httpx", "sentence_transformers", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # transformers draws a "Loading weights" bar on stderr at every model load.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        # Without standalone mode click returns a typer.Exit's code instead of raising it.
        code = app(standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # user errors, click's usage errors and anything unexpected
        if isinstance(exc, _user_errors()):
            err.print(f"opschaal: fout: {exc}", markup=False, highlight=False)
            sys.exit(2)
        if isinstance(exc, _click_classes("ClickException")):
            exc.show()
            _list_commands(exc)
            sys.exit(exc.exit_code)
        if isinstance(exc, _click_classes("Abort")):
            sys.exit(1)
        if os.environ.get("OPSCHAAL_DEBUG"):
            raise
        err.print(
            f"opschaal: onverwachte fout ({type(exc).__name__}: {exc}); "
            "draai opnieuw met OPSCHAAL_DEBUG=1 voor details en meld het als issue",
            markup=False,
            highlight=False,
        )
        sys.exit(3)


#: Where the errors live that are the user's to fix (printed as one line, exit 2).
_USER_ERRORS = (
    ("assistant.service", "UserError"),
    ("assistant.index", "IndexMissing"),
    ("assistant.embeddings", "EmbedderUnavailable"),
    ("assistant.store", "StoreUnavailable"),
    ("storage.errors", "StorageError"),
)


def _user_errors() -> tuple[type, ...]:
    """The user-error classes of the modules this run loaded. Importing them up front cost every
    call (``--help`` too) the whole assistant (scipy, bm25s); an exception can only be an
    instance of a class whose module was imported, so the ones not loaded cannot match."""
    loaded = tuple(getattr(sys.modules[m], n) for m, n in _USER_ERRORS if m in sys.modules)
    return (CliError, FileNotFoundError, *loaded)


def _click_classes(name: str) -> tuple[type, ...]:
    """``name`` from click and from the copy of click that newer typer versions carry: a usage
    error may come from either, and is the user's mistake, not a bug."""
    import importlib

    found = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def _list_commands(exc: Exception) -> None:
    """After "No such command", the commands that do exist, as ``--help`` lists them."""
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command", None)
    if ctx is None or not hasattr(command, "list_commands"):
        return
    names = [n for n in command.list_commands(ctx) if not command.get_command(ctx, n).hidden]
    err.print(f"Commando's: {', '.join(names)}", markup=False, highlight=False)


if __name__ == "__main__":
    main()
