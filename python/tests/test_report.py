"""`tickwindows report`: the verdict, the tables and a self-contained HTML page with four inline
SVG plots, on real warehouses built by dbt (GO, NO-GO, stale GO, no verdict, missing tables)."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest

from dbt_project import BIN, input_vars, query, run_dbt
from tickwindows.errors import BadInput
from tickwindows.gate import parse_checks
from tickwindows.report.data import load_report
from tickwindows.report.html import render_html
from tickwindows.report.svg import _quantile, events_per_symbol, histogram, nice_ticks
from tickwindows.report.tables import report_tables

PLOT_IDS = ("plot-session-shares", "plot-events-per-symbol", "plot-concentration", "plot-estimates")


def run_report(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="220", NO_COLOR="1")
    return subprocess.run([str(BIN / "tickwindows"), "report", *args], capture_output=True, text=True,
                          timeout=120, env=env)


@pytest.fixture
def nogo_warehouse(warehouse_copy: Path, small_inputs: Path, tmp_path: Path) -> Path:
    """A copy whose manifest lost every AH event, judged by the real gate (`dbt test --select tag:gate`)."""
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("delete from manifest_core where session = 'AH'")
    run = run_dbt(["test", "--select", "tag:gate"], warehouse_copy, input_vars(small_inputs), tmp_path / "dbt")
    assert run.returncode != 0, run.output[-3000:]
    return warehouse_copy


def test_a_go_warehouse_reports_go_with_every_check_passed(clean_build: Path) -> None:
    data = load_report(clean_build)
    assert data.verdict == "GO" and data.matches_now and data.current_go and not data.summary_stale
    (expected,) = query(clean_build, "select tests_expected from gate_runs order by evaluated_at desc limit 1")[0]
    assert len(data.gate.checks) == expected and all(c.passed for c in data.gate.checks)
    # The figures come from the warehouse, not from the report's own arithmetic.
    events, symbols = query(clean_build, "select count(*), count(distinct symbol) from manifest_core")[0]
    assert sum(data.events_per_symbol) == events and len(data.events_per_symbol) == symbols
    tables = {t.key: t for t in report_tables(data)}
    assert set(tables) == {"verdict", "funnel", "sessions", "concentration", "batches", "estimates", "checks"}
    pm_share = query(clean_build, "select count(*) filter (where session = 'PM') / count(*) from manifest_core")[0][0]
    assert tables["sessions"].rows[0][:2] == ["PM", f"{pm_share:.1%}"]
    assert [r[0] for r in tables["sessions"].rows] == ["PM", "RTH", "AH"]
    assert tables["concentration"].rows[1][1] == f"{symbols:,}"
    assert "priors" in tables["estimates"].note and "400 draws" in tables["estimates"].note


def test_cli_prints_the_report_and_writes_the_html(clean_build: Path, tmp_path: Path) -> None:
    html = tmp_path / "out" / "report.html"
    run = run_report("--db", str(clean_build), "--html", str(html))
    assert run.returncode == 0, run.stderr
    for text in ("GO", "Funnel", "Session mix", "top-20", "Download estimates", "gate_14_single_config",
                 "matches the manifest now", "yes"):
        assert text in run.stdout, text
    assert html.is_file() and f"HTML report: {html}" in run.stdout.replace("\n", "")
    assert not [p for p in html.parent.iterdir() if p.name.startswith(".")]  # no temp file left


def test_no_html_writes_nothing(clean_build: Path, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    run = run_report("--db", str(clean_build), "--html", str(html), "--no-html")
    assert run.returncode == 0, run.stderr
    assert not html.exists()


def test_the_html_is_one_self_contained_file_with_four_svg_plots(clean_build: Path) -> None:
    page = render_html(load_report(clean_build))
    lowered = page.lower()
    for forbidden in ("http", "src=", "<script", "<link", "url(", "@import"):
        assert forbidden not in lowered, forbidden
    assert page.count("<svg") == 4  # the estimates figure holds its two histograms as <g> groups
    for plot_id in PLOT_IDS:
        start = page.index(f'<svg id="{plot_id}"')
        figure = ET.fromstring(page[start:page.index("</svg>", start) + len("</svg>")])  # well-formed XML
        assert figure.findall(".//rect") or figure.findall(".//polyline"), plot_id
    for title in ("Funnel", "Session mix against the bands", "Selection and concentration",
                  "Download estimates", "Gate checks", "gate_01_selected_events"):
        assert title in page
    assert 'class="verdict go"' in page


def test_a_nogo_warehouse_is_reported_with_each_failure_message(nogo_warehouse: Path, tmp_path: Path) -> None:
    data = load_report(nogo_warehouse)
    assert data.verdict == "NO-GO" and not data.current_go
    failed = {c.name: c.message for c in data.gate.checks if not c.passed}
    assert "gate_05_ah_share" in failed and any(ch.isdigit() for ch in failed["gate_05_ah_share"])
    # `dbt test` judged the edited tables without rebuilding manifest_summary: the report says so.
    (ah_left,) = query(nogo_warehouse, "select count(*) from manifest_core where session = 'AH'")[0]
    assert ah_left == 0 and data.summary_stale
    header = dict(map(tuple, report_tables(data)[0].rows))
    assert header["figures below (manifest_summary)"].startswith(f"STALE: built for {data.summary_events} events")

    html = tmp_path / "nogo.html"
    run = run_report("--db", str(nogo_warehouse), "--html", str(html))
    assert run.returncode == 0, run.stderr  # the verdict is information, not an error
    assert "NO-GO" in run.stdout and "gate_05_ah_share" in run.stdout and "STALE: built for" in run.stdout
    page = html.read_text()
    assert 'class="verdict nogo"' in page and failed["gate_05_ah_share"][:40] in page


def test_a_go_for_an_edited_manifest_is_reported_stale(warehouse_copy: Path) -> None:
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("delete from manifest_core where event_id = (select min(event_id) from manifest_core)")
    data = load_report(warehouse_copy)
    assert data.verdict == "GO" and not data.matches_now and not data.current_go
    run = run_report("--db", str(warehouse_copy), "--no-html")
    assert run.returncode == 0 and "GO (STALE)" in run.stdout and "run `dbt build` again" in run.stdout


def test_without_any_gate_run_the_report_says_no_verdict(warehouse_copy: Path) -> None:
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("drop table gate_runs")
    data = load_report(warehouse_copy)
    assert data.verdict == "NO VERDICT" and data.gate is None and not data.current_go
    assert "no gate verdict recorded yet" in render_html(data)


def test_a_missing_warehouse_or_table_is_a_clear_error(warehouse_copy: Path, tmp_path: Path) -> None:
    run = run_report("--db", str(tmp_path / "absent.duckdb"), "--no-html")
    assert run.returncode != 0 and "absent.duckdb" in run.stderr and "dbt build" in run.stderr
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("drop table download_estimate_draws")
    with pytest.raises(BadInput, match=r"main\.download_estimate_draws.*run `dbt build` first"):
        load_report(warehouse_copy)
    run = run_report("--db", str(warehouse_copy), "--no-html")
    assert run.returncode != 0 and "download_estimate_draws" in run.stderr


def test_failure_messages_are_matched_to_their_checks() -> None:
    checks = parse_checks(
        "gate_01_a,gate_02_b", "gate_03_c,gate_04_d",
        "gate_04_d: share 0.0 below 0.03\ngate_03_c: 12 events | 7 symbols\n  continued line",
    )
    by_name = {c.name: c for c in checks}
    assert [c.name for c in checks] == ["gate_01_a", "gate_02_b", "gate_03_c", "gate_04_d"]
    assert by_name["gate_01_a"].passed and not by_name["gate_03_c"].passed
    assert by_name["gate_03_c"].message == "12 events | 7 symbols continued line"
    assert by_name["gate_04_d"].message == "share 0.0 below 0.03"
    assert parse_checks("", "gate_05_e", "")[0].message == "failed (no message recorded)"


def test_plot_quantiles_agree_with_duckdb(clean_build: Path) -> None:
    data = load_report(clean_build)
    assert _quantile(sorted(data.storage_draws), 0.9) == pytest.approx(data.totals["storage_gb_p90"], rel=1e-9)
    assert _quantile(sorted(data.days_draws), 0.5) == pytest.approx(data.totals["download_days_p50"], rel=1e-9)


def test_histograms_keep_a_far_limit_off_the_scale_and_draw_a_near_one() -> None:
    far = histogram("h", "far", [1.0, 2.0, 3.0], 250.0, "GB")
    near = histogram("h", "near", [1.0, 2.0, 3.0], 4.0, "GB")
    assert "(off the scale)" in far and "gate limit 4 GB" in near and "(off the scale)" not in near
    assert "no draws" in histogram("h", "empty", [], 1.0, "GB")


def test_events_beyond_the_cap_are_drawn_in_red() -> None:
    assert "#c0392b" not in events_per_symbol([5, 3, 1], cap=5)
    assert "#c0392b" in events_per_symbol([6, 3, 1], cap=5)


def test_nice_ticks_cover_the_range_in_round_steps() -> None:
    assert nice_ticks(0, 1.0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 64) == [0, 20, 40, 60]
    assert nice_ticks(3, 3) == [3]
