"""Every gate check can fail: each test damages a copy of a clean GO warehouse in the one way its
check exists for, runs `dbt test --select tag:gate` on the tables as they stand, and expects a
non-zero exit, a NO-GO row in gate_runs naming that check, and the figures in its message."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dbt_project import input_vars, latest_gate_run, run_dbt

# One symbol that has several selected events, and the first event of the manifest.
SYMBOL_WITH_MOST = "(select symbol from manifest_core group by 1 order by count(*) desc, symbol limit 1)"
FIRST_EVENT = "(select min(event_id) from manifest_core)"

DEFECTS = {
    "gate_01_selected_events": [
        "delete from manifest_core"
        " where event_id not in (select event_id from manifest_core order by event_id limit 50)",
    ],
    "gate_02_distinct_symbols": [
        # Relabel all but 10 symbols' events onto those 10: too few distinct symbols.
        """update manifest_core set symbol = 'SYM' || (hash(symbol) % 10)""",
    ],
    "gate_03_pm_share": ["update manifest_core set session = 'RTH' where session = 'PM'"],
    "gate_04_rth_share": ["update manifest_core set session = 'PM' where session = 'RTH' and hash(event_id) % 3 = 0"],
    "gate_05_ah_share": ["delete from manifest_core where session = 'AH'"],  # an empty session
    "gate_06_events_per_symbol": [
        # A sixth (and more) event for one symbol: copies of other rows moved onto it.
        f"""insert into manifest_core
            select * replace (md5(event_id || 'copy') as event_id, {SYMBOL_WITH_MOST} as symbol,
                              window_start_utc + interval 100 day as window_start_utc,
                              window_end_utc + interval 100 day as window_end_utc)
            from manifest_core where symbol <> {SYMBOL_WITH_MOST} order by event_id limit 5""",
    ],
    "gate_07_top20_concentration": [
        "update manifest_core set symbol = 'TOP' || (hash(event_id) % 20) where hash(event_id) % 10 < 7",
    ],
    "gate_08_keys_unique_not_null": [
        f"insert into manifest_core select * from manifest_core where event_id = {FIRST_EVENT}",  # a duplicated event
    ],
    "gate_09_filters_reverified": [
        f"update events_enriched set rvol_day = 0.1 where event_id = {FIRST_EVENT}",
    ],
    "gate_10_no_lookahead": [
        # A baseline that includes its own day: the mean over the previous rows AND day D.
        """update daily_metrics
           set adv20_volume = (coalesce(adv20_volume, 0) * history_days + volume_day) / (history_days + 1)
           where (symbol, trading_date) in (select symbol, trading_date from manifest_core)""",
    ],
    "gate_11_windows_valid": [
        f"""update manifest_core set window_start_utc = window_end_utc, window_end_utc = window_start_utc
            where event_id = {FIRST_EVENT}""",  # an inverted window
    ],
    "gate_12_storage_p90": ["update download_estimate_totals set storage_gb_p90 = 251"],
    "gate_13_download_time_p90": ["update download_estimate_totals set download_days_p90 = 3.5"],
    "gate_14_single_config": [f"update manifest_core set config_hash = 'another' where event_id = {FIRST_EVENT}"],
}


def evaluate_gate(db: Path, small_inputs: Path, work: Path):
    return run_dbt(["test", "--select", "tag:gate"], db, input_vars(small_inputs), work)


@pytest.mark.parametrize("check", sorted(DEFECTS))
def test_each_check_fails_on_its_own_defect(check: str, warehouse_copy: Path, small_inputs: Path,
                                            tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse_copy)) as con:
        for sql in DEFECTS[check]:
            con.execute(sql)
    run = evaluate_gate(warehouse_copy, small_inputs, tmp_path)
    assert run.returncode != 0, run.output[-3000:]
    verdict = latest_gate_run(warehouse_copy)
    assert verdict["go"] is False
    assert check in verdict["failed_checks"].split(","), verdict["failed_checks"]
    message = next(m for m in verdict["failure_messages"].splitlines() if m.startswith(check + ":"))
    assert any(ch.isdigit() for ch in message.split(":", 1)[1]), message  # figures, not just a name
    assert check in run.output


def test_an_overlapping_window_is_caught(warehouse_copy: Path, small_inputs: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute(f"""
            update manifest_core m set window_end_utc = o.window_start_utc + interval 1 minute
            from (select symbol, min(window_start_utc) as first_start, max(window_start_utc) as window_start_utc
                  from manifest_core where symbol = {SYMBOL_WITH_MOST} group by symbol) o
            where m.symbol = o.symbol and m.window_start_utc = o.first_start""")
    run = evaluate_gate(warehouse_copy, small_inputs, tmp_path)
    assert run.returncode != 0
    verdict = latest_gate_run(warehouse_copy)
    assert "gate_11_windows_valid" in verdict["failed_checks"]
    assert "overlaps" in verdict["failure_messages"]


def test_gate_on_the_clean_tables_is_go_and_every_evaluation_is_recorded(
    warehouse_copy: Path, small_inputs: Path, tmp_path: Path
) -> None:
    before = duckdb.connect(str(warehouse_copy), read_only=True).execute("select count(*) from gate_runs").fetchone()[0]
    run = evaluate_gate(warehouse_copy, small_inputs, tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        rows, go, command, failed = con.execute(
            "select count(*), arg_max(go, evaluated_at), arg_max(command, evaluated_at),"
            " arg_max(tests_failed, evaluated_at) from gate_runs"
        ).fetchone()
    assert rows == before + 1 and go is True and command == "test" and failed == 0


def test_a_partial_gate_evaluation_is_never_a_go(warehouse_copy: Path, small_inputs: Path, tmp_path: Path) -> None:
    run = run_dbt(["test", "--select", "gate_01_selected_events"], warehouse_copy, input_vars(small_inputs), tmp_path)
    assert run.returncode == 0
    verdict = latest_gate_run(warehouse_copy)
    assert verdict["go"] is False
    assert "not evaluated" in verdict["failure_messages"]
