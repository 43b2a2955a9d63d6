{#- Published: the liquidity measures of every downloaded window, one row per (event_id, segment pre | post)
    (logic and incrementality: int_window_liquidity_measured). -#}
with source_model as (
    select * from {{ ref('int_window_liquidity_measured') }}
),

final as (
    select
        event_id,
        segment,
        symbol,
        session,
        event_type,
        trading_date,
        segment_start_utc,
        segment_end_utc,
        n_trades,
        volume,
        trades_unmatched,
        trades_unsigned,
        quoted_spread_tw,
        effective_spread_dvw,
        realized_spread_5m_dvw,
        price_impact_5m_dvw,
        order_imbalance
    from source_model
)

select * from final
order by event_id, segment_start_utc
