"""A plan as Markdown, DOCX (python-docx) or PDF (reportlab), from the view ``PlanService.view``
returns: the same sections, tables, grid picture and numbered sources in every format.

People appear with name, role, organisation and the reason they are offered, never with their
contact details: an export travels further than the plan page.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

FORMATS = ("md", "docx", "pdf")

_L = {
    "nl": {
        "title": "Opschaalplan",
        "innovation": "De innovatie",
        "problem": "Probleem en voor wie",
        "where": "Waar het nu draait",
        "owner": "Eigenaar na de pilot",
        "budget": "Budget",
        "blocker": "Wat de opschaling tegenhoudt",
        "ambition": "Opschaalambitie",
        "phase": "Fase",
        "why": "Waarom deze fase",
        "obstacles": "Obstakels en wat anderen deden",
        "people": "Mensen die dit eerder tegenkwamen (met toestemming)",
        "stakeholders": "Stakeholders",
        "role": "Rol of organisatie",
        "interest": "Belang",
        "influence": "Invloed",
        "stance": "Houding",
        "missing": "Wie ontbreekt er misschien",
        "case": "Businesscase (vijf jaar)",
        "item": "Post",
        "kind": "Soort",
        "year": "Jaar",
        "payer": "Betaler",
        "beneficiary": "Baathouder",
        "net": "Netto per jaar",
        "split": "Gespleten prikkel",
        "refs": "Cases met cijfers als ijkpunt",
        "tasks": "Implementatieplan",
        "task": "Taak",
        "status": "Status",
        "due": "Datum",
        "task_owner": "Trekker",
        "invited": "Uitgenodigd om mee te denken",
        "when": "Wanneer",
        "history": "Wijzigingsgeschiedenis",
        "sources": "Bronnen",
        "none": "Nog niets.",
        "grid": "Invloed-belangmatrix",
        "cue": "signaalwoorden in de intake",
        "corrected": "door de gebruiker gecorrigeerd",
        "cue_chat": "signaalwoorden in je antwoorden",
        "corrected_chat": "door jou gecorrigeerd",
        "reach": "draait nu al bij meerdere organisaties",
        "drafted": "Opgesteld door een taalmodel ({model}) uit de genummerde bronnen, "
        "automatisch gecontroleerd; controleer het zelf.",
        "sourced": "lijkt op {titles}",
        "and": "en",
        "q_manage": "actief betrekken",
        "q_satisfy": "tevreden houden",
        "q_inform": "informeren",
        "q_monitor": "monitoren",
    },
    "en": {
        "title": "Scaling plan",
        "innovation": "The innovation",
        "problem": "Problem and for whom",
        "where": "Where it runs now",
        "owner": "Owner after the pilot",
        "budget": "Budget",
        "blocker": "What blocks the scaling",
        "ambition": "Scaling ambition",
        "phase": "Phase",
        "why": "Why this phase",
        "obstacles": "Obstacles and what others did",
        "people": "People who faced this before (with consent)",
        "stakeholders": "Stakeholders",
        "role": "Role or organisation",
        "interest": "Interest",
        "influence": "Influence",
        "stance": "Stance",
        "missing": "Who may be missing",
        "case": "Business case (five years)",
        "item": "Item",
        "kind": "Kind",
        "year": "Year",
        "payer": "Payer",
        "beneficiary": "Beneficiary",
        "net": "Net per year",
        "split": "Split incentive",
        "refs": "Cases with figures as reference points",
        "tasks": "Implementation plan",
        "task": "Task",
        "status": "Status",
        "due": "Date",
        "task_owner": "Lead",
        "invited": "Invited to think along",
        "when": "When",
        "history": "Change history",
        "sources": "Sources",
        "none": "Nothing yet.",
        "grid": "Influence/interest grid",
        "cue": "cue words in the intake",
        "corrected": "corrected by the user",
        "cue_chat": "cue words in your answers",
        "corrected_chat": "corrected by you",
        "reach": "already runs in several organisations",
        "drafted": "Drafted by a language model ({model}) from the numbered sources, checked "
        "automatically; check it yourself.",
        "sourced": "resembles {titles}",
        "and": "and",
        "q_manage": "manage closely",
        "q_satisfy": "keep satisfied",
        "q_inform": "keep informed",
        "q_monitor": "monitor",
    },
}


def labels(view: dict) -> dict[str, str]:
    return _L.get(view.get("language", "nl"), _L["nl"])


def _refs(ns: list[int]) -> str:
    return "".join(f"[{n}]" for n in ns)


def phase_reasons_text(reasons: list[str], language: str, *, document: bool = False) -> str:
    """Why the plan is in its phase, in words: in a chat to the user ("door jou gecorrigeerd"),
    in an export about the plan ("door de gebruiker gecorrigeerd"). Anything else in the list
    is a source document's id."""
    L = _L.get(language, _L["nl"])
    voice = "" if document else "_chat"
    words = {"cue": L["cue" + voice], "corrected": L["corrected" + voice], "reach": L["reach"]}
    said = [words[r] for r in reasons if r in words]
    # The documents read as one clause ("lijkt op “A” en “B”"), not as a list of "bron:" lines.
    titles = [f"“{r}”" for r in reasons if r not in words]
    if titles:
        joined = (
            ", ".join(titles[:-1]) + f" {L['and']} " + titles[-1] if len(titles) > 1 else titles[0]
        )
        said.append(L["sourced"].format(titles=joined))
    return "; ".join(said)


def _money(x: float) -> str:
    return f"€ {x:,.0f}".replace(",", ".")


def sections(view: dict) -> list[tuple[str, list]]:
    """The plan as (heading, blocks); a block is ``("p", text)``, ``("table", header, rows)``,
    ``("grid",)``, ``("list", items)`` or ``("note", text)`` (a remark about the paragraph before
    it). Every format renders these. A section's paragraph is included when a language model
    drafted it, with a note saying so; a template paragraph repeats what the tables show."""
    L, i = labels(view), view["intake"]
    out: list[tuple[str, list]] = []
    drafted = {d["section"]: d for d in view.get("paragraphs") or [] if d.get("drafted")}

    def prose(section: str) -> list:
        d = drafted.get(section)
        if not d:
            return []
        model = d["answerer"].removeprefix("llm:")
        return [("p", d["text"]), ("note", L["drafted"].format(model=model))]

    out.append(
        (
            L["innovation"],
            [
                ("p", f"{i['innovation']}"),
                (
                    "table",
                    ["", ""],
                    [
                        [L[k], i[k] or "—"]
                        for k in ("problem", "where", "owner", "budget", "blocker")
                    ],
                ),
                *prose("innovation"),
            ],
        )
    )
    out.append(
        (L["ambition"], [("p", f"{view['ambition_name']} {_refs(view['ambition_sources'])}")])
    )
    out.append(
        (
            L["phase"],
            [
                (
                    "p",
                    f"{view['phase_name'] or '—'}. {L['why']}: {phase_reasons_text(view['phase_reasons'], view.get('language', 'nl'), document=True) or '—'}",
                )
            ],
        )
    )
    ob_blocks: list = prose("obstacles")
    for o in view["obstacles"]:
        ob_blocks.append(("p", f"{o['label']} {_refs(o['what_others_did'])}"))
        if o["people"]:
            ob_blocks.append(
                (
                    "list",
                    [
                        f"{p['name']} ({p.get('role') or ''}, "
                        f"{p.get('organisation') or ''}): {p['reason']}"
                        for p in o["people"]
                    ],
                )
            )
    out.append((L["obstacles"], ob_blocks or [("p", L["none"])]))
    st_prose = prose("stakeholders")
    st = view["stakeholders"]
    st_blocks: list = (
        [
            (
                "table",
                [L["role"], L["interest"], L["influence"], L["stance"]],
                [[s["role"], str(s["interest"]), str(s["influence"]), s["stance"]] for s in st],
            )
        ]
        if st
        else [("p", L["none"])]
    )
    st_blocks = st_prose + st_blocks
    st_blocks.append(("grid",))
    if view["suggested_stakeholders"]:
        st_blocks.append(("p", L["missing"] + ":"))
        st_blocks.append(
            (
                "list",
                [
                    f"{s['role']}: {s['why']} {_refs(s['sources'])}"
                    for s in view["suggested_stakeholders"]
                ],
            )
        )
    out.append((L["stakeholders"], st_blocks))
    bc = view["business_case"]
    header = (
        [L["item"], L["kind"]]
        + [f"{L['year']} {y}" for y in range(1, 6)]
        + [L["payer"], L["beneficiary"]]
    )
    rows = [
        [
            r["item"],
            r["kind"],
            *(_money(x) for x in r["years"]),
            r["payer"] or "—",
            r["beneficiary"] or "—",
        ]
        for r in bc["rows"]
    ]
    rows.append([L["net"], "", *(_money(x) for x in bc["net"]), "", ""])
    bc_blocks: list = [*prose("business_case"), ("table", header, rows)]
    if bc["split_incentive"]:
        bc_blocks.append(("p", f"{L['split']}: {bc['split_text']} {_refs(bc['split_sources'])}"))
    if bc["reference_cases"]:
        bc_blocks.append(("p", f"{L['refs']}: {_refs(bc['reference_cases'])}"))
    out.append((L["case"], bc_blocks))
    out.append(
        (
            L["tasks"],
            [
                *prose("implementation"),
                (
                    "table",
                    [L["task"], L["task_owner"], L["due"], L["status"]],
                    [
                        [t["title"], t["owner"] or "—", t["due"] or "—", t["status"]]
                        for t in view["tasks"]
                    ],
                ),
            ],
        )
    )
    inv = view["invitations"]
    out.append(
        (
            L["invited"],
            [
                (
                    "table",
                    ["", L["when"]],
                    [[f"{x['name']}: {x['question']}", x["created"]] for x in inv],
                )
            ]
            if inv
            else [("p", L["none"])],
        )
    )
    out.append(
        (
            L["history"],
            [("list", [f"{e['created']} {e['actor']}: {e['action']}" for e in view["history"]])],
        )
    )
    out.append(
        (
            L["sources"],
            [
                (
                    "list",
                    [
                        f"[{s['n']}] {s['title']} ({s['type']})"
                        + (f" — {s['url']}" if s.get("url") else "")
                        for s in view["sources"]
                    ],
                )
            ],
        )
    )
    return out


def grid_png(view: dict) -> bytes:
    """The influence/interest grid of the listed stakeholders, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    L = labels(view)
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    try:
        ax.set_xlim(0.5, 5.5)
        ax.set_ylim(0.5, 5.5)
        ax.axvline(3, color="#777", lw=0.8)
        ax.axhline(3, color="#777", lw=0.8)
        ax.set_xlabel(L["interest"])
        ax.set_ylabel(L["influence"])
        ax.set_title(L["grid"])
        for (x, y), key in (
            ((4.25, 5.35), "q_manage"),
            ((1.75, 5.35), "q_satisfy"),
            ((4.25, 0.65), "q_inform"),
            ((1.75, 0.65), "q_monitor"),
        ):
            ax.text(x, y, L[key], ha="center", va="center", fontsize=8, color="#555")
        colours = {"voor": "#1a7f37", "tegen": "#b42318", "neutraal": "#175cd3"}
        for s in view["stakeholders"]:
            ax.scatter(s["interest"], s["influence"], s=60, color=colours.get(s["stance"], "#444"))
            ax.annotate(
                s["role"][:28],
                (s["interest"], s["influence"]),
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
            )
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


def to_markdown(view: dict, grid_file: str = "grid.png") -> str:
    L = labels(view)
    lines = [f"# {L['title']}: {view['intake']['innovation']}", ""]
    for heading, blocks in sections(view):
        lines += [f"## {heading}", ""]
        for b in blocks:
            if b[0] == "p":
                lines += [b[1], ""]
            elif b[0] == "note":
                lines += [f"*{b[1]}*", ""]
            elif b[0] == "list":
                lines += [f"- {x}" for x in b[1]] + [""]
            elif b[0] == "table":
                head = b[1] if any(b[1]) else ["", ""]
                lines.append("| " + " | ".join(head) + " |")
                lines.append("|" + "---|" * len(head))
                lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in b[2]]
                lines.append("")
            elif b[0] == "grid":
                lines += [f"![{L['grid']}]({grid_file})", ""]
    return "\n".join(lines)


#: Characters XML 1.0 cannot hold (C0 controls but tab and newlines, lone surrogates, U+FFFE/F):
#: python-docx and reportlab refuse them, and an intake may carry them (a pasted \x17).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value):
    """The view with every string cleaned of what XML cannot hold, so an export never fails."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, dict):
        return {k: _xml_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_xml_safe(v) for v in value]
    return value


def to_docx(view: dict, path: Path) -> None:
    from docx import Document
    from docx.shared import Cm

    view = _xml_safe(view)
    L = labels(view)
    doc = Document()
    doc.core_properties.title = f"{L['title']}: {view['intake']['innovation']}"
    doc.add_heading(doc.core_properties.title, level=0)
    for heading, blocks in sections(view):
        doc.add_heading(heading, level=1)
        for b in blocks:
            if b[0] == "p":
                doc.add_paragraph(b[1])
            elif b[0] == "note":
                doc.add_paragraph().add_run(b[1]).italic = True
            elif b[0] == "list":
                for x in b[1]:
                    doc.add_paragraph(x, style="List Bullet")
            elif b[0] == "table":
                table = doc.add_table(rows=1, cols=len(b[1]))
                table.style = "Table Grid"
                for cell, text in zip(table.rows[0].cells, b[1], strict=True):
                    cell.text = text
                for r in b[2]:
                    for cell, text in zip(table.add_row().cells, r, strict=True):
                        cell.text = text
            elif b[0] == "grid":
                doc.add_picture(io.BytesIO(grid_png(view)), width=Cm(14))
    doc.save(str(path))


def to_pdf(view: dict, path: Path) -> None:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        Image,
        ListFlowable,
        Paragraph,
        SimpleDocTemplate,
        Table,
        TableStyle,
    )

    view = _xml_safe(view)
    L = labels(view)
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=9)
    title = f"{L['title']}: {view['intake']['innovation']}"
    story = [Paragraph(escape(title), styles["Title"])]
    for heading, blocks in sections(view):
        story.append(Paragraph(escape(heading), styles["Heading2"]))
        for b in blocks:
            if b[0] == "p":
                story.append(Paragraph(escape(b[1]), styles["BodyText"]))
            elif b[0] == "note":
                story.append(Paragraph(f"<i>{escape(b[1])}</i>", styles["BodyText"]))
            elif b[0] == "list":
                story.append(
                    ListFlowable(
                        [Paragraph(_linked(escape(x)), styles["BodyText"]) for x in b[1]],
                        bulletType="bullet",
                    )
                )
            elif b[0] == "table":
                data = [[Paragraph(escape(c), small) for c in row] for row in [b[1], *b[2]]]
                t = Table(data, repeatRows=1)
                t.setStyle(
                    TableStyle(
                        [
                            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                            ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ]
                    )
                )
                story.append(t)
            elif b[0] == "grid":
                story.append(Image(io.BytesIO(grid_png(view)), width=14 * cm, height=10.5 * cm))
    wide = any(len(b[1]) > 6 for _, bs in sections(view) for b in bs if b[0] == "table")
    SimpleDocTemplate(str(path), pagesize=landscape(A4) if wide else A4, title=title).build(story)


def _linked(text: str) -> str:
    """A source line's url as a link in the PDF."""
    if " — http" not in text:
        return text
    head, url = text.rsplit(" — ", 1)
    return f'{head} — <link href="{url}" color="blue">{url}</link>'


def export(view: dict, fmt: str, path: Path) -> None:
    if fmt not in FORMATS:
        raise ValueError(fmt)
    path = Path(path)
    if fmt == "md":
        grid = path.with_name(path.stem + "-grid.png")
        path.write_text(to_markdown(view, grid.name), encoding="utf-8")
        grid.write_bytes(grid_png(view))
    elif fmt == "docx":
        to_docx(view, path)
    else:
        to_pdf(view, path)
