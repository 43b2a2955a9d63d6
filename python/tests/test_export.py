"""`tickwindows export`: only a current GO is exported; Parquet ordered by event_id, byte-identical
on repeat, a sidecar whose sha256 and verdict match; no overwrites without --force-overwrite."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dbt_project import BIN, latest_gate_run, query
from tickwindows.errors import BadInput, GateClosed
from tickwindows.export import ExportSettings, export_manifest, parse_export_date

DATE = "20250131"


def settings(db: Path, out: Path, **kw: object) -> ExportSettings:
    return ExportSettings(db_path=db, out_dir=out, date=DATE, **kw)  # type: ignore[arg-type]


def run_export(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "tickwindows"), "export", *args], capture_output=True, text=True, timeout=120)



@pytest.fixture(scope="module")
def export_db(clean_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the clean build for this module's exports: an export releases (pins) what it exports, and
    that must not land in the session's shared clean_build, which other modules read as never released."""
    db = tmp_path_factory.mktemp("export") / "warehouse.duckdb"
    shutil.copy(clean_build, db)
    return db


def test_a_go_manifest_is_exported_with_a_matching_sidecar(export_db: Path, tmp_path: Path) -> None:
    result = export_manifest(settings(export_db, tmp_path))
    parquet = tmp_path / f"manifest_core_{DATE}.parquet"
    sidecar = json.loads((tmp_path / f"manifest_core_{DATE}.json").read_text())
    assert result.sidecar == tmp_path / f"manifest_core_{DATE}.json"

    table = pq.read_table(parquet)
    expected = query(export_db, "select * from manifest_core order by event_id")
    assert table.num_rows == len(expected) == sidecar["row_count"]
    ids = table.column("event_id").to_pylist()
    assert ids == sorted(ids) == [r[0] for r in expected]
    assert pq.ParquetFile(parquet).metadata.row_group(0).column(0).compression == "ZSTD"

    (entry,) = sidecar["files"]
    assert entry["sha256"] == hashlib.sha256(parquet.read_bytes()).hexdigest()
    assert entry["bytes"] == parquet.stat().st_size
    profile, config_hash, version = query(export_db, "select profile, config_hash, enrichment_version "
                                                       "from selection_config")[0]
    assert (sidecar["profile"], sidecar["config_hash"], sidecar["enrichment_version"]) == (
        profile, config_hash, version)
    gate = latest_gate_run(export_db)
    assert sidecar["gate"]["invocation_id"] == gate["invocation_id"]
    assert sidecar["gate"]["manifest_checksum"] == gate["manifest_checksum"]
    assert sidecar["gate"]["tests_passed"] == gate["tests_passed"] and sidecar["gate"]["go"] is True
    assert sidecar["tickwindows_version"] and sidecar["created_at"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"manifest_core_{DATE}.json", f"manifest_core_{DATE}.parquet"]


def test_exporting_twice_gives_byte_identical_parquet(export_db: Path, tmp_path: Path) -> None:
    first = export_manifest(settings(export_db, tmp_path / "a", enriched=True))
    second = export_manifest(settings(export_db, tmp_path / "b", enriched=True))
    for name in (f"manifest_core_{DATE}.parquet", f"events_enriched_{DATE}.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert [f.sha256 for f in first.files] == [f.sha256 for f in second.files]


def test_enriched_exports_every_enriched_event(export_db: Path, tmp_path: Path) -> None:
    result = export_manifest(settings(export_db, tmp_path, enriched=True))
    enriched = tmp_path / f"events_enriched_{DATE}.parquet"
    (count,) = query(export_db, "select count(*) from events_enriched")[0]
    assert pq.read_metadata(enriched).num_rows == count == result.files[1].rows
    # events_enriched is stored by symbol and time: the export's own order is by event_id.
    ids = pq.read_table(enriched, columns=["event_id"]).column("event_id").to_pylist()
    assert ids == sorted(ids)
    sidecar = json.loads(result.sidecar.read_text())
    assert sidecar["files"][1]["sha256"] == hashlib.sha256(enriched.read_bytes()).hexdigest()


def test_an_existing_export_is_not_overwritten_without_force(export_db: Path, tmp_path: Path) -> None:
    export_manifest(settings(export_db, tmp_path))
    before = (tmp_path / f"manifest_core_{DATE}.json").read_text()
    with pytest.raises(BadInput, match="--force-overwrite"):
        export_manifest(settings(export_db, tmp_path))
    assert (tmp_path / f"manifest_core_{DATE}.json").read_text() == before
    export_manifest(settings(export_db, tmp_path, force_overwrite=True))
    assert json.loads((tmp_path / f"manifest_core_{DATE}.json").read_text())["row_count"] > 0


def test_a_nogo_verdict_is_refused(warehouse_copy: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("""insert into gate_runs select * replace (now()::timestamp + interval 1 second as evaluated_at,
                       false as go, 'gate_03_pm_share' as failed_checks,
                       'gate_03_pm_share: share 0.02 below 0.1' as failure_messages)
                       from gate_runs order by evaluated_at desc limit 1""")
    with pytest.raises(GateClosed, match=r"NO-GO.*gate_03_pm_share"):
        export_manifest(settings(warehouse_copy, tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_manifest_changed_after_its_go_is_refused(warehouse_copy: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("update manifest_core set window_end_utc = window_end_utc + interval 1 minute "
                    "where event_id = (select min(event_id) from manifest_core)")
    with pytest.raises(GateClosed, match="changed since the GO"):
        export_manifest(settings(warehouse_copy, tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_cli_exit_codes_and_messages(export_db: Path, warehouse_copy: Path, tmp_path: Path) -> None:
    ok = run_export("--db", str(export_db), "--out", str(tmp_path / "ok"), "--date", DATE)
    assert ok.returncode == 0, ok.stderr
    assert f"manifest_core_{DATE}.parquet" in ok.stdout and "sha256" in ok.stdout

    again = run_export("--db", str(export_db), "--out", str(tmp_path / "ok"), "--date", DATE)
    assert again.returncode == 2 and "--force-overwrite" in again.stderr

    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("delete from manifest_core where session = 'AH'")
    closed = run_export("--db", str(warehouse_copy), "--out", str(tmp_path / "closed"))
    assert closed.returncode == 3 and "changed since the GO" in closed.stderr and "dbt build" in closed.stderr

    bad_date = run_export("--db", str(export_db), "--out", str(tmp_path / "d"), "--date", "2025-01-31")
    assert bad_date.returncode == 2 and "YYYYMMDD" in bad_date.stderr


def test_export_date_defaults_to_today_and_is_validated() -> None:
    import datetime as dt

    assert parse_export_date(None, today=dt.date(2025, 1, 31)) == "20250131"
    assert parse_export_date("20240229") == "20240229"
    for bad in ("20250230", "2025131", "tomorrow"):
        with pytest.raises(BadInput, match="--date"):
            parse_export_date(bad)
