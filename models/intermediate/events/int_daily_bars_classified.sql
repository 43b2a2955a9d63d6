{{ config(materialized="table") }}
{#- Each input daily bar, kept (reason null) or set aside with a reason: only one clean bar per
    symbol and trading day enters the rolling metrics. -#}
with bars as (
    select * from {{ ref('stg_fase25__daily_bars') }}
),

calendar as (
    select * from {{ ref('int_trading_days_expanded') }}
),

-- Duplicate bars are rare: rank copies only within (symbol, date) keys that repeat.
repeated as (
    select symbol, bar_date from bars group by all having count(*) > 1
),

copies as (
    select
        bars.source_file,
        bars.source_row,
        row_number() over (
            partition by bars.symbol, bars.bar_date
            order by bars.volume_day desc nulls last, bars.close_day desc nulls last, bars.source_file, bars.source_row
        ) as copy_number
    from bars
    semi join repeated using (symbol, bar_date)
),

ranked as (
    select
        bars.*,
        calendar.is_trading_day,
        coalesce(copies.copy_number, 1) as copy_number
    from bars
    left join calendar on calendar.calendar_date = bars.bar_date
    left join copies
        on copies.source_file = bars.source_file
       and copies.source_row = bars.source_row
)

select
    symbol,
    bar_date,
    close_day,
    volume_day,
    vwap_day,
    transactions_day,
    source_file,
    source_row,
    case
        when bar_date is null then 'bad_date'
        when is_trading_day is null then 'outside_calendar'
        when not is_trading_day then 'closed_day'
        when close_day is null or isnan(close_day) or close_day <= 0 then 'bad_close'
        when volume_day is null or isnan(volume_day) or volume_day < 0 then 'bad_volume'
        when copy_number > 1 then 'duplicate'
    end as reason
from ranked
