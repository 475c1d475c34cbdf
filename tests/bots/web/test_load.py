"""bench.load: the bounded loopback load run, on a small scale."""

from __future__ import annotations

import pytest

from bench.load import run_load

from .conftest import ServerThread


def test_run_load_reports_throughput_latency_and_errors(make_web):
    web = make_web(rate_limit_per_minute=0)
    with ServerThread(web.app) as srv:
        result = run_load(srv.url, clients=4, seconds=1.5)
    assert result["errors"] == 0, result["error_kinds"]
    assert result["ok"] > 0 and result["requests"] == result["ok"]
    assert result["throughput_rps"] > 0
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]


def test_run_load_counts_refusals_as_errors(make_web):
    web = make_web(rate_limit_per_minute=2)
    with ServerThread(web.app) as srv:
        result = run_load(srv.url, clients=2, seconds=1)
    assert result["errors"] > 0 and "http_429" in result["error_kinds"]


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:8000", "https://example.org", "http://192.168.1.2"]
)
def test_run_load_refuses_non_loopback_targets(url):
    with pytest.raises(ValueError, match="loopback"):
        run_load(url, clients=1, seconds=1)
