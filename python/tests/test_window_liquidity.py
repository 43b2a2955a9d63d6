"""window_liquidity and event_study on real emulator windows: the table agrees with an independent
computation (liquidity_reference.py: plain Python loops), and the model is incremental: an unchanged
window is never measured (nor its files read) again, a re-downloaded file with new content is,
new downloads are, and a window whose file is gone is removed."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
import statistics
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dbt_project import input_vars, query, run_dbt
from liquidity_reference import MEASURES, close, measure_window
from piloted import pilot_into_copy, window_specs
from tickwindows.download.runner import download
from tickwindows.emulator.server import Emulator, EmulatorConfig
from tickwindows.report.data import load_report
from tickwindows.report.html import render_html
from tickwindows.report.tables import report_tables

PILOT_WINDOWS = 6  # stratified by session x liquidity: every session is measured
MORE_WINDOWS = 10  # then the first 10 manifest windows (in event_id order), some of them new
# Everything that reads the tick files (the staging models are ephemeral: compiled into each of these).
SELECT_ALL = ["--select", "stg_ticks__trades+", "stg_ticks__quotes+", "int_tick_windows_fingerprinted+"]
# Only the liquidity models: nothing else reads the tick files (window_stats would read every file).
SELECT_LIQUIDITY = ["--select", "int_tick_windows_fingerprinted+"]


def table_values(db: Path) -> dict[tuple[str, str], dict[str, float | None]]:
    rows = query(db, f"select event_id, segment, {', '.join(MEASURES)} from window_liquidity")
    return {(r[0], r[1]): dict(zip(MEASURES, r[2:], strict=True)) for r in rows}


def measured_by(db: Path) -> dict[str, str]:
    """event_id -> the dbt invocation that measured it."""
    rows = query(db, "select event_id, any_value(invocation_id)"
                     " from intermediate.int_window_liquidity_measured group by 1")
    return dict(rows)


def assert_table_matches_reference(db: Path) -> int:
    specs = window_specs(db)
    table = table_values(db)
    assert {e for e, _ in table} == set(specs), "one pair of rows per downloaded window"
    checked = 0
    for event_id, (spec, trades, quotes) in specs.items():
        expected = measure_window(spec, trades, quotes)
        for segment in ("pre", "post"):
            got = table[(event_id, segment)]
            for measure in MEASURES:
                want = expected[segment][measure]
                have = got[measure]
                assert close(None if have is None else float(have), None if want is None else float(want)), (
                    f"{event_id} {segment} {measure}: table {have}, reference {want}")
                checked += 1
    return checked


def sign_test_interval(diffs: list[float]) -> tuple[float | None, float | None]:
    """The distribution-free 95 % interval for a median, from the exact Binomial(n, 1/2) tail."""
    n = len(diffs)
    tail, rank = 0.0, 0
    for i in range(n // 2 + 1):
        tail += math.comb(n, i) / 2**n
        if tail > 0.025:
            break
        rank = i + 1
    if rank == 0:
        return None, None
    ordered = sorted(diffs)
    return ordered[rank - 1], ordered[n - rank]


def event_study_expected(db: Path) -> dict[tuple[str, str, str], tuple]:
    """event_study recomputed in Python from window_liquidity (rates per minute for the counts)."""
    rows = query(db, f"""
        select event_id, segment, session, event_type,
               (epoch_ns(segment_end_utc) - epoch_ns(segment_start_utc)) / 60e9, {', '.join(MEASURES)}
        from window_liquidity""")
    per_window: dict[tuple[str, str, str], dict[str, dict[str, float | None]]] = defaultdict(dict)
    for event_id, segment, session, event_type, minutes, *values in rows:
        named = dict(zip(MEASURES, values, strict=True))
        out: dict[str, float | None] = {}
        for m in MEASURES:
            v = named[m]
            if m in ("n_trades", "volume", "trades_unmatched", "trades_unsigned"):
                out[m + "_per_min"] = (float(v) / minutes) if minutes else None
            else:
                out[m] = None if v is None else float(v)
        per_window[(event_id, session, event_type)][segment] = out
    groups: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    for (_, session, event_type), segs in per_window.items():
        for m in segs["pre"]:
            pre, post = segs["pre"][m], segs["post"][m]
            if pre is not None and post is not None:
                groups[(session, event_type, m)].append((pre, post))
                groups[(session, "(all types)", m)].append((pre, post))
    expected = {}
    for key, pairs in groups.items():
        diffs = [post - pre for pre, post in pairs]
        low, high = sign_test_interval(diffs)
        expected[key] = (len(pairs), statistics.median(p for p, _ in pairs), statistics.median(q for _, q in pairs),
                         statistics.median(diffs), low, high)
    return expected


def build(db: Path, inputs: Path, ticks: Path, work: Path, select: list[str]) -> str:
    run = run_dbt(["build", *select], db, {**input_vars(inputs), "ticks_dir": str(ticks)}, work)
    assert run.returncode == 0, run.output[-5000:]
    return run.output


def windows_to_measure(output: str) -> int:
    found = re.findall(r"int_window_liquidity_measured: (\d+) window\(s\) to measure", output)
    return int(found[-1]) if found else -1


def rewrite_quotes(quotes: Path, trades: Path) -> None:
    """New content for a downloaded quotes file: every 7th quote crossed, and one more (wide) quote stamped
    in the same nanosecond as the window's first trade (sequence numbers stay unique)."""
    table = pq.read_table(quotes)
    schema = table.schema
    as_int = {f.name for f in schema if pa.types.is_timestamp(f.type)}
    rows = table.cast(pa.schema([pa.field(f.name, pa.int64()) if f.name in as_int else f for f in schema])).to_pydict()
    for i in range(0, len(rows["bid_price"]), 7):
        rows["bid_price"][i], rows["ask_price"][i] = rows["ask_price"][i], rows["bid_price"][i]
    first_trade = pq.read_table(trades, columns=["sip_timestamp"]).column(0).cast(pa.int64()).to_pylist()
    if first_trade and rows["bid_price"]:
        for name in rows:
            rows[name].append(rows[name][0])
        rows["sip_timestamp"][-1] = first_trade[0]
        rows["sequence_number"][-1] = max(rows["sequence_number"]) + 1
        rows["bid_price"][-1], rows["ask_price"][-1] = 1.0, 1000.0
    new = pa.table(rows).cast(schema)
    order = pc.sort_indices(new, [("sip_timestamp", "ascending"), ("sequence_number", "ascending")])
    tmp = quotes.with_name(quotes.name + ".new")
    pq.write_table(new.take(order), tmp, compression="zstd")
    os.replace(tmp, quotes)


@pytest.fixture(scope="module")
def liquidity_setup(clean_build: Path, small_inputs: Path, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("liquidity")
    with Emulator(EmulatorConfig(), port=0) as emu:
        piloted = pilot_into_copy(clean_build, work, PILOT_WINDOWS, emu)
        db, ticks = piloted.db, piloted.ticks
        first = build(db, small_inputs, ticks, work, SELECT_ALL)
        yield {"db": db, "inputs": small_inputs, "ticks": ticks, "work": work, "emulator": emu,
               "settings": piloted.settings, "first_output": first}


def test_window_liquidity_matches_an_independent_computation(liquidity_setup) -> None:
    db = liquidity_setup["db"]
    sessions = {s for (s,) in query(db, "select distinct session from window_liquidity")}
    assert sessions == {"PM", "RTH", "AH"}
    # make test's clean build created the (empty) table: this build is already incremental
    assert windows_to_measure(liquidity_setup["first_output"]) == PILOT_WINDOWS
    assert query(db, "select count(*) from window_liquidity")[0][0] == 2 * PILOT_WINDOWS
    assert query(db, "select sum(n_trades) > 1000, min(quoted_spread_tw) > 0 from window_liquidity")[0] == (True, True)
    assert assert_table_matches_reference(db) == 2 * PILOT_WINDOWS * len(MEASURES)


def test_event_study_matches_an_independent_computation(liquidity_setup) -> None:
    db = liquidity_setup["db"]
    expected = event_study_expected(db)
    rows = query(db, "select session, event_type, measure, windows, median_pre, median_post, median_post_minus_pre,"
                     " ci95_low, ci95_high from event_study")
    assert {r[:3] for r in rows} == set(expected)
    for session, event_type, measure, *values in rows:
        want = expected[(session, event_type, measure)]
        assert values[0] == want[0]
        for have, should in zip(values[1:], want[1:], strict=True):
            assert close(have, should), (session, event_type, measure, values, want)
    assert sign_test_interval([float(i) for i in range(5)]) == (None, None)  # below 6: no 95 % interval
    assert sign_test_interval([float(i) for i in range(6)]) == (0.0, 5.0)


def test_a_build_measures_only_new_or_changed_windows(liquidity_setup) -> None:
    db, inputs, ticks, work = (liquidity_setup[k] for k in ("db", "inputs", "ticks", "work"))
    before = measured_by(db)
    first_values = table_values(db)
    specs = window_specs(db)
    # the last quotes file in path order: DuckDB reads the schema of the first file of a glob
    pilot_ids = sorted(before, key=lambda e: str(specs[e][2]))

    # 1. more downloads: the first MORE_WINDOWS manifest windows, some already there (the pilot's)
    report = download(dataclasses.replace(liquidity_setup["settings"], limit=MORE_WINDOWS))
    assert report.totals["jobs_failed"] == 0
    # 2. one window re-downloaded with other content (a new checksum)
    rewritten = pilot_ids[0]
    rewrite_quotes(specs[rewritten][2], specs[rewritten][1])
    # 3. one window's trades file gone
    removed = pilot_ids[1]
    specs[removed][1].unlink()
    # 4. an unchanged window whose file is now garbage of the same size and modification time: a build
    #    that opened it would fail, so it proves the build reads only the files of the windows it measures
    untouched = pilot_ids[-1]
    victim = specs[untouched][2]
    original, stat = victim.read_bytes(), victim.stat()
    victim.write_bytes(b"\0" * len(original))
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    try:
        output = build(db, inputs, ticks, work, SELECT_LIQUIDITY)
    finally:
        victim.write_bytes(original)
        os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    after = measured_by(db)
    new_ids = set(after) - set(before)
    assert new_ids, "the download added windows"
    assert removed not in after
    recomputed = {e for e in after if e in before and after[e] != before[e]}
    assert recomputed == {rewritten}
    assert windows_to_measure(output) == len(new_ids) + 1
    unchanged = set(before) - {rewritten, removed}
    assert all(after[e] == before[e] for e in unchanged)
    new_values = table_values(db)
    for e in unchanged:
        for segment in ("pre", "post"):
            assert new_values[(e, segment)] == first_values[(e, segment)]
    assert new_values[(rewritten, "pre")] != first_values[(rewritten, "pre")] or \
        new_values[(rewritten, "post")] != first_values[(rewritten, "post")]
    # every value, the rewritten window's included, is what the independent computation finds
    assert assert_table_matches_reference(db) == 2 * len(after) * len(MEASURES)

    # 5. nothing changed since: nothing is measured, every row stays as it was
    again = build(db, inputs, ticks, work, SELECT_LIQUIDITY)
    assert windows_to_measure(again) == 0
    assert measured_by(db) == after


def test_the_report_shows_the_event_study_once_windows_are_downloaded(liquidity_setup) -> None:
    db = liquidity_setup["db"]
    data = load_report(db)
    assert data.downloaded_windows == query(db, "select count(distinct event_id) from window_liquidity")[0][0] > 0
    tables = {t.key: t for t in report_tables(data)}
    study = tables["event_study"]
    pooled = query(db, "select session, measure, windows from event_study where event_type = '(all types)'")
    assert len(study.rows) == len(pooled) and {r[0] for r in study.rows} == {"PM", "RTH", "AH"}
    html = render_html(data)
    start = html.index('<svg id="plot-event-study"')
    figure = ET.fromstring(html[start:html.index("</svg>\n", start) + len("</svg>")])  # well-formed
    circles = figure.findall(".//circle")
    # one dot per session and measure with a median
    assert len(circles) == sum(1 for r in data.event_study
                               if r.event_type == "(all types)" and r.median_post_minus_pre is not None)


STALE_PILOT_WINDOWS = 3


@pytest.fixture(scope="module")
def three_windows_after_a_build_without_ticks(clean_build: Path, small_inputs: Path,
                                             tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Issue 17, item 2, reproduced: a copy of the clean build (run before any download, so the tick staging
    compiled to its empty variant), a pilot of 3 windows, then a build of only the liquidity models."""
    work = tmp_path_factory.mktemp("stale_ticks")
    with Emulator(EmulatorConfig(), port=0) as emu:
        piloted = pilot_into_copy(clean_build, work, STALE_PILOT_WINDOWS, emu)
    build(piloted.db, small_inputs, piloted.ticks, work, SELECT_LIQUIDITY)
    return piloted.db, piloted.ticks, work


def test_windows_downloaded_after_a_build_without_ticks_are_measured_from_their_files(
        three_windows_after_a_build_without_ticks: tuple[Path, Path, Path]) -> None:
    """The 3 windows are measured from their files, never stored as windows without trades or quotes."""
    db, _, _ = three_windows_after_a_build_without_ticks
    specs = window_specs(db)
    assert len(specs) == STALE_PILOT_WINDOWS
    file_trades = {e: pq.read_metadata(trades).num_rows for e, (_, trades, _) in specs.items()}
    assert sum(file_trades.values()) > 0
    stored = dict(query(db, "select event_id, sum(n_trades) from window_liquidity group by event_id"))
    for event_id, rows in file_trades.items():
        assert rows == 0 or stored[event_id] > 0, f"{event_id}: {rows} trades in its file, stored with none"
    assert assert_table_matches_reference(db) == 2 * STALE_PILOT_WINDOWS * len(MEASURES)


def test_a_warehouse_measured_before_trades_unsigned_upgrades_with_a_plain_build(
        three_windows_after_a_build_without_ticks: tuple[Path, Path, Path], small_inputs: Path) -> None:
    """Issue 17, item 3: a warehouse whose windows were measured by liquidity-v1 (no trades_unsigned column,
    the v1 fingerprints) is upgraded by a plain `dbt build`: the column is added and every window re-measured."""
    db, ticks, work = three_windows_after_a_build_without_ticks
    with duckdb.connect(str(db)) as con:  # the v1 table: the same columns but trades_unsigned, other fingerprints
        con.execute("alter table intermediate.int_window_liquidity_measured drop column trades_unsigned")
        con.execute("update intermediate.int_window_liquidity_measured"
                    " set fingerprint = md5('liquidity-v1' || fingerprint)")
    output = build(db, small_inputs, ticks, work, [])
    assert windows_to_measure(output) == STALE_PILOT_WINDOWS
    assert query(db, "select count(*) from intermediate.int_window_liquidity_measured"
                     " where trades_unsigned is null")[0][0] == 0
    assert assert_table_matches_reference(db) == 2 * STALE_PILOT_WINDOWS * len(MEASURES)


def test_analyst_views_built_before_a_download_fail_loudly_once_files_exist(
        clean_build: Path, small_inputs: Path, tmp_path: Path) -> None:
    """The views `trades` and `quotes` bind to the files when built: built before any download they are
    empty, and once files of their kind exist a query fails and names the rebuild, instead of reading as
    empty; the rebuild reads the files."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(clean_build, db)
    ticks = tmp_path / "ticks"
    build(db, small_inputs, ticks, tmp_path, ["--select", "trades", "quotes"])
    assert query(db, "select count(*) from trades")[0][0] == 0
    path = ticks / "trades" / "symbol=AAA" / "date=2024-03-05" / "0123abcd.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({
        "sip_timestamp": pa.array([1709649120000000001], pa.timestamp("ns", tz="UTC")),
        "participant_timestamp": pa.array([None], pa.timestamp("ns", tz="UTC")),
        "trf_timestamp": pa.array([None], pa.timestamp("ns", tz="UTC")),
        "sequence_number": pa.array([1], pa.int64()), "id": ["t1"], "price": [8.25], "size": [100.0],
        "exchange": pa.array([4], pa.int32()), "tape": pa.array([3], pa.int32()),
        "conditions": pa.array([None], pa.list_(pa.int32())), "correction": pa.array([None], pa.int32()),
        "trf_id": pa.array([None], pa.int32())}), path)
    with pytest.raises(Exception, match="dbt build -s trades quotes"):
        query(db, "select count(*) from trades")
    assert query(db, "select count(*) from quotes")[0][0] == 0  # still no quotes file: still empty
    build(db, small_inputs, ticks, tmp_path, ["--select", "trades", "quotes"])
    assert query(db, "select event_id, symbol, price from trades") == [("0123abcd", "AAA", 8.25)]
