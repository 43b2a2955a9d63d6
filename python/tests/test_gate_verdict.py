"""tickwindows.gate: the one reader of the gate's verdict (used by download, export, report, pilot),
on hand-built warehouses (every state) and on a real `dbt build`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dbt_project import latest_gate_run
from tick_warehouse import Ev, build_warehouse, record_gate
from tickwindows.errors import GateClosed
from tickwindows.gate import Fingerprint, GateVerdict, latest_verdict, read_fingerprint, require_go

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


def test_a_current_go_from_an_older_gate_runs_table(tmp_path: Path) -> None:
    """tick_warehouse's gate_runs lacks passed_checks, failure_messages and tests_expected."""
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate="go")
    verdict = read(db)
    assert verdict is not None and verdict.go and verdict.is_current and verdict.current_go
    assert (verdict.profile, verdict.config_hash, verdict.enrichment_version) == ("core", "cfg1", "enrich-v1")
    assert (verdict.manifest_rows, verdict.tests_passed, verdict.tests_failed) == (2, 12, 0)
    assert verdict.tests_expected is None and verdict.passed_checks == () and verdict.failure_messages is None
    assert verdict.manifest_now == Fingerprint(2, verdict.manifest_checksum)
    assert require(db) == verdict


def test_a_no_go_names_its_failed_checks(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS, gate="nogo")
    verdict = read(db)
    assert verdict is not None and not verdict.go and verdict.is_current and not verdict.current_go
    assert verdict.failed_checks == ("gate_03_session_share",)
    assert [(c.name, c.passed, c.message) for c in verdict.checks] == [
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
    assert verdict.is_current and verdict.manifest_now == Fingerprint(row["manifest_rows"], row["manifest_checksum"])
