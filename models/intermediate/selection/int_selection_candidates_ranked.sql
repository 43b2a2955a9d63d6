{{ config(materialized="table") }}
{#- Eligible events (passes_all) with their microstructure windows, a global deterministic rank
    (score desc, then event_id), and overlap suppression: an event survives when no better-ranked
    event of the same symbol lies within window_before + window_after minutes of it. Survivors are
    therefore pairwise non-overlapping, and the choice is one window pass, not an iteration.
    Pinned events (released batches) are not candidates, and an event whose window overlaps a pinned
    window of its symbol is blocked: it neither survives nor suppresses others. -#}
with pins as (
    select event_id, symbol, window_start_utc, window_end_utc from {{ ref('int_manifest_pins_current') }}
),

eligible as (
    select * from {{ ref('events_enriched') }}
    anti join pins using (event_id)
    where passes_all
),

-- The latest close of the candidates' days: the per-day partition below relies on closes at 16:00 or earlier.
latest_close as (
    select max(close_et) as latest_close_et from eligible
),

config as (
    select * from {{ ref('int_selection_config_resolved') }}
),

windowed as (
    select
        eligible.event_id,
        eligible.symbol,
        eligible.session,
        eligible.event_ts_utc,
        eligible.event_ts_et,
        eligible.trading_date,
        eligible.event_type,
        eligible.score,
        greatest(
            eligible.event_ts_et - to_minutes(cast(config.window_before_min as bigint)),
            {{ extended_day_start_et('eligible.trading_date') }}
        ) as window_start_et,
        least(
            eligible.event_ts_et + to_minutes(cast(config.window_after_min as bigint)),
            {{ extended_day_end_et('eligible.trading_date', 'eligible.close_et') }}
        ) as window_end_et,
        cast(config.window_before_min + config.window_after_min as double) as overlap_minutes,
        row_number() over (order by eligible.score desc, eligible.event_id) as selection_rank
    from eligible
    cross join config
),

-- Both bounds lie inside the event's extended day [04:00, close + 4h) ET, and New York changes its
-- UTC offset only at 02:00, so each bound has the event's own offset: adding it converts ET to UTC
-- exactly, without two time-zone lookups per bound (gate_11 recomputes every window through
-- the zone rules and fails on any difference; the DST unit tests cover both switch days).
in_utc as (
    select
        *,
        window_start_et + (event_ts_utc - event_ts_et) as window_start_utc,
        window_end_et + (event_ts_utc - event_ts_et) as window_end_utc
    from windowed
),

-- Only the symbols with pins are checked against them (a join, not a correlated test of every row).
blocked_events as (
    select distinct in_utc.event_id
    from in_utc
    join pins
      on pins.symbol = in_utc.symbol
     and pins.window_start_utc < in_utc.window_end_utc
     and in_utc.window_start_utc < pins.window_end_utc
),

blocked as (
    select
        in_utc.*,
        blocked_events.event_id is not null as blocked_by_pin
    from in_utc
    left join blocked_events using (event_id)
),

suppressed as (
    select
        *,
        -- Time in units of the overlap distance makes the frame a constant: events exactly one
        -- distance apart only touch (half-open windows), so the frame stops just short of +-1.
        -- Every event lies in its trading day's [04:00, close + 4h) ET and closes are at 16:00 or
        -- earlier, so two events of a symbol on different trading days are at least 7 hours apart
        -- (8 h of wall time, less one across a spring-forward night): with an overlap distance of at
        -- most 420 minutes they never share a frame, and partitioning by trading day as well gives the
        -- same minimum from far smaller partitions (DuckDB's RANGE frames cost per partition size).
        -- A calendar with a later close keeps the per-symbol partition (latest_close).
        min(case when not blocked_by_pin then selection_rank end) over (
            partition by symbol, case when overlap_minutes <= 420 and latest_close.latest_close_et <= time '16:00:00'
                                      then trading_date end
            order by epoch(event_ts_utc) / (60.0 * overlap_minutes)
            range between 0.9999999 preceding and 0.9999999 following
        ) as best_rank_nearby
    from blocked
    cross join latest_close
)

select
    event_id,
    symbol,
    session,
    event_ts_utc,
    event_ts_et,
    trading_date,
    event_type,
    score,
    window_start_et,
    window_end_et,
    window_start_utc,
    window_end_utc,
    selection_rank,
    blocked_by_pin,
    not blocked_by_pin and selection_rank = best_rank_nearby as survives_overlap
from suppressed
