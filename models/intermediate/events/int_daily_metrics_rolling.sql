{{ config(materialized='table') }}
{#- Per symbol and trading day: the day's own figures and LEFT-CLOSED baselines over the up-to-20
    previous rows of the same symbol (the frame ends at 1 PRECEDING, so day D never sees itself). -#}
with bars as (
    select * from {{ ref('int_daily_bars_classified') }}
    where reason is null
),

day_values as (
    select
        symbol,
        bar_date as trading_date,
        close_day,
        volume_day,
        vwap_day,
        transactions_day,
        coalesce(vwap_day, close_day) * volume_day as dollar_volume_day
    from bars
),

rolling as (
    select
        *,
        avg(volume_day) over previous_20 as adv20_volume,
        avg(dollar_volume_day) over previous_20 as adv20_dollar,
        count(*) over previous_20 as history_days
    from day_values
    window previous_20 as (
        partition by symbol order by trading_date
        rows between 20 preceding and 1 preceding
    )
),

final as (
    select
        symbol,
        trading_date,
        close_day,
        volume_day,
        vwap_day,
        transactions_day,
        dollar_volume_day,
        adv20_volume,
        adv20_dollar,
        cast(history_days as integer) as history_days,
        case when history_days > 0 and adv20_volume > 0 then volume_day / adv20_volume end as rvol_day
    from rolling
)

select * from final
