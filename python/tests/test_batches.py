"""Incremental manifest: select and release in batches while detection still runs.

A 240-symbol universe is generated three times, growing (25 % -> 60 % -> 100 % of the same
symbols, `demo-data --symbols-fraction`); each stage is a real `dbt build` with `universe_symbols`
and the `growth_smoke` profile (core's bands, ~4 events per symbol like core), followed by a real
`tickwindows release`. (The 80-symbol fixture is too small for this: at 25 % its 20 symbols are
the top 20, so the concentration check could never pass.) Pinned events must come through every later build exactly as
released, the gate must judge them (check 15), and the same sequence must give the same manifest.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dbt_project import BIN, generate_inputs, input_vars, latest_gate_run, query, run_dbt

UNIVERSE = 240
UNIVERSE_OPTIONS = ("--symbols", str(UNIVERSE), "--events", "24000")
FRACTIONS = (0.25, 0.6, 1.0)
PINNED_COLUMNS = "event_id, symbol, session, window_start_utc, window_end_utc"


@dataclass(frozen=True)
class Stage:
    fraction: float
    inputs: Path


def stage_vars(inputs: Path, **extra: object) -> dict:
    return {**input_vars(inputs, "growth_smoke"), "universe_symbols": UNIVERSE, **extra}


def release(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "tickwindows"), "release", "--db", str(db), *args],
                          capture_output=True, text=True, timeout=300)


def build(db: Path, inputs: Path, work: Path, **extra: object) -> None:
    run = run_dbt(["build"], db, stage_vars(inputs, **extra), work)
    assert run.returncode == 0, run.output[-5000:]
    assert latest_gate_run(db)["go"] is True


def inputs_without_event(source: Path, dest: Path, symbol: str, ts: object) -> Path:
    """A copy of the inputs `source` without the event of `symbol` at `ts` (UTC): an upstream correction,
    the detector no longer reports that event."""
    shutil.copytree(source, dest)
    with duckdb.connect() as con:
        for part in sorted((dest / "events").glob("*.parquet")):
            con.execute(f"""copy (select * from read_parquet('{part}')
                                  where not (upper(trim(symbol)) = ? and "timestamp" = ?))
                            to '{part}.new' (format parquet)""", [symbol, ts])
            (part.parent / f"{part.name}.new").replace(part)
    return dest


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> list[Stage]:
    root = tmp_path_factory.mktemp("growing")
    return [Stage(f, generate_inputs(root / f"data-{int(f * 100)}", *UNIVERSE_OPTIONS, "--symbols-fraction", str(f)))
            for f in FRACTIONS]


def run_sequence(stages: list[Stage], work: Path) -> Path:
    """Build and release at each stage; the warehouse after the last build (not released)."""
    db = work / "warehouse.duckdb"
    for i, stage in enumerate(stages):
        build(db, stage.inputs, work / f"stage{i}")
        if i < len(stages) - 1:
            done = release(db)
            assert done.returncode == 0, done.stderr
            assert f"released batch {i + 1}" in done.stdout
    return db


@pytest.fixture(scope="module")
def sequence(stages: list[Stage], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_sequence(stages, tmp_path_factory.mktemp("sequence"))


def symbols_of(inputs: Path) -> set[str]:
    with duckdb.connect() as con:
        rows = con.execute(f"select distinct upper(trim(symbol)) from read_parquet('{inputs}/events/*.parquet')"
                           " where symbol is not null").fetchall()
    return {r[0] for r in rows}


def test_partial_universes_are_nested_and_carry_the_full_universes_rows(stages: list[Stage]) -> None:
    quarter, most, full = (symbols_of(s.inputs) for s in stages)
    assert quarter < most < full
    assert 0.1 * len(full) < len(quarter) < 0.45 * len(full)
    with duckdb.connect() as con:
        def rows(inputs: Path, kept: set[str]) -> set[tuple]:
            return set(con.execute(
                f"select * from read_parquet('{inputs}/events/*.parquet') where upper(trim(symbol)) in ?",
                [sorted(kept)]).fetchall())
        assert rows(stages[0].inputs, quarter) == rows(stages[2].inputs, quarter)
        daily = {p.name for p in (stages[0].inputs / "daily").iterdir()}
        assert daily <= {p.name for p in (stages[2].inputs / "daily").iterdir()}


def test_every_stage_is_go_and_every_pinned_event_survives_unchanged(sequence: Path) -> None:
    pinned = query(sequence, f"select {PINNED_COLUMNS}, batch from manifest_batches order by event_id")
    assert {row[-1] for row in pinned} == {1, 2}
    kept = query(sequence, f"""
        select {PINNED_COLUMNS}, batch from manifest_core
        where event_id in (select event_id from manifest_batches) order by event_id""")
    assert kept == pinned
    new_batches = query(sequence, "select distinct batch from manifest_core"
                                  " where event_id not in (select event_id from manifest_batches)")
    assert new_batches == [(3,)]
    assert latest_gate_run(sequence)["go"] is True
    assert "gate_15_pinned_batches_kept" in latest_gate_run(sequence)["passed_checks"]


def test_the_final_manifest_respects_the_caps_bands_and_no_overlap(sequence: Path) -> None:
    (events, symbols, max_per_symbol) = query(sequence, """
        select count(*), count(distinct symbol), max(n) from manifest_core
        join (select symbol, count(*) as n from manifest_core group by 1) using (symbol)""")[0]
    config = query(sequence, "select min_events_scaled, max_events_scaled, min_symbols_scaled, max_per_symbol,"
                             " coverage from selection_config")[0]
    assert config[4] == 1.0
    assert config[0] <= events <= config[1] and symbols >= config[2] and max_per_symbol <= config[3]
    overlaps = query(sequence, """
        select count(*) from manifest_core a join manifest_core b
          on a.symbol = b.symbol and a.event_id < b.event_id
         and a.window_start_utc < b.window_end_utc and b.window_start_utc < a.window_end_utc""")[0][0]
    assert overlaps == 0


def test_coverage_scales_the_count_bands_and_shows_in_the_summary(stages: list[Stage], tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build(db, stages[0].inputs, tmp_path)
    coverage, min_events, min_symbols, profile_min, profile_symbols = query(
        db, "select coverage, min_events_scaled, min_symbols_scaled, min_events, min_symbols from selection_config")[0]
    assert 0.1 < coverage < 0.45
    assert min_events == round(profile_min * coverage) and min_symbols == round(profile_symbols * coverage)
    detail = query(db, "select detail from manifest_summary where metric = 'coverage'")[0][0]
    assert f"of a final universe of {UNIVERSE}" in detail


def test_the_same_sequence_gives_the_same_manifest(stages: list[Stage], sequence: Path,
                                                   tmp_path: Path) -> None:
    again = run_sequence(stages, tmp_path)
    fingerprint = "select manifest_rows, manifest_checksum from manifest_fingerprint"
    assert query(again, fingerprint) == query(sequence, fingerprint)
    pins = f"select {PINNED_COLUMNS}, batch, score, selection_stage from manifest_batches order by event_id"
    assert query(again, pins) == query(sequence, pins)


def test_release_twice_is_a_no_op(sequence: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(sequence.read_bytes())
    first, second = release(db), release(db)
    assert first.returncode == 0 and "released batch 3" in first.stdout
    assert second.returncode == 0 and "nothing new to release" in second.stdout
    assert query(db, "select max(batch), count(*) from manifest_batches") == [
        (3, query(db, "select count(*) from manifest_core")[0][0])]


def test_release_refuses_a_nogo_and_a_stale_verdict(sequence: Path, stages: list[Stage], tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(sequence.read_bytes())
    with duckdb.connect(str(db)) as con:  # the manifest changed after its GO: the verdict is stale
        con.execute("delete from manifest_core where session = 'AH'")
    stale = release(db)
    assert stale.returncode != 0 and "manifest changed since the GO" in stale.stderr
    run = run_dbt(["test", "--select", "tag:gate"], db, stage_vars(stages[-1].inputs), tmp_path / "t")
    assert run.returncode != 0 and latest_gate_run(db)["go"] is False
    nogo = release(db)
    assert nogo.returncode != 0 and "NO-GO" in nogo.stderr
    assert query(db, "select max(batch) from manifest_batches") == [(2,)]


@pytest.mark.parametrize("damage", [
    "delete from manifest_core where event_id = (select min(event_id) from manifest_batches)",
    """update manifest_core set window_end_utc = window_end_utc - interval 1 minute
       where event_id = (select min(event_id) from manifest_batches)""",
])
def test_the_gate_fails_when_a_pinned_event_is_missing_or_moved(
    damage: str, sequence: Path, stages: list[Stage], tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(sequence.read_bytes())
    with duckdb.connect(str(db)) as con:
        con.execute(damage)
    run = run_dbt(["test", "--select", "tag:gate"], db, stage_vars(stages[-1].inputs), tmp_path / "t")
    assert run.returncode != 0
    verdict = latest_gate_run(db)
    assert verdict["go"] is False and "gate_15_pinned_batches_kept" in verdict["failed_checks"]
    assert "pinned event" in verdict["failure_messages"]


def test_another_configuration_than_the_pinned_batches_is_nogo_naming_them(
    sequence: Path, stages: list[Stage], tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(sequence.read_bytes())
    run = run_dbt(["build"], db, stage_vars(stages[-1].inputs, enrichment_version="enrich-v2"), tmp_path)
    assert run.returncode != 0
    verdict = latest_gate_run(db)
    assert verdict["go"] is False and "gate_15_pinned_batches_kept" in verdict["failed_checks"]
    assert "batch 1" in verdict["failure_messages"] and "release --discard" in verdict["failure_messages"]


def test_discard_starts_a_new_lineage_that_selects_from_scratch(
    sequence: Path, stages: list[Stage], tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(sequence.read_bytes())
    refused = release(db, "--discard")
    assert refused.returncode != 0 and "--reason" in refused.stderr
    done = release(db, "--discard", "--reason", "detector re-run")
    assert done.returncode == 0 and "started lineage 2" in done.stdout and "downloaded file is kept" in done.stdout
    build(db, stages[-1].inputs, tmp_path / "b", universe_symbols=UNIVERSE)
    one_shot = run_dbt(["build"], tmp_path / "one.duckdb", stage_vars(stages[-1].inputs), tmp_path / "o")
    assert one_shot.returncode == 0
    ids = "select event_id from manifest_core order by event_id"
    assert query(db, ids) == query(tmp_path / "one.duckdb", ids)
    assert query(db, "select reason from manifest_lineages order by lineage") == [
        ("first release",), ("discard: detector re-run",)]


def test_a_pinned_event_gone_from_the_inputs_stays_flagged_and_counted(
    sequence: Path, stages: list[Stage], tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(sequence.read_bytes())
    gone_id, symbol, ts, batch = query(
        db, "select event_id, symbol, event_ts_utc, batch from manifest_batches order by event_id limit 1")[0]
    inputs = inputs_without_event(stages[-1].inputs, tmp_path / "inputs", symbol, ts)
    build(db, inputs, tmp_path / "b")
    row = query(db, "select still_eligible, not_eligible_reason, batch from manifest_core"
                    f" where event_id = '{gone_id}'")
    assert row == [(False, "not in the inputs", batch)]
    assert query(db, "select value from manifest_summary where metric = 'pinned_not_eligible'") == [(1.0,)]


# ---------------------------------------------------------------- pins are read from the real table

def test_the_cli_and_the_on_run_start_hook_create_the_same_tables(clean_build: Path, tmp_path: Path) -> None:
    """The tables the CLI writes exist, empty, from the first dbt build on (so no model ever reads a
    placeholder), with exactly the columns the CLI creates them with."""
    from tickwindows.batches import BATCHES_DDL, LINEAGES_DDL
    from tickwindows.pilot import PILOT_MEASUREMENTS_DDL

    def described(db: Path, table: str) -> list[tuple]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(f"select column_name, data_type, is_nullable from information_schema.columns"
                               f" where table_schema = 'main' and table_name = '{table}' order by ordinal_position"
                               ).fetchall()

    python_db = tmp_path / "python.duckdb"
    with duckdb.connect(str(python_db)) as con:
        for ddl in (BATCHES_DDL, LINEAGES_DDL, PILOT_MEASUREMENTS_DDL):
            con.execute(ddl)
    for table in ("manifest_batches", "manifest_lineages", "pilot_measurements"):
        assert described(clean_build, table) == described(python_db, table) != [], table
        assert query(clean_build, f"select count(*) from {table}") == [(0,)]


def test_a_selective_build_keeps_a_pinned_event_that_left_the_inputs(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path
) -> None:
    """Issue 17's reproduction: build before any release, release, an upstream correction drops a pinned
    event, then `dbt build -s source:fase25+` (which does not rebuild the staging views of the pins). The
    pinned event must stay in manifest_core, flagged; before, the pins were read through a view built as an
    empty placeholder before the first release, and the event silently left the manifest under a GO."""
    done = release(warehouse_copy)
    assert done.returncode == 0 and "released batch 1" in done.stdout, done.stderr
    gone_id, symbol, ts = query(warehouse_copy, """
        select b.event_id, b.symbol, e.event_ts_utc from manifest_batches b join events_enriched e using (event_id)
        order by b.event_id limit 1""")[0]
    inputs = inputs_without_event(small_inputs, tmp_path / "inputs", symbol, ts)
    assert query(warehouse_copy, f"select count(*) from events_enriched where event_id = '{gone_id}'") == [(1,)]
    run = run_dbt(["build", "--select", "source:fase25+"], warehouse_copy, input_vars(inputs), tmp_path / "b")
    assert run.returncode == 0, run.output[-5000:]
    assert query(warehouse_copy, f"select count(*) from events_enriched where event_id = '{gone_id}'") == [(0,)]
    assert query(warehouse_copy, "select still_eligible, not_eligible_reason, batch from manifest_core"
                                 f" where event_id = '{gone_id}'") == [(False, "not in the inputs", 1)]
    pinned = f"select {PINNED_COLUMNS} from manifest_batches order by event_id"
    kept = f"select {PINNED_COLUMNS} from manifest_core where event_id in (select event_id from manifest_batches)"
    assert query(warehouse_copy, kept + " order by event_id") == query(warehouse_copy, pinned)
    assert latest_gate_run(warehouse_copy)["go"] is True


def test_check_15_reads_the_released_pins_not_the_models_view_of_them(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path
) -> None:
    """Gate 15 judges the manifest against the table `release` wrote (current lineage), by another route
    than the selection: a pinned event missing from manifest_core fails it even when the staging view the
    selection reads shows no pins at all."""
    assert release(warehouse_copy).returncode == 0
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("create or replace view staging.stg_tickwindows__manifest_batches as"
                    " select * from manifest_batches where false")
        con.execute("delete from manifest_core where event_id = (select min(event_id) from manifest_batches)")
    run = run_dbt(["test", "--select", "tag:gate"], warehouse_copy, input_vars(small_inputs), tmp_path)
    assert run.returncode != 0
    verdict = latest_gate_run(warehouse_copy)
    assert verdict["go"] is False and "gate_15_pinned_batches_kept" in verdict["failed_checks"].split(",")
    assert "missing from the manifest" in verdict["failure_messages"]
