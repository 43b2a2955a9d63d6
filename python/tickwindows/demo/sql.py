"""The SQL behind `tickwindows demo-data`: builds the synthetic universe inside one DuckDB connection.

Randomness is `u(tag, key, n)`: a hash of (seed, tag, key, n) mapped to (0, 1). A value depends
only on its arguments, so results are the same whatever the thread count, scan order or batch
boundaries (DuckDB's random() is not). Tables, in build order: days, symbols, daily, spike_days,
day_pools, regular_events, edge_events; `demo.generate` writes them out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

# Raw session mix of the regular events (the legacy detector saw the whole 04:00-20:00 ET day).
PM_SHARE, RTH_SHARE = 0.18, 0.79
SPIKE_DAY_SHARE = 0.85  # of a symbol's events that fall on its volume-spike days
PARETO_ALPHA, WEIGHT_CAP = 0.85, 800.0  # events per symbol: a few memes with thousands, many with tens
EVENTS_PER_BATCH = 1_000_000  # regular events are drawn a batch of symbols at a time (bounded memory)
SPARE_DRAWS = 1.2  # draws per wanted event, for the ones lost to accidental key collisions
EVENT_TYPES = (  # (name, cumulative probability)
    ("volume_spike", 0.30), ("breakout", 0.50), ("flush", 0.62), ("gap_up", 0.72),
    ("gap_down", 0.80), ("vwap_reclaim", 0.90), ("halt_resume", 0.95), ("momentum_ignition", 1.0),
)
GHOST_PREFIX = "ZZ"  # symbols with events but no daily file (generated tickers have <= 4 letters)
TIE_SCORE = 9.5
ABSURD_TIMESTAMPS = ("1970-01-01 00:00:00", "1900-01-01 12:00:00", "2150-06-01 14:30:00")
_ANY_RTH_MINUTE = "570 + floor(390 * u)"
# Edge rows, each a case downstream must handle: kind -> (pool of dates, ET minute of the day
# with u a uniform draw). Symbols, timestamps and scores that differ by kind are in edge_events_sql.
EDGE_KINDS: dict[str, tuple[str, str]] = {
    "weekend": ("weekend", _ANY_RTH_MINUTE),
    "holiday": ("holiday", "240 + floor(960 * u)"),
    "early_close_ah": ("early", "780 + floor(240 * u)"),  # 13:00-17:00 ET: AH after a 13:00 close
    "early_close_outside": ("early", "1020 + floor(180 * u)"),  # 17:00-20:00 ET: outside hours there
    # 00:00-01:59, 03:00-03:59 (never the 02:00 DST gap) and 20:01-23:59 ET
    "outside_hours": ("trading", "case when u < 0.3 then floor(400 * u) when u < 0.5 then 180 + floor(300 * (u - 0.3))"
                                 " else 1201 + floor(478 * (u - 0.5)) end"),
    "at_0400": ("regular", "240"),
    "at_0930": ("regular", "570"),
    "at_1600": ("regular", "960"),
    "at_2000": ("regular", "1200"),
    "no_daily_file": ("trading", _ANY_RTH_MINUTE),
    "lowercase_symbol": ("trading", _ANY_RTH_MINUTE),
    "padded_symbol": ("trading", _ANY_RTH_MINUTE),
    "null_symbol": ("trading", _ANY_RTH_MINUTE),
    "null_timestamp": ("trading", "570"),
    "absurd_timestamp": ("trading", "570"),
    "score_tie": ("spike", _ANY_RTH_MINUTE),  # pairs of one symbol and day, same high score
    "duplicate": ("", ""),  # exact copies of regular rows
}


@dataclass(frozen=True)
class Universe:
    """What the SQL needs: everything is derived from these values alone."""

    seed: int
    start: dt.date
    end: dt.date
    tickers: list[str]
    holidays: list[dt.date]
    early_closes: list[dt.date]
    regular_events: int
    edge_rows_per_kind: int
    parts: int


def build(con: duckdb.DuckDBPyConnection, uni: Universe) -> None:
    con.execute(_macros(uni.seed, uni.parts))
    con.execute("create table holidays as select unnest($1::date[]) as d", [uni.holidays])
    con.execute("create table early_closes as select unnest($1::date[]) as d", [uni.early_closes])
    con.execute("create table tickers as select unnest($1::varchar[]) as symbol", [uni.tickers])
    con.execute(_DAYS_SQL.format(start=uni.start.isoformat(), end=uni.end.isoformat()))
    con.execute(_SYMBOLS_SQL.format(events=uni.regular_events, alpha=PARETO_ALPHA, cap=WEIGHT_CAP,
                                    batch=EVENTS_PER_BATCH))
    con.execute(_DAILY_SQL)
    con.execute(_POOLS_SQL)
    con.execute(_REGULAR_EVENTS_TABLE)
    (batches,) = con.execute("select coalesce(max(batch), -1) from symbols").fetchone() or (-1,)
    for batch in range(batches + 1):
        con.execute(_REGULAR_EVENTS_SQL.format(
            batch=batch, spare=SPARE_DRAWS, pm=PM_SHARE, rth=PM_SHARE + RTH_SHARE, spike_share=SPIKE_DAY_SHARE,
            event_type=_event_type_case("u('type', symbol, i)"),
        ))
    con.execute(edge_events_sql(uni.edge_rows_per_kind, len(uni.tickers)))


def _macros(seed: int, parts: int) -> str:
    # DuckDB combines multi-argument hashes weakly (draws under different tags correlate ~0.6),
    # so the combined hash is hashed again, which mixes all 64 bits; 53 of them make the double.
    return f"""
        create macro u(tag, key, n) as
            ((hash(hash({seed}::integer, tag::varchar, key::varchar, n::bigint)) >> 11)::double + 0.5)
            / 9007199254740992.0;
        -- standard normal (Box-Muller)
        create macro z(tag, key, n) as
            sqrt(-2 * ln(u(tag || '.r', key, n))) * cos(2 * pi() * u(tag || '.a', key, n));
        create macro session_on_clock(clock) as case
            when clock::time >= time '04:00' and clock::time < time '09:30' then 'PM'
            when clock::time >= time '09:30' and clock::time < time '16:00' then 'RTH'
            when clock::time >= time '16:00' and clock::time < time '20:00' then 'AH' end;
        -- What the old detector wrote: half of it from the UTC clock, some with pre-market folded
        -- into RTH, some missing; only the rest is right (and even that ignores holidays).
        create macro legacy_session(ts_utc, key, n) as case
            when u('legacy', key, n) < 0.5 then session_on_clock(ts_utc)
            when u('legacy', key, n) < 0.75
                then replace(session_on_clock(timezone('America/New_York', timezone('UTC', ts_utc))), 'PM', 'RTH')
            when u('legacy', key, n) < 0.85 then null
            else session_on_clock(timezone('America/New_York', timezone('UTC', ts_utc))) end;
        create macro part_of(key, n) as floor(u('part', key, n) * {parts})::integer;
        create macro et_to_utc(ts_et) as timezone('UTC', timezone('America/New_York', ts_et));
    """


def _event_type_case(draw: str) -> str:
    whens = " ".join(f"when {draw} < {p} then '{name}'" for name, p in EVENT_TYPES[:-1])
    return f"case {whens} else '{EVENT_TYPES[-1][0]}' end"


# Trading days: weekdays minus the seeded holidays (early closes trade).
_DAYS_SQL = """
    create table all_days as
        select cast(d as date) as d
        from range(timestamp '{start}', timestamp '{end}' + interval 1 day, interval 1 day) r(d);
    create table days as
        select d, row_number() over (order by d) - 1 as day_idx, d in (select d from early_closes) as is_early
        from all_days where isodow(d) <= 5 and d not in (select d from holidays);
"""

# One row per symbol: its kind (by a hashed rank, so every kind and file variant shows up from 20
# symbols on), base price and dollar volume, life span in trading days, and its share of the
# events (Pareto, capped), allotted by cumulative floors so the counts add up exactly.
_SYMBOLS_SQL = """
    create table symbols as
    with ranked as (
        select
            symbol,
            row_number() over (order by u('kind', symbol, 0)) - 1 as kind_rank,
            row_number() over (order by u('datecol', symbol, 0)) - 1 as date_rank,
            row_number() over (order by u('vwapcol', symbol, 0)) - 1 as vwap_rank,
            row_number() over (order by u('txcol', symbol, 0)) - 1 as tx_rank,
            (select count(*) from days) as n_days
        from tickers
    ),
    typed as (
        select
            *,
            case when symbol like '%.%' then 'normal'
                 when kind_rank % 20 in (0, 1) then 'penny'
                 when kind_rank % 20 in (2, 3) then 'illiquid'
                 when kind_rank % 20 = 4 then 'ipo'
                 when kind_rank % 20 = 5 then 'delisted'
                 else 'normal' end as kind,
            ['date', 'date', 'date', 't', 'date', 'date', 'date', 'timestamp'][date_rank % 8 + 1] as date_col,
            ['vwap', 'vwap', 'vw', 'vwap', 'none', 'vwap', 'vw', 'vwap'][vwap_rank % 8 + 1] as vwap_col,
            ['transactions', 'n', 'transactions', 'none', 'transactions', 'n', 'transactions', 'transactions']
                [tx_rank % 8 + 1] as tx_col,
            least({cap}, pow(u('weight', symbol, 0), -1.0 / {alpha})) as weight
        from ranked
    ),
    priced as (
        select
            *,
            case kind when 'penny' then 0.05 + 0.55 * u('price', symbol, 0)
                      else least(900.0, greatest(1.5, exp(ln(25) + 0.9 * z('price', symbol, 0)))) end as base_price,
            case kind when 'illiquid' then 15000 + 150000 * u('dv', symbol, 0)
                      when 'penny' then exp(ln(2e6) + 1.2 * z('dv', symbol, 0))
                      else exp(ln(15e6) + 1.3 * z('dv', symbol, 0)) end as base_dollar_volume,
            case kind when 'ipo' then floor(n_days * (0.25 + 0.6 * u('life', symbol, 0)))::bigint
                      else 0 end as first_idx,
            case kind when 'delisted' then floor(n_days * (0.2 + 0.6 * u('life', symbol, 0)))::bigint
                      else n_days - 1 end as last_idx
        from typed
    ),
    allotted as (
        select
            *,
            floor({events} * (sum(weight) over (order by symbol) - weight)
                  / sum(weight) over ())::bigint as events_before,
            (floor({events} * sum(weight) over (order by symbol) / sum(weight) over ())
              - floor({events} * (sum(weight) over (order by symbol) - weight)
                      / sum(weight) over ()))::bigint as n_events
        from priced
    )
    select
        *,
        last_idx - first_idx + 1 as life_days,
        -- Busy names spike more often, so their events spread over more days (<= ~40 a day otherwise).
        least(0.3, greatest(0.03, n_events * 0.85 / (40.0 * (last_idx - first_idx + 1)))) as spike_prob,
        events_before // {batch} as batch
    from allotted;
"""

# Daily bars: a log-normal random walk for the price, base volume x log-normal noise, and spike
# days with 2-10x volume (and a gap) on which most of the symbol's events will fall.
_DAILY_SQL = """
    create table daily as
    with grid as (
        select
            symbols.symbol, days.day_idx, days.d, symbols.base_price, symbols.base_dollar_volume,
            u('spike', symbols.symbol, days.day_idx) < symbols.spike_prob as is_spike,
            z('ret', symbols.symbol, days.day_idx) as z_ret,
            z('gap', symbols.symbol, days.day_idx) as z_gap
        from symbols
        join days on days.day_idx between symbols.first_idx and symbols.last_idx
    ),
    walked as (
        select
            *,
            case when is_spike then 2 + 8 * pow(u('mult', symbol, day_idx), 2) else 1 end as volume_mult,
            0.02 * z_ret + case when is_spike then 0.06 * z_gap else 0 end as log_return
        from grid
    ),
    bars as (
        select
            *,
            base_price * exp(sum(log_return) over (partition by symbol order by day_idx
                                                   rows unbounded preceding)) as close_raw,
            greatest(100, round(base_dollar_volume / base_price * volume_mult
                                * exp(0.35 * z('vol', symbol, day_idx))))::bigint as volume
        from walked
    ),
    opened as (
        select *, close_raw * exp(-0.6 * log_return + 0.005 * z('open', symbol, day_idx)) as open_raw
        from bars
    )
    select
        symbol, day_idx, d as date, is_spike, volume_mult,
        epoch_ms(timezone('America/New_York', d::timestamp)) as t_ms,  -- Polygon: ET midnight
        round(open_raw, 4) as open,
        round(greatest(open_raw, close_raw)
              * (1 + 0.01 * abs(z('high', symbol, day_idx)) + 0.01 * (volume_mult - 1)), 4) as high,
        round(least(open_raw, close_raw) * (1 - 0.01 * abs(z('low', symbol, day_idx))), 4) as low,
        round(close_raw, 4) as close,
        volume,
        round((greatest(open_raw, close_raw) + least(open_raw, close_raw) + 2 * close_raw) / 4, 4) as vwap,
        greatest(1, round(volume / (80 + 220 * u('tx', symbol, day_idx))))::bigint as transactions
    from opened;
    create table spike_days as
        select symbol, day_idx, row_number() over (partition by symbol order by day_idx) - 1 as spike_rank
        from daily where is_spike;
"""

# The dates (and for `spike`, the symbol) each kind of edge row is drawn from.
_POOLS_SQL = """
    create table day_pools as
        select pool, d, symbol, row_number() over (partition by pool order by d, symbol) - 1 as pos from (
            select 'weekend' as pool, d, null as symbol from all_days where isodow(d) > 5
            union all select 'holiday', d, null from holidays
            union all select 'early', d, null from early_closes
            union all select 'trading', d, null from days
            union all select 'regular', d, null from days where not is_early
            union all select 'spike', daily.date, daily.symbol
                from daily join symbols using (symbol) where daily.is_spike and symbols.kind = 'normal'
        );
"""

_REGULAR_EVENTS_TABLE = """
    create table regular_events (
        symbol varchar, ts_utc timestamp, event_type varchar, score double, price double,
        volume bigint, session varchar, part integer, i bigint
    );
"""

# One batch of regular events: per symbol n_events draws; most land on its spike days (IPO names
# also crowd their first 20 days), at minute-aligned ET times with a PM/RTH/AH mix, converted to
# UTC by the zone rules. Accidental (symbol, instant, type) collisions are dropped, so the only
# duplicates are the deliberate edge rows; a few spare draws per symbol keep its count exact.
_REGULAR_EVENTS_SQL = """
    insert into regular_events
    with draws as (
        select
            symbols.symbol, symbols.kind, symbols.first_idx, symbols.life_days, symbols.n_events, r.i,
            coalesce(spike_counts.n, 0) as n_spikes,
            u('day', symbols.symbol, r.i) as u_day,
            u('sess', symbols.symbol, r.i) as u_sess,
            u('minute', symbols.symbol, r.i) as u_min,
            u('shape', symbols.symbol, r.i) as u_shape
        from symbols
        left join (select symbol, count(*) as n from spike_days group by symbol) spike_counts using (symbol),
        range((symbols.n_events * {spare} + 3)::bigint) r(i)
        where symbols.batch = {batch}
    ),
    placed as (
        select
            draws.*,
            case when kind = 'ipo' and u('ipo', symbol, i) < 0.5
                     then first_idx + floor(least(20, life_days) * u_day)::bigint
                 when n_spikes = 0 or u_day >= {spike_share}
                     then first_idx + floor(life_days * u('anyday', symbol, i))::bigint
            end as day_pick,
            case when n_spikes > 0 then floor(n_spikes * u_day / {spike_share})::bigint end as spike_pick
        from draws
    ),
    dated as (
        select placed.*, coalesce(placed.day_pick, spike_days.day_idx) as day_idx
        from placed
        left join spike_days on placed.day_pick is null
            and spike_days.symbol = placed.symbol and spike_days.spike_rank = placed.spike_pick
    ),
    timed as (
        select
            dated.symbol, dated.n_events, dated.i, daily.close, daily.volume as volume_day, daily.volume_mult,
            daily.date + to_minutes(case
                -- PM builds towards the open, RTH is U-shaped (busy first and last hour), AH fades.
                when u_sess < {pm} then 240 + floor(330 * sqrt(u_min))
                when u_sess < {rth} then 570 + case when u_shape < 0.2 then floor(60 * u_min)
                                                    when u_shape < 0.4 then 330 + floor(60 * u_min)
                                                    else floor(390 * u_min) end
                else 960 + floor(240 * (1 - sqrt(u_min))) end::bigint) as ts_et
        from dated
        join daily on daily.symbol = dated.symbol and daily.day_idx = dated.day_idx
    ),
    scored as (
        select
            symbol, n_events, i,
            et_to_utc(ts_et) as ts_utc,
            {event_type} as event_type,
            round(least(9.999, greatest(0.001, 0.5 + 2.5 * u('score', symbol, i) + 1.2 * ln(volume_mult)
                                             + 0.3 * z('score', symbol, i))), 3) as score,
            round(close * exp(0.01 * z('price', symbol, i)), 4) as price,
            greatest(100, round(volume_day * 0.002 * exp(z('barvol', symbol, i))))::bigint as volume
        from timed
    ),
    distinct_keys as (
        select * from scored
        qualify row_number() over (partition by symbol, ts_utc, event_type order by i) = 1
    )
    select symbol, ts_utc, event_type, score, price, volume,
           legacy_session(ts_utc, symbol, i), part_of(symbol, i), i
    from distinct_keys
    qualify row_number() over (partition by symbol order by i) <= n_events;
"""


def edge_events_sql(k: int, n_symbols: int) -> str:
    """`k` rows per edge kind keyed (kind, j): a date from the kind's pool, an ET minute, a symbol."""
    ghosts = max(2, k // 20)
    drawn = [kind for kind in EDGE_KINDS if kind != "duplicate"]
    kinds = ", ".join(f"('{kind}', '{EDGE_KINDS[kind][0]}')" for kind in drawn)
    minute = " ".join(f"when '{kind}' then {EDGE_KINDS[kind][1]}" for kind in drawn)
    absurd = "[" + ", ".join(f"timestamp '{t}'" for t in ABSURD_TIMESTAMPS) + "]"
    return f"""
        create table edge_events as
        with draws as (
            select
                kind, pool, j,
                u('eminute', kind, j) as u,
                u('eday', kind, case when kind = 'score_tie' then j // 2 else j end) as u_day,
                u('esym', kind, j) as u_sym
            from (values {kinds}) kinds(kind, pool), range({k}) r(j)
        ),
        pool_sizes as (select pool, count(*) as n from day_pools group by pool),
        symbol_pool as (select symbol, row_number() over (order by symbol) - 1 as pos from symbols),
        placed as (
            select
                draws.kind, draws.j,
                case draws.kind
                    when 'no_daily_file' then '{GHOST_PREFIX}' || chr((65 + (draws.j % {ghosts}) % 26)::integer)
                                              || chr((65 + (draws.j % {ghosts}) // 26 % 26)::integer) || 'Q'
                    when 'lowercase_symbol' then lower(symbol_pool.symbol)
                    when 'padded_symbol' then case when draws.j % 2 = 0 then ' ' || symbol_pool.symbol || ' '
                                                   else symbol_pool.symbol || '  ' end
                    when 'null_symbol' then null
                    when 'score_tie' then day_pools.symbol
                    else symbol_pool.symbol
                end as symbol,
                case draws.kind
                    when 'null_timestamp' then null
                    when 'absurd_timestamp' then {absurd}[draws.j % {len(ABSURD_TIMESTAMPS)} + 1]
                    else et_to_utc(day_pools.d + to_minutes((case draws.kind {minute} end)::bigint))
                end as ts_utc,
                case when draws.kind = 'score_tie' then {TIE_SCORE}
                     else round(0.5 + 9 * u('escore', draws.kind, draws.j), 3) end as score
            from draws
            join pool_sizes using (pool)
            join day_pools on day_pools.pool = draws.pool and day_pools.pos = floor(draws.u_day * pool_sizes.n)
            join symbol_pool on symbol_pool.pos = floor(draws.u_sym * {n_symbols})
        )
        select
            kind, symbol, ts_utc,
            {_event_type_case("u('etype', kind, j)")} as event_type,
            score,
            null::double as price,
            null::bigint as volume,
            legacy_session(ts_utc, kind, j) as session,
            part_of(kind, j) as part
        from placed;

        insert into edge_events
        select 'duplicate', symbol, ts_utc, event_type, score, price, volume, session,
               part_of('duplicate', row_number() over (order by pick, symbol, i))
        from (select *, u('dup', symbol, i) as pick from regular_events order by pick, symbol, i limit {k});
    """
