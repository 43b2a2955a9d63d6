"""`tickwindows demo-data`: contract-shaped, deterministic synthetic FASE 2.5 inputs with edge rows on purpose."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tickwindows.demo.generate import CALENDAR_SEED, DemoSettings, generate
from tickwindows.demo.sql import EDGE_KINDS, TIE_SCORE
from tickwindows.errors import BadInput

TICKWINDOWS = Path(sys.executable).with_name("tickwindows")


def small(out: Path, **overrides) -> DemoSettings:
    return DemoSettings.from_options(out=out, size="small", **overrides)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(small(out))
    return out


@pytest.fixture()
def con(demo: Path) -> duckdb.DuckDBPyConnection:
    """Events with their ET wall clock and the seed calendar, as the dbt models will see them."""
    db = duckdb.connect()
    db.execute("set TimeZone = 'UTC'")
    db.execute(f"create view events as select * from read_parquet('{demo}/events/*.parquet')")
    db.execute("""
        create view placed as
        select *, timezone('America/New_York', timezone('UTC', "timestamp")) as et,
               cast(timezone('America/New_York', timezone('UTC', "timestamp")) as date) as et_date
        from events
    """)
    db.execute(f"""
        create table calendar as select * from read_csv('{CALENDAR_SEED}', header = true,
            columns = {{'date': 'date', 'status': 'varchar', 'close_et': 'time', 'name': 'varchar'}})
    """)
    db.execute(f"""
        create table daily as
        select upper(regexp_extract(filename, '([^/]+)\\.parquet$', 1)) as symbol,
               coalesce(try_cast("date" as date),
                        cast(timezone('America/New_York',
                                      make_timestamp(coalesce(t, "timestamp") * 1000)::timestamptz) as date)) as d,
               close, volume
        from read_parquet('{demo}/daily/*.parquet', union_by_name = true, filename = true)
    """)
    return db


def file_digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_options_give_byte_identical_files_and_another_seed_does_not(demo: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(small(again))
    first = file_digests(demo)
    assert first == file_digests(again)
    assert any(name.startswith("events/part-") for name in first)
    other = tmp_path / "other"
    generate(small(other, seed=7))
    assert file_digests(other)["events/part-000.parquet"] != first["events/part-000.parquet"]


def test_summary_counts_match_the_files(tmp_path: Path) -> None:
    summary = generate(small(tmp_path / "d", events=3_000, symbols=40))
    events = sum(
        pq.ParquetFile(p).metadata.num_rows for p in (tmp_path / "d" / "events").glob("*.parquet"))
    assert summary.event_rows == events == 3_000
    assert summary.daily_files == len(list((tmp_path / "d" / "daily").glob("*.parquet"))) == 40
    assert set(summary.edge_rows) == set(EDGE_KINDS) and all(n == 3 for n in summary.edge_rows.values())
    assert any("done in" in line for line in summary.lines())


def test_events_follow_the_contract_schema(demo: Path) -> None:
    parts = sorted((demo / "events").glob("*.parquet"))
    assert [p.name for p in parts] == ["part-000.parquet", "part-001.parquet", "part-002.parquet"]
    for part in parts:
        schema = pq.read_schema(part)
        assert schema.names == ["symbol", "timestamp", "event_type", "score", "price", "volume", "session"]
        assert str(schema.field("symbol").type) == "string"
        assert str(schema.field("timestamp").type) == "timestamp[us]"
        assert str(schema.field("score").type) == "double"


def test_daily_files_mix_every_contract_variant(demo: Path) -> None:
    files = sorted((demo / "daily").glob("*.parquet"))
    assert len(files) == 80
    assert {"BRK.B.parquet", "BF.B.parquet"} <= {f.name for f in files}
    date_cols, vwap_cols, tx_cols = set(), set(), set()
    for f in files:
        schema = pq.read_schema(f)
        names = set(schema.names)
        assert {"open", "high", "low", "close", "volume"} <= names, f
        (date_col,) = names & {"date", "t", "timestamp"}
        date_cols.add((date_col, str(schema.field(date_col).type)))
        vwap_cols.add(next(iter(names & {"vwap", "vw"}), "absent"))
        tx_cols.add(next(iter(names & {"transactions", "n"}), "absent"))
    assert date_cols == {("date", "date32[day]"), ("t", "int64"), ("timestamp", "int64")}
    assert vwap_cols == {"vwap", "vw", "absent"}
    assert tx_cols == {"transactions", "n", "absent"}


def test_epoch_ms_daily_dates_are_et_midnight(demo: Path) -> None:
    db = duckdb.connect()
    f = next(f for f in sorted((demo / "daily").glob("*.parquet")) if "t" in pq.read_schema(f).names)
    rows = db.execute(f"""
        select strftime(timezone('America/New_York', make_timestamp(t * 1000)::timestamptz), '%H:%M:%S'), count(*)
        from '{f}' group by 1
    """).fetchall()
    assert [r[0] for r in rows] == ["00:00:00"]


def test_every_edge_kind_is_present(con: duckdb.DuckDBPyConnection) -> None:
    def count(where: str) -> int:
        return con.execute(f"""
            select count(*) from placed left join calendar on calendar.date = placed.et_date where {where}
        """).fetchone()[0]

    early = "calendar.status = 'early_close'"
    trading = "isodow(et_date) <= 5 and calendar.status is distinct from 'holiday'"
    found = {
        "weekend": count("isodow(et_date) > 5"),
        "holiday": count("calendar.status = 'holiday'"),
        "early_close_ah": count(f"{early} and et::time >= '13:00' and et::time < '17:00'"),
        "early_close_outside": count(f"{early} and et::time >= '17:00' and et::time < '20:00'"),
        "outside_hours": count(f"{trading} and (et::time < '04:00' or et::time > '20:00')"),
        "at_0400": count("et::time = '04:00:00'"),
        "at_0930": count("et::time = '09:30:00'"),
        "at_1600": count("et::time = '16:00:00'"),
        "at_2000": count("et::time = '20:00:00'"),
        "no_daily_file": count("upper(trim(symbol)) not in (select symbol from daily)"),
        "lowercase_symbol": count("symbol <> upper(symbol)"),
        "padded_symbol": count("symbol <> trim(symbol)"),
        "null_symbol": count("symbol is null"),
        "null_timestamp": count('"timestamp" is null'),
        "absurd_timestamp": count("year(\"timestamp\") < 1990 or year(\"timestamp\") >= 2100"),
        "score_tie": con.execute(f"""
            select count(*) from (select symbol from events where score = {TIE_SCORE}
                                  group by symbol having count(*) >= 2)""").fetchone()[0],
        "duplicate": con.execute("""
            select count(*) from (select 1 from events group by all having count(*) > 1)""").fetchone()[0],
    }
    assert set(found) == set(EDGE_KINDS)
    assert {kind: n for kind, n in found.items() if n == 0} == {}


def test_regular_events_are_minute_aligned(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute("select count(*) from events"
                       " where second(\"timestamp\") <> 0 or microsecond(\"timestamp\") <> 0").fetchone()[0] == 0


def test_session_mix_is_near_the_detector_targets(con: duckdb.DuckDBPyConnection) -> None:
    shares = dict(con.execute("""
        select session, count(*) / sum(count(*)) over () from (
            select case
                when et::time >= '04:00' and et::time < '09:30' then 'PM'
                when et::time >= '09:30' and et::time < coalesce(calendar.close_et, time '16:00') then 'RTH'
                when et::time >= coalesce(calendar.close_et, time '16:00')
                 and et::time < coalesce(calendar.close_et, time '16:00') + interval 4 hour then 'AH'
                else 'outside' end as session
            from placed left join calendar on calendar.date = placed.et_date
            where isodow(et_date) <= 5 and calendar.status is distinct from 'holiday'
        ) group by session
    """).fetchall())
    assert 0.15 <= shares["PM"] <= 0.21, shares
    assert 0.75 <= shares["RTH"] <= 0.83, shares
    assert 0.02 <= shares["AH"] <= 0.05, shares
    assert shares.get("outside", 0) < 0.02, shares


def test_legacy_session_label_is_often_wrong(con: duckdb.DuckDBPyConnection) -> None:
    wrong, missing = con.execute("""
        select avg(case when session is distinct from (case
                   when et::time >= '04:00' and et::time < '09:30' then 'PM'
                   when et::time >= '09:30' and et::time < '16:00' then 'RTH'
                   when et::time >= '16:00' and et::time < '20:00' then 'AH' end) then 1 else 0 end),
               avg(case when session is null then 1 else 0 end)
        from placed where "timestamp" is not null
    """).fetchone()
    assert 0.3 <= wrong <= 0.8 and 0.05 <= missing <= 0.4


def test_events_are_heavy_tailed_and_cluster_on_high_volume_days(con: duckdb.DuckDBPyConnection) -> None:
    biggest, median = con.execute("""
        select max(n), median(n) from (select symbol, count(*) as n from events group by symbol)
    """).fetchone()
    assert biggest >= 10 * median
    on_spikes = con.execute("""
        with metrics as (
            select symbol, d, volume / avg(volume) over (partition by symbol order by d
                                                         rows between 20 preceding and 1 preceding) as rvol
            from daily
        )
        select avg(case when rvol >= 1.5 then 1 else 0 end)
        from placed join metrics on metrics.symbol = upper(trim(placed.symbol)) and metrics.d = placed.et_date
        where rvol is not null
    """).fetchone()[0]
    assert on_spikes >= 0.6


def test_universe_has_penny_illiquid_ipo_and_delisted_names(con: duckdb.DuckDBPyConnection) -> None:
    first, last = con.execute("select min(d), max(d) from daily").fetchone()
    penny, illiquid, ipo, delisted = con.execute(f"""
        select count(*) filter (median_close < 1),
               count(*) filter (median_dollar_volume < 250000),
               count(*) filter (first_day > date '{first}' + interval 30 day),
               count(*) filter (last_day < date '{last}' - interval 30 day)
        from (select symbol, median(close) as median_close, median(close * volume) as median_dollar_volume,
                     min(d) as first_day, max(d) as last_day
              from daily group by symbol)
    """).fetchone()
    assert penny >= 4 and illiquid >= 4 and ipo >= 2 and delisted >= 2


def test_daily_bars_skip_weekends_and_holidays(con: duckdb.DuckDBPyConnection) -> None:
    closed = con.execute("""
        select count(*) from daily left join calendar on calendar.date = daily.d
        where isodow(d) > 5 or calendar.status = 'holiday'
    """).fetchone()[0]
    assert closed == 0


@pytest.mark.parametrize("fmt, parquet_type", [
    ("timestamptz", "timestamp[us, tz=UTC]"), ("ns", "int64"), ("us", "int64"), ("ms", "int64"),
])
def test_each_timestamp_format_stores_the_same_instants(demo: Path, tmp_path: Path, fmt: str,
                                                        parquet_type: str) -> None:
    generate(small(tmp_path, timestamp_format=fmt))
    assert str(pq.read_schema(tmp_path / "events" / "part-000.parquet").field("timestamp").type) == parquet_type
    as_utc = {
        "timestamptz": "timezone('UTC', \"timestamp\")",
        "ns": "make_timestamp(\"timestamp\" // 1000)",
        "us": "make_timestamp(\"timestamp\")",
        "ms": "make_timestamp(\"timestamp\" * 1000)",
    }[fmt]
    db = duckdb.connect()
    db.execute("set TimeZone = 'America/New_York'")  # a non-UTC session must not shift the instants
    query = "select symbol, {ts} as ts, event_type, score from read_parquet('{path}/events/*.parquet') order by all"
    expected = db.execute(query.format(ts='"timestamp"', path=demo)).fetchall()
    assert db.execute(query.format(ts=as_utc, path=tmp_path)).fetchall() == expected


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    generate(small(tmp_path, events=500, symbols=30))
    before = file_digests(tmp_path)
    with pytest.raises(BadInput, match="--force"):
        generate(small(tmp_path))
    assert file_digests(tmp_path) == before
    (tmp_path / "ticks").mkdir()
    (tmp_path / "ticks" / "keep.parquet").write_bytes(b"not ours")
    generate(small(tmp_path, force=True))
    assert (tmp_path / "ticks" / "keep.parquet").read_bytes() == b"not ours"
    assert len(list((tmp_path / "daily").glob("*.parquet"))) == 80
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("options, message", [
    ({"size": "huge"}, "--size"),
    ({"start": "2025-01-01", "end": "2024-01-01"}, "--start"),
    ({"start": "2024-02-30"}, "--start"),
    ({"end": "2031-06-30"}, "calendar seed"),
    ({"symbols": 0}, "--symbols"),
    ({"timestamp_format": "seconds"}, "--timestamp-format"),
])
def test_bad_options_name_the_option(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        generate(DemoSettings.from_options(out=tmp_path, **options))


def test_presets() -> None:
    default = DemoSettings.from_options()
    assert (default.symbols, default.events, default.start, default.end) == (
        2_200, 700_000, dt.date(2022, 11, 1), dt.date(2025, 10, 31))
    tiny = DemoSettings.from_options(size="small", events=100)
    assert (tiny.symbols, tiny.events, tiny.start) == (80, 100, dt.date(2024, 11, 1))


def test_cli_generates_refuses_and_explains_itself(tmp_path: Path) -> None:
    help_text = subprocess.run([TICKWINDOWS, "demo-data", "--help"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "Examples:" in help_text.stdout and "--timestamp-format" in help_text.stdout
    args = [TICKWINDOWS, "demo-data", "--size", "small", "--symbols", "25", "--events", "400", "--out", str(tmp_path)]
    first = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "400 rows" in first.stdout and "25 files" in first.stdout
    again = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "--force" in again.stderr
    forced = subprocess.run([*args, "--force", "--timestamp-format", "ms"], capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0, forced.stderr
