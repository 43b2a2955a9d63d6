{{ config(materialized="table") }}
{#- Each input daily bar, kept (reason null) or set aside with a reason: only one clean bar per
    symbol and trading day enters the rolling metrics. Copies of a (symbol, day) are ranked among the
    usable bars only: a copy that is itself unusable (bad close or volume, ...) is rejected for that
    reason and can never displace a usable bar as its `duplicate`. -#}
with bars as (
    select * from {{ ref('stg_fase25__daily_bars') }}
),

calendar as (
    select * from {{ ref('int_trading_days_expanded') }}
),

validated as (
    select
        bars.*,
        case
            when bars.bar_date is null then 'bad_date'
            when calendar.is_trading_day is null then 'outside_calendar'
            when not calendar.is_trading_day then 'closed_day'
            when bars.close_day is null or isnan(bars.close_day) or bars.close_day <= 0 then 'bad_close'
            when bars.volume_day is null or isnan(bars.volume_day) or bars.volume_day < 0 then 'bad_volume'
        end as unusable_reason
    from bars
    left join calendar on calendar.calendar_date = bars.bar_date
),

-- Duplicate bars are rare: rank copies only within (symbol, date) keys that repeat among usable bars.
repeated as (
    select symbol, bar_date from validated where unusable_reason is null group by all having count(*) > 1
),

copies as (
    select
        validated.source_file,
        validated.source_row,
        row_number() over (
            partition by validated.symbol, validated.bar_date
            order by validated.volume_day desc, validated.close_day desc, validated.source_file, validated.source_row
        ) as copy_number
    from validated
    semi join repeated using (symbol, bar_date)
    where validated.unusable_reason is null
)

select
    validated.symbol,
    validated.bar_date,
    validated.close_day,
    validated.volume_day,
    validated.vwap_day,
    validated.transactions_day,
    validated.source_file,
    validated.source_row,
    coalesce(validated.unusable_reason, case when copies.copy_number > 1 then 'duplicate' end) as reason
from validated
left join copies
    on copies.source_file = validated.source_file
   and copies.source_row = validated.source_row
