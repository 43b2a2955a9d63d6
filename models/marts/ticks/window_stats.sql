{#- Published: one row per downloaded window and kind (logic: int_tick_windows_summarized). -#}
with source_model as (
    select * from {{ ref('int_tick_windows_summarized') }}
),

final as (
    select
        event_id,
        kind,
        symbol,
        session,
        trading_date,
        event_ts_utc,
        window_start_utc,
        window_end_utc,
        event_type,
        score,
        selection_stage,
        rows,
        first_sip_timestamp,
        last_sip_timestamp,
        trades_volume,
        median_quoted_spread
    from source_model
)

select * from final
order by event_id, kind
