{#- The event study's input: per downloaded window and measure, the pre and post value side by side
    (long format), for windows where both segments have a value. The counts (n_trades, volume,
    trades_unmatched, trades_unsigned) are compared per minute of segment: the pre and post segments are
    window_before_min and window_after_min long, so raw counts would mostly compare lengths. -#}
with measured as (
    select * from {{ ref('int_window_liquidity_measured') }}
),

per_segment as (
    select
        event_id,
        segment,
        session,
        event_type,
        -- segment length in minutes (NULL for an empty segment, so its rates are NULL)
        nullif(epoch_ns(segment_end_utc) - epoch_ns(segment_start_utc), 0) / 60e9 as minutes,
        n_trades,
        volume,
        trades_unmatched,
        trades_unsigned,
        quoted_spread_tw,
        effective_spread_dvw,
        realized_spread_5m_dvw,
        price_impact_5m_dvw,
        order_imbalance
    from measured
),

long_format as (
    select event_id, segment, session, event_type, measure, value
    from per_segment
    cross join lateral (values
        ('n_trades_per_min', n_trades / minutes),
        ('volume_per_min', volume / minutes),
        ('trades_unmatched_per_min', trades_unmatched / minutes),
        ('trades_unsigned_per_min', trades_unsigned / minutes),
        ('quoted_spread_tw', quoted_spread_tw),
        ('effective_spread_dvw', effective_spread_dvw),
        ('realized_spread_5m_dvw', realized_spread_5m_dvw),
        ('price_impact_5m_dvw', price_impact_5m_dvw),
        ('order_imbalance', order_imbalance)
    ) as measures (measure, value)
),

final as (
    select
        event_id,
        session,
        event_type,
        measure,
        any_value(value) filter (where segment = 'pre') as pre_value,
        any_value(value) filter (where segment = 'post') as post_value,
        any_value(value) filter (where segment = 'post') - any_value(value) filter (where segment = 'pre')
            as post_minus_pre
    from long_format
    group by event_id, session, event_type, measure
    having any_value(value) filter (where segment = 'pre') is not null
       and any_value(value) filter (where segment = 'post') is not null
)

select * from final
