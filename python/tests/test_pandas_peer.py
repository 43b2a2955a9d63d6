"""The bench's yardstick (bench/pandas_peer.py, a hand-written pandas/pyarrow version of the
selection) selects exactly what the dbt project selects: same event_ids, sessions, stages, ranks
and windows, same rejections, on the fixture built for real by `dbt build`. No timings here:
speed lives in `make bench`."""

from __future__ import annotations

import importlib.util
import math
import shutil
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dbt_project import REPO, generate_inputs, input_vars, query, run_dbt


def _load_peer():
    spec = importlib.util.spec_from_file_location("pandas_peer", REPO / "bench" / "pandas_peer.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["pandas_peer"] = module
    spec.loader.exec_module(module)
    return module


peer = _load_peer()

MANIFEST_SQL = """
    select event_id, session, symbol, selection_stage, symbol_rank, event_ts_utc,
           window_start_utc, window_end_utc, trading_date
    from manifest_core order by event_id"""
# Only what a manifest_core + the models upstream build (seeds and models, no tests): enough to compare.
MODELS_ONLY = ["build", "--select", "+manifest_core", "+events_rejected", "+daily_bars_rejected",
               "--exclude-resource-type", "test", "unit_test"]


def run_peer(inputs: Path, profile: str = "smoke"):
    return peer.select_events(f"{inputs}/events/*.parquet", f"{inputs}/daily", profile)


def peer_manifest(result) -> list[tuple]:
    m = result.manifest
    return [
        (r.event_id, r.session, r.symbol, r.selection_stage, int(r.symbol_rank), r.event_ts_utc.to_pydatetime(),
         r.window_start_utc.to_pydatetime(), r.window_end_utc.to_pydatetime(), r.trading_date.date())
        for r in m.itertuples(index=False)
    ]


def assert_same_selection(db: Path, result) -> None:
    expected = query(db, MANIFEST_SQL)
    got = peer_manifest(result)
    assert [r[0] for r in got] == [r[0] for r in expected], "event_ids differ"
    assert got == expected


def assert_same_rejections(db: Path, result) -> None:
    assert result.event_reasons == dict(query(db, "select reason, count(*) from events_rejected group by 1"))
    assert result.bar_reasons == dict(query(db, "select reason, count(*) from daily_bars_rejected group by 1"))


def test_peer_selects_the_same_events_as_dbt(small_inputs: Path, clean_build: Path) -> None:
    result = run_peer(small_inputs)
    assert len(result.manifest) > 0
    assert_same_selection(clean_build, result)


def test_peer_rejects_ranks_and_fills_like_dbt(small_inputs: Path, clean_build: Path) -> None:
    result = run_peer(small_inputs)
    assert_same_rejections(clean_build, result)
    funnel = query(clean_build, """
        select (select count(*) from staging.stg_fase25__events), (select count(*) from events_enriched),
               (select count(*) from events_enriched where passes_all),
               (select count(*) from intermediate.int_selection_candidates_ranked where survives_overlap),
               (select count(*) from daily_metrics)""")[0]
    c = result.counts
    counted = (c["input_rows"], c["enriched_events"], c["eligible_events"], c["surviving_events"], c["metric_days"])
    assert counted == funnel
    quotas = query(clean_build, f"select {', '.join(result.quotas)} from intermediate.int_selection_quotas_computed")[0]
    assert tuple(result.quotas.values()) == tuple(int(v) for v in quotas)
    # The global rank the fill stage used: the selected events' selection_rank in the candidates.
    ranks = dict(query(clean_build, """
        select event_id, selection_rank
        from intermediate.int_selection_candidates_ranked join manifest_core using (event_id)"""))
    assert dict(zip(result.manifest["event_id"], result.manifest["selection_rank"], strict=False)) == ranks


@pytest.mark.parametrize("fmt", ["ns", "timestamptz"])
def test_peer_matches_dbt_on_other_timestamp_storage(fmt: str, tmp_path: Path) -> None:
    inputs = generate_inputs(tmp_path / "data", "--timestamp-format", fmt)
    db = tmp_path / "w.duckdb"
    run = run_dbt(MODELS_ONLY, db, input_vars(inputs), tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    result = run_peer(inputs)
    assert_same_selection(db, result)
    assert_same_rejections(db, result)


@pytest.mark.parametrize("fmt", ["us", "ms"])
def test_peer_reads_epoch_us_and_ms_to_the_same_manifest(fmt: str, clean_build: Path, tmp_path: Path) -> None:
    """The generator stores the same instants whatever the format (test_project_build proves dbt
    reads them to the same events), so the peer must select the clean build's manifest."""
    result = run_peer(generate_inputs(tmp_path / "data", "--timestamp-format", fmt))
    assert_same_selection(clean_build, result)


@pytest.mark.parametrize("with_pipe", [False, True], ids=["plain", "pipe-in-event-type"])
def test_peer_matches_dbt_on_edge_rows_the_demo_lacks(
        with_pipe: bool, small_inputs: Path, clean_build: Path, tmp_path: Path) -> None:
    """Copies whose score is NaN (sorts first in DuckDB) or NULL (last), a better-scored copy in a
    later file, blank and padded event types, infinite scores, and duplicate daily bars (a NaN-volume
    copy is bad_volume and a smaller copy a duplicate: the usable bar keeps the day), a bad close and a
    weekend bar. With a '|' in an event type, a row without timestamp can share a complete row's identity
    (concat_ws skips the NULL): the peer then compares identity strings, like the model. Only copies
    that pass every check of their own compete to be kept, so no planted copy loses an event."""
    inputs = tmp_path / "data"
    shutil.copytree(small_inputs, inputs)
    picked = query(clean_build, """
        select symbol, event_ts_utc, event_type, score, epoch_ns(event_ts_utc)
        from manifest_core order by score desc, event_id limit 7""")
    events = sorted((inputs / "events").glob("*.parquet"))
    schema = pq.read_schema(events[0])
    (a, b, c, d, e, f, g) = picked
    rows = [
        (a[0], a[1], a[2], math.nan),            # NaN copy: bad_score; it sorts first but does not compete
        (b[0], b[1], b[2], None),                # NULL copy ranks last: the original stays
        (c[0], c[1], c[2], c[3] + 100.0),        # a better copy in a later file wins and outranks all
        (d[0], d[1], "   ", 5.0),                # blank event type
        (e[0], e[1], f"  {e[2]}  ", math.inf),   # padded type (same identity as e) with an infinite score
        (f[0].lower(), f[1], f[2], f[3]),        # an exact copy under a lower-case symbol: a duplicate
    ]
    if with_pipe:  # identity 'SYM|ns|type' without a timestamp, scored higher: bad_timestamp, g stays kept
        rows.append((g[0], None, f"{g[4]}|{g[2]}", g[3] + 1.0))
    pq.write_table(pa.table({
        "symbol": [r[0] for r in rows],
        "timestamp": pa.array([r[1] for r in rows], schema.field("timestamp").type),
        "event_type": [r[2] for r in rows],
        "score": pa.array([r[3] for r in rows], pa.float64()),
        "price": pa.array([None] * len(rows), schema.field("price").type),
        "volume": pa.array([None] * len(rows), schema.field("volume").type),
        "session": pa.array([None] * len(rows), schema.field("session").type),
    }), inputs / "events" / "part-999.parquet")

    # Daily bars of two selected symbols whose files have a `date` column.
    dated = [p for p in sorted((inputs / "daily").glob("*.parquet")) if "date" in pq.read_schema(p).names]
    selected_symbols = {r[0] for r in query(clean_build, "select symbol from manifest_core")}
    first, second = [p for p in dated if p.stem.upper() in selected_symbols][:2]
    day = query(clean_build, f"""
        select trading_date from manifest_core where symbol = '{first.stem.upper()}'
        order by score desc limit 1""")[0][0]
    bars = pq.read_table(first)
    bars = bars.set_column(bars.column_names.index("volume"), "volume", pc.cast(bars["volume"], pa.float64()))
    original = bars.filter(pc.equal(bars["date"], pa.scalar(day, pa.date32()))).to_pylist()[0]
    copies = [dict(original, volume=original["volume"] / 2), dict(original, volume=math.nan)]
    pq.write_table(pa.concat_tables([bars, pa.Table.from_pylist(copies, schema=bars.schema)]), first)
    bars = pq.read_table(second)
    last = bars.to_pylist()[-1]
    saturday = query(clean_build, """
        select max(calendar_date) from intermediate.int_trading_days_expanded
        where isodow(calendar_date) = 6
          and calendar_date < (select max(bar_date) from intermediate.int_daily_bars_classified)""")[0][0]
    copies = [dict(last, close=0.0), dict(last, date=saturday)]
    pq.write_table(pa.concat_tables([bars, pa.Table.from_pylist(copies, schema=bars.schema)]), second)

    db = tmp_path / "w.duckdb"
    run = run_dbt(MODELS_ONLY, db, input_vars(inputs), tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    result = run_peer(inputs)
    assert_same_rejections(db, result)
    assert_same_selection(db, result)
    # The edge rows did reach the code paths they are meant for.
    assert {"bad_score", "bad_event_type", "duplicate"} <= set(result.event_reasons)
    assert {"duplicate", "bad_close", "closed_day"} <= set(result.bar_reasons)
    # Every planted copy left its event kept: a (NaN), e (infinite) and g (no timestamp) sort before the
    # event's usable row but are rejected for their own problem, not counted as its kept copy.
    planted = [a, b, c, e, f, g] if with_pipe else [a, b, c, e, f]
    with duckdb.connect(str(db), read_only=True) as con:
        for symbol, ts, event_type, *_ in planted:
            kept = con.execute("select count(*) from events_enriched"
                               " where symbol = ? and event_ts_utc = ? and event_type = ?", [symbol, ts, event_type])
            assert kept.fetchall() == [(1,)], (symbol, ts, event_type)
