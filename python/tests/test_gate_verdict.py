"""tickwindows.gate: the one reader of the gate's verdict (used by download, export, report, pilot),
on hand-built warehouses (every state) and on a real `dbt build`."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dbt_project import BIN, input_vars, latest_gate_run, query, run_dbt
from tick_warehouse import Ev, build_warehouse, record_gate
from tickwindows.batches import release
from tickwindows.errors import GateClosed
from tickwindows.gate import GATE_CHECKS, Fingerprint, GateVerdict, latest_verdict, read_fingerprint, require_go

EVENTS = [Ev("AAPL", "RTH", datetime(2024, 3, 5, 15, 0), 120), Ev("QUIETX", "AH", datetime(2024, 3, 5, 21, 30), 600)]


def read(db: Path) -> GateVerdict | None:
    with duckdb.connect(str(db), read_only=True) as con:
        return latest_verdict(con)


def require(db: Path) -> GateVerdict:
    with duckdb.connect(str(db), read_only=True) as con:
        return require_go(con, db)


def test_no_gate_runs_means_no_verdict_and_a_closed_gate(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate=None)
    assert read(db) is None
    with pytest.raises(GateClosed, match=r"no gate verdict yet.*--force"):
        require(db)


def test_an_empty_gate_runs_holds_no_verdict(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate="go")
    with duckdb.connect(str(db)) as con:
        con.execute("delete from main.gate_runs")
    assert read(db) is None
    with pytest.raises(GateClosed, match="holds no verdict"):
        require(db)


def test_a_go_recorded_before_a_check_existed_is_not_current(tmp_path: Path) -> None:
    """A GO counts only when it passed every gate check this version has: one recorded by an older gate
    (fewer checks, or a gate_runs table without the check list and the judged checksum) does not."""
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate="go")
    verdict = read(db)
    assert verdict is not None and verdict.current_go and verdict.missing_checks == ()
    assert verdict.tests_expected == len(GATE_CHECKS) and verdict.passed_checks == GATE_CHECKS
    assert require(db) == verdict
    with duckdb.connect(str(db)) as con:  # the same GO, recorded before check 15 existed
        con.execute("update main.gate_runs set tests_expected = 14, tests_passed = 14,"
                    " passed_checks = replace(passed_checks, ',gate_15_pinned_batches_kept', '')")
    verdict = read(db)
    assert verdict is not None and verdict.go and verdict.is_current and not verdict.current_go
    assert verdict.missing_checks == ("gate_15_pinned_batches_kept",)
    with pytest.raises(GateClosed, match=r"does not record every gate check.*missing: gate_15_pinned_batches_kept"):
        require(db)
    with duckdb.connect(str(db)) as con:  # a gate_runs table of an older version: no check list, no judged checksum
        con.execute("create or replace table main.gate_runs as select evaluated_at, profile, config_hash,"
                    " enrichment_version, manifest_checksum, manifest_rows, tests_passed, tests_failed, go"
                    " from main.gate_runs")
    verdict = read(db)
    assert verdict is not None and verdict.go and verdict.passed_checks == () and verdict.judged_checksum is None
    assert not verdict.is_current and not verdict.current_go
    with pytest.raises(GateClosed, match="does not record every gate check"):
        require(db)


@pytest.mark.parametrize(("what", "edit"), [
    ("estimate totals", "update main.download_estimate_totals set storage_gb_p90 = 999, download_days_p90 = 99"),
    ("configuration", "update main.selection_config set config_hash = 'cfg2'"),
    ("pins", "insert into main.manifest_lineages values (1, now()::timestamp, 'first release');"
             " insert into main.manifest_batches (lineage, batch, released_at, event_id, symbol, session,"
             " window_start_utc, window_end_utc, trading_date, config_hash, enrichment_version)"
             " values (1, 1, now()::timestamp, 'ffff', 'GONE', 'RTH', timestamp '2024-03-05 15:00:00',"
             " timestamp '2024-03-05 15:02:00', date '2024-03-05', 'cfg1', 'enrich-v1')"),
])
def test_a_go_is_stale_once_anything_the_gate_judged_changes(what: str, edit: str, tmp_path: Path) -> None:
    """The GO is tied to manifest_core, selection_config, download_estimate_totals and the current pins:
    changing any of them after the GO (a `dbt run` after a pilot, an edit) closes the gate until it runs again."""
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate="go")
    with duckdb.connect(str(db)) as con:
        con.execute(edit)
    verdict = read(db)
    assert verdict is not None and verdict.go and not verdict.is_current, what
    with pytest.raises(GateClosed, match=r"what the gate judged changed since the GO.*Run `dbt build`"):
        require(db)
    with duckdb.connect(str(db)) as con:
        record_gate(con, go=True)  # the gate run again on the tables as they are now
    assert require(db).go


def test_releasing_the_manifest_as_it_stands_keeps_the_go_current(tmp_path: Path) -> None:
    """`release` pins exactly manifest_core's rows under its configuration: nothing the gate judged changes."""
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate="go")
    before = read(db)
    result = release(db)
    assert result.released == len(EVENTS) and result.lineage == 1
    after = read(db)
    assert before is not None and after is not None and after.current_go
    assert after.manifest_now == before.manifest_now


def test_a_no_go_names_its_failed_checks(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate="nogo")
    verdict = read(db)
    assert verdict is not None and not verdict.go and verdict.is_current and not verdict.current_go
    assert verdict.failed_checks == ("gate_03_session_share",)
    assert [(c.name, c.passed, c.message) for c in verdict.checks if not c.passed] == [
        ("gate_03_session_share", False, "failed (no message recorded)")]
    with pytest.raises(GateClosed, match=r"is NO-GO; failed checks: gate_03_session_share\. .*dbt build"):
        require(db)


def test_a_go_for_an_edited_manifest_is_not_current(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate="go")
    with duckdb.connect(str(db)) as con:
        con.execute("delete from main.manifest_core where symbol = 'AAPL'")
    verdict = read(db)
    assert verdict is not None and verdict.go and not verdict.is_current and not verdict.current_go
    assert verdict.manifest_now is not None and verdict.manifest_now.rows == 1
    with pytest.raises(GateClosed, match=r"manifest changed since the GO.*2 rows; now .*, 1 rows\)"):
        require(db)
    with duckdb.connect(str(db)) as con:
        record_gate(con, go=True)  # a newer GO for the manifest as it is now
    assert require(db).manifest_rows == 1


def test_without_the_fingerprint_view_no_verdict_is_current(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate="go")
    with duckdb.connect(str(db)) as con:
        con.execute("drop view main.manifest_fingerprint")
        assert read_fingerprint(con) is None
    verdict = read(db)
    assert verdict is not None and verdict.go and verdict.manifest_now is None and not verdict.current_go
    with pytest.raises(GateClosed, match="manifest_fingerprint is missing"):
        require(db)


def test_the_verdict_of_a_real_build_carries_every_gate_runs_field(clean_build: Path) -> None:
    row = latest_gate_run(clean_build)
    verdict = require(clean_build)
    assert verdict.evaluated_at == str(row["evaluated_at"]) and verdict.go is row["go"] is True
    for name in ("invocation_id", "command", "profile", "config_hash", "enrichment_version", "manifest_checksum",
                 "manifest_rows", "tests_expected", "tests_passed", "tests_failed"):
        assert getattr(verdict, name) == row[name], name
    assert ",".join(verdict.passed_checks) == row["passed_checks"] and verdict.failed_checks == ()
    assert len(verdict.checks) == row["tests_expected"] and all(c.passed for c in verdict.checks)
    assert verdict.is_current and verdict.manifest_now == Fingerprint(row["manifest_rows"], row["manifest_checksum"],
                                                                      row["judged_checksum"])


def test_the_gate_checks_this_version_requires_are_exactly_the_projects(clean_build: Path) -> None:
    """GATE_CHECKS (what require_go demands) is the list of the dbt project's tests tagged `gate`, and a real
    build records exactly that many as expected."""
    manifest = json.loads((clean_build.parent / "target" / "manifest.json").read_text())
    project_checks = sorted(node["name"] for node in manifest["nodes"].values()
                            if node["resource_type"] == "test" and "gate" in node["tags"])
    assert tuple(project_checks) == GATE_CHECKS
    assert latest_gate_run(clean_build)["tests_expected"] == len(GATE_CHECKS)


def _release(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "tickwindows"), "release", "--db", str(db)], capture_output=True, text=True,
                          timeout=300)


def test_estimates_raised_after_a_go_close_the_gate_for_release(warehouse_copy: Path) -> None:
    """Issue 17's reproduction on a real build: the estimate totals pushed past both limits after the GO
    (what a `dbt run` after a pilot can do) must stop `release` (and so `download` and `export`)."""
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("update download_estimate_totals set storage_gb_p90 = 999, download_days_p90 = 99")
    refused = _release(warehouse_copy)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "what the gate judged changed" in refused.stderr
    assert query(warehouse_copy, "select count(*) from manifest_batches") == [(0,)]


def test_a_dbt_run_of_a_judged_model_records_a_no_go_naming_it(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path
) -> None:
    """A `dbt run` that rebuilds a table a gate check judges, without the gate, ends the GO: the hook records
    a NO-GO naming what was rebuilt. A run of a model no check judges records nothing."""
    runs = "select count(*) from gate_runs"
    (before,) = query(warehouse_copy, runs)[0]
    run = run_dbt(["run", "--select", "event_study"], warehouse_copy, input_vars(small_inputs), tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    assert query(warehouse_copy, runs) == [(before,)]
    run = run_dbt(["run", "--select", "download_estimate_totals"], warehouse_copy, input_vars(small_inputs), tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    verdict = latest_gate_run(warehouse_copy)
    assert verdict["go"] is False and verdict["command"] == "run"
    assert set(verdict["failed_checks"].split(",")) == set(GATE_CHECKS)
    assert "download_estimate_totals was rebuilt by `dbt run` without the gate" in verdict["failure_messages"]
    refused = _release(warehouse_copy)
    assert refused.returncode == 3 and "NO-GO" in refused.stderr


def test_a_real_go_recorded_before_check_15_existed_does_not_open_the_gate(warehouse_copy: Path) -> None:
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("""update gate_runs set tests_expected = 14, tests_passed = 14,
                         passed_checks = replace(passed_checks, ',gate_15_pinned_batches_kept', '')
                       where evaluated_at = (select max(evaluated_at) from gate_runs)""")
    refused = _release(warehouse_copy)
    assert refused.returncode == 3 and "missing: gate_15_pinned_batches_kept" in refused.stderr
