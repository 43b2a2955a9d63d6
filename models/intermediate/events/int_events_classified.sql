{{ config(materialized='table') }}
{#- Every input event row with its ET time, trading date, recomputed session, daily metrics, and
    `reason` (null when the event is kept). The first failing check names the reason. -#}
with events as (
    select * from {{ ref('stg_fase25__events') }}
),

calendar as (
    select * from {{ ref('int_trading_days_expanded') }}
),

metrics as (
    select * from {{ ref('int_daily_metrics_rolling') }}
),

in_et as (
    select
        events.*,
        {{ utc_to_et('events.event_ts_utc') }} as event_ts_et
    from events
),

placed as (
    select *, cast(event_ts_et as date) as trading_date from in_et
),

-- Duplicates are rare: rank copies only within ids that occur more than once, instead of
-- partitioning every row by event_id.
repeated_ids as (
    select event_id from placed group by event_id having count(*) > 1
),

copies as (
    select
        placed.source_file,
        placed.source_row,
        row_number() over (
            partition by placed.event_id
            order by placed.score desc nulls last, placed.source_file, placed.source_row
        ) as copy_number
    from placed
    semi join repeated_ids using (event_id)
),

sessioned as (
    select
        placed.*,
        calendar.is_trading_day,
        calendar.close_et,
        case when calendar.is_trading_day then {{ session_of('placed.event_ts_et', 'calendar.close_et') }} end as session,
        coalesce(copies.copy_number, 1) as copy_number
    from placed
    left join calendar on calendar.calendar_date = placed.trading_date
    left join copies
        on copies.source_file = placed.source_file
       and copies.source_row = placed.source_row
),

classified as (
    select
        sessioned.*,
        metrics.close_day,
        metrics.volume_day,
        metrics.dollar_volume_day,
        metrics.rvol_day,
        metrics.adv20_volume,
        metrics.adv20_dollar,
        metrics.history_days,
        case
            when sessioned.symbol is null or length(sessioned.symbol) > 15
              or not regexp_full_match(sessioned.symbol, '[A-Z][A-Z0-9]*([.\-][A-Z0-9]+)*') then 'bad_symbol'
            when event_ts_utc is null
              or event_ts_utc < timestamp '1990-01-01' or event_ts_utc >= timestamp '2100-01-01' then 'bad_timestamp'
            when event_type is null then 'bad_event_type'
            when score is null or isnan(score) or isinf(score) then 'bad_score'
            when copy_number > 1 then 'duplicate'
            when is_trading_day is null then 'outside_calendar'
            when not is_trading_day then 'closed_day'
            when session is null then 'outside_hours'
            when metrics.symbol is null then 'no_daily_bar'
        end as reason
    from sessioned
    left join metrics
        on metrics.symbol = sessioned.symbol
       and metrics.trading_date = sessioned.trading_date
)

select * from classified
