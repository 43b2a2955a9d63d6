{#- Published: one row per distinct kept event with its session, daily metrics and the five filters (logic: int_events_classified, int_events_filtered). -#}
with source_model as (
    select * from {{ ref('int_events_filtered') }}
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
        passes_all,
        enrichment_version
    from source_model
)

select * from final
