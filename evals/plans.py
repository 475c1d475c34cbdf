"""``opschaal eval --plans``: twelve scripted intakes through the plan service.

Per intake: the detected phase, the suggested roles and the plan's steps against the labels
(precision and recall), whether a labelled person is among the first three offered (hit@3), and
consent leaks — any name or id of a person without consent anywhere in the plan view (must be 0).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

PLANS_FILE = Path(__file__).with_name("plans.yaml")


#: The group of intakes written after the detection was tuned, blind to its rules and cue words.
HELDOUT = "heldout"


def load_intakes(path: Path | None = None, group: str | None = None) -> list[dict]:
    """The intakes of one group: ``None`` the twelve the rules were written against, ``"heldout"``
    the ones that were never used to tune them (reported apart, see docs/plan.md)."""
    cases = yaml.safe_load((path or PLANS_FILE).read_text(encoding="utf-8"))
    return [c for c in cases if c.get("group") == group]


def _pr(predicted: set[str], expected: set[str]) -> tuple[float, float]:
    hit = len(predicted & expected)
    return (hit / len(predicted) if predicted else 0.0, hit / len(expected) if expected else 1.0)


def _steps(view: dict) -> set[str]:
    out = set()
    for t in view["tasks"]:
        kind, _, rest = t["source"].partition(":")
        out.add(f"fase:{rest.split(':')[0]}" if kind == "fase" else t["source"])
    return out


def _offered(view: dict, limit: int = 3) -> list[str]:
    seen: list[str] = []
    for o in view["obstacles"]:
        for p in o["people"]:
            if p["id"] not in seen:
                seen.append(p["id"])
    return seen[:limit]


def run_plans(service, hidden: list[dict], intakes: list[dict] | None = None) -> dict:
    """``hidden``: the directory entries without consent (names and ids that must never show).
    Without ``intakes``: the twelve tuned intakes as ``metrics``/``results`` and the held-out
    ones apart under ``heldout`` (never mixed into the first figures)."""
    if intakes is None:
        run = _run(service, hidden, load_intakes())
        held = load_intakes(group=HELDOUT)
        if held:
            run[HELDOUT] = _run(service, hidden, held)
        return run
    return _run(service, hidden, intakes)


def _run(service, hidden: list[dict], intakes: list[dict]) -> dict:
    results = []
    for case in intakes:
        labels = case["labels"]
        pid = service.create("eval:plans", case["intake"])
        view = service.view(pid, "eval:plans")
        text = json.dumps(view, ensure_ascii=False)
        leaks = [p["id"] for p in hidden if p["id"] in text or p["name"] in text]
        sp, sr = _pr(
            {s["key"] for s in view["suggested_stakeholders"]}, set(labels["stakeholders"])
        )
        tp, tr = _pr(_steps(view), set(labels["steps"]))
        offered = _offered(view)
        results.append(
            {
                "id": case["id"],
                "phase": view["phase"],
                "phase_expected": labels["phase"],
                "phase_ok": view["phase"] == labels["phase"],
                "stakeholder_precision": sp,
                "stakeholder_recall": sr,
                "step_precision": tp,
                "step_recall": tr,
                "offered": offered,
                "people_hit3": bool(set(offered) & set(labels["people"])),
                "consent_leaks": len(leaks),
            }
        )
        service.store.delete(pid)
    n = len(results) or 1

    def mean(key: str) -> float:
        return round(sum(float(r[key]) for r in results) / n, 3)

    metrics = {
        "intakes": len(results),
        "phase_accuracy": mean("phase_ok"),
        "stakeholder_precision": mean("stakeholder_precision"),
        "stakeholder_recall": mean("stakeholder_recall"),
        "step_precision": mean("step_precision"),
        "step_recall": mean("step_recall"),
        "people_hit_at_3": mean("people_hit3"),
        "consent_leaks": sum(r["consent_leaks"] for r in results),
    }
    return {"metrics": metrics, "results": results}


_COLUMNS = (
    ("id", "intake"),
    ("phase_expected", "fase (label)"),
    ("phase", "fase"),
    ("stakeholder_precision", "rollen P"),
    ("stakeholder_recall", "rollen R"),
    ("step_precision", "stappen P"),
    ("step_recall", "stappen R"),
    ("people_hit3", "hit@3"),
    ("consent_leaks", "lekken"),
)


def _tables(run: dict, title: str) -> str:
    from html import escape

    figures = "".join(
        f"<tr><th scope='row'>{escape(k)}</th><td>{v}</td></tr>" for k, v in run["metrics"].items()
    )
    head = "".join(f"<th scope='col'>{h}</th>" for _, h in _COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(r[k]))}</td>" for k, _ in _COLUMNS) + "</tr>"
        for r in run["results"]
    )
    return (
        f"<h2>{escape(title)}</h2>"
        f"<table><caption>Kerncijfers: {escape(title)}</caption>{figures}</table>"
        f"<table><caption>Per intake: {escape(title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def write_html(run: dict, out_dir: Path) -> Path:
    """A small, accessible HTML page with the figures and the per-intake table, the held-out
    intakes in their own section."""
    body = _tables(run, "intakes waarop de regels zijn geschreven")
    if run.get(HELDOUT):
        body += _tables(run[HELDOUT], "achtergehouden intakes (nooit gebruikt om af te stemmen)")
    html = (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
        "<title>Opschaalplannen: evaluatie</title></head><body><main>"
        "<h1>Opschaalplannen: evaluatie van de intakes</h1>"
        f"{body}</main></body></html>"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "plans.html"
    path.write_text(html, encoding="utf-8")
    (out_dir / "plans.json").write_text(json.dumps(run, indent=2, ensure_ascii=False))
    return path
