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


def load_intakes(path: Path | None = None) -> list[dict]:
    return yaml.safe_load((path or PLANS_FILE).read_text(encoding="utf-8"))


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
    """``hidden``: the directory entries without consent (names and ids that must never show)."""
    results = []
    for case in intakes or load_intakes():
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


def write_html(run: dict, out_dir: Path) -> Path:
    """A small, accessible HTML page with the figures and the per-intake table."""
    from html import escape

    m = run["metrics"]
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(r[k]))}</td>"
            for k in (
                "id",
                "phase_expected",
                "phase",
                "stakeholder_precision",
                "stakeholder_recall",
                "step_precision",
                "step_recall",
                "people_hit3",
                "consent_leaks",
            )
        )
        + "</tr>"
        for r in run["results"]
    )
    figures = "".join(
        f"<tr><th scope='row'>{escape(k)}</th><td>{v}</td></tr>" for k, v in m.items()
    )
    head = "".join(
        f"<th scope='col'>{h}</th>"
        for h in (
            "intake",
            "fase (label)",
            "fase",
            "rollen P",
            "rollen R",
            "stappen P",
            "stappen R",
            "hit@3",
            "lekken",
        )
    )
    html = (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
        "<title>Opschaalplannen: evaluatie</title></head><body><main>"
        "<h1>Opschaalplannen: evaluatie van twaalf intakes</h1>"
        f"<table><caption>Kerncijfers</caption>{figures}</table>"
        f"<table><caption>Per intake</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table></main></body></html>"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "plans.html"
    path.write_text(html, encoding="utf-8")
    (out_dir / "plans.json").write_text(json.dumps(run, indent=2, ensure_ascii=False))
    return path
