"""The paragraph of each plan section: a template from the plan's facts and cited sources, which
a configured language model may redraft (``PlanService.draft``).

The template is the paragraph without a model, and the fallback whenever a model's draft fails
its checks. It is also what the model is given as the plan's facts, with the section's numbered
sources: the draft says the same thing better, from the same evidence. A stored draft belongs to
one version of its section (its :func:`fingerprint`): once the facts or the sources change, the
view shows the template until the section is drafted again.
"""

from __future__ import annotations

import hashlib
import json

SECTIONS: tuple[str, ...] = (
    "innovation",
    "obstacles",
    "stakeholders",
    "business_case",
    "implementation",
)

TITLES = {
    "nl": {
        "innovation": "De innovatie en haar fase",
        "obstacles": "Obstakels en wat anderen deden",
        "stakeholders": "Stakeholders",
        "business_case": "Businesscase",
        "implementation": "Implementatieplan",
    },
    "en": {
        "innovation": "The innovation and its phase",
        "obstacles": "Obstacles and what others did",
        "stakeholders": "Stakeholders",
        "business_case": "Business case",
        "implementation": "Implementation plan",
    },
}

#: Titles listed in a template sentence at most (the table next to it has them all).
MAX_LISTED = 4


def _refs(ns: list[int]) -> str:
    return "".join(f"[{n}]" for n in ns)


def _clause(text: str) -> str:
    return (text or "").strip().rstrip(".!?;:").strip()


def _money(x: float) -> str:
    return f"€ {x:,.0f}".replace(",", ".")


def _cited(text: str, ns: list[int]) -> str:
    """A sentence with its markers before the full stop."""
    return f"{text} {_refs(ns)}." if ns else f"{text}."


def _listing(items: list[str]) -> str:
    items = [_clause(i) for i in items if _clause(i)]
    shown = items[:MAX_LISTED]
    more = len(items) - len(shown)
    return "; ".join(shown) + (f" (+{more})" if more > 0 else "")


def _innovation(view: dict, en: bool) -> tuple[str, list[int]]:
    i = view["intake"]
    parts = [f"{_clause(i['innovation'])}: {_clause(i['problem'])}." if i["problem"] else ""]
    if i["where"]:
        parts.append(
            f"{'Where it runs now' if en else 'Waar het nu draait'}: {_clause(i['where'])}."
        )
    parts.append(
        _cited(
            f"{'The ambition is' if en else 'De ambitie is'} {view['ambition_name']}",
            view["ambition_sources"],
        )
    )
    if view["phase_name"]:
        parts.append(
            _cited(
                f"{'The plan is in the phase' if en else 'Het plan staat in de fase'} "
                f"{view['phase_name']}",
                view["phase_sources"],
            )
        )
    return " ".join(p for p in parts if p), view["ambition_sources"] + view["phase_sources"]


def _obstacles(view: dict, en: bool) -> tuple[str, list[int]]:
    obs = view["obstacles"]
    if not obs:
        return (
            "No obstacles have been detected yet." if en else "Er zijn nog geen obstakels herkend."
        ), []
    title = {s["n"]: s["title"] for s in view["sources"]}
    lead = "What blocks the scaling now" if en else "Wat de opschaling nu tegenhoudt"
    parts = [f"{lead}: {_listing([o['label'] for o in obs])}."]
    ns: list[int] = []
    for o in obs:
        if o["what_others_did"]:
            did = _listing([title[n] for n in o["what_others_did"] if n in title])
            head = (
                f"How others dealt with {o['label'].lower()}"
                if en
                else (f"Zo pakten anderen {o['label'].lower()} aan")
            )
            parts.append(_cited(f"{head}: {did}", o["what_others_did"]))
            ns += [n for n in o["what_others_did"] if n not in ns]
    return " ".join(parts), ns


def _stakeholders(view: dict, en: bool) -> tuple[str, list[int]]:
    own = [s["role"] for s in view["stakeholders"]]
    if own:
        parts = [
            f"{'The plan lists' if en else 'In het plan staan'} {len(own)} stakeholders: "
            f"{_listing(own)}."
        ]
    else:
        parts = [
            "The plan lists no stakeholders yet."
            if en
            else "Er staan nog geen stakeholders in het plan."
        ]
    ns: list[int] = []
    for s in view["suggested_stakeholders"]:
        lead = "Possibly missing" if en else "Mogelijk ontbreekt"
        parts.append(_cited(f"{lead}: {s['role']}, {_clause(s['why']).lower()}", s["sources"]))
        ns += [n for n in s["sources"] if n not in ns]
    return " ".join(parts), ns


def _business_case(view: dict, en: bool) -> tuple[str, list[int]]:
    bc = view["business_case"]
    t = {k: sum(v) for k, v in bc["totals"].items()}
    net = sum(bc["net"])
    if en:
        parts = [
            f"Over five years the one-off costs come to {_money(t['eenmalig'])}, the yearly costs "
            f"to {_money(t['jaarlijks'])} and the benefits to {_money(t['baten'])}: "
            f"{_money(net)} net."
        ]
    else:
        parts = [
            f"Over vijf jaar komen de eenmalige kosten op {_money(t['eenmalig'])}, de jaarlijkse "
            f"kosten op {_money(t['jaarlijks'])} en de baten op {_money(t['baten'])}: netto "
            f"{_money(net)}."
        ]
    ns: list[int] = []
    if bc["split_incentive"]:
        parts.append(_cited(_clause(bc["split_text"]), bc["split_sources"]))
        ns += bc["split_sources"]
    if bc["reference_cases"]:
        title = {s["n"]: s["title"] for s in view["sources"]}
        lead = "Cases with figures as reference points" if en else "Cases met cijfers als ijkpunt"
        cases = _listing([title[n] for n in bc["reference_cases"] if n in title])
        parts.append(_cited(f"{lead}: {cases}", bc["reference_cases"]))
        ns += [n for n in bc["reference_cases"] if n not in ns]
    return " ".join(parts), ns


def _implementation(view: dict, en: bool) -> tuple[str, list[int]]:
    tasks = view["tasks"]
    if not tasks:
        return ("The plan has no tasks yet." if en else "Het plan heeft nog geen taken."), []
    phase = [t["title"] for t in tasks if t["source"].startswith("fase:")]
    other = [t["title"] for t in tasks if not t["source"].startswith("fase:")]
    parts = [
        f"{'The implementation plan has' if en else 'Het implementatieplan telt'} {len(tasks)} "
        f"{'tasks' if en else 'taken'}."
    ]
    if phase and view["phase_name"]:
        lead = (
            f"First the steps of the phase {view['phase_name']}"
            if en
            else f"Eerst de stappen van de fase {view['phase_name']}"
        )
        parts.append(_cited(f"{lead}: {_listing(phase)}", view["phase_sources"]))
    if other:
        lead = (
            "Then the tasks per role and obstacle" if en else "Daarna de taken per rol en obstakel"
        )
        parts.append(f"{lead}: {_listing(other)}.")
    return " ".join(parts), list(view["phase_sources"]) if phase else []


_BUILDERS = {
    "innovation": _innovation,
    "obstacles": _obstacles,
    "stakeholders": _stakeholders,
    "business_case": _business_case,
    "implementation": _implementation,
}


def section_inputs(view: dict) -> dict[str, tuple[str, list[int]]]:
    """Per section: the template paragraph and the source numbers it (and a draft) may cite.
    Task statuses are left out on purpose: ticking a task off does not outdate a draft."""
    en = view["language"] == "en"
    return {key: _BUILDERS[key](view, en) for key in SECTIONS}


def fingerprint(view: dict, template: str, ns: list[int]) -> str:
    """What a stored draft was written from: the language, the facts, and which document each of
    its source numbers names (a renumbering would make its markers point elsewhere)."""
    docs = {s["n"]: s["doc_id"] for s in view["sources"]}
    key = json.dumps(
        [view["language"], template, [(n, docs.get(n)) for n in ns]], ensure_ascii=False
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]
