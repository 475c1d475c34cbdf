"""CI gates: the bundled question set on the bundled corpus, and the held-out transfer set on the
transfer corpus, both with the real embedder.

Thresholds live in ``evals.metrics.GATE`` and ``TRANSFER_GATE``: set at the level reached,
raised when the system improves. On failure the message lists what fell short and the worst
questions, so the fix starts from the log.
"""

from __future__ import annotations

import pytest

from evals.metrics import GATE, TRANSFER_GATE, gate_failures
from evals.runner import run_eval
from tests.conftest import TRANSFER_QUESTIONS


def _detail(run: dict) -> str:
    worst = sorted(run["results"], key=lambda r: -r["severity"])[:8]
    return "; ".join(
        f"{r['id']}: {', '.join(r['checks']['failures'])}" for r in worst if r["checks"]["failures"]
    )


@pytest.mark.slow
def test_bundled_eval_meets_the_gate(bundled_assistant) -> None:
    run = run_eval(bundled_assistant, baselines=False)
    m = run["metrics"]
    failures = gate_failures(m)
    assert not failures, f"CI-drempels niet gehaald: {failures}. Slechtste vragen: {_detail(run)}"
    assert m["consent_leaks"] == 0 and m["visibility_leaks"] == 0
    assert {k for k in GATE if "." not in k} <= set(m)
    # The answer figures are measured on enough questions to mean something.
    assert m["n"]["nuggets"] >= 120 and m["by_language"]["en"]["n"]["nuggets"] >= 10
    # English as a first-class language (issue 14), at the figures reached: English R@5
    # 1.000, MRR@10 0.969 against Dutch 0.941; phase accuracy 0.917 on 2 December (English 4/4;
    # nl-107 is 'borgen' again since a start question that names a phase starts in that phase),
    # 0.875 on a fresh machine on 3 December with the same code (nl-032, nl-043 and nl-105 miss;
    # one of them flips with the retrieved order), so the gate sits at the lower figure.
    en, nl = m["by_language"]["en"], m["by_language"]["nl"]
    assert en["R@5"] >= 0.95, en["R@5"]
    assert en["MRR@10"] >= nl["MRR@10"] - 0.05, (en["MRR@10"], nl["MRR@10"])
    assert m["phase_accuracy"] >= 0.87 and en["phase_accuracy"] >= 0.8, m["phase_accuracy"]
    # Dutch retrieval did not drop with the cross-lingual changes (before: R@5 0.968).
    assert nl["R@5"] >= 0.96 and nl["MRR@10"] >= 0.93, nl


@pytest.mark.slow
def test_transfer_eval_meets_its_gate(transfer_assistant) -> None:
    """The held-out corpus: nothing was tuned on it, so this is the transfer figure."""
    run = run_eval(transfer_assistant, TRANSFER_QUESTIONS, baselines=False, gate=TRANSFER_GATE)
    m = run["metrics"]
    failures = gate_failures(m, TRANSFER_GATE)
    assert not failures, f"transferdrempels niet gehaald: {failures}. Slechtste: {_detail(run)}"
    assert m["gate"]["passed"]
    assert m["consent_leaks"] == 0
    assert m["n"]["in_scope"] >= 30 and m["n"]["nuggets"] >= 30
