{#- Gate: every window has start < end, contains its event (start <= event < end), lies inside its
    trading day's extended hours [04:00 ET, close + 4h), is exactly the profile's window around the
    event ([event - window_before_min, event + window_after_min), clipped to that day), and no two
    windows of one symbol overlap.
    Recomputed by another route than the selection takes, so that a bug in its code cannot pass its
    own check: instants as epoch microseconds, the day's bounds from the raw calendar seed
    `nyse_calendar` with make_timestamptz(..., 'America/New_York') (gate_day_bounds), not
    int_trading_days_expanded, the extended_day_* macros or the selection's offset arithmetic; overlaps by a self-join of
    all pairs of one symbol's windows, not a window function.
    Fails closed: a trading_date the calendar seed does not know (or a closed day), or a NULL
    window parameter, is a failure. -#}
{% test gate_windows_valid(model) %}
{{ gate_after_marts() }}
with manifest as (
    select *, row_number() over () as row_id from {{ model }}
),
config as (select * from {{ gate_config() }}),
calendar as ({{ gate_day_bounds('manifest') }}),
unreadable as ({{ gate_thresholds_unreadable(['window_before_min', 'window_after_min']) }}),
measured as (
    select
        manifest.row_id,
        manifest.event_id,
        manifest.symbol,
        manifest.trading_date,
        manifest.window_start_utc,
        manifest.window_end_utc,
        epoch_us(manifest.event_ts_utc) as event_us,
        epoch_us(manifest.window_start_utc) as start_us,
        epoch_us(manifest.window_end_utc) as end_us,
        calendar.trading_date is not null as in_calendar,
        calendar.calendar_problem,
        calendar.pm_start_us,
        calendar.day_end_us,
        epoch_us(manifest.event_ts_utc) - cast(config.window_before_min as bigint) * 60000000 as unclipped_start_us,
        epoch_us(manifest.event_ts_utc) + cast(config.window_after_min as bigint) * 60000000 as unclipped_end_us
    from manifest
    cross join config
    left join calendar on calendar.trading_date = manifest.trading_date
),
expected as (
    select
        *,
        case
            when unclipped_start_us is null or pm_start_us is null then null
            when unclipped_start_us > pm_start_us then unclipped_start_us
            else pm_start_us
        end as expected_start_us,
        case
            when unclipped_end_us is null or day_end_us is null then null
            when unclipped_end_us < day_end_us then unclipped_end_us
            else day_end_us
        end as expected_end_us
    from measured
),
overlapping as (
    select
        a.row_id,
        string_agg(b.event_id, ', ' order by b.window_start_utc, b.event_id) as overlapped
    from manifest as a
    join manifest as b
        on b.symbol = a.symbol
       and b.row_id <> a.row_id
       and b.window_start_utc < a.window_end_utc
       and a.window_start_utc < b.window_end_utc
    group by a.row_id
),
flagged as (
    select
        expected.*,
        overlapping.overlapped,
        start_us is null or end_us is null or not (start_us < end_us) as bad_order,
        not coalesce(start_us <= event_us and event_us < end_us, false) as bad_contains,
        not in_calendar or calendar_problem is not null as bad_day,
        not coalesce(start_us >= pm_start_us and end_us <= day_end_us, false) as bad_bounds,
        start_us is distinct from expected_start_us or end_us is distinct from expected_end_us as bad_length
    from expected
    left join overlapping using (row_id)
),
judged as (
    select
        event_id,
        symbol,
        window_start_utc,
        window_end_utc,
        'window of ' || coalesce(event_id, '<null>') || ' (' || coalesce(symbol, '<null>') || ' '
        || coalesce(cast(window_start_utc as varchar), 'null') || ' -> ' || coalesce(cast(window_end_utc as varchar), 'null')
        || '): ' || concat_ws(', ',
            case when bad_order then 'start not before end' end,
            case when bad_contains then 'does not contain its event' end,
            case when bad_day then coalesce(calendar_problem, 'trading_date ' || coalesce(cast(trading_date as varchar), 'null')
                || ' cannot be looked up in the calendar seed') end,
            case when not bad_day and bad_bounds then 'outside the extended-hours day of ' || trading_date
                || ' [' || make_timestamp(pm_start_us) || ', ' || make_timestamp(day_end_us) || ') UTC' end,
            case when not bad_day and bad_length then 'not the profile''s window around its event: expected '
                || coalesce(cast(make_timestamp(expected_start_us) as varchar), '?') || ' -> '
                || coalesce(cast(make_timestamp(expected_end_us) as varchar), '?') end,
            case when overlapped is not null then 'overlaps ' || overlapped end) as failure
    from flagged
    where bad_order or bad_contains or bad_day or bad_bounds or bad_length or overlapped is not null
)
select 0 as gate_order, failure from unreadable
union all by name
select 1 as gate_order, * from judged
order by gate_order, symbol, window_start_utc, event_id
{% endtest %}
