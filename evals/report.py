"""Write an evaluation run as ``<out>/<timestamp>/report.html`` + ``report.json`` + PNG charts."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from pathlib import Path

from .metrics import metric_value

SYSTEM_LABELS = {
    "project": "Opschaalwijzer (hybride)",
    "bm25": "BM25 alleen",
    "dense": "Dense alleen",
    "langchain": "Naïeve LangChain",
}
COLORS = {"project": "#154273", "bm25": "#e17000", "dense": "#39870c", "langchain": "#8a8a8a"}

HEADLINE = [
    ("R@5", "Recall@5", "aandeel vragen met een verwacht document in de top 5"),
    ("MRR@10", "MRR@10", "gemiddelde 1/rang van het eerste verwachte document"),
    ("citation_validity", "Geldige bronnen", "elk [n] heeft een bron en elke bron bestaat"),
    ("abstention_f1", "Weigeren F1", "weigert wanneer de kennisbank het antwoord niet heeft"),
    ("people_hit@3", "Mensen hit@3", "een verwachte persoon staat in de eerste drie"),
    ("nugget_recall", "Kernfeiten", "aandeel gelabelde kernfeiten dat in het antwoord staat"),
    ("answers_with_defects", "Leesfouten", "gegeven antwoorden met een leesbaarheidsfout"),
    ("consent_leaks", "Privacylekken", "namen of contact van mensen zonder toestemming (moet 0)"),
]

METRIC_ROWS = [
    ("R@1", "Recall@1"),
    ("R@5", "Recall@5"),
    ("R@10", "Recall@10"),
    ("MRR@10", "MRR@10"),
    ("nDCG@10", "nDCG@10"),
    ("recall_frac@5", "Recall@5 (BEIR-fractie)"),
    ("nugget_recall", "Kernfeiten (nugget recall)"),
    ("baseline_nugget_recall", "Kernfeiten naïef extractief (beste chunk)"),
    ("nugget_ratio", "Kernfeiten project / naïef"),
    ("answers_with_defects", "Antwoorden met leesbaarheidsfouten"),
    ("citation_precision", "Bronprecisie"),
    ("citation_validity", "Geldige bronnen"),
    ("abstention_precision", "Weigeren: precisie"),
    ("abstention_recall", "Weigeren: recall"),
    ("abstention_f1", "Weigeren: F1"),
    ("false_abstention_rate", "Onterecht geweigerd (in scope)"),
    ("out_of_scope_abstention_recall", "Buiten scope geweigerd (recall)"),
    ("people_hit@3", "Mensen hit@3"),
    ("consent_leaks", "Privacylekken (toestemming)"),
    ("visibility_leaks", "Interne documenten getoond"),
    ("obstacle_f1", "Obstakels F1 (micro)"),
    ("phase_accuracy", "Fase juist"),
    ("latency_p50_ms", "Latency p50 (ms)"),
    ("latency_p95_ms", "Latency p95 (ms)"),
]
BREAKDOWN_COLS = [
    ("nugget_recall", "kernfeiten"),
    ("nugget_ratio", "/ naïef"),
    ("answers_with_defects", "leesfouten"),
    ("R@5", "R@5"),
    ("MRR@10", "MRR@10"),
    ("citation_precision", "bronprec."),
    ("abstention_f1", "weigeren F1"),
    ("people_hit@3", "mensen@3"),
    ("obstacle_f1", "obstakel F1"),
    ("phase_accuracy", "fase"),
    ("consent_leaks", "lekken"),
    ("latency_p50_ms", "p50 ms"),
]
DEFECT_LABELS = {
    "flattened_list": "lijst platgeslagen tot zin",
    "checkbox": "vinkvakje [ ] zichtbaar",
    "raw_markdown": "ruwe Markdown (** of #)",
    "glued_heading": "kop vastgeplakt aan zin",
    "dangling_reference": "zin verwijst naar iets wat de lezer niet zag",
    "repeated_sentence": "zin staat twee keer in het antwoord",
    "broken_quotation": "alinea begint midden in een citaat",
}
#: Rows in the table of answers with the fewest key facts.
WORST_NUGGETS = 15


def fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "ja" if v else "nee"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3f}"
    return escape(str(v))


def _charts(run: dict, folder: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = run["metrics"]
    files = {}
    keys = ["R@1", "R@5", "R@10", "MRR@10", "nDCG@10"]
    systems = list(m["systems"])
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    width = 0.8 / max(1, len(systems))
    for i, s in enumerate(systems):
        vals = [m["systems"][s].get(k) or 0.0 for k in keys]
        xs = [x + (i - (len(systems) - 1) / 2) * width for x in range(len(keys))]
        bars = ax.bar(xs, vals, width, label=SYSTEM_LABELS.get(s, s), color=COLORS.get(s))
        ax.bar_label(bars, fmt="%.2f", fontsize=6.5, padding=1)
    ax.set_xticks(range(len(keys)), keys)
    ax.set_ylim(0, 1.1)
    ax.set_title("Retrieval per systeem (zelfde index, zelfde vragen)")
    ax.legend(
        fontsize=7,
        ncols=len(systems),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        frameon=False,
    )
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(folder / "systems.png")
    plt.close(fig)
    files["systems"] = "systems.png"

    lat = [r["checks"]["latency_ms"] for r in run["results"]]
    fig, ax = plt.subplots(figsize=(5.2, 3.2), dpi=110)
    ax.hist(lat, bins=30, color=COLORS["project"])
    for q, style in (("latency_p50_ms", "--"), ("latency_p95_ms", ":")):
        if m.get(q) is not None:
            ax.axvline(
                m[q], color="#d52b1e", linestyle=style, label=f"{q.split('_')[1]} = {m[q]:.0f} ms"
            )
    ax.set_xlabel("ms per vraag (hele ask-aanroep)")
    ax.set_ylabel("vragen")
    ax.set_title("Latency")
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(folder / "latency.png")
    plt.close(fig)
    files["latency"] = "latency.png"

    tags = list(m["by_tag"])
    clean = []
    for t in tags:
        rs = [r for r in run["results"] if t in r["tags"]]
        clean.append(sum(1 for r in rs if not r["checks"]["failures"]) / len(rs) if rs else 0.0)
    r5 = [m["by_tag"][t].get("R@5") for t in tags]
    fig, ax = plt.subplots(figsize=(8, 3.4), dpi=110)
    xs = range(len(tags))
    b1 = ax.bar(
        [x - 0.2 for x in xs], clean, 0.4, label="vragen zonder fout", color=COLORS["project"]
    )
    b2 = ax.bar(
        [x + 0.2 for x in xs],
        [v or 0.0 for v in r5],
        0.4,
        label="R@5 (waar gelabeld)",
        color=COLORS["bm25"],
    )
    ax.bar_label(b1, fmt="%.2f", fontsize=6.5, padding=1)
    ax.bar_label(
        b2, labels=[f"{v:.2f}" if v is not None else "–" for v in r5], fontsize=6.5, padding=1
    )
    ax.set_xticks(
        list(xs), [f"{t}\n(n={m['by_tag'][t]['n']['questions']})" for t in tags], fontsize=7
    )
    ax.set_ylim(0, 1.12)
    ax.set_title("Per tag")
    ax.legend(fontsize=7, frameon=False, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(folder / "tags.png")
    plt.close(fig)
    files["tags"] = "tags.png"
    return files


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1a1a1a;background:#f5f6f8}
main{max-width:1150px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;color:#154273}h2{margin-top:32px;color:#154273;border-bottom:2px solid #dde3ea;padding-bottom:4px}
.meta{color:#555;font-size:14px}
.gate{padding:12px 16px;border-radius:6px;margin:16px 0;font-weight:600}
.pass{background:#e3f4da;color:#275d0b}.fail{background:#fbe3e1;color:#8f1b12}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.card{background:#fff;border-radius:6px;padding:12px;box-shadow:0 1px 2px #0001}
.card .v{font-size:26px;font-weight:700;color:#154273}.card .l{font-weight:600;font-size:13px}
.card .d{font-size:11.5px;color:#666}.card.bad .v{color:#d52b1e}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:8px 0;width:100%}
th,td{border-bottom:1px solid #e4e7eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts img{background:#fff;border-radius:6px;max-width:100%}
.hit{font-weight:700;color:#275d0b}.bad{color:#8f1b12}
.small{font-size:12px;color:#555}code{font-size:12px}
ul.f{margin:0;padding-left:16px;color:#8f1b12}
table.narrow{width:auto;min-width:480px}
"""


def _table(headers: list[str], rows: list[list[str]], numeric_from: int = 1, cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c}</td>' if i >= numeric_from else f"<td>{c}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table class='{cls}'><tr>{head}</tr>{body}</table>"


def _is_bad(key: str, value: object, gate: dict) -> bool:
    t = gate.get(key)
    if t is None or value is None:
        return False
    return value < t["value"] if t["kind"] == "min" else value > t["value"]


def _p50_p95(stats: dict | None) -> str:
    if not stats or not stats.get("n"):
        return "–"

    def num(v: float) -> str:
        # Whole numbers and milliseconds read better without three decimals.
        return str(round(v)) if v >= 10 or float(v).is_integer() else f"{v:.2f}"

    return f"{num(stats['p50'])} / {num(stats['p95'])}"


def llm_run_rows(llm: dict) -> list[list[str]]:
    """Rows about the model itself (evals/llm_run.py): empty without a model."""
    gen = llm.get("generation")
    if not gen:
        return []
    breaker = llm.get("breaker") or {}
    outcomes = ", ".join(f"{k}: {v}" for k, v in gen["outcomes"].items())
    finishes = ", ".join(f"{k}: {v}" for k, v in gen["finish_reasons"].items())
    return [
        [
            "Latency per antwoord p50 / p95 (ms)",
            _p50_p95(llm.get("answer_latency_ms")),
            "hele antwoord (zoeken, model, controle), vragen waarvoor het model gevraagd is",
        ],
        [
            "Tokens per seconde p50 / p95",
            _p50_p95(gen.get("tokens_per_s")),
            "genereren na het eerste token",
        ],
        ["Eerste token p50 / p95 (s)", _p50_p95(gen.get("first_token_s")), "vooral de prompt"],
        [
            "Gegenereerde tokens p50 / p95",
            _p50_p95(gen.get("completion_tokens")),
            f"grens OPSCHAAL_LLM_MAX_TOKENS = {gen.get('max_tokens')}; einde: {escape(finishes)}",
        ],
        ["Modelaanroepen", fmt(gen.get("answer_calls")), escape(outcomes)],
        [
            "Breaker open gegaan",
            fmt(breaker.get("opens")),
            f"{fmt(breaker.get('skipped_answers'))} antwoorden zonder model; "
            f"eindstand {escape(str(breaker.get('state_at_end')))}",
        ],
        [
            "Meet deze run het model?",
            fmt(llm.get("measures_model")),
            "nee als de breaker openging: dan kwamen antwoorden niet van het model",
        ],
    ]


def render_html(run: dict, charts: dict[str, str]) -> str:
    m = run["metrics"]
    info = m.get("run", {})
    gate = m["gate"]
    th = gate["thresholds"]
    parts = [
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>",
        "<title>Opschaalwijzer — evaluatie</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<h1>Opschaalwijzer — evaluatie</h1>",
        f"<div class='meta'>{fmt(info.get('when'))} · {m['n']['questions']} vragen · "
        f"{fmt(info.get('documents'))} documenten · embedder <code>{fmt(info.get('embedder'))}</code> · "
        f"index <code>{fmt(info.get('index_dir'))}</code> · antwoorden <code>{fmt(info.get('answerer'))}</code></div>",
    ]
    if gate["passed"]:
        parts.append("<div class='gate pass'>CI-drempels gehaald.</div>")
    else:
        parts.append(
            "<div class='gate fail'>CI-drempels niet gehaald: "
            + "; ".join(escape(f) for f in gate["failures"])
            + "</div>"
        )

    cards = []
    for key, label, desc in HEADLINE:
        v = m.get(key)
        bad = " bad" if _is_bad(key, v, th) else ""
        t = th.get(key)
        need = f" (drempel {'≥' if t['kind'] == 'min' else '≤'} {t['value']:g})" if t else ""
        cards.append(
            f"<div class='card{bad}'><div class='v'>{fmt(v)}</div><div class='l'>{label}</div>"
            f"<div class='d'>{desc}{need}</div></div>"
        )
    parts.append("<div class='cards'>" + "".join(cards) + "</div>")

    parts.append("<h2>Retrieval naast de baselines</h2>")
    parts.append(
        "<p class='small'>Alle systemen draaien in dezelfde run op dezelfde index. BM25 en dense "
        "gebruiken de zoekvraag van het project (vervolgvragen aangevuld); de naïeve LangChain-pijplijn "
        "zoekt met de vraag zoals getypt, zonder fusie, zonder zichtbaarheidsfilter en zonder weigeren.</p>"
    )
    keys = ["R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "visibility_leaks"]
    rows = [
        [SYSTEM_LABELS.get(s, s)] + [fmt(v.get(k)) for k in keys] for s, v in m["systems"].items()
    ]
    parts.append(_table(["systeem", *keys[:-1], "interne docs getoond"], rows))
    if m.get("ratios"):
        rows = [
            [f"project / {SYSTEM_LABELS.get(s, s)}"] + [fmt(r.get(k)) for k in keys[:-1]]
            for s, r in m["ratios"].items()
        ]
        parts.append(
            "<p class='small'>Verhouding project / baseline (boven 1 = project beter):</p>"
        )
        parts.append(_table(["", *keys[:-1]], rows))
    parts.append(
        "<div class='charts'>"
        + "".join(
            f"<img src='{escape(charts[c])}' alt='{c}'>"
            for c in ("systems", "latency")
            if c in charts
        )
        + "</div>"
    )

    parts.append("<h2>Alle cijfers</h2>")
    rows = []
    listed = {key for key, _ in METRIC_ROWS}
    extra = [(key, escape(key)) for key in th if key not in listed]  # dotted gate keys
    for key, label in METRIC_ROWS + extra:
        v = metric_value(m, key)
        t = th.get(key)
        need = f"{'≥' if t['kind'] == 'min' else '≤'} {t['value']:g}" if t else ""
        cls = "bad" if _is_bad(key, v, th) else ""
        rows.append([label, f"<span class='{cls}'>{fmt(v)}</span>", need])
    rows.append(["Taal juist herkend", fmt(m.get("language_accuracy")), ""])
    parts.append(_table(["maat", "waarde", "drempel"], rows, cls="narrow"))
    n = m["n"]
    parts.append(
        f"<p class='small'>Gelabeld: {n['retrieval']} vragen met verwachte documenten, "
        f"{n['should_abstain']} die moeten weigeren, {n['people']} met verwachte mensen, "
        f"{n['obstacles']} met obstakels, {n['phase']} met een fase.</p>"
    )

    parts.append(_answer_section(run))

    llm = m.get("llm") or {}
    parts.append("<h2>Antwoordgenerator</h2>")
    rows = [
        ["Ingesteld model (OPSCHAAL_LLM)", escape(str(llm.get("configured") or "none")), ""],
        [
            "Gebruikt",
            escape(", ".join(f"{k}: {v}" for k, v in (llm.get("answerers") or {}).items())),
            "",
        ],
        ["Pogingen met het model", fmt(llm.get("llm_attempts")), ""],
        [
            "Terugval naar extractief",
            fmt(llm.get("fallback_rate")),
            escape(", ".join(f"{k}: {v}" for k, v in (llm.get("fallback_reasons") or {}).items())),
        ],
        ["Geldige bronnummers van het model", fmt(llm.get("citation_validity")), ""],
        ["Onderbouwde zinnen (faithfulness)", fmt(llm.get("supported_ratio")), ""],
        [
            "Elke [n] in getoonde antwoorden heeft een bron",
            fmt(llm.get("answer_citations_valid")),
            "",
        ],
    ]
    rows += llm_run_rows(llm)
    parts.append(_table(["maat", "waarde", "toelichting"], rows, cls="narrow"))
    if llm.get("not_a_measurement"):
        parts.append(f"<div class='gate fail'>{escape(llm['not_a_measurement'])}</div>")
    changes = (llm.get("breaker") or {}).get("changes") or []
    if changes:
        parts.append("<h3>Breaker: wisselingen tijdens de run</h3>")
        parts.append(
            _table(
                ["tijd (UTC)", "van", "naar", "reden"],
                [
                    [escape(c["at"]), escape(c["old"]), escape(c["new"]), escape(c["reason"])]
                    for c in changes
                ],
                numeric_from=99,
            )
        )

    parts.append("<h2>Per tag en per taal</h2>")
    if "tags" in charts:
        parts.append(
            f"<div class='charts'><img src='{escape(charts['tags'])}' alt='per tag'></div>"
        )
    for title, group in (("tag", m["by_tag"]), ("taal", m["by_language"])):
        rows = [
            [escape(g), str(v["n"]["questions"])] + [fmt(v.get(k)) for k, _ in BREAKDOWN_COLS]
            for g, v in group.items()
        ]
        parts.append(_table([title, "n", *[lab for _, lab in BREAKDOWN_COLS]], rows))

    parts.append("<h2>De tien slechtste vragen</h2>")
    worst = sorted(run["results"], key=lambda r: (-r["severity"], r["id"]))[:10]
    rows = []
    for r in worst:
        a = r["answer"]
        exp = set(r["expected"]["docs"] or [])
        retrieved = (
            ", ".join(
                f"<span class='hit'>{escape(d)}</span>" if d in exp else escape(d)
                for d in a["retrieved"][:5]
            )
            or "–"
        )
        cited = ", ".join(escape(c["doc_id"]) for c in a["citations"]) or "–"
        fails = "".join(f"<li>{escape(f)}</li>" for f in r["checks"]["failures"]) or "<li>–</li>"
        hist = " <span class='small'>(vervolgvraag)</span>" if "follow-up" in r["tags"] else ""
        people = ", ".join(escape(p["id"]) for p in a["people"]) or "–"
        exp_people = ", ".join(r["expected"]["people"] or []) or "–"
        rows.append(
            [
                f"<code>{escape(r['id'])}</code><br><span class='small'>{escape(', '.join(r['tags']))}</span>",
                escape(r["question"]) + hist,
                f"<ul class='f'>{fails}</ul>",
                f"verwacht: {escape(', '.join(sorted(exp)) or '–')}<br>top 5: {retrieved}<br>geciteerd: {cited}"
                f"<br>mensen: {people} (verwacht {escape(exp_people)})"
                f"<br>geweigerd: {fmt(a['abstained'])}",
            ]
        )
    parts.append(
        _table(["id", "vraag", "wat ging mis", "wat werd gevonden"], rows, numeric_from=99)
    )

    parts.append(
        "<h2>Zo lees je dit</h2><ul class='small'>"
        "<li><b>R@k</b>: aandeel vragen waarvan minstens één verwacht document bij de eerste k gevonden "
        "documenten staat. <b>MRR@10</b>: 1/rang van het eerste verwachte document. <b>nDCG@10</b>: "
        "rangkwaliteit over alle verwachte documenten.</li>"
        "<li><b>Kernfeiten</b>: per vraag het aandeel gelabelde feiten dat in het antwoord staat "
        "(elk trefwoord-voorvoegsel van één alternatief begint een woord van de tekst, hoofdletters en "
        "accenten genegeerd); <b>/ naïef</b> deelt door hetzelfde cijfer voor de beste chunk als antwoord.</li>"
        "<li><b>Leesfouten</b>: gegeven antwoorden met een platgeslagen lijst, een zichtbaar vinkvakje, "
        "ruwe Markdown, een vastgeplakte kop of een zin die verwijst naar iets wat de lezer niet zag.</li>"
        "<li><b>Bronprecisie</b>: aandeel geciteerde documenten dat verwacht was. <b>Geldige bronnen</b>: "
        "elk [n] in de tekst heeft een bron en elke bron bestaat in de index.</li>"
        "<li><b>Weigeren</b>: de assistent zegt eerlijk dat de kennisbank het niet weet; precisie en recall "
        "gaan over de vragen met <code>should_abstain: true</code>.</li>"
        "<li><b>Privacylekken</b>: naam, achternaam, id of contactgegeven van iemand zonder toestemming, "
        "ergens in tekst, bronnen of mensen. Moet altijd 0 zijn.</li>"
        "<li>Details per vraag, met het volledige antwoord, staan in <code>report.json</code>.</li></ul>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _answer_section(run: dict) -> str:
    """Nuggets beside the naive baseline, defects per kind, and the answers with fewest facts."""
    m = run["metrics"]
    n = m["n"]
    parts = ["<h2>Het antwoord zelf</h2>"]
    parts.append(
        "<p class='small'>Kernfeiten: aandeel van de gelabelde kernfeiten (nuggets) dat in de "
        "antwoordtekst staat; een weigering telt als 0. De naïeve baseline geeft de tekst van de "
        "best gerangschikte chunk als antwoord (zelfde zoekvraag, zelfde index). Leesbaarheid telt "
        f"de {fmt(n.get('answered'))} gegeven antwoorden met minstens één fout van die soort.</p>"
    )
    rows = [["alle talen", fmt(n.get("nuggets")), fmt(m.get("nugget_recall"))]]
    rows[0] += [fmt(m.get("baseline_nugget_recall")), fmt(m.get("nugget_ratio"))]
    for lang, v in m.get("by_language", {}).items():
        rows.append(
            [escape(lang), fmt(v["n"].get("nuggets")), fmt(v.get("nugget_recall"))]
            + [fmt(v.get("baseline_nugget_recall")), fmt(v.get("nugget_ratio"))]
        )
    parts.append(
        _table(["taal", "vragen met kernfeiten", "project", "naïef extractief", "verhouding"], rows)
    )
    kinds = m.get("defects_by_kind") or {}
    rows = [[DEFECT_LABELS.get(k, k), fmt(v)] for k, v in kinds.items()]
    rows.append(["<b>antwoorden met minstens één fout</b>", fmt(m.get("answers_with_defects"))])
    parts.append(_table(["leesbaarheidsfout", "antwoorden"], rows, cls="narrow"))
    rows = [
        ["Bronprecisie", fmt(m.get("citation_precision"))],
        ["Onterecht geweigerd (in scope)", fmt(m.get("false_abstention_rate"))],
        ["Buiten scope terecht geweigerd", fmt(m.get("out_of_scope_abstention_recall"))],
    ]
    parts.append(_table(["maat", "waarde"], rows, cls="narrow"))

    scored = [r for r in run["results"] if r["checks"].get("nuggets")]
    worst = sorted(scored, key=lambda r: (r["checks"]["nuggets"]["recall"], r["id"]))
    parts.append(
        f"<h3>De {min(WORST_NUGGETS, len(worst))} antwoorden met de minste kernfeiten</h3>"
    )
    rows = []
    for r in worst[:WORST_NUGGETS]:
        c = r["checks"]
        nug = c["nuggets"]
        naive = r["baselines"].get("extractive", {})
        missing = "".join(f"<li>{escape(f)}</li>" for f in nug["missing"]) or "<li>–</li>"
        found = ", ".join(DEFECT_LABELS.get(k, k) for k in c.get("defects") or {}) or "–"
        text = r["answer"].get("answer") or ""
        excerpt = escape(text[:400]) + ("…" if len(text) > 400 else "")
        rows.append(
            [
                f"<code>{escape(r['id'])}</code><br><span class='small'>{escape(r['language'])}</span>",
                escape(r["question"]),
                fmt(nug["recall"]),
                fmt((naive.get("nuggets") or {}).get("recall")),
                f"<ul class='f'>{missing}</ul>",
                escape(found),
                ("<i>geweigerd</i> " if r["answer"].get("abstained") else "")
                + f"<span class='small'>{excerpt}</span>",
            ]
        )
    parts.append(
        _table(
            ["id", "vraag", "kernfeiten", "naïef", "ontbreekt", "leesfouten", "antwoord"],
            rows,
            numeric_from=99,
        )
    )
    return "\n".join(parts)


def write_report(run: dict, out_dir: Path | str) -> Path:
    """Write the report folder and return the path of ``report.html``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(out_dir) / stamp
    i = 1
    while folder.exists():
        i += 1
        folder = Path(out_dir) / f"{stamp}-{i}"
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(
        json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    charts = _charts(run, folder)
    html = folder / "report.html"
    html.write_text(render_html(run, charts), encoding="utf-8")
    return html


def write_external_report(result: dict, out_dir: Path | str) -> Path:
    """A small report for ``--external``: one table, same folder layout."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(out_dir) / f"{stamp}-{result.get('name', 'external')}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    keys = ["R@1", "R@5", "R@10", "MRR@10"]
    rows = [
        [escape(s)] + [fmt(v.get(k)) for k in keys] for s, v in result.get("systems", {}).items()
    ]
    html = folder / "report.html"
    html.write_text(
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'><title>Externe benchmark</title>"
        f"<style>{CSS}</style></head><body><main><h1>Externe benchmark: {escape(str(result.get('name')))}</h1>"
        f"<div class='meta'>{fmt(result.get('n_queries'))} vragen · {fmt(result.get('n_docs'))} documenten</div>"
        + _table(["systeem", *keys], rows)
        + "</main></body></html>",
        encoding="utf-8",
    )
    return html
