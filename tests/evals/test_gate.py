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
