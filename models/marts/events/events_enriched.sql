{{ config(materialized='view') }}
{#- Published: one row per distinct kept event with its recomputed session, the daily metrics of its
    trading day, the five liquidity filters of the active profile and `passes_all`.
    A view, not a copy: the event rows are stored once, in int_events_classified (kept and rejected
    rows, its contract's constraints checked as it is written); the filters are five comparisons
    with the profile's thresholds. The selection reads this view, so it picks from exactly what
    analysts see here. -#}
with classified as (
    select * from {{ ref('int_events_classified') }}
    where reason is null
),

config as (
    select * from {{ ref('int_selection_config_resolved') }}
),

flagged as (
    select
        classified.*,
        coalesce(classified.close_day between config.min_price and config.max_price, false) as f1_price,
        coalesce(classified.dollar_volume_day >= config.min_dollar_volume_day, false) as f2_dollar_volume,
        coalesce(classified.rvol_day >= config.min_rvol_day, false) as f3_rvol,
        coalesce(classified.adv20_dollar >= config.min_adv20_dollar, false) as f4_adv20_dollar,
        coalesce(classified.history_days >= config.min_history_days, false) as f5_history,
        config.enrichment_version
    from classified
    cross join config
),

final as (
    select
        event_id,
        symbol,
        event_ts_utc,
        event_ts_et,
        trading_date,
        session,
        event_type,
        score,
        event_price,
        event_volume,
        legacy_session,
        close_et,
        close_day,
        volume_day,
        dollar_volume_day,
        rvol_day,
        adv20_volume,
        adv20_dollar,
        history_days,
        f1_price,
        f2_dollar_volume,
        f3_rvol,
        f4_adv20_dollar,
        f5_history,
        f1_price and f2_dollar_volume and f3_rvol and f4_adv20_dollar and f5_history as passes_all,
        enrichment_version
    from flagged
)

select * from final
