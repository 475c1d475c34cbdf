"""CI gate: the bundled question set on the bundled corpus with the real embedder.

Thresholds live in ``evals.metrics.GATE`` (issue 5: set now, raised later). On failure the
message lists what fell short and the worst questions, so the fix starts from the log.
"""

from __future__ import annotations

import pytest

from evals.metrics import GATE, gate_failures
from evals.runner import run_eval


@pytest.mark.slow
def test_bundled_eval_meets_the_gate(bundled_assistant) -> None:
    run = run_eval(bundled_assistant, baselines=False)
    m = run["metrics"]
    failures = gate_failures(m)
    worst = sorted(run["results"], key=lambda r: -r["severity"])[:8]
    detail = "; ".join(
        f"{r['id']}: {', '.join(r['checks']['failures'])}" for r in worst if r["checks"]["failures"]
    )
    assert not failures, f"CI-drempels niet gehaald: {failures}. Slechtste vragen: {detail}"
    assert m["consent_leaks"] == 0 and m["visibility_leaks"] == 0
    assert set(GATE) <= set(m)
    # English as a first-class language (issue 14), at the figures reached: English R@5
    # 1.000, MRR@10 0.969 against Dutch 0.941, phase accuracy 0.875 (English 4/4).
    en, nl = m["by_language"]["en"], m["by_language"]["nl"]
    assert en["R@5"] >= 0.95, en["R@5"]
    assert en["MRR@10"] >= nl["MRR@10"] - 0.05, (en["MRR@10"], nl["MRR@10"])
    assert m["phase_accuracy"] >= 0.85 and en["phase_accuracy"] >= 0.8, m["phase_accuracy"]
    # Dutch retrieval did not drop with the cross-lingual changes (before: R@5 0.968).
    assert nl["R@5"] >= 0.96 and nl["MRR@10"] >= 0.93, nl
