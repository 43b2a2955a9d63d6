{{ config(materialized='table') }}
{#- Every input event row with its ET time, trading date, recomputed session, daily metrics, and
    `reason` (null when the event is kept). The first failing check names the reason. -#}
{#- The checks of a row on its own (before `duplicate`), written once: the classification names the
    first that fails, and only the copies that pass them all compete to be an event's kept copy. -#}
{%- set row_problem -%}
    case
        when ROW.symbol is null or length(ROW.symbol) > 15
          or not regexp_full_match(ROW.symbol, '[A-Z][A-Z0-9]*([.\-][A-Z0-9]+)*') then 'bad_symbol'
        when ROW.event_ts_utc is null
          or ROW.event_ts_utc < timestamp '1990-01-01' or ROW.event_ts_utc >= timestamp '2100-01-01' then 'bad_timestamp'
        when ROW.event_type is null then 'bad_event_type'
        when ROW.score is null or isnan(ROW.score) or isinf(ROW.score) then 'bad_score'
    end
{%- endset %}
with events as (
    select * from {{ ref('stg_fase25__events') }}
),

calendar as (
    select * from {{ ref('int_trading_days_expanded') }}
),

metrics as (
    select * from {{ ref('int_daily_metrics_rolling') }}
),

-- Duplicates are rare: find the repeated ids on a 64-bit hash of each id first (a narrow aggregate; a
-- hash collision only adds a candidate, ranked within its own event_id below), then rank copies only
-- within those ids, instead of partitioning every row by event_id.
repeated_hashes as (
    select hash(event_id) as id_hash from events group by id_hash having count(*) > 1
),

copies as (
    select
        source_file,
        source_row,
        -- Usable copies first: a copy that fails a check of its own (a NaN or infinite score sorts above
        -- every real one; a row without a timestamp can share a complete row's identity, see
        -- macros/event_id.sql) is rejected for that anyway; ranked first it would push the usable
        -- copy out as a duplicate, and the event would be lost.
        row_number() over (
            partition by event_id
            order by {{ row_problem | replace('ROW.', 'events.') | indent(12) }} is not null,
                     score desc nulls last, source_file, source_row
        ) as copy_number
    from events
    where hash(event_id) in (select id_hash from repeated_hashes)
),

-- New York's offset per UTC day of the calendar's years: one hash join instead of a time-zone
-- lookup per row (macros/time_zones.sql; an event outside those days takes the lookup).
utc_offsets as (
    {{ new_york_offsets_by_utc_day('calendar', 'calendar_date') | indent(4) }}
),

in_et as (
    select
        events.*,
        {{ utc_to_et_by_day('events.event_ts_utc', 'utc_offsets') }} as event_ts_et
    from events
    left join utc_offsets on utc_offsets.utc_date = cast(events.event_ts_utc as date)
),

placed as (
    select *, cast(event_ts_et as date) as trading_date from in_et
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
        coalesce({{ row_problem | replace('ROW.', 'sessioned.') | indent(8) }}, case
            when copy_number > 1 then 'duplicate'
            when is_trading_day is null then 'outside_calendar'
            when not is_trading_day then 'closed_day'
            when session is null then 'outside_hours'
            when metrics.symbol is null then 'no_daily_bar'
        end) as reason
    from sessioned
    left join metrics
        on metrics.symbol = sessioned.symbol
       and metrics.trading_date = sessioned.trading_date
)

select * from classified
