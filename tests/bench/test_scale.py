"""The scale benchmark's report: its table of ratios, and the notes written under it by hand."""

from __future__ import annotations

from bench.scale import NOTES, pct, report

META = {"load": [0.5, 0.4, 0.3], "cpus": 2, "python": "3.11"}


def test_the_report_gives_new_over_base_and_a_dash_where_a_tree_was_not_measured(tmp_path):
    rows = {
        "10000": {"base": {"peak_rss_mb": 400, "public_p99_ms": 80.0}, "new": {"peak_rss_mb": 200}},
        "100000": {"new": {"peak_rss_mb": 829}},
    }
    path = tmp_path / "scale.md"
    report(rows, META, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "| 10000 | peak_rss_mb | 400 | 200 | 0.50 |" in lines
    assert "| 100000 | peak_rss_mb | – | 829 | – |" in lines
    assert "| 10000 | public_p99_ms | 80.0 | None | – |" in lines
    # Sizes in numeric order, not as strings ("100000" < "10000" would sort them wrongly).
    sizes = [line.split("|")[1].strip() for line in lines if line.startswith("| 1")]
    assert sizes == sorted(sizes, key=int)


def test_notes_under_the_table_survive_a_new_run(tmp_path):
    path = tmp_path / "scale.md"
    report({"10000": {"new": {"ingest_s": 60.0}}}, META, path)
    path.write_text(path.read_text() + f"\n{NOTES} on this run\n\n- ran beside nothing\n")
    report({"10000": {"new": {"ingest_s": 55.0}}}, META, path)
    text = path.read_text()
    assert "| 10000 | ingest_s | – | 55.0 | – |" in text and "60.0" not in text
    assert text.count(NOTES) == 1 and text.rstrip().endswith("- ran beside nothing")


def test_percentiles_pick_a_measured_value():
    assert pct([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert pct([1.0, 2.0], 0.99) == 2.0
    assert pct([7.0], 0.95) == 7.0
