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


def _cache_hits(web) -> float:
    return web.app.state.metrics.cache_hits._value.get()


def test_unique_scenario_never_repeats_a_question_so_the_cache_never_hits(make_web):
    web = make_web(rate_limit_per_minute=0)
    with ServerThread(web.app) as srv:
        unique = run_load(srv.url, clients=4, seconds=1.5, scenario="unique")
        assert _cache_hits(web) == 0
        repeated = run_load(srv.url, clients=4, seconds=1.5, scenario="repeated")
    assert unique["errors"] == 0, unique["error_phases"]
    assert unique["scenario"] == "unique" and unique["distinct_questions"] == unique["requests"]
    assert repeated["distinct_questions"] <= 8
    assert _cache_hits(web) > 0, "the repeated mix does reuse answers"


def test_unique_questions_are_distinct_and_come_from_the_evaluation_set():
    import itertools

    from bench.load import unique_questions

    first = list(itertools.islice(unique_questions(), 2500))
    assert len(set(first)) == len(first)
    assert "Mijn directeur ziet het nut van onze pilot niet. Hoe krijg ik hem mee?" in first


def test_run_load_rejects_unknown_scenarios():
    with pytest.raises(ValueError, match="scenario"):
        run_load("http://127.0.0.1:9", clients=1, seconds=1, scenario="zomaar")


def test_error_phase_names_where_a_request_failed():
    from bench.load import _phase

    reused_read = [
        "http11.send_request_headers.started",
        "http11.send_request_headers.complete",
        "http11.send_request_body.complete",
        "http11.receive_response_headers.started",
    ]
    assert _phase(reused_read) == "read/reused"
    assert _phase(["connection.connect_tcp.started"]) == "connect/new"
    assert _phase(["connection.connect_tcp.complete", "http11.send_request_headers.started"]) == (
        "write/new"
    )
