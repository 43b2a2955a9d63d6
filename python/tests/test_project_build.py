"""The whole dbt project built for real on a small generated universe: the selection rules of
the contract hold, the build is deterministic, any contract-conforming input works, and bad input
is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dbt_project import generate_inputs, input_vars, latest_gate_run, query, run_dbt
from tickwindows.gate import GATE_CHECKS


def manifest_fingerprint(db: Path) -> tuple:
    return query(db, "select manifest_rows, manifest_checksum from manifest_fingerprint")[0]


def test_clean_build_is_go_with_every_check(clean_build: Path) -> None:
    run = latest_gate_run(clean_build)
    assert run["go"] is True
    assert run["tests_failed"] == 0
    assert run["tests_expected"] == len(GATE_CHECKS) == 15
    assert run["tests_passed"] == run["tests_expected"]
    assert run["manifest_checksum"] == manifest_fingerprint(clean_build)[1]


def test_manifest_satisfies_the_selection_rules(clean_build: Path) -> None:
    cfg = query(clean_build, """
        select max_per_symbol, min_symbols, pm_min, pm_max, rth_min, rth_max, ah_min, ah_max,
               top20_max_share, config_hash from selection_config""")[0]
    max_per_symbol, min_symbols, pm_min, pm_max, rth_min, rth_max, ah_min, ah_max, top20, config_hash = cfg
    n, symbols, worst = query(clean_build, """
        select count(*), count(distinct symbol), max(c)
        from manifest_core join (select symbol, count(*) c from manifest_core group by 1) using (symbol)""")[0]
    assert symbols >= min_symbols and worst <= max_per_symbol
    shares = dict(query(clean_build, "select session, count(*) / sum(count(*)) over () from manifest_core group by 1"))
    assert pm_min <= shares["PM"] <= pm_max
    assert rth_min <= shares["RTH"] <= rth_max
    assert ah_min <= shares["AH"] <= ah_max
    top = query(clean_build, """
        select sum(c) from (select count(*) c from manifest_core group by symbol order by c desc limit 20)""")[0][0]
    assert top / n < top20
    # Stage one: every symbol's best eligible surviving event is in, as rank 1.
    missing = query(clean_build, """
        select count(*) from (
            select symbol, arg_min(event_id, selection_rank) as best
            from intermediate.int_selection_candidates_ranked where survives_overlap group by symbol) b
        left join manifest_core m on m.event_id = b.best
        where m.event_id is null or m.selection_stage <> 'one' or m.symbol_rank <> 1""")[0][0]
    assert missing == 0
    # Every row carries the active configuration.
    assert query(clean_build, "select distinct config_hash from manifest_core") == [(config_hash,)]


def test_windows_never_overlap_within_a_symbol(clean_build: Path) -> None:
    overlaps = query(clean_build, """
        select count(*) from (
            select window_start_utc, lag(window_end_utc) over (partition by symbol order by window_start_utc) prev_end
            from manifest_core) where prev_end > window_start_utc""")[0][0]
    assert overlaps == 0


def test_every_input_row_is_accounted_for(clean_build: Path) -> None:
    inputs = query(clean_build, "select count(*) from staging.stg_fase25__events")[0][0]
    enriched = query(clean_build, "select count(*) from events_enriched")[0][0]
    rejected = dict(query(clean_build, "select reason, count(*) from events_rejected group by 1"))
    assert enriched + sum(rejected.values()) == inputs
    # The demo universe plants every kind of bad row the contract names.
    for reason in ("closed_day", "outside_hours", "no_daily_bar", "duplicate"):
        assert rejected.get(reason, 0) > 0, reason


def accounting_failures(db: Path, inputs: Path, work: Path) -> tuple[int, set[tuple[str, str, str]]]:
    """`dbt test --select input_rows_accounted_for` on `db`: its exit code and its failing rows
    (input, problem, failure), read by running the test's compiled SQL on the same tables."""
    run = run_dbt(["test", "--select", "input_rows_accounted_for"], db, input_vars(inputs), work)
    compiled = work / "target/compiled/tickwindows/tests/singular/input_rows_accounted_for.sql"
    return run.returncode, set(query(db, compiled.read_text()))


def counts_balance(db: Path, read: str, kept: str, rejected: str) -> bool:
    """What the accounting test compared before issue 17: rows read = rows kept + rows rejected."""
    return query(db, f"select (select count(*) from {read})"
                     f" = (select count(*) from {kept}) + (select count(*) from {rejected})")[0][0]


def test_the_accounting_test_passes_on_the_clean_warehouse(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path
) -> None:
    assert accounting_failures(warehouse_copy, small_inputs, tmp_path) == (0, set())


def test_an_event_kept_and_rejected_plus_a_dropped_one_is_named(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path
) -> None:
    """A kept event's input row also put in events_rejected, and another rejected row deleted (so it is
    neither kept nor rejected): the counts still balance, which the count comparison used to pass; the
    identities do not, and both input rows are named."""
    kept_file, kept_row, kept_id = query(warehouse_copy, """
        select source_file, source_row, event_id from intermediate.int_events_classified
        where reason is null order by source_file, source_row limit 1""")[0]
    gone_file, gone_row, gone_id = query(warehouse_copy, """
        select source_file, source_row, event_id from events_rejected
        where reason = 'closed_day' order by source_file, source_row limit 1""")[0]
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("""
            insert into events_rejected
            select event_id, symbol, symbol_raw, event_ts_utc, event_ts_et, trading_date, event_type, score,
                   legacy_session, source_file, source_row, 'duplicate'
            from intermediate.int_events_classified where source_file = ? and source_row = ?""", [kept_file, kept_row])
        con.execute("delete from events_rejected where source_file = ? and source_row = ?", [gone_file, gone_row])
    assert counts_balance(warehouse_copy, "staging.stg_fase25__events", "events_enriched", "events_rejected")
    returncode, failures = accounting_failures(warehouse_copy, small_inputs, tmp_path)
    assert returncode != 0
    assert failures == {
        ("events", "kept and rejected", f"input row {kept_file} row {kept_row} (event {kept_id}):"
                                        " in events_enriched and in events_rejected (reason duplicate)"),
        ("events", "dropped", f"input row {gone_file} row {gone_row} (event {gone_id}):"
                              " neither in events_enriched nor in events_rejected"),
    }


def test_a_daily_bar_kept_and_rejected_plus_a_dropped_one_is_named(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path
) -> None:
    """A kept bar also put in daily_bars_rejected, and another kept bar's daily_metrics row deleted (so
    it is neither kept nor rejected): the counts balance, the identities do not."""
    kept = query(warehouse_copy, """
        select source_file, source_row, symbol, bar_date from intermediate.int_daily_bars_classified
        where reason is null order by source_file, source_row limit 2""")
    (kept_file, kept_row, kept_symbol, kept_day), (gone_file, gone_row, gone_symbol, gone_day) = kept
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("""
            insert into daily_bars_rejected
            select symbol, bar_date, close_day, volume_day, source_file, source_row, 'duplicate'
            from intermediate.int_daily_bars_classified
            where source_file = ? and source_row = ?""", [kept_file, kept_row])
        # daily_metrics is a view of the rolling table: the row goes from where it is stored.
        con.execute("delete from intermediate.int_daily_metrics_rolling where symbol = ? and trading_date = ?",
                    [gone_symbol, gone_day])
    assert counts_balance(warehouse_copy, "staging.stg_fase25__daily_bars", "daily_metrics", "daily_bars_rejected")
    returncode, failures = accounting_failures(warehouse_copy, small_inputs, tmp_path)
    assert returncode != 0
    assert failures == {
        ("daily_bars", "kept and rejected",
         f"input row {kept_file} row {kept_row} (daily bar {kept_symbol} {kept_day}):"
         " in daily_metrics and in daily_bars_rejected (reason duplicate)"),
        ("daily_bars", "dropped", f"input row {gone_file} row {gone_row} (daily bar {gone_symbol} {gone_day}):"
                                  " neither in daily_metrics nor in daily_bars_rejected"),
    }


def test_kept_twice_rejected_twice_and_unknown_rows_are_named(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path
) -> None:
    """The other identities: an event in events_enriched twice, a rejected row listed twice, a rejected
    row that is no input row, and two input rows of one kept event both left unrejected."""
    twice_file, twice_row = query(warehouse_copy, """
        select source_file, source_row from events_rejected where reason = 'outside_hours'
        order by source_file, source_row limit 1""")[0]
    copy_file, copy_row, copy_id = query(warehouse_copy, """
        select source_file, source_row, event_id from events_rejected where reason = 'duplicate'
          and event_id in (select event_id from events_enriched) order by source_file, source_row limit 1""")[0]
    kept_copy_file, kept_copy_row = query(warehouse_copy, f"""
        select source_file, source_row from intermediate.int_events_classified
        where event_id = '{copy_id}' and reason is null""")[0]
    kept_id = query(warehouse_copy, f"select min(event_id) from events_enriched where event_id <> '{copy_id}'")[0][0]
    with duckdb.connect(str(warehouse_copy)) as con:
        # events_enriched is a view of the kept rows of int_events_classified: the copy goes there.
        con.execute("""insert into intermediate.int_events_classified select * from intermediate.int_events_classified
                       where event_id = ? and reason is null""", [kept_id])
        con.execute("""insert into events_rejected select * from events_rejected
                       where source_file = ? and source_row = ?""", [twice_file, twice_row])
        con.execute("""insert into events_rejected select * replace (source_row + 1000000 as source_row)
                       from events_rejected where source_file = ? and source_row = ?""", [twice_file, twice_row])
        con.execute("delete from events_rejected where source_file = ? and source_row = ?", [copy_file, copy_row])
    returncode, failures = accounting_failures(warehouse_copy, small_inputs, tmp_path)
    assert returncode != 0
    first, last = sorted([(kept_copy_file, kept_copy_row), (copy_file, copy_row)])
    assert failures == {
        ("events", "kept twice", f"event {kept_id}: 2 rows in events_enriched"),
        ("events", "rejected twice", f"input row {twice_file} row {twice_row}: in events_rejected 2 times"),
        ("events", "unknown row", f"input row {twice_file} row {twice_row + 1000000}:"
                                  " in events_rejected (reason outside_hours) but not an input row"),
        ("events", "kept twice", f"event {copy_id}: kept once but 2 input rows of it are not rejected"
                                 f" ({first[0]} row {first[1]}, {last[0]} row {last[1]})"),
    }


def test_summary_reports_the_funnel_and_estimates(clean_build: Path) -> None:
    summary = {m: (v, s) for m, v, s in query(clean_build, "select metric, value, status from manifest_summary")}
    assert summary["input_rows"][0] > summary["enriched_events"][0] > summary["eligible_events"][0]
    assert summary["eligible_events"][0] >= summary["selected_events"][0] > 0
    assert summary["storage_gb_p90"][0] >= summary["storage_gb_p50"][0] > 0
    assert summary["download_days_p90"][0] >= summary["download_days_p50"][0] > 0
    assert {s for _, s in summary.values()} <= {"ok", "fail", "info"}
    assert all(s != "fail" for _, s in summary.values())


def test_rebuild_gives_the_identical_manifest(small_inputs: Path, clean_build: Path, tmp_path: Path) -> None:
    db = tmp_path / "again.duckdb"
    run = run_dbt(["build"], db, input_vars(small_inputs), tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    assert manifest_fingerprint(db) == manifest_fingerprint(clean_build)
    config_hash = "select config_hash from selection_config"
    assert query(db, config_hash) == query(clean_build, config_hash)


@pytest.mark.parametrize("fmt", ["ns", "us", "ms", "timestamptz"])
def test_timestamp_storage_formats_give_the_same_events(fmt: str, clean_build: Path, tmp_path: Path) -> None:
    inputs = generate_inputs(tmp_path / "data", "--timestamp-format", fmt)
    db = tmp_path / "w.duckdb"
    run = run_dbt(["build", "--select", "+events_enriched", "--indirect-selection", "cautious"], db,
                  input_vars(inputs), tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    sql = ("select md5(string_agg(event_id || session || trading_date, ',' order by event_id)), count(*)"
           " from events_enriched")
    assert query(db, sql) == query(clean_build, sql)


def test_other_symbols_and_daily_files_without_vwap(small_inputs: Path, tmp_path: Path) -> None:
    """A hand-made universe unlike the demo: Polygon-style `t`/`vw`/`n` files and files with no vwap."""
    inputs = tmp_path / "mine"
    (inputs / "daily").mkdir(parents=True)
    (inputs / "events").mkdir()
    days = [d[0] for d in query_memory("""
        select cast(d as date) from range(date '2024-01-02', date '2024-03-29', interval 1 day) r(d)
        where isodow(d) <= 5 and d not in (date '2024-01-15', date '2024-02-19')""")]
    for i, sym in enumerate(["ZETA", "BRK.B", "QQQX"]):
        vol = [1_000_000 + 50_000 * ((k * 7 + i) % 5) for k in range(len(days))]
        vol[-1] = 5_000_000  # a spike on the last day
        cols = {"open": [10.0] * len(days), "high": [11.0] * len(days), "low": [9.0] * len(days),
                "close": [10.0 + i] * len(days), "volume": vol}
        if sym == "ZETA":  # Polygon aggregates style: epoch ms of ET midnight, vw, n
            cols["t"] = [int(query_memory(f"select epoch_ms(timezone('America/New_York', timestamp '{d} 00:00:00'))")
                             [0][0]) for d in days]
            cols["vw"] = [10.5] * len(days)
            cols["n"] = [5000] * len(days)
        else:  # plain date, no vwap, no transactions
            cols["date"] = days
        pq.write_table(pa.table(cols), inputs / "daily" / f"{sym}.parquet")
    last = days[-1]
    pq.write_table(pa.table({
        "symbol": ["zeta", "BRK.B", " qqqx ", "ZETA"],
        "timestamp": pa.array([f"{last} 15:00:00", f"{last} 15:00:00", f"{last} 21:00:00", f"{last} 12:00:00"],
                              pa.string()).cast(pa.timestamp("us")),
        "event_type": ["volume_spike"] * 4,
        "score": [3.0, 2.0, 1.0, 0.5],
    }), inputs / "events" / "part-000.parquet")
    db = tmp_path / "w.duckdb"
    run = run_dbt(["build", "--select", "+events_enriched", "--indirect-selection", "cautious"], db,
                  input_vars(inputs), tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    rows = query(db, "select symbol, session, dollar_volume_day, history_days, rvol_day > 4 from events_enriched"
                     " order by symbol, event_ts_utc")
    assert [(r[0], r[1]) for r in rows] == [("BRK.B", "RTH"), ("QQQX", "AH"), ("ZETA", "PM"), ("ZETA", "RTH")]
    assert rows[0][2] == pytest.approx(11.0 * 5_000_000)   # no vwap: close x volume
    assert rows[2][2] == pytest.approx(10.5 * 5_000_000)   # vw x volume
    assert all(r[3] == 20 and r[4] for r in rows)


def query_memory(sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()


def test_a_daily_file_without_close_is_named(small_inputs: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "data"
    shutil.copytree(small_inputs, inputs)
    bad = sorted((inputs / "daily").glob("*.parquet"))[0]
    table = pq.read_table(bad)
    pq.write_table(table.drop_columns(["close"]), bad)
    run = run_dbt(["run", "--select", "stg_fase25__daily_bars"], tmp_path / "w.duckdb", input_vars(inputs), tmp_path)
    assert run.returncode != 0
    assert bad.name in run.output and "'close'" in run.output


def test_an_events_file_without_score_is_named(small_inputs: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "data"
    shutil.copytree(small_inputs, inputs)
    bad = sorted((inputs / "events").glob("*.parquet"))[-1]
    pq.write_table(pq.read_table(bad).drop_columns(["score"]), bad)
    run = run_dbt(["run", "--select", "stg_fase25__events"], tmp_path / "w.duckdb", input_vars(inputs), tmp_path)
    assert run.returncode != 0
    assert bad.name in run.output and "'score'" in run.output


def test_missing_inputs_and_unknown_profile_are_clear_errors(small_inputs: Path, tmp_path: Path) -> None:
    run = run_dbt(["run", "--select", "stg_fase25__events"], tmp_path / "w.duckdb",
                  input_vars(tmp_path / "nowhere"), tmp_path)
    assert run.returncode != 0 and "No events files match" in run.output
    run = run_dbt(["build", "--select", "+selection_config", "--indirect-selection", "cautious"], tmp_path / "w.duckdb",
                  input_vars(small_inputs, profile="nosuch"), tmp_path)
    assert run.returncode != 0 and "Unknown selection profile 'nosuch'" in run.output and "core" in run.output


def test_each_profile_has_its_own_config_hash(small_inputs: Path, tmp_path: Path) -> None:
    hashes = set()
    for profile in ("core", "relaxed", "smoke"):
        db = tmp_path / f"warehouse_{profile}.duckdb"
        run = run_dbt(["build", "--select", "+selection_config", "--indirect-selection", "cautious"], db,
                      input_vars(small_inputs, profile), tmp_path)
        assert run.returncode == 0, run.output[-2000:]
        hashes.add(query(db, "select config_hash from selection_config")[0][0])
    assert len(hashes) == 3


# The published tables' column rules are enforced constraints of their contracts (DuckDB checks them as the
# table is written), not separate test queries: a value they forbid cannot get in. events_enriched is a view
# of the kept rows of intermediate.int_events_classified, whose constraints hold a kept row's rules.
KEPT = "reason is null"
FORBIDDEN = [
    ("intermediate.int_events_classified", "session", "'XX'", "true"),
    ("intermediate.int_events_classified", "event_id", "null", KEPT),
    ("intermediate.int_events_classified", "session", "null", KEPT),
    ("intermediate.int_events_classified", "trading_date", "null", KEPT),
    ("events_rejected", "reason", "'no_reason'", "true"),
    ("events_rejected", "reason", "null", "true"),
    ("manifest_core", "session", "'MIDDAY'", "true"),
    ("manifest_core", "selection_stage", "'extra'", "true"),
    ("manifest_core", "batch", "null", "true"),
    ("manifest_summary", "status", "'maybe'", "true"),
    ("download_estimate_totals", "calibrated", "null", "true"),
]


@pytest.mark.parametrize(("relation", "column", "value", "where"), FORBIDDEN)
def test_published_tables_refuse_what_their_contract_forbids(relation: str, column: str, value: str, where: str,
                                                             clean_build: Path) -> None:
    schema, table = relation.split(".") if "." in relation else ("main", relation)
    with duckdb.connect(str(clean_build), read_only=True) as source, duckdb.connect() as con:
        rows = source.execute(f"select count(*) from {relation} where {where}").fetchone()[0]
        assert rows > 0, relation
        ddl = source.execute("select sql from duckdb_tables() where schema_name = ? and table_name = ?",
                             [schema, table]).fetchone()[0]
        con.execute(ddl.replace(f"{schema}.{table}", table).replace(f'"{schema}"."{table}"', table))
        con.execute(f"attach '{clean_build}' as built (read_only)")
        con.execute(f"insert into {table} select * from built.{schema}.{table}")
        with pytest.raises(duckdb.ConstraintException):
            con.execute(f"update {table} set {column} = {value}"
                        f" where rowid = (select min(rowid) from {table} where {where})")


def test_a_build_drops_what_older_versions_left_in_the_layers(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path
) -> None:
    """What an older version left behind goes at the next invocation (on-run-start): a staging model's
    copy in `main` (before schemas per layer) and a model no longer defined in schema intermediate
    (int_events_filtered, folded into the events_enriched view). A table of the analyst's own in `main`
    and the current models stay."""
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("create view main.stg_fase25__events as select 1 as x")
        con.execute("create view intermediate.int_events_filtered as select * from intermediate.int_events_classified")
        con.execute("create table main.analyst_notes as select 'keep me' as note")
    run = run_dbt(["run", "--select", "int_trading_days_expanded"], warehouse_copy, input_vars(small_inputs), tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    assert "dropping main.stg_fase25__events: it now lives in schema staging" in run.output
    assert "dropping intermediate.int_events_filtered: no model of this project defines it any more" in run.output
    relations = set(query(warehouse_copy, "select table_schema || '.' || table_name from information_schema.tables"))
    assert ("main.stg_fase25__events",) not in relations and ("intermediate.int_events_filtered",) not in relations
    assert {("main.analyst_notes",), ("intermediate.int_events_classified",), ("main.events_enriched",),
            ("staging.stg_fase25__events",)} <= relations


def test_the_tick_measures_raise_duckdbs_memory_limit_while_they_run(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The selection runs under TICKWINDOWS_DUCKDB_MEMORY (default 1500MB); the liquidity measures raise the
    limit to TICKWINDOWS_DUCKDB_TICKS_MEMORY (default 3GB) as their pre-hook and restore it as a post-hook."""
    monkeypatch.setenv("TICKWINDOWS_DUCKDB_TICKS_MEMORY", "2100MB")
    monkeypatch.delenv("TICKWINDOWS_DUCKDB_MEMORY", raising=False)
    run = run_dbt(["run", "--select", "int_window_liquidity_measured"], warehouse_copy, input_vars(small_inputs),
                  tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    log = (tmp_path / "logs" / "dbt.log").read_text()
    raised, restored = log.find("set memory_limit = '2100MB'"), log.find("set memory_limit = '1500MB'")
    assert 0 <= raised < restored, (raised, restored)
