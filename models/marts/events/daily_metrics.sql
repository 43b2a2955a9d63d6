{{ config(materialized='view') }}
{#- Published: one row per symbol and trading day with left-closed 20-row baselines (logic:
    int_daily_metrics_rolling, a table the event classification and the estimates also read). A view,
    not a second copy of the rows. -#}
with source_model as (
    select * from {{ ref('int_daily_metrics_rolling') }}
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
        history_days,
        rvol_day
    from source_model
)

select * from final
